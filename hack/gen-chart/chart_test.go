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

package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hubspot-operator/hubspot-operator/hack/gen-chart/chartgen"
)

// These tests need only Go: kustomize runs in-process and Helm as
// `go tool helm` (built on first use, then cached).

const (
	release   = "hubspot-operator" // with this release name the chart's names are config/'s
	namespace = "hubspot-operator-system"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := chartgen.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestChartIsUpToDate fails when the generated files on disk differ from what
// the generator writes from config/ now.
func TestChartIsUpToDate(t *testing.T) {
	root := repoRoot(t)
	files, err := chartgen.Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := chartgen.Diff(root, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 {
		return
	}
	var detail strings.Builder
	for _, p := range problems {
		rel, ok := strings.CutPrefix(p, "differs: ")
		if !ok {
			continue
		}
		disk, _ := os.ReadFile(filepath.Join(root, rel))
		diff := cmp.Diff(string(disk), string(files[rel]))
		if len(diff) > 3000 {
			diff = diff[:3000] + "\n…"
		}
		detail.WriteString("\n" + rel + " (-on disk +generated):\n" + diff)
	}
	t.Fatalf("the chart or config/namespaced is out of date with config/: run make chart\n%s%s",
		strings.Join(problems, "\n"), detail.String())
}

func helm(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := chartgen.GoTool(repoRoot(t), append([]string{"helm"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func render(t *testing.T, release, namespace string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := chartgen.HelmTemplate(repoRoot(t), release, namespace, args...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := chartgen.Decode(out)
	if err != nil {
		t.Fatalf("helm template output does not parse: %v\n%s", err, out)
	}
	return objs
}

func kustomize(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	out, err := chartgen.Kustomize(repoRoot(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := chartgen.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// valuesFile writes values to a temporary file for --values.
func valuesFile(t *testing.T, values string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(p, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Values that change everything the chart lets one change.
const customValues = `
nameOverride: ""
image: {repository: registry.example.com/platform/hubspot-operator, tag: v1.2.3, pullPolicy: Always}
imagePullSecrets: [{name: regcred}]
replicaCount: 3
leaderElection: {enabled: false}
watchNamespaces: [team-a, team-b]
clusterName: prod-eu-1
maxConcurrentReconciles: 4
cloudElements: {qps: 2.5, burst: 5, allowedEndpointHosts: [ce.internal.example, api.cloud-elements.com]}
extraArgs: ["--cloud-elements-timeout=1m"]
resources: {requests: {cpu: 50m, memory: 100Mi, ephemeral-storage: 32Mi}, limits: {cpu: "1", memory: 300Mi, ephemeral-storage: 512Mi}}
podAnnotations: {example.com/team: platform}
nodeSelector: {kubernetes.io/os: linux}
tolerations: [{key: dedicated, operator: Equal, value: operators, effect: NoSchedule}]
affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [amd64]}]}]}}}
oauthCallback:
  service: {port: 8080}
  ingress:
    enabled: true
    className: nginx
    annotations: {cert-manager.io/cluster-issuer: letsencrypt}
    host: operator.example.com
    tls: {secretName: operator-example-com-tls}
serviceMonitor: {enabled: true, labels: {release: prometheus}}
prometheus: {rules: {enabled: true, labels: {release: prometheus}}}
grafana: {dashboard: {enabled: true, namespace: monitoring, labels: {team: platform}, annotations: {grafana_folder: Operators}}}
`

func TestHelmLint(t *testing.T) {
	helm(t, "lint", "--strict", chartgen.ChartDir)
	helm(t, "lint", "--strict", chartgen.ChartDir, "--values", valuesFile(t, customValues))
	helm(t, "lint", "--strict", chartgen.ChartDir, "--set", "rbac.namespaced=true", "--set", "watchNamespaces={team-a}", "--set", "clusterName=prod-eu-1")
	helm(t, "lint", "--strict", chartgen.ChartDir, "--set", "sharding.enabled=true", "--set", "sharding.shards={shard1,shard2}")
	helm(t, append([]string{"lint", "--strict", chartgen.ChartDir}, monitoringOn...)...)
}

// id is how objects are matched between renders.
func id(o *unstructured.Unstructured) string {
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

func byID(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	m := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		m[id(o)] = o
	}
	return m
}

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s among %v", kind, name, ids(objs))
	return nil
}

func ids(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, id(o))
	}
	slices.Sort(out)
	return out
}

// Args the chart adds to config/'s, with their default values.
var chartArgs = []string{"--max-concurrent-reconciles=10", "--cloud-elements-qps=10", "--cloud-elements-burst=20"}

// normalize strips from o what the chart adds or spells differently by
// design: Helm's labels, the instance selector label, the flags it always
// passes, the image (which defaults to the chart's appVersion) and its pull
// policy. What remains must be config/'s object field for field.
func normalize(t *testing.T, o *unstructured.Unstructured) map[string]any {
	t.Helper()
	c := o.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "labels")
	for _, p := range [][]string{
		{"spec", "selector", "app.kubernetes.io/instance"},
		{"spec", "selector", "matchLabels", "app.kubernetes.io/instance"},
		{"spec", "podSelector", "matchLabels", "app.kubernetes.io/instance"},
		{"spec", "template", "metadata", "labels", "app.kubernetes.io/instance"},
	} {
		unstructured.RemoveNestedField(c.Object, p...)
	}
	// The pod anti-affinity's label selectors.
	terms, _, _ := unstructured.NestedSlice(c.Object, "spec", "template", "spec", "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution")
	for _, term := range terms {
		unstructured.RemoveNestedField(term.(map[string]any), "podAffinityTerm", "labelSelector", "matchLabels", "app.kubernetes.io/instance")
	}
	if terms != nil {
		if err := unstructured.SetNestedSlice(c.Object, terms, "spec", "template", "spec", "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution"); err != nil {
			t.Fatal(err)
		}
	}
	if c.GetKind() == "Deployment" {
		containers, _, _ := unstructured.NestedSlice(c.Object, "spec", "template", "spec", "containers")
		for _, x := range containers {
			ctr := x.(map[string]any)
			delete(ctr, "image")
			delete(ctr, "imagePullPolicy")
			var args []any
			for _, a := range ctr["args"].([]any) {
				switch {
				case a == "--leader-elect=true":
					args = append(args, "--leader-elect")
				case !slices.Contains(chartArgs, a.(string)):
					args = append(args, a)
				}
			}
			ctr["args"] = args
		}
		if err := unstructured.SetNestedSlice(c.Object, containers, "spec", "template", "spec", "containers"); err != nil {
			t.Fatal(err)
		}
	}
	return c.Object
}

// TestHelmDefaultsMatchKustomize: with default values (and the release name
// hubspot-operator) the chart renders config/default's objects, field for
// field, except for what normalize lists; and the chart's CRD is config/'s.
// With networkPolicy.enabled and replicaCount=2 it renders what
// config/default does with the network-policy and high-availability
// components.
func TestHelmDefaultsMatchKustomize(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		matchKustomize(t, nil)
	})
	t.Run("networkPolicy.enabled and replicaCount=2", func(t *testing.T) {
		chart := matchKustomize(t, []string{"--set", "networkPolicy.enabled=true", "--set", "replicaCount=2"},
			"../network-policy", "../high-availability")
		for _, k := range []string{"NetworkPolicy", "PodDisruptionBudget"} {
			if !slices.ContainsFunc(chart, func(o *unstructured.Unstructured) bool { return o.GetKind() == k }) {
				t.Errorf("no %s", k)
			}
		}
		if _, ok := nested(t, find(t, chart, "Deployment", "hubspot-operator-controller-manager"), "spec", "template", "spec", "affinity").(map[string]any)["podAntiAffinity"]; !ok {
			t.Error("two replicas without a pod anti-affinity")
		}
	})
}

func matchKustomize(t *testing.T, helmArgs []string, components ...string) []*unstructured.Unstructured {
	chart := render(t, release, namespace, append([]string{"--include-crds"}, helmArgs...)...)
	out, err := chartgen.KustomizeWithComponents(repoRoot(t), "config/default", components...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := chartgen.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if o.GetKind() != "Namespace" { // the chart installs into the release namespace
			want[id(o)] = o
		}
	}
	got := byID(chart)
	if diff := cmp.Diff(ids(mapValues(want)), ids(chart)); diff != "" {
		t.Fatalf("the chart's objects differ from config/default's (-kustomize +helm):\n%s", diff)
	}
	for key, k := range want {
		h := got[key]
		if diff := cmp.Diff(normalize(t, k), normalize(t, h)); diff != "" {
			t.Errorf("%s differs (-kustomize +helm):\n%s", key, diff)
		}
		if k.GetKind() == "CustomResourceDefinition" {
			continue // crds/ holds config/'s file as it is
		}
		// config/'s labels are all there, but managed-by.
		for name, value := range k.GetLabels() {
			if name != "app.kubernetes.io/managed-by" && h.GetLabels()[name] != value {
				t.Errorf("%s: label %s=%s is %q in the chart", key, name, value, h.GetLabels()[name])
			}
		}
		if h.GetLabels()["app.kubernetes.io/managed-by"] != "Helm" || h.GetLabels()["app.kubernetes.io/instance"] != release {
			t.Errorf("%s: labels %v lack Helm's", key, h.GetLabels())
		}
	}
	d := find(t, chart, "Deployment", "hubspot-operator-controller-manager")
	ctr := containers(t, d)[0]
	if ctr["image"] != "hubspot-operator:0.1.0" || ctr["imagePullPolicy"] != "IfNotPresent" {
		t.Errorf("image %v, pull policy %v: want hubspot-operator:<appVersion>, IfNotPresent", ctr["image"], ctr["imagePullPolicy"])
	}
	for _, a := range append([]string{"--leader-elect=true"}, chartArgs...) {
		if !slices.Contains(stringSlice(ctr["args"]), a) {
			t.Errorf("args %v lack %s", ctr["args"], a)
		}
	}
	return chart
}

func mapValues(m map[string]*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range m {
		out = append(out, o)
	}
	return out
}

func containers(t *testing.T, d *unstructured.Unstructured) []map[string]any {
	t.Helper()
	list, _, err := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if err != nil || len(list) != 1 {
		t.Fatalf("want one container, got %v (%v)", list, err)
	}
	var out []map[string]any
	for _, c := range list {
		out = append(out, c.(map[string]any))
	}
	return out
}

func stringSlice(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func nested(t *testing.T, o *unstructured.Unstructured, path ...string) any {
	t.Helper()
	v, ok, err := unstructured.NestedFieldNoCopy(o.Object, path...)
	if err != nil || !ok {
		t.Fatalf("%s: no %s (%v)", id(o), strings.Join(path, "."), err)
	}
	return v
}

func expectEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// TestHelmCustomValues: every value lands where it should.
func TestHelmCustomValues(t *testing.T) {
	const rel, ns, prefix = "crm", "integrations", "crm-hubspot-operator-"
	objs := render(t, rel, ns, "--values", valuesFile(t, customValues))
	for _, o := range objs {
		if !strings.HasPrefix(o.GetName(), prefix) {
			t.Errorf("%s is not named %s…", id(o), prefix)
		}
	}

	d := find(t, objs, "Deployment", prefix+"controller-manager")
	expectEqual(t, "replicas", nested(t, d, "spec", "replicas"), int64(3))
	ctr := containers(t, d)[0]
	expectEqual(t, "image", ctr["image"], "registry.example.com/platform/hubspot-operator:v1.2.3")
	expectEqual(t, "imagePullPolicy", ctr["imagePullPolicy"], "Always")
	expectEqual(t, "args", stringSlice(ctr["args"]), []string{
		"--leader-elect=false",
		"--health-probe-bind-address=:8081",
		"--metrics-bind-address=:8443",
		"--oauth-callback-bind-address=:8082",
		"--allowed-endpoint-hosts=ce.internal.example,api.cloud-elements.com",
		"--allow-loopback-endpoints=false",
		"--max-concurrent-reconciles=4",
		"--cloud-elements-qps=2.5",
		"--cloud-elements-burst=5",
		"--watch-namespaces=team-a,team-b",
		"--cluster-name=prod-eu-1",
		"--cloud-elements-timeout=1m",
	})
	expectEqual(t, "resources", ctr["resources"], map[string]any{
		"requests": map[string]any{"cpu": "50m", "memory": "100Mi", "ephemeral-storage": "32Mi"},
		"limits":   map[string]any{"cpu": "1", "memory": "300Mi", "ephemeral-storage": "512Mi"},
	})
	pod := nested(t, d, "spec", "template", "spec").(map[string]any)
	expectEqual(t, "nodeSelector", pod["nodeSelector"], map[string]any{"kubernetes.io/os": "linux"})
	expectEqual(t, "imagePullSecrets", pod["imagePullSecrets"], []any{map[string]any{"name": "regcred"}})
	expectEqual(t, "tolerations", pod["tolerations"], []any{map[string]any{
		"key": "dedicated", "operator": "Equal", "value": "operators", "effect": "NoSchedule"}})
	if _, ok := pod["affinity"].(map[string]any)["nodeAffinity"]; !ok {
		t.Errorf("affinity %v lacks nodeAffinity", pod["affinity"])
	}
	expectEqual(t, "pod annotations", nested(t, d, "spec", "template", "metadata", "annotations"), map[string]any{
		"kubectl.kubernetes.io/default-container": "manager", "example.com/team": "platform"})
	expectEqual(t, "serviceAccountName", pod["serviceAccountName"], prefix+"controller-manager")

	svc := find(t, objs, "Service", prefix+"oauth-callback")
	port := nested(t, svc, "spec", "ports").([]any)[0].(map[string]any)
	expectEqual(t, "callback Service port", port["port"], int64(8080))

	ing := find(t, objs, "Ingress", prefix+"oauth-callback")
	expectEqual(t, "ingressClassName", nested(t, ing, "spec", "ingressClassName"), "nginx")
	expectEqual(t, "Ingress annotations", ing.GetAnnotations(), map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt"})
	expectEqual(t, "Ingress tls", nested(t, ing, "spec", "tls"), []any{map[string]any{
		"hosts": []any{"operator.example.com"}, "secretName": "operator-example-com-tls"}})
	rule := nested(t, ing, "spec", "rules").([]any)[0].(map[string]any)
	expectEqual(t, "Ingress host", rule["host"], "operator.example.com")
	path := rule["http"].(map[string]any)["paths"].([]any)[0].(map[string]any)
	expectEqual(t, "Ingress path", path["path"], "/oauth/callback")
	expectEqual(t, "Ingress backend", path["backend"], map[string]any{
		"service": map[string]any{"name": svc.GetName(), "port": map[string]any{"name": port["name"]}}})

	sm := find(t, objs, "ServiceMonitor", prefix+"controller-manager-metrics-monitor")
	expectEqual(t, "ServiceMonitor label release", sm.GetLabels()["release"], "prometheus")
	metrics := find(t, objs, "Service", prefix+"controller-manager-metrics-service")
	for k, v := range nested(t, sm, "spec", "selector", "matchLabels").(map[string]any) {
		if metrics.GetLabels()[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%v, which the metrics Service lacks", k, v)
		}
	}
	endpoint := nested(t, sm, "spec", "endpoints").([]any)[0].(map[string]any)
	expectEqual(t, "ServiceMonitor port", endpoint["port"], nested(t, metrics, "spec", "ports").([]any)[0].(map[string]any)["name"])

	rules := find(t, objs, "PrometheusRule", prefix+"alerts")
	expectEqual(t, "PrometheusRule label release", rules.GetLabels()["release"], "prometheus")
	expectEqual(t, "PrometheusRule namespace", rules.GetNamespace(), ns)
	down := ruleNamed(t, rules, "HubSpotOperatorDown")
	// The job label Prometheus gives the series is the metrics Service's name.
	wantDown := `absent(up{job="` + metrics.GetName() + `", namespace="` + ns + `"} == 1)`
	expectEqual(t, "HubSpotOperatorDown expr", strings.TrimSpace(down["expr"].(string)), wantDown)
	if d := down["annotations"].(map[string]any)["description"].(string); !strings.Contains(d, metrics.GetName()) || !strings.Contains(d, "namespace "+ns) {
		t.Errorf("HubSpotOperatorDown's description names another job or namespace: %s", d)
	}
	expectEqual(t, "HubSpotInstanceStalled summary", ruleNamed(t, rules, "HubSpotInstanceStalled")["annotations"].(map[string]any)["summary"],
		"HubSpotInstances are Stalled ({{ $labels.reason }}).")

	dashboard := find(t, objs, "ConfigMap", prefix+"grafana-dashboard")
	expectEqual(t, "dashboard ConfigMap namespace", dashboard.GetNamespace(), "monitoring")
	expectEqual(t, "dashboard ConfigMap sidecar label", dashboard.GetLabels()["grafana_dashboard"], "1")
	expectEqual(t, "dashboard ConfigMap extra label", dashboard.GetLabels()["team"], "platform")
	expectEqual(t, "dashboard ConfigMap annotations", dashboard.GetAnnotations(), map[string]string{"grafana_folder": "Operators"})
	file, err := os.ReadFile(filepath.Join(repoRoot(t), "config/prometheus/dashboards/hubspot-operator.json"))
	if err != nil {
		t.Fatal(err)
	}
	expectEqual(t, "the dashboard, byte for byte", nested(t, dashboard, "data", "hubspot-operator.json"), string(file))

	// The dashboard is the one object outside the release namespace.
	for _, o := range objs {
		if o.GetNamespace() != "" && o.GetNamespace() != ns && id(o) != id(dashboard) {
			t.Errorf("%s is not in the release namespace", id(o))
		}
	}

	// Default RBAC: the cluster-wide grant, none of the namespaced mode.
	find(t, objs, "ClusterRoleBinding", prefix+"manager-rolebinding")
	for _, o := range objs {
		if o.GetKind() == "Role" && o.GetName() != prefix+"leader-election-role" {
			t.Errorf("unexpected %s without rbac.namespaced", id(o))
		}
	}
}

// ruleNamed returns the alerting rule named alert of a PrometheusRule.
func ruleNamed(t *testing.T, rules *unstructured.Unstructured, alert string) map[string]any {
	t.Helper()
	for _, g := range nested(t, rules, "spec", "groups").([]any) {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			if r := r.(map[string]any); r["alert"] == alert {
				return r
			}
		}
	}
	t.Fatalf("%s has no alert %s", id(rules), alert)
	return nil
}

// Values that turn on every monitoring object.
var monitoringOn = []string{"--set", "serviceMonitor.enabled=true", "--set", "prometheus.rules.enabled=true", "--set", "grafana.dashboard.enabled=true"}

// TestHelmMonitoringMatchesKustomize: with the monitoring values on (and the
// release name hubspot-operator) the chart renders config/default with the
// config/prometheus component, field for field but for what normalize
// lists: the alerts' {{ $labels… }} and the dashboard's {{legend}} come out
// as written, and the names in the alerts are config/'s.
func TestHelmMonitoringMatchesKustomize(t *testing.T) {
	chart := render(t, release, namespace, append([]string{"--include-crds"}, monitoringOn...)...)
	out, err := chartgen.KustomizeWithComponents(repoRoot(t), "config/default", "../prometheus")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := chartgen.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if o.GetKind() != "Namespace" {
			want[id(o)] = o
		}
	}
	got := byID(chart)
	if diff := cmp.Diff(ids(mapValues(want)), ids(chart)); diff != "" {
		t.Fatalf("the chart's objects differ from config/default + config/prometheus's (-kustomize +helm):\n%s", diff)
	}
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule", "ConfigMap"} {
		found := false
		for key, k := range want {
			if k.GetKind() != kind {
				continue
			}
			found = true
			if diff := cmp.Diff(normalize(t, k), normalize(t, got[key])); diff != "" {
				t.Errorf("%s differs (-kustomize +helm):\n%s", key, diff)
			}
		}
		if !found {
			t.Errorf("config/prometheus has no %s", kind)
		}
	}
}

// TestHelmMonitoringValues: each monitoring value renders its object and
// nothing else; all are off by default.
func TestHelmMonitoringValues(t *testing.T) {
	monitoringKinds := func(objs []*unstructured.Unstructured) []string {
		var out []string
		for _, o := range objs {
			switch o.GetKind() {
			case "ServiceMonitor", "PrometheusRule", "ConfigMap":
				out = append(out, id(o))
			}
		}
		slices.Sort(out)
		return out
	}
	expectEqual(t, "monitoring objects with default values", monitoringKinds(render(t, release, namespace)), []string(nil))
	for value, want := range map[string]string{
		"serviceMonitor.enabled":    "ServiceMonitor " + namespace + "/hubspot-operator-controller-manager-metrics-monitor",
		"prometheus.rules.enabled":  "PrometheusRule " + namespace + "/hubspot-operator-alerts",
		"grafana.dashboard.enabled": "ConfigMap " + namespace + "/hubspot-operator-grafana-dashboard",
	} {
		t.Run(value, func(t *testing.T) {
			expectEqual(t, "monitoring objects", monitoringKinds(render(t, release, namespace, "--set", value+"=true")), []string{want})
		})
	}
}

// TestHelmNamespacedRBAC: rbac.namespaced renders config/namespaced's RBAC
// for each watched namespace instead of the manager's cluster-wide grant.
func TestHelmNamespacedRBAC(t *testing.T) {
	const rel, ns, prefix = "crm", "integrations", "crm-hubspot-operator-"
	objs := render(t, rel, ns, "--set", "rbac.namespaced=true", "--set", "watchNamespaces={team-a,team-b}", "--set", "clusterName=prod-eu-1")
	for _, o := range objs {
		if o.GetName() == prefix+"manager-role" && o.GetKind() == "ClusterRole" || o.GetName() == prefix+"manager-rolebinding" && o.GetKind() == "ClusterRoleBinding" {
			t.Errorf("rbac.namespaced still renders %s", id(o))
		}
	}
	overlay := byID(kustomize(t, "config/namespaced"))
	wantRules := nested(t, overlay["Role hubspot-apps/hubspot-operator-manager-role"], "rules")
	for _, watched := range []string{"team-a", "team-b"} {
		role := byID(objs)["Role "+watched+"/"+prefix+"manager-role"]
		binding := byID(objs)["RoleBinding "+watched+"/"+prefix+"manager-rolebinding"]
		if role == nil || binding == nil {
			t.Fatalf("no manager Role and RoleBinding in %s among %v", watched, ids(objs))
		}
		expectEqual(t, "rules in "+watched, nested(t, role, "rules"), wantRules)
		expectEqual(t, "roleRef in "+watched, nested(t, binding, "roleRef"), map[string]any{
			"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": prefix + "manager-role"})
		expectEqual(t, "subjects in "+watched, nested(t, binding, "subjects"), []any{map[string]any{
			"kind": "ServiceAccount", "name": prefix + "controller-manager", "namespace": ns}})
	}
	stateKey := byID(objs)["Role "+ns+"/"+prefix+"oauth-state-key-role"]
	if stateKey == nil {
		t.Fatalf("no OAuth state key Role in %s", ns)
	}
	expectEqual(t, "state key rules", nested(t, stateKey, "rules"),
		nested(t, overlay["Role hubspot-operator-system/hubspot-operator-oauth-state-key-role"], "rules"))
	args := stringSlice(containers(t, find(t, objs, "Deployment", prefix+"controller-manager"))[0]["args"])
	for _, want := range []string{"--watch-namespaces=team-a,team-b", "--cluster-name=prod-eu-1"} {
		if !slices.Contains(args, want) {
			t.Errorf("args %v lack %s", args, want)
		}
	}
}

// TestHelmRefusesIncompleteValues: values that cannot work fail the render.
func TestHelmRefusesIncompleteValues(t *testing.T) {
	root := repoRoot(t)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"rbac.namespaced without watchNamespaces": {[]string{"--set", "rbac.namespaced=true", "--set", "clusterName=prod-eu-1"}, "rbac.namespaced needs watchNamespaces"},
		// Its Roles cannot read the kube-system Namespace, the default's source.
		"rbac.namespaced without clusterName": {[]string{"--set", "rbac.namespaced=true", "--set", "watchNamespaces={team-a}"}, "rbac.namespaced needs clusterName"},
		"an Ingress without a host":           {[]string{"--set", "oauthCallback.ingress.enabled=true"}, "oauthCallback.ingress.host is required"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := chartgen.HelmTemplate(root, release, namespace, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

// TestNamespacedOverlay: config/namespaced is config/default with the
// manager's ClusterRole and ClusterRoleBinding replaced by Roles with the
// same rules, and --watch-namespaces set.
func TestNamespacedOverlay(t *testing.T) {
	def, ovl := byID(kustomize(t, "config/default")), byID(kustomize(t, "config/namespaced"))
	clusterRole := def["ClusterRole /hubspot-operator-manager-role"]
	if clusterRole == nil {
		t.Fatal("config/default has no manager ClusterRole")
	}
	var removed, added []string
	for k := range def {
		if ovl[k] == nil {
			removed = append(removed, k)
		}
	}
	for k := range ovl {
		if def[k] == nil {
			added = append(added, k)
		}
	}
	slices.Sort(removed)
	slices.Sort(added)
	expectEqual(t, "removed", removed, []string{
		"ClusterRole /hubspot-operator-manager-role",
		"ClusterRoleBinding /hubspot-operator-manager-rolebinding",
	})
	expectEqual(t, "added", added, []string{
		"Role hubspot-apps/hubspot-operator-manager-role",
		"Role hubspot-operator-system/hubspot-operator-oauth-state-key-role",
		"RoleBinding hubspot-apps/hubspot-operator-manager-rolebinding",
		"RoleBinding hubspot-operator-system/hubspot-operator-oauth-state-key-rolebinding",
	})
	expectEqual(t, "the watched namespace's Role rules", nested(t, ovl["Role hubspot-apps/hubspot-operator-manager-role"], "rules"),
		nested(t, clusterRole, "rules"))
	for k, o := range def {
		if k == "Deployment hubspot-operator-system/hubspot-operator-controller-manager" || ovl[k] == nil {
			continue
		}
		expectEqual(t, k, ovl[k].Object, o.Object)
	}
	d := ovl["Deployment hubspot-operator-system/hubspot-operator-controller-manager"].DeepCopy()
	args := stringSlice(containers(t, d)[0]["args"])
	if args[len(args)-1] != "--watch-namespaces=hubspot-apps" {
		t.Fatalf("args %v do not end with --watch-namespaces=hubspot-apps", args)
	}
	ctrs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	ctrs[0].(map[string]any)["args"] = ctrs[0].(map[string]any)["args"].([]any)[:len(args)-1]
	_ = unstructured.SetNestedSlice(d.Object, ctrs, "spec", "template", "spec", "containers")
	expectEqual(t, "the Deployment, but for --watch-namespaces", d.Object,
		def["Deployment hubspot-operator-system/hubspot-operator-controller-manager"].Object)
}
