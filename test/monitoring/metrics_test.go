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
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// targetLabels are the labels Prometheus adds to every series of a target
// scraped through the ServiceMonitor; the manager does not export them.
var targetLabels = []string{"job", "namespace", "pod", "instance", "service", "endpoint", "container"}

// prometheusSeries are series Prometheus writes itself for each target
// rather than scraping them: `up`, which HubSpotOperatorDown reads.
var prometheusSeries = []string{"up"}

// exported is what a scrape of the manager showed: each metric's series'
// label sets.
type exported map[string][]labels.Labels

func (e exported) hasLabel(metric, label string) bool {
	for _, ls := range e[metric] {
		if ls.Has(label) {
			return true
		}
	}
	return false
}

func (e exported) hasValue(metric, label, value string) bool {
	for _, ls := range e[metric] {
		if ls.Get(label) == value {
			return true
		}
	}
	return false
}

// values lists the values of label over metric's series, for messages.
func (e exported) values(metric, label string) []string {
	var out []string
	for _, ls := range e[metric] {
		if v := ls.Get(label); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// sum adds the values of metric's series whose labels include match.
func sum(metrics map[string]float64, metric string, match map[string]string) float64 {
	total := 0.0
	for series, v := range metrics {
		ls, err := promql.ParseMetric(series)
		if err != nil || ls.Get(model.MetricNameLabel) != metric {
			continue
		}
		ok := true
		for k, want := range match {
			ok = ok && ls.Get(k) == want
		}
		if ok {
			total += v
		}
	}
	return total
}

// TestMetricsExported runs the real manager binary (main.go) against a
// local control plane and the Cloud Elements simulator, takes objects
// through the paths that create series lazily — Cloud Elements calls,
// including a 429 and a 5xx; reconciles; Ready and Stalled with each reason
// the alerts name; an OAuth callback — scrapes /metrics over HTTP, and
// checks every selector of the rules and the dashboard against what it got.
func TestMetricsExported(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane and the manager")
	}
	logf.SetLogger(logr.Discard()) // envtest logs through controller-runtime
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	root := repoRoot(t)
	workDir := t.TempDir()

	bin, err := harness.BuildOperator(root, workDir)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := harness.StartControlPlane(root, workDir)
	if err != nil {
		t.Fatalf("start the control plane (`make test` sets KUBEBUILDER_ASSETS from hack/setup-envtest.sh): %v", err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Error(err)
		}
	})
	userSecret, orgSecret := "monitoring-user-secret", "monitoring-organization-secret"
	sim, err := harness.StartSimulator(simulator.Options{UserSecret: userSecret, OrganizationSecret: orgSecret, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)

	callbackAddr := freeAddr(t)
	op := &harness.Operator{
		Bin: bin, Kubeconfig: cp.Kubeconfig, LogPath: filepath.Join(workDir, "operator.log"),
		// The harness turns the OAuth callback server off; the last flag wins.
		// The create answered 429 below is in doubt: it is looked up after the
		// grace period, by default a minute (twice the client timeout) that
		// this test would spend waiting.
		Args: []string{"--oauth-callback-bind-address=" + callbackAddr, "--create-grace-period=2s"},
	}
	t.Cleanup(func() {
		if err := op.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			if log, err := os.ReadFile(op.LogPath); err == nil {
				if len(log) > 16<<10 {
					log = log[len(log)-16<<10:]
				}
				t.Logf("operator log (tail):\n%s", log)
			}
		}
	})
	if err := op.Start(ctx); err != nil {
		t.Fatal(err)
	}

	k8s := cp.Client
	const ns = "monitoring"
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cloud-elements"},
			StringData: map[string]string{"user-secret": userSecret, "organization-secret": orgSecret}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hubspot-key"},
			StringData: map[string]string{"api-key": "monitoring-hubspot-api-key"}},
	} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	instance := func(name, endpoint string) *elementsv1alpha1.HubSpotInstance {
		return &elementsv1alpha1.HubSpotInstance{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: elementsv1alpha1.HubSpotInstanceSpec{
				Platform: elementsv1alpha1.PlatformSpec{
					Endpoint:             elementsv1alpha1.HTTPURL(endpoint),
					CredentialsSecretRef: elementsv1alpha1.CredentialsSecretRef{Name: "cloud-elements"},
				},
				Auth: elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeAPIKey,
					APIKey: &elementsv1alpha1.APIKeyAuth{SecretRef: elementsv1alpha1.SecretKeySelector{Name: "hubspot-key", Key: "api-key"}}},
			},
		}
	}
	waitFor := func(name, condition, reason string) *elementsv1alpha1.HubSpotInstance {
		t.Helper()
		obj := &elementsv1alpha1.HubSpotInstance{}
		last := "not reconciled"
		for ctx.Err() == nil {
			if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, obj); err == nil {
				c := meta.FindStatusCondition(obj.Status.Conditions, condition)
				if c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason {
					return obj
				}
				if ready := meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady); ready != nil {
					last = ready.Reason + ": " + ready.Message
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s never got %s=True with reason %s; Ready: %s", name, condition, reason, last)
		return nil
	}
	requestReconcile := func(name string) {
		t.Helper()
		obj := &elementsv1alpha1.HubSpotInstance{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, obj); err != nil {
			t.Fatal(err)
		}
		patch := client.MergeFrom(obj.DeepCopy())
		if obj.Annotations == nil {
			obj.Annotations = map[string]string{}
		}
		obj.Annotations[elementsv1alpha1.ReconcileRequestAnnotation] = strconv.FormatInt(time.Now().UnixNano(), 10)
		if err := k8s.Patch(ctx, obj, patch); err != nil {
			t.Fatal(err)
		}
	}

	// Ready after a 429 on the create, which the operator waits out.
	sim.SetFault(simulator.OpCreate, simulator.Fault{FailNext: 1, Status: http.StatusTooManyRequests, RetryAfter: time.Second})
	for _, name := range []string{"available", "disabled", "lapsed"} {
		if err := k8s.Create(ctx, instance(name, sim.Endpoint)); err != nil {
			t.Fatal(err)
		}
	}
	// Stalled without a call: an endpoint off the allow-list.
	if err := k8s.Create(ctx, instance("off-list", "https://ce.example.com/elements/api-v2")); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, name := range []string{"available", "disabled", "lapsed"} {
		ids[name] = waitFor(name, elementsv1alpha1.ConditionReady, elementsv1alpha1.ReasonAvailable).Status.InstanceID
	}
	waitFor("off-list", elementsv1alpha1.ConditionStalled, elementsv1alpha1.ReasonInvalidConfiguration)

	// Someone disables one instance and revokes another's authorization at
	// Cloud Elements; a requested reconcile looks at once.
	if err := sim.SetDisabled(ids["disabled"], true); err != nil {
		t.Fatal(err)
	}
	if err := sim.Invalidate(ids["lapsed"]); err != nil {
		t.Fatal(err)
	}
	requestReconcile("disabled")
	requestReconcile("lapsed")
	waitFor("disabled", elementsv1alpha1.ConditionStalled, elementsv1alpha1.ReasonInstanceDisabled)
	waitFor("lapsed", elementsv1alpha1.ConditionStalled, elementsv1alpha1.ReasonReauthorizationRequired)

	// A 503 fails a reconcile (an error, retried with backoff) before it
	// succeeds.
	sim.SetFault(simulator.OpGet, simulator.Fault{FailNext: 1, Status: http.StatusServiceUnavailable})
	requestReconcile("available")

	// An OAuth callback without a state.
	resp, err := http.Get("http://" + callbackAddr + "/oauth/callback")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	scrape := func() (map[string]float64, exported) {
		t.Helper()
		metrics, err := op.Metrics()
		if err != nil {
			t.Fatal(err)
		}
		got := exported{}
		for series := range metrics {
			ls, err := promql.ParseMetric(series)
			if err != nil {
				t.Fatalf("scraped series %q: %v", series, err)
			}
			name := ls.Get(model.MetricNameLabel)
			got[name] = append(got[name], ls)
		}
		return metrics, got
	}
	// Until the 503's failed reconcile and the callback show (a failed
	// reconcile is counted after its status was written)…
	for {
		metrics, got := scrape()
		if got.hasValue("cloudelements_requests_total", "code", "503") &&
			sum(metrics, "controller_runtime_reconcile_errors_total", map[string]string{"controller": "hubspotinstance"}) > 0 &&
			sum(metrics, "hubspot_operator_oauth_callbacks_total", map[string]string{"result": "missing_state"}) > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the 503 or the OAuth callback never showed in the metrics")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// …and the retry has made the object Ready again.
	waitFor("available", elementsv1alpha1.ConditionReady, elementsv1alpha1.ReasonAvailable)
	// The gauges are read from what the reconciler remembers, which a
	// reconcile records as it ends, just after its status write: a scrape in
	// between still counts the object as it was.
	metrics, got := scrape()
	for sum(metrics, "hubspot_operator_instances", map[string]string{"ready": "true"}) != 1 && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
		metrics, got = scrape()
	}
	t.Logf("scraped %d series of %d metrics", len(metrics), len(got))

	// The gauges say what the objects say.
	for reason, want := range map[string]float64{
		elementsv1alpha1.ReasonInvalidConfiguration:    1,
		elementsv1alpha1.ReasonInstanceDisabled:        1,
		elementsv1alpha1.ReasonReauthorizationRequired: 1,
	} {
		if n := sum(metrics, "hubspot_operator_instances_stalled", map[string]string{"reason": reason}); n != want {
			t.Errorf("hubspot_operator_instances_stalled{reason=%q} is %v, want %v", reason, n, want)
		}
	}
	if n := sum(metrics, "hubspot_operator_instances", map[string]string{"ready": "true"}); n != 1 {
		t.Errorf("hubspot_operator_instances{ready=\"true\"} is %v, want 1", n)
	}

	// Every selector of every rule and dashboard query.
	pr, _ := loadRules(t)
	var all []query
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			all = append(all, query{"alert " + r.Alert, r.Expr})
		}
	}
	all = append(all, dashboardQueries(t)...)
	used := map[string]bool{}
	for _, q := range all {
		r, err := analyse(q.expr)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		for _, problem := range check(got, r) {
			t.Errorf("%s: %s", q.where, problem)
		}
		for _, s := range r.selectors {
			used[s.metric] = true
		}
	}
	for _, m := range prometheusSeries {
		delete(used, m)
	}
	t.Logf("%d expressions read %d metrics of the manager (and Prometheus's %v): %s",
		len(all), len(used), prometheusSeries, strings.Join(sortedKeys(used), ", "))
}

