//go:build gitops

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

package gitops

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// crmNamespace is where the Kustomization puts the repository's objects.
const crmNamespace = "crm"

// The repository's three objects, one per kind of authorization.
const (
	apiKeyName = "crm-apikey"
	oauthName  = "crm-oauth"
	legacyName = "crm-legacy"
)

// requestedAtAnnotation is what `flux reconcile` sets, and what the operator
// answers with a full check.
const requestedAtAnnotation = "reconcile.fluxcd.io/requestedAt"

// syncWaveAnnotation orders what Argo CD applies in one sync.
const syncWaveAnnotation = "argocd.argoproj.io/sync-wave"

var (
	gitRepositoryGVK = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"}
	kustomizationGVK = schema.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}
)

// repoState is what the repository holds; files renders it as the files a
// platform team would commit.
type repoState struct {
	apiKeyTags []string
	// withLegacy keeps the OAuth 2 Legacy object and its own credentials
	// Secret (cloud-elements-legacy) in the repository.
	withLegacy bool
}

func secretYAML(name string, data map[string]string) string {
	var b strings.Builder
	// The wave has Argo CD apply the Secrets, and see them healthy, before
	// the objects that read them; Flux ignores it.
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  annotations:\n    %s: \"-1\"\ntype: Opaque\nstringData:\n",
		name, syncWaveAnnotation)
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %q\n", k, data[k])
	}
	return b.String()
}

func instanceYAML(name, credentials string, tags []string, auth string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: elements.cloud-elements.io/v1alpha1
kind: HubSpotInstance
metadata:
  name: %s
spec:
  platform:
    endpoint: %s
    credentialsSecretRef:
      name: %s
  tags:
`, name, sim.Endpoint, credentials)
	for _, t := range tags {
		fmt.Fprintf(&b, "  - %s\n", t)
	}
	b.WriteString("  auth:\n")
	b.WriteString(auth)
	return b.String()
}

func (s repoState) files() map[string]string {
	account := map[string]string{"user-secret": userSecret, "organization-secret": orgSecret}
	secrets := []string{
		secretYAML("cloud-elements", account),
		secretYAML("hubspot-key", map[string]string{"api-key": "gitops-hubspot-api-key"}),
		secretYAML("hubspot-app", map[string]string{"client-id": "gitops-client-id", "client-secret": "gitops-client-secret"}),
	}
	files := map[string]string{
		"crm/" + apiKeyName + ".yaml": instanceYAML(apiKeyName, "cloud-elements", s.apiKeyTags, `    type: APIKey
    apiKey:
      secretRef:
        name: hubspot-key
        key: api-key
`),
		"crm/" + oauthName + ".yaml": instanceYAML(oauthName, "cloud-elements", []string{"team-sales"}, fmt.Sprintf(`    type: OAuth2
    oauth2:
      clientSecretRef:
        name: hubspot-app
      scopes:
      - crm.objects.contacts.read
      - oauth
      callbackURL: %s
`, callbackURL)),
	}
	if s.withLegacy {
		secrets = append(secrets,
			secretYAML("cloud-elements-legacy", account),
			secretYAML("hubspot-legacy", map[string]string{"client-id": "gitops-legacy-client-id"}),
			secretYAML("hubspot-legacy-tokens", map[string]string{"access-token": "gitops-legacy-access",
				"refresh-token": "gitops-legacy-refresh", "expires-in": "21600"}))
		files["crm/"+legacyName+".yaml"] = instanceYAML(legacyName, "cloud-elements-legacy", []string{"team-marketing"}, fmt.Sprintf(`    type: OAuth2Legacy
    oauth2Legacy:
      clientIDSecretRef:
        name: hubspot-legacy
        key: client-id
      portalID: "4815162342"
      callbackURL: %s
      tokensSecretRef:
        name: hubspot-legacy-tokens
`, callbackURL))
	}
	files["crm/secrets.yaml"] = strings.Join(secrets, "---\n")
	return files
}

// commit commits the state; it returns the revision Flux will report.
func commit(message string, s repoState) string {
	GinkgoHelper()
	head, err := repo.Commit(message, s.files())
	Expect(err).NotTo(HaveOccurred())
	return repo.Branch + "@sha1:" + head
}

// commitAndFetch commits and has source-controller fetch now, as `flux
// reconcile source git` does, rather than at its interval.
func commitAndFetch(message string, s repoState) string {
	GinkgoHelper()
	revision := commit(message, s)
	requestReconcile(gitRepositoryGVK, harness.FluxNamespace, "platform")
	return revision
}

// requestReconcile sets reconcile.fluxcd.io/requestedAt on an object to a
// new value and returns it.
func requestReconcile(gvk schema.GroupVersionKind, namespace, name string) string {
	GinkgoHelper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(namespace)
	u.SetName(name)
	value := time.Now().UTC().Format(time.RFC3339Nano)
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, requestedAtAnnotation, value)
	Expect(k8s.Patch(ctx, u, client.RawPatch("application/merge-patch+json", []byte(patch)))).To(Succeed())
	return value
}

