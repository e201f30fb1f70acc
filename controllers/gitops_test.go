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

package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// kstatusOf computes what Flux (and kstatus-based tools) make of an object.
func kstatusOf(obj client.Object) status.Status {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	Expect(err).NotTo(HaveOccurred())
	res, err := status.Compute(&unstructured.Unstructured{Object: content})
	Expect(err).NotTo(HaveOccurred())
	return res.Status
}

var _ = Describe("GitOps health", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
		sim.ClearFaults()
	})

	It("reads as InProgress / Current / Failed / Terminating in each state, as Flux sees it", func() {
		createCredentials(ns)
		createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
		createSecret(ns, "hubspot-app", map[string]string{"client-id": "oauth-client", "client-secret": "s"})

		By("fresh: as the API server returns a new object, before any reconcile")
		fresh := apiKeyInstance(ns, "fresh")
		Expect(k8sClient.Create(ctx, fresh, client.DryRunAll)).To(Succeed())
		Expect(fresh.Status.ObservedGeneration).To(Equal(int64(-1)))
		Expect(kstatusOf(fresh)).To(Equal(status.InProgressStatus))

		By("provisioning: Cloud Elements is slow to answer the create")
		sim.SetFault(simulator.OpCreate, simulator.Fault{Latency: 3 * time.Second})
		slow := apiKeyInstance(ns, "slow")
		Expect(k8sClient.Create(ctx, slow)).To(Succeed())
		Eventually(func() []string { return get(key(slow)).Finalizers }).Should(ContainElement(elementsv1alpha1.Finalizer))
		Expect(kstatusOf(get(key(slow)))).To(Equal(status.InProgressStatus))
		sim.ClearFaults()

		By("Ready")
		Expect(kstatusOf(eventuallyReady(key(slow)))).To(Equal(status.CurrentStatus))

		By("awaiting authorization")
		oauth := apiKeyInstance(ns, "consent")
		oauth.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2, OAuth2: &elementsv1alpha1.OAuth2Auth{
			ClientSecretRef: elementsv1alpha1.OAuthClientSecretRef{Name: "hubspot-app"},
			Scopes:          []string{"contacts"}, CallbackURL: "https://operator.example.com/oauth/callback"}}
		Expect(k8sClient.Create(ctx, oauth)).To(Succeed())
		Expect(kstatusOf(eventuallyReason(key(oauth), elementsv1alpha1.ReasonAwaitingAuthorization))).To(Equal(status.InProgressStatus))

		By("missing configuration")
		missing := apiKeyInstance(ns, "missing")
		missing.Spec.Auth.APIKey.SecretRef.Name = "no-such-secret"
		Expect(k8sClient.Create(ctx, missing)).To(Succeed())
		Expect(kstatusOf(eventuallyReason(key(missing), elementsv1alpha1.ReasonMissingConfiguration))).To(Equal(status.FailedStatus))

		By("API unavailable")
		sim.SetFault(simulator.OpCreate, simulator.Fault{ErrorRate: 1})
		down := apiKeyInstance(ns, "down")
		Expect(k8sClient.Create(ctx, down)).To(Succeed())
		Expect(kstatusOf(eventuallyReason(key(down), elementsv1alpha1.ReasonAPIUnavailable))).To(Equal(status.InProgressStatus))
		sim.ClearFaults()
		eventuallyReady(key(down))

		By("disabled at Cloud Elements: a person must enable it")
		Expect(sim.SetDisabled(get(key(down)).Status.InstanceID, true)).To(Succeed())
		clock.Advance(2 * time.Minute)
		requestReconcile(key(down))
		Expect(kstatusOf(eventuallyReason(key(down), elementsv1alpha1.ReasonInstanceDisabled))).To(Equal(status.FailedStatus))

		By("deleting, held by the finalizer")
		emptyCredentials(ns)
		Expect(k8sClient.Delete(ctx, get(key(slow)))).To(Succeed())
		eventuallyReason(key(slow), elementsv1alpha1.ReasonDeletionBlocked)
		Expect(kstatusOf(get(key(slow)))).To(Equal(status.TerminatingStatus))
		restoreCredentials(ns)
		deleteAndWait(get(key(slow)))
	})

	It("never writes the spec: a server-side applied manifest stays the applier's", func() {
		createCredentials(ns)
		createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
		manifest := `apiVersion: elements.cloud-elements.io/v1alpha1
kind: HubSpotInstance
metadata:
  name: gitops
  namespace: ` + ns + `
spec:
  platform:
    endpoint: ` + endpoint + `
    credentialsSecretRef: {name: cloud-elements}
  tags: [team-gitops]
  auth:
    type: APIKey
    apiKey:
      secretRef: {name: hubspot-key, key: api-key}
  pollInterval: 1m
`
		apply := func() *unstructured.Unstructured {
			u := &unstructured.Unstructured{}
			Expect(yaml.Unmarshal([]byte(manifest), &u.Object)).To(Succeed())
			Expect(k8sClient.Patch(ctx, u, client.Apply, client.FieldOwner("gitops-tool"), client.ForceOwnership)).To(Succeed())
			return u
		}
		first := apply()
		eventuallyReady(client.ObjectKeyFromObject(first))
		live := get(client.ObjectKeyFromObject(first))
		generation := live.Generation

		second := apply()
		Expect(second.GetGeneration()).To(Equal(generation), "re-applying the same manifest changes nothing")
		specBefore, _, _ := unstructured.NestedMap(first.Object, "spec")
		specAfter, _, _ := unstructured.NestedMap(second.Object, "spec")
		Expect(specAfter).To(Equal(specBefore))

		for _, mf := range second.GetManagedFields() {
			if mf.Manager == "gitops-tool" {
				continue
			}
			Expect(mf.FieldsV1.GetRawString()).NotTo(ContainSubstring(`"f:spec"`),
				"manager %s (%s) owns spec fields", mf.Manager, mf.Operation)
		}
	})
})
