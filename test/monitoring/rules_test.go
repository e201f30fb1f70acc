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
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
)

// The alerts, in the order of rules.yaml; README's "Monitoring" lists each.
var wantAlerts = []string{
	"HubSpotInstanceStalled",
	"HubSpotInstanceReauthorizationRequired",
	"HubSpotInstanceDisabled",
	"CloudElementsErrorRateHigh",
	"CloudElementsRateLimited",
	"HubSpotOperatorReconcileErrors",
	"HubSpotOperatorReconcilePanics",
	"HubSpotOperatorOAuthCallbackFailures",
	"HubSpotOperatorOAuthCallbacksRejected",
	"HubSpotOperatorDown",
}

var severities = []string{"critical", "warning", "info"}

// TestRuleExpressionsParse: every expression parses with Prometheus's PromQL
// parser and selects at least one metric by name.
func TestRuleExpressionsParse(t *testing.T) {
	pr, _ := loadRules(t)
	n := 0
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			n++
			got, err := analyse(r.Expr)
			if err != nil {
				t.Errorf("%s: %v\n%s", r.Alert, err, r.Expr)
				continue
			}
			if len(got.selectors) == 0 {
				t.Errorf("%s: the expression selects no series", r.Alert)
			}
			for _, s := range got.selectors {
				if s.metric == "" {
					t.Errorf("%s: a selector without a metric name", r.Alert)
				}
			}
		}
	}
	t.Logf("%d rules parsed", n)
}

// TestRulesLoadInPrometheus: the groups load with Prometheus's rule file
// loader, strictly (unknown fields refused), which validates names, label
// values, durations and the annotation templates as Prometheus does.
func TestRulesLoadInPrometheus(t *testing.T) {
	_, spec := loadRules(t)
	groups, errs := rulefmt.Parse(spec, false, model.LegacyValidation, promql, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	if groups == nil {
		t.FailNow()
	}
	var alerts []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
		}
	}
	if !slices.Equal(alerts, wantAlerts) {
		t.Errorf("alerts %v, want %v", alerts, wantAlerts)
	}
}

// TestAlertsAreDocumented: each alert has a summary, a description, a
// severity and a `for`, and README's "Monitoring" section lists it.
func TestAlertsAreDocumented(t *testing.T) {
	pr, _ := loadRules(t)
	readme := string(readFile(t, "README.md"))
	start := strings.Index(readme, "\n## Monitoring\n")
	if start < 0 {
		t.Fatal(`README.md has no "## Monitoring" section`)
	}
	section := readme[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a summary and a description annotation", r.Alert)
			}
			if !slices.Contains(severities, r.Labels["severity"]) {
				t.Errorf("%s: severity %q is not one of %v", r.Alert, r.Labels["severity"], severities)
			}
			if d, err := model.ParseDuration(r.For); err != nil || time.Duration(d) <= 0 {
				t.Errorf("%s: for %q should be a positive duration", r.Alert, r.For)
			}
			if !strings.Contains(section, "`"+r.Alert+"`") {
				t.Errorf("README.md's Monitoring section does not list %s", r.Alert)
			}
		}
	}
}