// applyFluxObjects creates the GitRepository and the Kustomization; the
// Kustomization is docs/flux-kustomization.yaml, the one the README offers,
// with only its path and timings changed for a test.
func applyFluxObjects() {
	GinkgoHelper()
	gitRepository := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "platform", "namespace": harness.FluxNamespace},
		"spec": map[string]any{
			"interval": "1m",
			"url":      repo.URL,
			"ref":      map[string]any{"branch": repo.Branch},
		},
	}}
	gitRepository.SetGroupVersionKind(gitRepositoryGVK)
	Expect(k8s.Create(ctx, gitRepository)).To(Succeed())

	b, err := os.ReadFile(filepath.Join(root, "docs", "flux-kustomization.yaml"))
	Expect(err).NotTo(HaveOccurred())
	ks := &unstructured.Unstructured{}
	Expect(yaml.Unmarshal(b, &ks.Object)).To(Succeed())
	Expect(ks.GroupVersionKind()).To(Equal(kustomizationGVK))
	Expect(ks.GetNamespace()).To(Equal(harness.FluxNamespace))
	Expect(ks.Object).To(HaveKeyWithValue("spec", SatisfyAll(
		HaveKeyWithValue("wait", true), HaveKeyWithValue("prune", true),
		HaveKeyWithValue("sourceRef", HaveKeyWithValue("name", "platform")))),
		"the documented Kustomization waits for health and prunes, from the GitRepository named platform")
	// The repository's layout, and a timeout short enough that an object
	// still in progress is named by Flux while the spec watches.
	Expect(unstructured.SetNestedField(ks.Object, "./crm", "spec", "path")).To(Succeed())
	Expect(unstructured.SetNestedField(ks.Object, crmNamespace, "spec", "targetNamespace")).To(Succeed())
	Expect(unstructured.SetNestedField(ks.Object, "20s", "spec", "timeout")).To(Succeed())
	Expect(unstructured.SetNestedField(ks.Object, "5s", "spec", "retryInterval")).To(Succeed())
	Expect(k8s.Create(ctx, ks)).To(Succeed())
}

// fluxStatus is a Flux object's Ready condition and revisions.
type fluxStatus struct {
	ready                              metav1.Condition
	lastApplied, lastAttempted, handle string
}

func kustomizationStatus() fluxStatus {
	GinkgoHelper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(kustomizationGVK)
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: harness.FluxNamespace, Name: "hubspot-connections"}, u)).To(Succeed())
	var st fluxStatus
	st.lastApplied, _, _ = unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
	st.lastAttempted, _, _ = unstructured.NestedString(u.Object, "status", "lastAttemptedRevision")
	st.handle, _, _ = unstructured.NestedString(u.Object, "status", "lastHandledReconcileAt")
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" {
			st.ready = metav1.Condition{Type: "Ready", Status: metav1.ConditionStatus(fmt.Sprint(m["status"])),
				Reason: fmt.Sprint(m["reason"]), Message: fmt.Sprint(m["message"])}
		}
	}
	return st
}

// requestReconcileIn asks the operator for a full check of an object now.
func requestReconcileIn(namespace, name string) string {
	GinkgoHelper()
	return requestReconcile(elementsv1alpha1.GroupVersion.WithKind("HubSpotInstance"), namespace, name)
}

// instancesOf are the instances at Cloud Elements whose name tag puts them
// in the namespace.
func instancesOf(namespace string) []string {
	var ids []string
	for _, inst := range sim.Instances() {
		for _, t := range inst.Tags {
			if strings.HasPrefix(t, elementsv1alpha1.OwnerTagNamespacePrefix(namespace)) {
				ids = append(ids, fmt.Sprint(inst.ID))
				break
			}
		}
	}
	return ids
}

