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

package manifests_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hubspot-operator/hubspot-operator/hack/gen-chart/chartgen"
)

// A render is one way of producing the install's manifests.
type render func() []*unstructured.Unstructured

func kustomizeBuild(dir string, components ...string) render {
	return func() []*unstructured.Unstructured {
		out, err := chartgen.KustomizeWithComponents(root, dir, components...)
		Expect(err).NotTo(HaveOccurred())
		objs, err := chartgen.Decode(out)
		Expect(err).NotTo(HaveOccurred())
		return objs
	}
}

// helmTemplate renders the chart into operatorNamespace, with its CRD.
func helmTemplate(release string, args ...string) render {
	return func() []*unstructured.Unstructured {
		out, err := chartgen.HelmTemplate(root, release, operatorNamespace, append([]string{"--include-crds"}, args...)...)
		Expect(err).NotTo(HaveOccurred())
		objs, err := chartgen.Decode(out)
		Expect(err).NotTo(HaveOccurred())
		return objs
	}
}

// Everything the chart can add: the Ingress, the ServiceMonitor, the
// NetworkPolicies, the PrometheusRule, the Grafana dashboard's ConfigMap,
// the namespaced RBAC (for the namespace config/namespaced watches) and,
// with two replicas, the PodDisruptionBudget.
var helmEverything = []string{
	"--set", "oauthCallback.ingress.enabled=true",
	"--set", "oauthCallback.ingress.className=nginx",
	"--set", "oauthCallback.ingress.host=operator.example.com",
	"--set", "oauthCallback.ingress.tls.secretName=operator-example-com-tls",
	"--set", "serviceMonitor.enabled=true",
	"--set", "networkPolicy.enabled=true",
	"--set", "prometheus.rules.enabled=true",
	"--set", "grafana.dashboard.enabled=true",
	"--set", "rbac.namespaced=true",
	"--set", "clusterName=manifests-test",
	"--set", "watchNamespaces={" + watchedNamespace + "}",
	"--set", "replicaCount=2",
}

// samples are config/samples' Secrets and HubSpotInstances, in the watched
// namespace: the CRD must accept them.
func samples() []*unstructured.Unstructured {
	objs := kustomizeBuild("config/samples")()
	for _, o := range objs {
		o.SetNamespace(watchedNamespace)
	}
	return objs
}

// needsMissingCRD tells objects whose kind the test API server cannot know.
// Only the Prometheus Operator's ServiceMonitor and PrometheusRule qualify:
// envtest has no monitoring.coreos.com CRDs, and installing a copy of them
// here would test the copy rather than the cluster's. (test/monitoring
// checks the rules' expressions with Prometheus's own parser.)
func needsMissingCRD(o *unstructured.Unstructured) bool {
	gvk := o.GroupVersionKind()
	_, err := k8sClient.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	return meta.IsNoMatchError(err) && gvk.Group == "monitoring.coreos.com" && (gvk.Kind == "ServiceMonitor" || gvk.Kind == "PrometheusRule")
}

// dryRunApply applies o as `kubectl apply --server-side --dry-run=server`
// would, and returns the error or the API server's warnings.
func dryRunApply(o *unstructured.Unstructured) error {
	warnings.take()
	err := k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
		client.DryRunAll, fieldOwner, client.ForceOwnership)
	if err != nil {
		return err
	}
	if w := warnings.take(); len(w) > 0 {
		return fmt.Errorf("warnings: %s", strings.Join(w, "; "))
	}
	return nil
}

func describe(o *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
}

func kinds(objs []*unstructured.Unstructured) map[string]int {
	out := map[string]int{}
	for _, o := range objs {
		out[o.GetKind()]++
	}
	return out
}

var _ = Describe("The rendered manifests", func() {
	DescribeTable("are accepted, every object as is, by a server-side dry-run apply",
		func(r render, wantKinds []string, wantSkipped int) {
			objs := r()
			for _, k := range wantKinds {
				Expect(kinds(objs)).To(HaveKey(k))
			}
			var failures, skipped []string
			for _, o := range objs {
				if needsMissingCRD(o) {
					skipped = append(skipped, describe(o))
					continue
				}
				if err := dryRunApply(o); err != nil {
					failures = append(failures, fmt.Sprintf("%s: %v", describe(o), err))
				}
			}
			Expect(failures).To(BeEmpty())
			if len(skipped) > 0 {
				AddReportEntry("skipped: the test API server has no CRD for them", skipped)
			}
			Expect(skipped).To(HaveLen(wantSkipped))
		},
		Entry("kustomize build config/default", kustomizeBuild("config/default"),
			[]string{"Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment"}, 0),
		Entry("kustomize build config/default with the config/prometheus component (ServiceMonitor and PrometheusRule skipped)",
			kustomizeBuild("config/default", "../prometheus"), []string{"ServiceMonitor", "PrometheusRule", "ConfigMap"}, 2),
		Entry("kustomize build config/default with the network-policy and high-availability components",
			kustomizeBuild("config/default", "../network-policy", "../high-availability"), []string{"NetworkPolicy", "PodDisruptionBudget"}, 0),
		Entry("kustomize build config/namespaced", kustomizeBuild("config/namespaced"),
			[]string{"Namespace", "CustomResourceDefinition", "Role", "RoleBinding", "Deployment"}, 0),
		Entry("helm template, default values", helmTemplate("hubspot-operator"),
			[]string{"CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment"}, 0),
		Entry("helm template with the Ingress, the ServiceMonitor and PrometheusRule (skipped), the dashboard, the NetworkPolicies, rbac.namespaced and two replicas", helmTemplate("crm", helmEverything...),
			[]string{"Ingress", "ServiceMonitor", "PrometheusRule", "ConfigMap", "NetworkPolicy", "Role", "RoleBinding", "Deployment", "PodDisruptionBudget"}, 2),
		Entry("config/samples in the watched namespace", render(samples), []string{"Secret", "HubSpotInstance"}, 0),
	)

	It("rejects, in the same dry run, what breaks the CRD's schema (so the samples really were validated)", func() {
		objs := samples()
		var instance *unstructured.Unstructured
		for _, o := range objs {
			if o.GetKind() == "HubSpotInstance" {
				instance = o.DeepCopy()
				break
			}
		}
		Expect(instance).NotTo(BeNil())
		Expect(unstructured.SetNestedField(instance.Object, "Kerberos", "spec", "auth", "type")).To(Succeed())
		err := dryRunApply(instance)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
	})
})

