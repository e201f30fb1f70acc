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
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// argoNamespace is where the Application puts the repository's objects:
// not crmNamespace, so the two GitOps controllers never share an object.
const argoNamespace = "crm-argo"

var (
	applicationGVK = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}
	appProjectGVK  = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "AppProject"}
)

// partOfArgoCD is the label Argo CD's settings manager selects its
// ConfigMaps and Secrets by.
var partOfArgoCD = map[string]string{"app.kubernetes.io/part-of": "argocd"}

// installArgoCDSettings writes argocd-cm (hack/argocd/argocd-cm.yaml as the
// README tells users to apply it), argocd-secret and the default AppProject.
func installArgoCDSettings() {
	GinkgoHelper()
	b, err := os.ReadFile(filepath.Join(root, "hack", "argocd", "argocd-cm.yaml"))
	Expect(err).NotTo(HaveOccurred())
	cm := &corev1.ConfigMap{}
	Expect(yaml.Unmarshal(b, cm)).To(Succeed())
	Expect(cm.Name).To(Equal("argocd-cm"))
	Expect(cm.Data).To(HaveKey("resource.customizations.health.elements.cloud-elements.io_HubSpotInstance"))
	cm.Namespace, cm.Labels = harness.ArgoCDNamespace, partOfArgoCD
	Expect(k8s.Create(ctx, cm)).To(Succeed())
	Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: harness.ArgoCDNamespace, Name: "argocd-secret", Labels: partOfArgoCD},
		StringData: map[string]string{"server.secretkey": "gitops-test-server-key"},
	})).To(Succeed())
	project := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "default", "namespace": harness.ArgoCDNamespace},
		"spec": map[string]any{
			"sourceRepos":              []any{"*"},
			"destinations":             []any{map[string]any{"server": "*", "namespace": "*"}},
			"clusterResourceWhitelist": []any{map[string]any{"group": "*", "kind": "*"}},
		},
	}}
	project.SetGroupVersionKind(appProjectGVK)
	Expect(k8s.Create(ctx, project)).To(Succeed())
}

// argoResource is one resource of the Application's status.
type argoResource struct {
	Kind, Name, Health, Message, Sync string
}

type argoAppStatus struct {
	health, healthMessage, sync, revision string
	resources                             map[string]argoResource // by name
}

func applicationStatus() argoAppStatus {
	GinkgoHelper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(applicationGVK)
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: harness.ArgoCDNamespace, Name: "hubspot-connections"}, u)).To(Succeed())
	st := argoAppStatus{resources: map[string]argoResource{}}
	st.health, _, _ = unstructured.NestedString(u.Object, "status", "health", "status")
	st.healthMessage, _, _ = unstructured.NestedString(u.Object, "status", "health", "message")
	st.sync, _, _ = unstructured.NestedString(u.Object, "status", "sync", "status")
	st.revision, _, _ = unstructured.NestedString(u.Object, "status", "sync", "revision")
	resources, _, _ := unstructured.NestedSlice(u.Object, "status", "resources")
	for _, r := range resources {
		m, _ := r.(map[string]any)
		res := argoResource{Kind: fmt.Sprint(m["kind"]), Name: fmt.Sprint(m["name"]), Sync: fmt.Sprint(m["status"])}
		if h, ok := m["health"].(map[string]any); ok {
			res.Health, _ = h["status"].(string)
			res.Message, _ = h["message"].(string)
		}
		if res.Kind == "HubSpotInstance" {
			st.resources[res.Name] = res
		}
	}
	return st
}

// applicationHealthyOnlyWithObjects fails the spec if the Application is
// Healthy while one of the objects is not Ready.
func applicationHealthyOnlyWithObjects(names ...string) argoAppStatus {
	GinkgoHelper()
	st := applicationStatus()
	if st.health != "Healthy" {
		return st
	}
	for _, name := range names {
		obj := instanceIn(argoNamespace, name)
		c := readyOf(obj)
		if c == nil || c.Status != metav1.ConditionTrue || obj.Status.ObservedGeneration != obj.Generation {
			StopTrying(fmt.Sprintf("the Application is Healthy while %s is not Ready: %v", name, c)).Now()
		}
	}
	return st
}