func instanceIn(namespace, name string) *elementsv1alpha1.HubSpotInstance {
	GinkgoHelper()
	obj := &elementsv1alpha1.HubSpotInstance{}
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, obj)).To(Succeed())
	return obj
}

func readyOf(obj *elementsv1alpha1.HubSpotInstance) *metav1.Condition {
	return meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionReady)
}

// waitReason waits until the object's Ready condition, for its current
// generation, has the reason.
func waitReason(namespace, name, reason string) *elementsv1alpha1.HubSpotInstance {
	GinkgoHelper()
	var obj *elementsv1alpha1.HubSpotInstance
	Eventually(func(g Gomega) {
		obj = &elementsv1alpha1.HubSpotInstance{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, obj)).To(Succeed())
		c := readyOf(obj)
		g.Expect(c).NotTo(BeNil())
		g.Expect(obj.Status.ObservedGeneration).To(Equal(obj.Generation))
		g.Expect(c.Reason).To(Equal(reason), "%s: %s", name, c.Message)
	}).Should(Succeed())
	return obj
}

// consent completes the OAuth 2 consent without a browser: the link leads
// to the simulator's HubSpot page, which redirects to the operator's
// callback with a code.
func consent(obj *elementsv1alpha1.HubSpotInstance) {
	GinkgoHelper()
	link := &corev1.Secret{}
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.Status.AuthorizationSecretName}, link)).To(Succeed())
	authorizationURL := string(link.Data[elementsv1alpha1.AuthorizationURLKey])
	Expect(authorizationURL).NotTo(BeEmpty())
	noRedirect := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(authorizationURL)
	Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusFound))
	redirect, err := url.Parse(resp.Header.Get("Location"))
	Expect(err).NotTo(HaveOccurred())
	Expect(redirect.Query().Get("code")).NotTo(BeEmpty())
	resp, err = noRedirect.Get(redirect.String())
	Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusOK), "the operator's callback refused the consent")
}

// kustomizationReadyOnlyWithObjects fails the spec if the Kustomization is
// Ready while one of the objects is not.
func kustomizationReadyOnlyWithObjects(g Gomega, names ...string) fluxStatus {
	st := kustomizationStatus()
	if st.ready.Status != metav1.ConditionTrue {
		return st
	}
	for _, name := range names {
		obj := &elementsv1alpha1.HubSpotInstance{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: crmNamespace, Name: name}, obj)).To(Succeed())
		c := readyOf(obj)
		if c == nil || c.Status != metav1.ConditionTrue || obj.Status.ObservedGeneration != obj.Generation {
			StopTrying(fmt.Sprintf("the Kustomization is Ready (%s) while %s is not: %v", st.ready.Message, name, c)).Now()
		}
	}
	return st
}

