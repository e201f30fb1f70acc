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
// Templates run in the operator, next to every tenant's credentials, so
// they get only string functions: nothing that reads the environment, files
// or the network, no loops and no template calls (so no render can run
// away), and a bound on what a render may write.
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

// MaxRenderedBytes bounds what one key may render to.
const MaxRenderedBytes = 64 << 10

// Error says which key's template failed, and why, without any value.
type Error struct {
	Key    string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("key %q: %s", e.Key, e.Reason) }

// Template is a parsed set of key templates.
type Template struct {
	keys     []string
	parsed   map[string]*template.Template
	accounts bool
}

// Parse parses each key's template. It refuses templates that do not parse,
// use functions or values that do not exist, or use constructs a token
// Secret has no need of (range, template, define, block).
func Parse(data map[string]string) (*Template, error) {
	t := &Template{keys: slices.Sorted(maps.Keys(data)), parsed: map[string]*template.Template{}}
	for _, key := range t.keys {
		tmpl, err := template.New(key).Option("missingkey=error").Funcs(funcs).Parse(data[key])
		if err != nil {
			return nil, &Error{Key: key, Reason: cleanParseError(key, err)}
		}
		if len(tmpl.Templates()) > 1 {
			return nil, &Error{Key: key, Reason: "define and block are not supported"}
		}
		refs, err := check(tmpl.Tree.Root)
		if err != nil {
			return nil, &Error{Key: key, Reason: err.Error()}
		}
		if refs["UserSecret"] || refs["OrganizationSecret"] {
			t.accounts = true
		}
		t.parsed[key] = tmpl
	}
	return t, nil
}

// UsesAccountSecrets says whether any key refers to the account's secrets.
func (t *Template) UsesAccountSecrets() bool { return t.accounts }

// Render executes every key's template. Errors name the key, never a value.
func (t *Template) Render(v Values) (map[string][]byte, error) {
	out := make(map[string][]byte, len(t.keys))
	for _, key := range t.keys {
		buf := &limitedBuffer{limit: MaxRenderedBytes}
		if err := t.parsed[key].Execute(buf, v); err != nil {
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

// check walks a template's tree: it refuses loops and template calls, and
// fields that are not Values, and returns the fields it refers to.
func check(root parse.Node) (map[string]bool, error) {
	refs := map[string]bool{}
	var walk func(parse.Node) error
	walk = func(n parse.Node) error {
		switch n := n.(type) {
		case nil:
			return nil
		case *parse.ListNode:
			if n == nil {
				return nil
			}
			for _, c := range n.Nodes {
				if err := walk(c); err != nil {
					return err
				}
			}
		case *parse.RangeNode:
			return errors.New("range is not supported: the values are single strings")
		case *parse.TemplateNode:
			return errors.New("template calls are not supported")
		case *parse.IfNode:
			return walkBranch(walk, n.Pipe, n.List, n.ElseList)
		case *parse.WithNode:
			return walkBranch(walk, n.Pipe, n.List, n.ElseList)
		case *parse.ActionNode:
			return walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return nil
			}
			for _, c := range n.Cmds {
				if err := walk(c); err != nil {
					return err
				}
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				if err := walk(a); err != nil {
					return err
				}
			}
		case *parse.ChainNode:
			return walk(n.Node)
		case *parse.FieldNode:
			if len(n.Ident) != 1 || !known[n.Ident[0]] {
				return fmt.Errorf("unknown value .%s: a template may use %s", strings.Join(n.Ident, "."), "."+strings.Join(Names(), ", ."))
			}
			refs[n.Ident[0]] = true
		}
		return nil
	}
	return refs, walk(root)
}

func walkBranch(walk func(parse.Node) error, pipe *parse.PipeNode, list, elseList *parse.ListNode) error {
	if err := walk(pipe); err != nil {
		return err
	}
	if err := walk(list); err != nil {
		return err
	}
	if elseList != nil {
		return walk(elseList)
	}
	return nil
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
	case errors.Is(err, errTooLarge):
		return err.Error()
	}
	return "rendering failed"
}

var errTooLarge = fmt.Errorf("renders to more than %d bytes", MaxRenderedBytes)

// limitedBuffer stops a render that writes more than limit bytes.
type limitedBuffer struct {
	bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.limit {
		return 0, errTooLarge
	}
	return b.Buffer.Write(p)
}

// funcs are the string functions templates may use, named and ordered as
// Sprig's (which External Secrets Operator templates use too), so that
// existing templates carry over.
var funcs = template.FuncMap{
	"upper":      strings.ToUpper,
	"lower":      strings.ToLower,
	"trim":       strings.TrimSpace,
	"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
	"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
	"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
	"quote":      strconv.Quote,
	"squote":     func(s string) string { return "'" + s + "'" },
	"b64enc":     func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	"b64dec": func(s string) (string, error) {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return "", errors.New("not base64")
		}
		return string(b), nil
	},
	"toJson": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}
