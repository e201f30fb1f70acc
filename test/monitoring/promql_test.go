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

package monitoring_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"

	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

const (
	rulesFile     = "config/prometheus/rules.yaml"
	dashboardFile = "config/prometheus/dashboards/hubspot-operator.json"
)

// promql is Prometheus's parser with its default options, as a Prometheus
// server without feature flags parses rules.
var promql = parser.NewParser(parser.Options{})

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// --- the rules ---

type alertRule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type ruleGroup struct {
	Name  string      `json:"name"`
	Rules []alertRule `json:"rules"`
}

type prometheusRule struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		Groups []ruleGroup `json:"groups"`
	} `json:"spec"`
}

// loadRules reads the PrometheusRule strictly (an unknown field is a typo
// Prometheus would ignore or refuse) and returns it with its spec as YAML,
// which is a Prometheus rule file: the Prometheus Operator writes spec into
// one as it is.
func loadRules(t *testing.T) (prometheusRule, []byte) {
	t.Helper()
	raw := readFile(t, rulesFile)
	var pr prometheusRule
	if err := yaml.UnmarshalStrict(raw, &pr); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" {
		t.Fatalf("%s is a %s %s, not a monitoring.coreos.com/v1 PrometheusRule", rulesFile, pr.APIVersion, pr.Kind)
	}
	spec, err := yaml.Marshal(pr.Spec)
	if err != nil {
		t.Fatal(err)
	}
	return pr, spec
}

// --- the dashboard ---

// query is one PromQL expression of the dashboard, with where it is.
type query struct{ where, expr string }

// grafanaVariables are the dashboard's interval variables: Grafana puts a
// duration in their place, so a duration stands in for them when parsing.
var grafanaVariables = regexp.MustCompile(`\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}`)

// labelValues is the query of a template variable, label_values(selector, label).
var labelValues = regexp.MustCompile(`^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// dashboardQueries returns every PromQL expression of the dashboard: the
// panels' targets (rows' panels included) and the query variables'
// selectors, as the Prometheus data source sends them.
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	var d struct {
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(readFile(t, dashboardFile), &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	type panel struct {
		ID      int               `json:"id"`
		Title   string            `json:"title"`
		Panels  []json.RawMessage `json:"panels"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	}
	var out []query
	var walk func([]json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatal(err)
			}
			for _, tg := range p.Targets {
				out = append(out, query{fmt.Sprintf("panel %d %q target %s", p.ID, p.Title, tg.RefID), grafanaVariables.ReplaceAllString(tg.Expr, "5m")})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(string)
		if m, ok := v.Query.(map[string]any); ok {
			q, _ = m["query"].(string)
		}
		m := labelValues.FindStringSubmatch(q)
		if m == nil {
			t.Fatalf("variable %s: query %q is not label_values(selector, label)", v.Name, q)
		}
		// label_values(selector, label) asks for the selector's series and
		// reads label from them, as `count by (label) (selector)` would.
		out = append(out, query{"variable " + v.Name, fmt.Sprintf("count by (%s) (%s)", m[2], m[1])})
	}
	return out
}

// --- what an expression reads ---

// selector is one vector selector of an expression: a metric and how it is
// matched.
type selector struct {
	metric   string
	matchers []*labels.Matcher // without the metric name's
}

// reads is what an expression needs of the series it queries.
type reads struct {
	selectors []selector
	// grouping are the label names of by (…) and without (…) clauses, each
	// with the metrics of the selectors under it: one of them must have it.
	grouping []grouping
}

type grouping struct {
	label   string
	metrics []string
}

// analyse parses expr with Prometheus's parser and walks its syntax tree.
func analyse(expr string) (reads, error) {
	ast, err := promql.ParseExpr(expr)
	if err != nil {
		return reads{}, err
	}
	var r reads
	parser.Inspect(ast, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			s := selector{metric: n.Name}
			for _, m := range n.LabelMatchers {
				if m.Name == model.MetricNameLabel {
					if s.metric == "" && m.Type == labels.MatchEqual {
						s.metric = m.Value
					}
					continue
				}
				s.matchers = append(s.matchers, m)
			}
			r.selectors = append(r.selectors, s)
		case *parser.AggregateExpr:
			var metrics []string
			parser.Inspect(n.Expr, func(inner parser.Node, _ []parser.Node) error {
				if vs, ok := inner.(*parser.VectorSelector); ok {
					metrics = append(metrics, vs.Name)
				}
				return nil
			})
			for _, l := range n.Grouping {
				r.grouping = append(r.grouping, grouping{l, metrics})
			}
		}
		return nil
	})
	return r, nil
}

// literalAlternatives are the values a regular expression made only of
// literals separated by | matches ("a|b" → a, b); nil for any other.
func literalAlternatives(re string) []string {
	if !regexp.MustCompile(`^[A-Za-z0-9_-]+(\|[A-Za-z0-9_-]+)*$`).MatchString(re) {
		return nil
	}
	return strings.Split(re, "|")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
