/*
Copyright 2026 The hubspot-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package tokentemplate renders the token Secret's data from Go templates
// over the element token, the instance and, when a template asks for them,
// the account's secrets. It knows nothing of Kubernetes.
//
// Templates run in the operator, next to every tenant's credentials, and
// whoever edits an object may not be allowed to read those credentials. So a
// template is a value, not a program: text and actions, each action a value
// (.Token or $.Token, a string literal) piped through encoders. There is no
// if, with, range, variable, comparison or printf: a branch on a secret, or a
// function that fails on some secrets and not others, would tell the editor
// something of the secret through whether the object gets Ready. Every
// encoder is total, and how large its result can be follows from how large
// its input can be, so Parse knows the most any template can produce before
// anything is created, and refuses what could exceed a bound; rendering
// checks the same bounds again as it goes.
package tokentemplate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// Values are what a template may refer to, as {{ .Token }} and so on.
type Values struct {
	// Token is the element token.
	Token string
	// InstanceID is the element instance's id, in decimal.
	InstanceID string
	// ElementKey is the element's key, hubspotcrm.
	ElementKey string
	// Endpoint is the Cloud Elements API base URL.
	Endpoint string
	// UserSecret and OrganizationSecret are the account's secrets, for an
	// `Authorization: User …, Organization …, Element …` value.
	UserSecret         string
	OrganizationSecret string
}

// Names lists the values a template may refer to.
func Names() []string {
	return []string{"Token", "InstanceID", "ElementKey", "Endpoint", "UserSecret", "OrganizationSecret"}
}

func (v Values) get(name string) string {
	switch name {
	case "Token":
		return v.Token
	case "InstanceID":
		return v.InstanceID
	case "ElementKey":
		return v.ElementKey
	case "Endpoint":
		return v.Endpoint
	case "UserSecret":
		return v.UserSecret
	case "OrganizationSecret":
		return v.OrganizationSecret
	}
	return ""
}

const (
	// MaxRenderedBytes bounds every value of a render: what one key renders
	// to, and what any function returns on the way.
	MaxRenderedBytes = 64 << 10
	// MaxSecretBytes bounds what all keys render to together, well within
	// the 1 MiB of data the API server accepts in a Secret.
	MaxSecretBytes = 512 << 10
	// MaxRenderWork bounds the bytes one render produces in all (every
	// function's result and every key's output), so that many keys of many
	// functions cannot add up to what one value may not.
	MaxRenderWork = 2 << 20
	// MaxSecretValueBytes is the longest token or account secret a template
	// may be given: no credential the operator reads is longer.
	MaxSecretValueBytes = 8 << 10
)

// maxValueBytes is the longest each value can be. Parse computes its
// bounds from these, so Render refuses a longer one rather than exceed them.
var maxValueBytes = map[string]int{
	"Token":              MaxSecretValueBytes,
	"InstanceID":         len("-9223372036854775808"),
	"ElementKey":         64,
	"Endpoint":           2048, // the CRD's bound on spec.platform.endpoint
	"UserSecret":         MaxSecretValueBytes,
	"OrganizationSecret": MaxSecretValueBytes,
}

// standIns are the longest values of all, of a byte each encoder expands
// most (an invalid UTF-8 byte), so that rendering them once at Parse meets
// every failure a render could meet.
var standIns = Values{Token: standIn("Token"), InstanceID: standIn("InstanceID"), ElementKey: standIn("ElementKey"),
	Endpoint: standIn("Endpoint"), UserSecret: standIn("UserSecret"), OrganizationSecret: standIn("OrganizationSecret")}

func standIn(name string) string { return strings.Repeat("\xff", maxValueBytes[name]) }

// Error says which key's template failed, and why, without any value.
type Error struct {
	// Key is empty when the keys fail together.
	Key    string
	Reason string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.Reason
	}
	return fmt.Sprintf("key %q: %s", e.Key, e.Reason)
}

// Template is a parsed set of key templates.
type Template struct {
	keys     []string
	parsed   map[string]*template.Template
	refs     map[string]bool
	accounts bool
}

// Parse parses each key's template and refuses, naming the key, one that
// does not parse, uses a construct, function or value outside those above,
// or could exceed a bound with the longest values it may be given. It then
// renders every key once with stand-in values, so that a template it
// returns fails at Render only for a value longer than it may be.
func Parse(data map[string]string) (*Template, error) {
	t := &Template{keys: slices.Sorted(maps.Keys(data)), parsed: map[string]*template.Template{}, refs: map[string]bool{}}
	secretBytes, work := 0, 0
	for _, key := range t.keys {
		tmpl, err := template.New(key).Funcs(newFuncs(nil)).Parse(data[key])
		if err != nil {
			return nil, &Error{Key: key, Reason: cleanParseError(key, err)}
		}
		if len(tmpl.Templates()) > 1 {
			return nil, &Error{Key: key, Reason: "define and block are not supported"}
		}
		a := &analysis{tree: tmpl.Tree, refs: t.refs}
		out, err := a.list(tmpl.Tree.Root)
		if err != nil {
			return nil, &Error{Key: key, Reason: err.Error()}
		}
		if out > MaxRenderedBytes {
			return nil, &Error{Key: key, Reason: fmt.Sprintf("may render to more than %d bytes (%d with the longest values)", MaxRenderedBytes, out)}
		}
		secretBytes += out
		work += a.work
		t.parsed[key] = tmpl
	}
	if secretBytes > MaxSecretBytes {
		return nil, &Error{Reason: fmt.Sprintf("the keys may render to more than %d bytes in all (%d with the longest values)", MaxSecretBytes, secretBytes)}
	}
	if work > MaxRenderWork {
		return nil, &Error{Reason: fmt.Sprintf("the keys may produce more than %d bytes in all while rendering (%d with the longest values)", MaxRenderWork, work)}
	}
	t.accounts = t.refs["UserSecret"] || t.refs["OrganizationSecret"]
	if _, err := t.Render(standIns); err != nil {
		return nil, err
	}
	return t, nil
}

// UsesAccountSecrets says whether any key refers to the account's secrets.
func (t *Template) UsesAccountSecrets() bool { return t.accounts }

// Render executes every key's template. Errors name the key or the value,
// never what a value holds.
func (t *Template) Render(v Values) (map[string][]byte, error) {
	for _, name := range Names() {
		if t.refs[name] && len(v.get(name)) > maxValueBytes[name] {
			return nil, &Error{Reason: fmt.Sprintf(".%s is longer than the %d bytes a template may be given", name, maxValueBytes[name])}
		}
	}
	b := &budget{left: MaxRenderWork}
	funcs := newFuncs(b)
	out := make(map[string][]byte, len(t.keys))
	for _, key := range t.keys {
		tmpl, err := t.parsed[key].Clone()
		if err != nil {
			return nil, &Error{Key: key, Reason: "rendering failed"}
		}
		buf := &limitedBuffer{limit: MaxRenderedBytes, budget: b}
		if err := tmpl.Funcs(funcs).Execute(buf, v); err != nil {
			return nil, &Error{Key: key, Reason: cleanExecError(err)}
		}
		out[key] = buf.Bytes()
	}
	return out, nil
}

var known = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range Names() {
		m[n] = true
	}
	return m
}()

// analysis walks a template's tree, refusing all but text and actions of
// values and encoders, and adds up the most each action can produce.
type analysis struct {
	tree *parse.Tree
	refs map[string]bool
	// work is the most the key can produce: every function result and
	// its output.
	work int
}

// at prefixes a reason with where in the template it arose.
func (a *analysis) at(n parse.Node, format string, args ...any) error {
	location, _ := a.tree.ErrorContext(n)
	return fmt.Errorf("%s: %s", location, fmt.Sprintf(format, args...))
}

const noBranches = "is not supported: a token Secret's value does not branch (on a secret, a branch would tell whoever edits the object something of it)"

// list returns the most the list can write.
func (a *analysis) list(l *parse.ListNode) (int, error) {
	out := 0
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			out += len(n.Text)
		case *parse.ActionNode:
			size, err := a.pipe(n.Pipe)
			if err != nil {
				return 0, err
			}
			out += size
		case *parse.IfNode:
			return 0, errors.New("if " + noBranches)
		case *parse.WithNode:
			return 0, errors.New("with " + noBranches)
		case *parse.RangeNode:
			return 0, errors.New("range is not supported: the values are single strings")
		case *parse.TemplateNode:
			return 0, errors.New("template calls are not supported")
		default:
			return 0, a.at(n, "%s is not supported", n)
		}
	}
	a.work += out
	return out, nil
}

// pipe returns the most the pipeline can produce.
func (a *analysis) pipe(p *parse.PipeNode) (int, error) {
	if len(p.Decl) > 0 || p.IsAssign {
		return 0, errors.New("variables are not supported: pipe a value through functions instead")
	}
	var piped *operand
	for _, cmd := range p.Cmds {
		fn, isCall := cmd.Args[0].(*parse.IdentifierNode)
		if !isCall {
			if piped != nil || len(cmd.Args) > 1 {
				return 0, a.at(cmd, "only a function takes arguments")
			}
			o, err := a.operand(cmd.Args[0])
			if err != nil {
				return 0, err
			}
			piped = &o
			continue
		}
		sig, ok := signatures[fn.Ident]
		if !ok {
			return 0, a.at(fn, "function %s is not supported: a template may use %s", fn.Ident, strings.Join(slices.Sorted(maps.Keys(signatures)), ", "))
		}
		args := make([]operand, 0, len(cmd.Args))
		for _, arg := range cmd.Args[1:] {
			o, err := a.operand(arg)
			if err != nil {
				return 0, err
			}
			args = append(args, o)
		}
		if piped != nil {
			args = append(args, *piped)
		}
		size, err := a.call(fn, sig, args)
		if err != nil {
			return 0, err
		}
		a.work += size
		piped = &operand{max: size}
	}
	if piped == nil {
		return 0, errors.New("an action needs a value")
	}
	return piped.max, nil
}

// operand is what an argument can be: the most bytes it can hold, and its
// text when it is a literal.
type operand struct {
	max     int
	literal *string
}

func (a *analysis) operand(n parse.Node) (operand, error) {
	switch n := n.(type) {
	case *parse.FieldNode:
		return a.value(n, n.Ident)
	case *parse.VariableNode:
		if n.Ident[0] == "$" && len(n.Ident) > 1 {
			return a.value(n, n.Ident[1:])
		}
	case *parse.DotNode:
		return operand{}, a.at(n, ". is all the values: name one, %s", strings.Join(fieldNames(), ", "))
	case *parse.StringNode:
		return operand{max: len(n.Text), literal: &n.Text}, nil
	case *parse.PipeNode:
		size, err := a.pipe(n)
		return operand{max: size}, err
	case *parse.ChainNode:
		return operand{}, fmt.Errorf("unknown value %s: a template may use %s", n, strings.Join(fieldNames(), ", "))
	case *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
		return operand{}, a.at(n, "%s: only string literals are supported", n)
	case *parse.IdentifierNode:
		return operand{}, a.at(n, "function %s as an argument needs parentheses and its own arguments", n)
	}
	return operand{}, a.at(n, "%s is all the values: name one, %s", n, strings.Join(fieldNames(), ", "))
}

// value refers to one of Values: .X and $.X alike.
func (a *analysis) value(n parse.Node, ident []string) (operand, error) {
	if len(ident) != 1 || !known[ident[0]] {
		return operand{}, fmt.Errorf("unknown value %s: a template may use %s", n, strings.Join(fieldNames(), ", "))
	}
	a.refs[ident[0]] = true
	return operand{max: maxValueBytes[ident[0]]}, nil
}

func fieldNames() []string {
	names := Names()
	for i, n := range names {
		names[i] = "." + n
	}
	return names
}

// call returns the most a function can return given the most its arguments
// can hold.
func (a *analysis) call(fn *parse.IdentifierNode, sig signature, args []operand) (int, error) {
	if len(args) != sig.args {
		return 0, a.at(fn, "%s takes %d arguments, got %d", fn.Ident, sig.args, len(args))
	}
	size, err := sig.bound(args)
	if err != nil {
		return 0, a.at(fn, "%s", err)
	}
	if size > MaxRenderedBytes {
		return 0, a.at(fn, "%s may produce more than %d bytes (%d with the longest values)", fn.Ident, MaxRenderedBytes, size)
	}
	return size, nil
}

// signature is a function's arity (the piped value last) and the most it
// can return.
type signature struct {
	args  int
	bound func(args []operand) (int, error)
}

func scaled(factor, extra int) func([]operand) (int, error) {
	return func(args []operand) (int, error) { return factor*args[len(args)-1].max + extra, nil }
}

var errReplaceOld = errors.New("replace's first argument (old) must be a non-empty string literal: an empty one, or a value, multiplies what it is given")

// signatures are the functions a template may use, named and ordered as
// Sprig's (which External Secrets Operator templates use too), so that
// existing templates carry over. Each bound is the worst case: upper and
// lower write an invalid UTF-8 byte as three; quote writes it as \xff,
// toJson as \ufffd.
var signatures = map[string]signature{
	"upper":      {1, scaled(3, 0)},
	"lower":      {1, scaled(3, 0)},
	"trim":       {1, scaled(1, 0)},
	"trimPrefix": {2, scaled(1, 0)},
	"trimSuffix": {2, scaled(1, 0)},
	"quote":      {1, scaled(4, 2)},
	"squote":     {1, scaled(1, 2)},
	"toJson":     {1, scaled(6, 2)},
	"b64enc": {1, func(args []operand) (int, error) {
		return base64.StdEncoding.EncodedLen(args[0].max), nil
	}},
	"replace": {3, func(args []operand) (int, error) {
		old, replacement, s := args[0], args[1], args[2]
		if old.literal == nil || *old.literal == "" {
			return 0, errReplaceOld
		}
		if replacement.max <= len(*old.literal) {
			return s.max, nil
		}
		return s.max + s.max/len(*old.literal)*(replacement.max-len(*old.literal)), nil
	}},
}

// budget is what one render may still produce.
type budget struct{ left int }

var errWork = fmt.Errorf("produced more than %d bytes in all while rendering", MaxRenderWork)

// take charges n bytes, refusing more than one value may hold or than is
// left.
func (b *budget) take(n int) error {
	switch {
	case n > MaxRenderedBytes:
		return fmt.Errorf("the result would hold more than %d bytes", MaxRenderedBytes)
	case n > b.left:
		return errWork
	}
	b.left -= n
	return nil
}

// newFuncs are the functions as Render runs them, charging b for every
// result. Parse needs only their names (b nil).
func newFuncs(b *budget) template.FuncMap {
	charged := func(f func(string) string) func(string) (string, error) {
		return func(s string) (string, error) {
			r := f(s)
			return r, b.take(len(r))
		}
	}
	charged2 := func(f func(a, s string) string) func(a, s string) (string, error) {
		return func(a, s string) (string, error) {
			r := f(a, s)
			return r, b.take(len(r))
		}
	}
	return template.FuncMap{
		"upper":      charged(strings.ToUpper),
		"lower":      charged(strings.ToLower),
		"trim":       charged(strings.TrimSpace),
		"trimPrefix": charged2(func(prefix, s string) string { return strings.TrimPrefix(s, prefix) }),
		"trimSuffix": charged2(func(suffix, s string) string { return strings.TrimSuffix(s, suffix) }),
		"quote":      charged(strconv.Quote),
		"squote":     charged(func(s string) string { return "'" + s + "'" }),
		"toJson": charged(func(s string) string {
			out, _ := json.Marshal(s) // a string always marshals
			return string(out)
		}),
		"b64enc": func(s string) (string, error) {
			if err := b.take(base64.StdEncoding.EncodedLen(len(s))); err != nil {
				return "", err
			}
			return base64.StdEncoding.EncodeToString([]byte(s)), nil
		},
		"replace": func(old, replacement, s string) (string, error) {
			if old == "" {
				return "", errReplaceOld
			}
			// Charged before it is built: the size is known from the count.
			if err := b.take(len(s) + strings.Count(s, old)*(len(replacement)-len(old))); err != nil {
				return "", err
			}
			return strings.ReplaceAll(s, old, replacement), nil
		},
	}
}

// cleanParseError drops the "template: key:" prefix the key already names.
func cleanParseError(key string, err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "template: ")
	return strings.TrimPrefix(msg, key+":")
}

// cleanExecError keeps text/template's position and failing action. No
// value reaches it: the functions here never quote their input, and
// text/template's own messages name types and actions, not data.
func cleanExecError(err error) string {
	var execErr template.ExecError
	switch {
	case errors.As(err, &execErr):
		return strings.TrimPrefix(execErr.Err.Error(), "template: ")
	case errors.Is(err, errTooLarge), errors.Is(err, errWork):
		return err.Error()
	}
	return "rendering failed"
}

var errTooLarge = fmt.Errorf("renders to more than %d bytes", MaxRenderedBytes)

// limitedBuffer stops a render that writes more than limit bytes, or more
// than its budget has left.
type limitedBuffer struct {
	bytes.Buffer
	limit  int
	budget *budget
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.limit {
		return 0, errTooLarge
	}
	if err := b.budget.take(len(p)); err != nil {
		return 0, err
	}
	return b.Buffer.Write(p)
}