// deploymentOf returns the single Deployment of a render.
func deploymentOf(objs []*unstructured.Unstructured) *appsv1.Deployment {
	var found []*appsv1.Deployment
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		d := &appsv1.Deployment{}
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, d, true)).To(Succeed())
		found = append(found, d)
	}
	Expect(found).To(HaveLen(1))
	return found[0]
}

// podOf is a Pod with the Deployment's pod template, in the operator's
// namespace, which enforces the restricted standard.
func podOf(d *appsv1.Deployment) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pss-probe", Namespace: operatorNamespace, Labels: d.Spec.Template.Labels},
		Spec:       *d.Spec.Template.Spec.DeepCopy(),
	}
}

var _ = Describe("The operator's pod", func() {
	// PodSecurity admission enforces on Pods only; for a Deployment it just
	// warns (which the dry-run apply above already treats as a failure). So
	// the pod template is checked three ways: here in Go, as a Pod created
	// (dry run) in a namespace enforcing the restricted level, and as a
	// Deployment applied without warnings.
	It("is really refused by the test API server when it breaks the restricted standard", func() {
		pod := podOf(deploymentOf(kustomizeBuild("config/default")()))
		pod.Spec.SecurityContext = nil
		for i := range pod.Spec.Containers {
			pod.Spec.Containers[i].SecurityContext = nil
		}
		Expect(restrictedProblems(pod.Spec)).NotTo(BeEmpty())
		err := k8sClient.Create(ctx, pod, client.DryRunAll)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring(`violates PodSecurity "restricted`))
	})

	DescribeTable("meets the restricted Pod Security Standard, with requests, limits and probes",
		func(r render) {
			d := deploymentOf(r())
			Expect(restrictedProblems(d.Spec.Template.Spec)).To(BeEmpty())
			warnings.take()
			Expect(k8sClient.Create(ctx, podOf(d), client.DryRunAll)).To(Succeed())
			Expect(warnings.take()).To(BeEmpty())
		},
		Entry("config/default", kustomizeBuild("config/default")),
		Entry("config/namespaced", kustomizeBuild("config/namespaced")),
		Entry("config/default with the high-availability component", kustomizeBuild("config/default", "../high-availability")),
		Entry("the chart, default values", helmTemplate("hubspot-operator")),
		Entry("the chart, non-default values", helmTemplate("crm", helmEverything...)),
	)
})

// restrictedProblems lists where spec breaks the restricted Pod Security
// Standard (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
// or this project's rules on top of it: a read-only root filesystem, CPU,
// memory and ephemeral-storage requests and limits, liveness and readiness
// probes.
func restrictedProblems(spec corev1.PodSpec) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		add("pod shares a host namespace")
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			add("volume %s is a hostPath", v.Name)
		}
	}
	pod := spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	if pod.RunAsUser != nil && *pod.RunAsUser == 0 {
		add("pod runs as UID 0")
	}
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		if sc.Privileged != nil && *sc.Privileged {
			add("%s: privileged", c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			add("%s: allowPrivilegeEscalation is not false", c.Name)
		}
		nonRoot := sc.RunAsNonRoot
		if nonRoot == nil {
			nonRoot = pod.RunAsNonRoot
		}
		if nonRoot == nil || !*nonRoot {
			add("%s: runAsNonRoot is not true", c.Name)
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			add("%s: runs as UID 0", c.Name)
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = pod.SeccompProfile
		}
		if seccomp == nil || (seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault && seccomp.Type != corev1.SeccompProfileTypeLocalhost) {
			add("%s: seccompProfile is not RuntimeDefault (or Localhost)", c.Name)
		}
		dropsAll := false
		if sc.Capabilities != nil {
			for _, cap := range sc.Capabilities.Drop {
				dropsAll = dropsAll || cap == "ALL"
			}
			for _, cap := range sc.Capabilities.Add {
				if cap != "NET_BIND_SERVICE" {
					add("%s: adds capability %s", c.Name, cap)
				}
			}
		}
		if !dropsAll {
			add("%s: does not drop ALL capabilities", c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			add("%s: root filesystem is writable", c.Name)
		}
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				add("%s: uses host port %d", c.Name, p.HostPort)
			}
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
			if _, ok := c.Resources.Requests[r]; !ok {
				add("%s: no %s request", c.Name, r)
			}
			if _, ok := c.Resources.Limits[r]; !ok {
				add("%s: no %s limit", c.Name, r)
			}
		}
		if c.LivenessProbe == nil || c.ReadinessProbe == nil {
			add("%s: lacks a liveness or readiness probe", c.Name)
		}
	}
	return problems
}