var _ = Describe("Argo CD syncs HubSpotInstances from Git and reads their health with our resource customizations", Ordered, func() {
	state := repoState{apiKeyTags: []string{"team-support"}, withLegacy: true}
	all := []string{apiKeyName, oauthName, legacyName}
	var argoRepo *harness.GitRepo

	BeforeAll(func() {
		Expect(harness.InstallArgoCDCRDs(cp, gitopsAssets)).To(Succeed())
		for _, ns := range []string{harness.ArgoCDNamespace, argoNamespace} {
			Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		}
		installArgoCDSettings()
		argo, err := harness.StartArgoCD(ctx, gitopsAssets, cp.Kubeconfig, filepath.Join(workDir, "argocd"))
		Expect(err).NotTo(HaveOccurred())
		argoCD = argo
		DeferCleanup(func() { Expect(argo.Stop()).To(Succeed()) })

		argoRepo, err = git.NewRepo("platform-argo", workDir)
		Expect(err).NotTo(HaveOccurred())
		_, err = argoRepo.Commit("HubSpot connections of the CRM team", state.files())
		Expect(err).NotTo(HaveOccurred())

		// docs/argocd-application.yaml, the one the README offers, with only
		// its repository and destination changed for a test.
		b, err := os.ReadFile(filepath.Join(root, "docs", "argocd-application.yaml"))
		Expect(err).NotTo(HaveOccurred())
		app := &unstructured.Unstructured{}
		Expect(yaml.Unmarshal(b, &app.Object)).To(Succeed())
		Expect(app.GroupVersionKind()).To(Equal(applicationGVK))
		Expect(app.GetNamespace()).To(Equal(harness.ArgoCDNamespace))
		Expect(app.GetName()).To(Equal("hubspot-connections"))
		Expect(app.Object).To(HaveKeyWithValue("spec", HaveKeyWithValue("syncPolicy",
			HaveKeyWithValue("automated", HaveKeyWithValue("prune", true)))), "the documented Application syncs and prunes by itself")
		Expect(unstructured.SetNestedField(app.Object, argoRepo.URL, "spec", "source", "repoURL")).To(Succeed())
		Expect(unstructured.SetNestedField(app.Object, argoRepo.Branch, "spec", "source", "targetRevision")).To(Succeed())
		Expect(unstructured.SetNestedField(app.Object, "crm", "spec", "source", "path")).To(Succeed())
		Expect(unstructured.SetNestedField(app.Object, argoNamespace, "spec", "destination", "namespace")).To(Succeed())
		Expect(k8s.Create(ctx, app)).To(Succeed())
	})

	It("is Healthy only once every object is Ready; the object awaiting consent is Progressing with its message", func() {
		waitReason(argoNamespace, apiKeyName, elementsv1alpha1.ReasonAvailable)
		waitReason(argoNamespace, legacyName, elementsv1alpha1.ReasonAvailable)
		waiting := waitReason(argoNamespace, oauthName, elementsv1alpha1.ReasonAwaitingAuthorization)

		Eventually(func(g Gomega) {
			st := applicationHealthyOnlyWithObjects(all...)
			g.Expect(st.health).To(Equal("Progressing"))
			g.Expect(st.resources).To(HaveKeyWithValue(oauthName, HaveField("Health", "Progressing")))
			g.Expect(st.resources[oauthName].Message).To(ContainSubstring(readyOf(instanceIn(argoNamespace, oauthName)).Message))
			g.Expect(st.resources).To(HaveKeyWithValue(apiKeyName, HaveField("Health", "Healthy")))
		}).Should(Succeed())
		fmt.Fprintf(GinkgoWriter, "Argo CD on %s awaiting consent: %q\n", oauthName, applicationStatus().resources[oauthName].Message)

		By("sync waves: every Secret was applied a wave before the objects")
		var secrets corev1.SecretList
		Expect(k8s.List(ctx, &secrets, client.InNamespace(argoNamespace))).To(Succeed())
		firstObject := waiting.CreationTimestamp
		for _, name := range all {
			if created := instanceIn(argoNamespace, name).CreationTimestamp; created.Before(&firstObject) {
				firstObject = created
			}
		}
		waved := 0
		for _, sec := range secrets.Items {
			if sec.Annotations[syncWaveAnnotation] == "-1" {
				waved++
				Expect(sec.CreationTimestamp.Before(&firstObject)).To(BeTrue(), "Secret %s created %s, the first object %s",
					sec.Name, sec.CreationTimestamp, firstObject)
			}
		}
		Expect(waved).To(Equal(6))

		consent(waiting)
		waitReason(argoNamespace, oauthName, elementsv1alpha1.ReasonAvailable)
		Eventually(func(g Gomega) {
			st := applicationHealthyOnlyWithObjects(all...)
			g.Expect(st.health).To(Equal("Healthy"))
			g.Expect(st.sync).To(Equal("Synced"))
		}).Should(Succeed())
	})

	It("is Degraded while an instance is disabled at Cloud Elements", func() {
		id := instanceIn(argoNamespace, apiKeyName).Status.InstanceID
		Expect(sim.SetDisabled(id, true)).To(Succeed())
		requestReconcileIn(argoNamespace, apiKeyName)
		waitReason(argoNamespace, apiKeyName, elementsv1alpha1.ReasonInstanceDisabled)
		Eventually(func(g Gomega) {
			st := applicationStatus()
			g.Expect(st.health).To(Equal("Degraded"))
			g.Expect(st.resources).To(HaveKeyWithValue(apiKeyName, HaveField("Health", "Degraded")))
		}).Should(Succeed())
		fmt.Fprintf(GinkgoWriter, "Argo CD on disabled %s: %q\n", apiKeyName, applicationStatus().resources[apiKeyName].Message)

		Expect(sim.SetDisabled(id, false)).To(Succeed())
		requestReconcileIn(argoNamespace, apiKeyName)
		waitReason(argoNamespace, apiKeyName, elementsv1alpha1.ReasonAvailable)
		Eventually(func(g Gomega) {
			g.Expect(applicationHealthyOnlyWithObjects(all...).health).To(Equal("Healthy"))
		}).Should(Succeed())
	})

	It("offers the reconcile action, and running it through Argo CD's action API acts at once", func() {
		query := url.Values{"appNamespace": {harness.ArgoCDNamespace}, "namespace": {argoNamespace}, "resourceName": {apiKeyName},
			"group": {elementsv1alpha1.GroupVersion.Group}, "version": {elementsv1alpha1.GroupVersion.Version}, "kind": {"HubSpotInstance"}}
		resp, err := http.Get(argoCD.ServerURL + "/api/v1/applications/hubspot-connections/resource/actions?" + query.Encode())
		Expect(err).NotTo(HaveOccurred())
		listed, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusOK), string(listed))
		var actions struct {
			Actions []struct {
				Name     string `json:"name"`
				Disabled bool   `json:"disabled"`
			} `json:"actions"`
		}
		Expect(json.Unmarshal(listed, &actions)).To(Succeed())
		Expect(actions.Actions).To(ContainElement(SatisfyAll(HaveField("Name", "reconcile"), HaveField("Disabled", false))), string(listed))

		sim.ResetCounts()
		body, err := json.Marshal(map[string]string{"appNamespace": harness.ArgoCDNamespace, "namespace": argoNamespace,
			"resourceName": apiKeyName, "group": elementsv1alpha1.GroupVersion.Group, "version": elementsv1alpha1.GroupVersion.Version,
			"kind": "HubSpotInstance", "action": "reconcile"})
		Expect(err).NotTo(HaveOccurred())
		resp, err = http.Post(argoCD.ServerURL+"/api/v1/applications/hubspot-connections/resource/actions/v2", "application/json", bytes.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK), string(answer))

		requested := instanceIn(argoNamespace, apiKeyName).Annotations[requestedAtAnnotation]
		Expect(requested).NotTo(BeEmpty(), "the action sets %s", requestedAtAnnotation)
		Eventually(func(g Gomega) {
			g.Expect(instanceIn(argoNamespace, apiKeyName).Status.LastHandledReconcileAt).To(Equal(requested))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(sim.Total(simulator.OpGet)+sim.Total(simulator.OpList)).To(BeNumerically(">", 0), "the full check looks at Cloud Elements")
		Expect(sim.Total(simulator.OpCreate)).To(BeZero())
	})

	It("prunes an object removed from Git and waits for its finalizer: the instance is deleted, then its credentials Secret pruned", func() {
		obj := instanceIn(argoNamespace, legacyName)
		id := obj.Status.InstanceID
		Expect(id).NotTo(BeZero())
		credentials := client.ObjectKey{Namespace: argoNamespace, Name: "cloud-elements-legacy"}

		By("holding the platform's delete, so the order can be seen")
		sim.SetFault(simulator.OpDelete, simulator.Fault{FailAlways: true, Status: http.StatusServiceUnavailable})
		DeferCleanup(sim.ClearFaults)
		state.withLegacy = false
		_, err := argoRepo.Commit("retire the marketing connection", state.files())
		Expect(err).NotTo(HaveOccurred())
		refreshApplication()
		Eventually(func(g Gomega) {
			o := &elementsv1alpha1.HubSpotInstance{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), o)).To(Succeed())
			g.Expect(o.DeletionTimestamp).NotTo(BeNil(), "Argo CD prunes the object")
		}).Should(Succeed())
		By("Argo CD prunes in reverse wave order, waiting for the object's finalizer before it prunes the Secrets' wave")
		Consistently(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), &elementsv1alpha1.HubSpotInstance{})).To(Succeed())
			sec := &corev1.Secret{}
			g.Expect(k8s.Get(ctx, credentials, sec)).To(Succeed(), "the credentials are kept while the instance may still need deleting")
			g.Expect(sec.DeletionTimestamp).To(BeNil())
			g.Expect(sec.Finalizers).To(ContainElement(elementsv1alpha1.CredentialsInUseFinalizer))
			_, exists := sim.Instance(id)
			g.Expect(exists).To(BeTrue())
		}).WithTimeout(5 * time.Second).Should(Succeed())

		By("letting the delete through: the instance, then the object, then the Secret go")
		sim.ClearFaults()
		expectReleasedInOrder(obj, credentials, id)
		Expect(instancesOf(argoNamespace)).To(HaveLen(2))
		Eventually(func(g Gomega) {
			st := applicationStatus()
			g.Expect(st.health).To(Equal("Healthy"))
			g.Expect(st.sync).To(Equal("Synced"))
			g.Expect(st.resources).NotTo(HaveKey(legacyName))
		}).Should(Succeed())
	})
})

// refreshApplication has Argo CD compare with Git now, as `argocd app get
// --refresh` does, rather than at its resync period.
func refreshApplication() {
	GinkgoHelper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(applicationGVK)
	u.SetNamespace(harness.ArgoCDNamespace)
	u.SetName("hubspot-connections")
	patch := `{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"normal"}}}`
	Expect(k8s.Patch(ctx, u, client.RawPatch("application/merge-patch+json", []byte(patch)))).To(Succeed())
}