// check lists what r reads that the manager does not export.
func check(got exported, r reads) []string {
	var problems []string
	for _, s := range r.selectors {
		if slices.Contains(prometheusSeries, s.metric) {
			continue
		}
		if len(got[s.metric]) == 0 {
			problems = append(problems, fmt.Sprintf("metric %s is not exported", s.metric))
			continue
		}
		for _, m := range s.matchers {
			if slices.Contains(targetLabels, m.Name) {
				continue
			}
			if !got.hasLabel(s.metric, m.Name) {
				problems = append(problems, fmt.Sprintf("%s has no label %s", s.metric, m.Name))
				continue
			}
			var want []string
			switch m.Type {
			case labels.MatchEqual, labels.MatchNotEqual:
				want = []string{m.Value}
			case labels.MatchRegexp, labels.MatchNotRegexp:
				want = literalAlternatives(m.Value)
			}
			for _, v := range want {
				if !got.hasValue(s.metric, m.Name, v) {
					problems = append(problems, fmt.Sprintf("%s has no series with %s=%q (it has %v)", s.metric, m.Name, v, got.values(s.metric, m.Name)))
				}
			}
		}
	}
	for _, g := range r.grouping {
		if slices.Contains(targetLabels, g.label) {
			continue
		}
		found := false
		for _, metric := range g.metrics {
			found = found || got.hasLabel(metric, g.label)
		}
		if !found {
			problems = append(problems, fmt.Sprintf("grouping by %s, which none of %v has", g.label, g.metrics))
		}
	}
	return problems
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
