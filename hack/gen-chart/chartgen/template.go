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

package chartgen

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// A templater turns one object, decoded as a YAML node tree, into Helm
// template text. Where a value must become a template expression it puts a
// placeholder into the tree; the tree is then encoded with kustomize's own
// YAML encoder (so the layout matches `kustomize build`) and each
// placeholder is replaced in the text:
//
//   - an inline placeholder is a scalar value, replaced by an expression in
//     place (`replicas: {{ .Values.replicaCount }}`);
//   - a block placeholder is a whole line — a mapping key `__HELM_n__: ""` or
//     a sequence item `- __HELM_n__` — replaced by lines built for that
//     line's indentation (`{{- toYaml .Values.resources | nindent 12 }}`,
//     `{{- with … }} … {{- end }}`).
type templater struct {
	n      int
	inline map[string]string
	blocks map[string]func(indent string) string
}

func newTemplater() *templater {
	return &templater{inline: map[string]string{}, blocks: map[string]func(string) string{}}
}

func (t *templater) placeholder() string {
	t.n++
	return fmt.Sprintf("__HELM_%d__", t.n)
}

// setInline makes the scalar n render as text (a template expression).
func (t *templater) setInline(n *yaml.Node, text string) {
	ph := t.placeholder()
	t.inline[ph] = text
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ph}
}

// setBlock replaces the value n (typically a mapping or sequence under a key)
// with `{{- toYaml <expr> | nindent … }}` on the line below its key.
func (t *templater) setBlock(n *yaml.Node, expr string) {
	ph := t.placeholder()
	t.blocks[ph] = func(ind string) string {
		return fmt.Sprintf("%s{{- toYaml %s | nindent %d }}", ind, expr, len(ind))
	}
	*n = yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar(ph), scalar("")}}
}

// addKeyBlock appends to mapping m a line rendered by lines, given the
// indentation of m's keys.
func (t *templater) addKeyBlock(m *yaml.Node, lines func(indent string) string) {
	ph := t.placeholder()
	t.blocks[ph] = lines
	m.Content = append(m.Content, scalar(ph), scalar(""))
}

// replaceKeyBlock replaces key k of mapping m, in place, by a line rendered
// by lines, given the indentation of m's keys; it returns k's value, nil
// (and m unchanged) when m has no key k.
func (t *templater) replaceKeyBlock(m *yaml.Node, k string, lines func(indent string) string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			v := m.Content[i+1]
			ph := t.placeholder()
			t.blocks[ph] = lines
			m.Content[i], m.Content[i+1] = scalar(ph), scalar("")
			return v
		}
	}
	return nil
}

// addItemBlock appends to sequence s lines rendered by lines, given the
// indentation of s's dashes.
func (t *templater) addItemBlock(s *yaml.Node, lines func(indent string) string) {
	ph := t.placeholder()
	t.blocks[ph] = lines
	s.Content = append(s.Content, scalar(ph))
}

var blockLine = regexp.MustCompile(`^(\s*)(?:- )?(__HELM_\d+__)(?:: "")?$`)

// render encodes n and substitutes the placeholders.
func (t *templater) render(n *yaml.Node) (string, error) {
	text, err := encode(n)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i, line := range lines {
		if m := blockLine.FindStringSubmatch(line); m != nil {
			if f, ok := t.blocks[m[2]]; ok {
				lines[i] = f(m[1])
			}
		}
	}
	out := strings.Join(lines, "\n") + "\n"
	for ph, text := range t.inline {
		out = strings.ReplaceAll(out, ph, text)
	}
	if strings.Contains(out, "__HELM_") {
		return "", fmt.Errorf("a placeholder was left in the template:\n%s", out)
	}
	return out, nil
}

// indentLines prefixes every line of text with indent.
func indentLines(indent, text string) string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = indent + l
	}
	return strings.Join(lines, "\n")
}

// --- YAML node helpers ---

func scalar(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

// get follows mapping keys from n; nil when a key is missing.
func get(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// set sets key k of mapping m to v, appending the key when missing.
func set(m *yaml.Node, k string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, scalar(k), v)
}

// del removes key k from mapping m and returns its value (nil when absent).
func del(m *yaml.Node, k string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			v := m.Content[i+1]
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return v
		}
	}
	return nil
}

// ensureMap returns the mapping under key k of m, creating it when missing.
func ensureMap(m *yaml.Node, k string) *yaml.Node {
	if v := get(m, k); v != nil {
		return v
	}
	v := &yaml.Node{Kind: yaml.MappingNode}
	set(m, k, v)
	return v
}

// walkValues calls f on every scalar that is a value (not a mapping key).
func walkValues(n *yaml.Node, f func(*yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walkValues(c, f)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			walkValues(n.Content[i], f)
		}
	case yaml.ScalarNode:
		f(n)
	}
}

// encode renders n as YAML with kustomize's encoder.
func encode(n *yaml.Node) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(n); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func parse(doc []byte) (*yaml.Node, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err != nil {
		return nil, err
	}
	if n.Kind != yaml.DocumentNode || len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a YAML object:\n%s", doc)
	}
	return n.Content[0], nil
}