var _ = Describe("Flux applies, waits on, re-syncs and prunes HubSpotInstances from Git", Ordered, func() {
	state := repoState{apiKeyTags: []string{"team-support"}, withLegacy: true}
	all := []string{apiKeyName, oauthName, legacyName}

	It("is Ready only once every object is, and names the object awaiting consent until then", func() {
		revision := commit("HubSpot connections of the CRM team", state)
		applyFluxObjects()

		By("applying every object; API key and OAuth 2 Legacy become Ready, OAuth 2 awaits consent")
		waitReason(crmNamespace, apiKeyName, elementsv1alpha1.ReasonAvailable)
		waitReason(crmNamespace, legacyName, elementsv1alpha1.ReasonAvailable)
		waiting := waitReason(crmNamespace, oauthName, elementsv1alpha1.ReasonAwaitingAuthorization)

		By("Flux's own health check (kstatus) keeps the Kustomization from Ready, naming the object")
		Eventually(func(g Gomega) {
			st := kustomizationReadyOnlyWithObjects(g, all...)
			g.Expect(st.lastAttempted).To(Equal(revision))
			g.Expect(st.ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(st.ready.Reason).To(Equal("HealthCheckFailed"))
			g.Expect(st.ready.Message).To(ContainSubstring("HubSpotInstance/%s/%s status: 'InProgress'", crmNamespace, oauthName))
		}).Should(Succeed())
		fmt.Fprintf(GinkgoWriter, "Kustomization while %s awaits consent: %s\n", oauthName, kustomizationStatus().ready.Message)
		Expect(kustomizationStatus().ready.Message).NotTo(ContainSubstring(apiKeyName))

		By("consenting: the object is Ready, then the Kustomization")
		consent(waiting)
		waitReason(crmNamespace, oauthName, elementsv1alpha1.ReasonAvailable)
		Eventually(func(g Gomega) {
			st := kustomizationReadyOnlyWithObjects(g, all...)
			g.Expect(st.ready.Status).To(Equal(metav1.ConditionTrue), st.ready.Message)
			g.Expect(st.lastApplied).To(Equal(revision))
		}).Should(Succeed())
		Expect(instancesOf(crmNamespace)).To(HaveLen(3))
	})

	It("acts at once on reconcile.fluxcd.io/requestedAt on an object", func() {
		before := instanceIn(crmNamespace, apiKeyName)
		Expect(before.Spec.PollInterval).NotTo(BeNil())
		Expect(before.Spec.PollInterval.Duration).To(BeNumerically(">=", 10*time.Minute), "a poll must not be what answers")
		sim.ResetCounts()
		value := requestReconcileIn(crmNamespace, apiKeyName)
		Eventually(func(g Gomega) {
			g.Expect(instanceIn(crmNamespace, apiKeyName).Status.LastHandledReconcileAt).To(Equal(value))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(sim.Total(simulator.OpGet)+sim.Total(simulator.OpList)).To(BeNumerically(">", 0), "the full check looks at Cloud Elements")
		Expect(sim.Total(simulator.OpCreate)).To(BeZero())
	})

	It("turns a tag changed in Git into one update at the platform and no create", func() {
		id := instanceIn(crmNamespace, apiKeyName).Status.InstanceID
		sim.ResetCounts()
		state.apiKeyTags = []string{"team-support", "gitops"}
		revision := commitAndFetch("tag the API key connection", state)
		Eventually(func(g Gomega) {
			g.Expect(kustomizationReadyOnlyWithObjects(g, all...).lastApplied).To(Equal(revision))
			inst, ok := sim.Instance(id)
			g.Expect(ok).To(BeTrue())
			g.Expect(inst.Tags).To(ContainElement("gitops"))
		}).Should(Succeed())
		waitReason(crmNamespace, apiKeyName, elementsv1alpha1.ReasonAvailable)
		Eventually(func(g Gomega) {
			g.Expect(kustomizationStatus().ready.Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(sim.Total(simulator.OpUpdate)+sim.Total(simulator.OpPatch)).To(Equal(1), "counts: %v", sim.Counts())
			g.Expect(sim.Total(simulator.OpCreate)).To(BeZero())
		}).WithTimeout(3 * time.Second).Should(Succeed())
		Expect(instanceIn(crmNamespace, apiKeyName).Status.InstanceID).To(Equal(id))
	})

	It("names a disabled instance in the Kustomization's Ready condition", func() {
		id := instanceIn(crmNamespace, apiKeyName).Status.InstanceID
		Expect(sim.SetDisabled(id, true)).To(Succeed())
		requestReconcileIn(crmNamespace, apiKeyName)
		waitReason(crmNamespace, apiKeyName, elementsv1alpha1.ReasonInstanceDisabled)

		requestReconcile(kustomizationGVK, harness.FluxNamespace, "hubspot-connections")
		Eventually(func(g Gomega) {
			st := kustomizationStatus()
			g.Expect(st.ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(st.ready.Reason).To(Equal("HealthCheckFailed"))
			g.Expect(st.ready.Message).To(ContainSubstring("HubSpotInstance/%s/%s status: 'Failed'", crmNamespace, apiKeyName))
		}).Should(Succeed())
		fmt.Fprintf(GinkgoWriter, "Kustomization with %s disabled: %s\n", apiKeyName, kustomizationStatus().ready.Message)

		By("enabling it again: the object, then the Kustomization, recover")
		Expect(sim.SetDisabled(id, false)).To(Succeed())
		requestReconcileIn(crmNamespace, apiKeyName)
		waitReason(crmNamespace, apiKeyName, elementsv1alpha1.ReasonAvailable)
		requestReconcile(kustomizationGVK, harness.FluxNamespace, "hubspot-connections")
		Eventually(func(g Gomega) {
			g.Expect(kustomizationReadyOnlyWithObjects(g, all...).ready.Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())
	})

	It("prunes an object removed from Git: the instance is deleted, then the finalizer and its credentials Secret are released", func() {
		obj := instanceIn(crmNamespace, legacyName)
		id := obj.Status.InstanceID
		Expect(id).NotTo(BeZero())
		credentials := client.ObjectKey{Namespace: crmNamespace, Name: "cloud-elements-legacy"}

		By("holding the platform's delete, so the order can be seen")
		sim.SetFault(simulator.OpDelete, simulator.Fault{FailAlways: true, Status: http.StatusServiceUnavailable})
		state.withLegacy = false
		revision := commitAndFetch("retire the marketing connection", state)
		Eventually(func(g Gomega) {
			g.Expect(kustomizationStatus().lastAttempted).To(Equal(revision))
			o := &elementsv1alpha1.HubSpotInstance{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), o)).To(Succeed())
			g.Expect(o.DeletionTimestamp).NotTo(BeNil(), "Flux prunes the object")
			sec := &corev1.Secret{}
			g.Expect(k8s.Get(ctx, credentials, sec)).To(Succeed())
			g.Expect(sec.DeletionTimestamp).NotTo(BeNil(), "Flux prunes the credentials Secret in the same commit")
			g.Expect(sec.Finalizers).To(ContainElement(elementsv1alpha1.CredentialsInUseFinalizer))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), &elementsv1alpha1.HubSpotInstance{})).To(Succeed())
			g.Expect(k8s.Get(ctx, credentials, &corev1.Secret{})).To(Succeed(), "the credentials are kept while the instance may still need deleting")
			_, exists := sim.Instance(id)
			g.Expect(exists).To(BeTrue())
		}).WithTimeout(5 * time.Second).Should(Succeed())

		By("letting the delete through: the instance, then the object, then the Secret go")
		sim.ClearFaults()
		expectReleasedInOrder(obj, credentials, id)
		Expect(instancesOf(crmNamespace)).To(HaveLen(2))
		Eventually(func(g Gomega) {
			g.Expect(kustomizationReadyOnlyWithObjects(g, apiKeyName, oauthName).ready.Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())
	})
	It("gives a fresh control plane bootstrapped from the same repository the same instances back", func() {
		before := map[string]int64{}
		for _, name := range []string{apiKeyName, oauthName} {
			before[name] = instanceIn(crmNamespace, name).Status.InstanceID
		}

		By("throwing the cluster away: its operator stops, its objects are left as they are")
		Expect(op.Stop()).To(Succeed())
		DeferCleanup(func() { Expect(op.Start(ctx)).To(Succeed()) })

		rebuilt := filepath.Join(workDir, "rebuilt")
		Expect(os.MkdirAll(rebuilt, 0o700)).To(Succeed())
		b, err := harness.StartControlPlane(root, rebuilt)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(b.Stop()).To(Succeed()) })
		Expect(harness.InstallGitOpsCRDs(b, gitopsAssets)).To(Succeed())
		callbackAddr := harness.FreeAddr()
		opB := &harness.Operator{Bin: operatorBin, Kubeconfig: b.Kubeconfig, LogPath: filepath.Join(rebuilt, "operator.log"),
			Args: []string{"--oauth-callback-bind-address=" + callbackAddr, "--cloud-elements-timeout=5s", "--cluster-name=" + clusterName}}
		Expect(opB.Start(ctx)).To(Succeed())
		DeferCleanup(func() { Expect(opB.Stop()).To(Succeed()) })
		for _, ns := range []string{harness.FluxNamespace, crmNamespace} {
			Expect(b.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		}
		fluxB, err := harness.StartFlux(ctx, gitopsAssets, b.Kubeconfig, rebuilt)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(fluxB.Stop()).To(Succeed()) })

		By("bootstrapping it from the repository with the same GitRepository and Kustomization")
		sim.ResetCounts()
		k8sA := k8s
		k8s = b.Client
		DeferCleanup(func() { k8s = k8sA })
		applyFluxObjects()
		for name, id := range before {
			obj := waitReason(crmNamespace, name, elementsv1alpha1.ReasonAvailable)
			Expect(obj.Status.InstanceID).To(Equal(id), "%s gets its instance back", name)
		}
		Eventually(func(g Gomega) {
			g.Expect(kustomizationReadyOnlyWithObjects(g, apiKeyName, oauthName).ready.Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())
		Expect(sim.Total(simulator.OpCreate)).To(BeZero(), "counts: %v", sim.Counts())
		Expect(instancesOf(crmNamespace)).To(HaveLen(2))
	})
})
