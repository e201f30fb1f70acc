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
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// writeCalls counts every call that changes something at Cloud Elements.
func writeCalls() int {
	n := 0
	for _, op := range []string{simulator.OpCreate, simulator.OpUpdate, simulator.OpReauthorize, simulator.OpPatch,
		simulator.OpDelete, simulator.OpSetConfiguration, simulator.OpEnable} {
		n += sim.Total(op)
	}
	return n
}

// setPolicy switches an object's managementPolicy and waits until it is
// observed and Ready.
func setPolicy(k client.ObjectKey, policy elementsv1alpha1.ManagementPolicy) *elementsv1alpha1.HubSpotInstance {
	patch := []byte(`{"spec":{"managementPolicy":"` + string(policy) + `"}}`)
	Expect(k8sClient.Patch(ctx, get(k), client.RawPatch(types.MergePatchType, patch))).To(Succeed())
	return eventuallyReady(k)
}

func credentialsFinalizers(ns string) []string {
	s := &corev1.Secret{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cloud-elements"}, s)).To(Succeed())
	return s.Finalizers
}

// driftPollDue makes the drift poll due and asks for a reconcile.
func driftPollDue(k client.ObjectKey) {
	clock.Advance(2 * time.Minute)
	requestReconcile(k)
}

var _ = Describe("managementPolicy ObserveOnly", func() {
	It("adopts the named instance, publishes its token, reports drift, and never writes", func() {
		// Only the account credentials: the HubSpot key is never sent, so
		// its Secret is not needed.
		ns := newNamespace()
		sim.ClearFaults()
		createCredentials(ns)
		api, err := cloudelements.New(cloudelements.Options{Endpoint: endpoint, UserSecret: userSecret, OrganizationSecret: orgSecret})
		Expect(err).NotTo(HaveOccurred())
		existing, err := api.CreateInstance(ctx, cloudelements.InstanceRequest{
			Element: cloudelements.ElementRef{Key: cloudelements.ElementKey}, Name: ns + "-watched", Tags: []string{"team-test"},
			Configuration: map[string]string{cloudelements.ConfigAuthenticationType: "apiKey",
				cloudelements.ConfigHubSpotAPIKey: "their-key", cloudelements.ConfigCreateBulkProperties: "false"}})
		Expect(err).NotTo(HaveOccurred())
		id := existing.ID

		writes := writeCalls()
		obj := apiKeyInstance(ns, "watched")
		obj.Spec.ManagementPolicy = elementsv1alpha1.ManagementPolicyObserveOnly
		obj.Annotations = map[string]string{elementsv1alpha1.InstanceIDAnnotation: strconv.FormatInt(id, 10)}
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())

		got := eventuallyReady(key(obj))
		Expect(got.Status.InstanceID).To(Equal(id))
		Expect(got.Status.Drift).To(BeEmpty())
		Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("ObserveOnly"))
		sec := tokenSecret(ns, "watched-element-token")
		Expect(string(sec.Data[elementsv1alpha1.TokenKey])).To(Equal(existing.Token))
		Expect(string(sec.Data[elementsv1alpha1.InstanceIDKey])).To(Equal(strconv.FormatInt(id, 10)))
		Expect(simInstance(id).Tags).To(ConsistOf("team-test"), "not even the owner tag is added")
		Expect(got.Finalizers).NotTo(ContainElement(elementsv1alpha1.Finalizer), "nothing to delete, nothing to hold the object for")
		Expect(credentialsFinalizers(ns)).NotTo(ContainElement(elementsv1alpha1.CredentialsInUseFinalizer))

		By("a spec change is reported, not applied")
		updateSpec(key(obj), func(o *elementsv1alpha1.HubSpotInstance) {
			o.Spec.Tags = []string{"team-test", "tier-1"}
			o.Spec.Configuration = map[string]string{"filter.response.nulls": "false"}
		})
		got = eventuallyReason(key(obj), elementsv1alpha1.ReasonInstanceDrifted)
		Expect(got.Status.Drift).To(ConsistOf(ContainSubstring("missing tier-1"),
			"configuration filter.response.nulls: not set at Cloud Elements"))
		Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
		Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("missing tier-1"))
		Expect(simInstance(id).Tags).To(ConsistOf("team-test"))

		Expect(writeCalls()).To(Equal(writes), "adopting and reporting a spec change wrote nothing")

		By("the instance brought in line at Cloud Elements, and the spec: the drift clears")
		_, err = api.PatchInstance(ctx, id, cloudelements.InstancePatch{Tags: []string{"team-test", "tier-1"}})
		Expect(err).NotTo(HaveOccurred())
		updateSpec(key(obj), func(o *elementsv1alpha1.HubSpotInstance) { o.Spec.Configuration = nil })
		got = eventuallyReady(key(obj))
		Expect(got.Status.Drift).To(BeEmpty())
		writes = writeCalls() // that PATCH was a person's, at Cloud Elements

		By("disabled behind its back: reported, not enabled")
		Expect(sim.SetDisabled(id, true)).To(Succeed())
		driftPollDue(key(obj))
		got = eventuallyReason(key(obj), elementsv1alpha1.ReasonInstanceDisabled)
		Expect(got.Status.Disabled).To(BeTrue())

		By("invalidated behind its back: reported, not re-authorized")
		Expect(sim.Invalidate(id)).To(Succeed())
		driftPollDue(key(obj))
		got = eventuallyReason(key(obj), elementsv1alpha1.ReasonReauthorizationRequired)
		Expect(got.Status.Valid).To(BeFalse())
		Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("ObserveOnly"))

		By("deleted behind its back: reported, not recreated")
		Expect(sim.Remove(id)).To(Succeed())
		driftPollDue(key(obj))
		got = eventuallyReason(key(obj), elementsv1alpha1.ReasonInstanceNotFound)
		Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
		Expect(got.Status.InstanceID).To(Equal(id))
		Expect(got.Annotations).To(HaveKeyWithValue(elementsv1alpha1.InstanceIDAnnotation, strconv.FormatInt(id, 10)))
		Expect(instancesOwnedBy(got)).To(BeZero())

		deleteAndWait(got)
		Expect(writeCalls()).To(Equal(writes), "no write call to Cloud Elements, ever")
	})

	It("without the instance-id annotation: stalled, saying so, and no call at all", func() {
		ns := apiKeyNamespace()
		calls := totalCalls()
		obj := apiKeyInstance(ns, "unnamed")
		obj.Spec.ManagementPolicy = elementsv1alpha1.ManagementPolicyObserveOnly
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
		Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
		msg := condition(got, elementsv1alpha1.ConditionReady).Message
		Expect(msg).To(ContainSubstring("ObserveOnly"))
		Expect(msg).To(ContainSubstring(elementsv1alpha1.InstanceIDAnnotation))
		Consistently(totalCalls).WithTimeout(time.Second).Should(Equal(calls))
	})

	It("Full to ObserveOnly stops writes at once; back to Full applies the spec once; deleting leaves the instance", func() {
		ns := apiKeyNamespace()
		obj := apiKeyInstance(ns, "switching")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		id := eventuallyReady(key(obj)).Status.InstanceID
		Eventually(func() []string { return credentialsFinalizers(ns) }).Should(ContainElement(elementsv1alpha1.CredentialsInUseFinalizer))

		setPolicy(key(obj), elementsv1alpha1.ManagementPolicyObserveOnly)
		writes := writeCalls()
		Eventually(func() []string { return credentialsFinalizers(ns) }).WithTimeout(10*time.Second).
			ShouldNot(ContainElement(elementsv1alpha1.CredentialsInUseFinalizer), "an instance that is never deleted needs no credentials kept for it")

		got := get(key(obj))
		got.Spec.Tags = []string{"team-test", "tier-2"}
		Expect(k8sClient.Update(ctx, got)).To(Succeed())
		got = eventuallyReason(key(obj), elementsv1alpha1.ReasonInstanceDrifted)
		Expect(got.Status.Drift).To(ConsistOf(ContainSubstring("missing tier-2")))
		Expect(simInstance(id).Tags).NotTo(ContainElement("tier-2"))
		Expect(writeCalls()).To(Equal(writes))

		By("back to Full: the spec is applied, once")
		got = setPolicy(key(obj), elementsv1alpha1.ManagementPolicyFull)
		Expect(simInstance(id).Tags).To(ContainElement("tier-2"))
		Expect(got.Status.Drift).To(BeEmpty())
		Consistently(writeCalls).WithTimeout(time.Second).Should(Equal(writes + 1))
		Eventually(func() []string { return credentialsFinalizers(ns) }).Should(ContainElement(elementsv1alpha1.CredentialsInUseFinalizer))

		By("ObserveOnly again, then deleted: the instance stays, whatever deletionPolicy says")
		got = setPolicy(key(obj), elementsv1alpha1.ManagementPolicyObserveOnly)
		Expect(got.Spec.DeletionPolicy).To(Equal(elementsv1alpha1.DeletionPolicyDelete))
		Expect(got.Finalizers).To(ContainElement(elementsv1alpha1.Finalizer))
		writes = writeCalls()
		deleteAndWait(got)
		_, exists := sim.Instance(id)
		Expect(exists).To(BeTrue())
		Expect(writeCalls()).To(Equal(writes))
		Expect(eventReasons(got)).To(ContainElement(elementsv1alpha1.EventReasonOrphaned))
	})
})

var _ = Describe("deletion protection", func() {
	var ns string

	BeforeEach(func() { ns = apiKeyNamespace() })

	protectedInstance := func(name string) *elementsv1alpha1.HubSpotInstance {
		obj := apiKeyInstance(ns, name)
		obj.Annotations = map[string]string{elementsv1alpha1.DeletionProtectionAnnotation: "true"}
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		return eventuallyReady(key(obj))
	}
	// deleteProtected deletes the object and waits until it says why it stays.
	deleteProtected := func(obj *elementsv1alpha1.HubSpotInstance) *elementsv1alpha1.HubSpotInstance {
		Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		got := eventuallyReason(key(obj), elementsv1alpha1.ReasonDeletionProtected)
		Expect(got.DeletionTimestamp).NotTo(BeNil())
		Expect(got.Finalizers).To(ContainElement(elementsv1alpha1.Finalizer))
		Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
		return got
	}
	gone := func(obj *elementsv1alpha1.HubSpotInstance) func() bool {
		return func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(obj), &elementsv1alpha1.HubSpotInstance{}))
		}
	}

	It("waits, quietly, until the annotation is removed; then deletes the instance once", func() {
		obj := protectedInstance("guarded")
		id := obj.Status.InstanceID
		deletes := sim.Total(simulator.OpDelete)

		got := deleteProtected(obj)
		msg := condition(got, elementsv1alpha1.ConditionReady).Message
		Expect(msg).To(ContainSubstring(elementsv1alpha1.DeletionProtectionAnnotation))
		Expect(msg).To(ContainSubstring("Orphan"))

		// Quiet: more reconciles make no call, no status write and no
		// second Event.
		calls, version := totalCalls(), got.ResourceVersion
		for range 3 {
			Expect(forceReconcile(key(obj)).RequeueAfter).To(BeZero())
		}
		Consistently(func() string { return get(key(obj)).ResourceVersion }).WithTimeout(2 * time.Second).Should(Equal(version))
		Expect(totalCalls()).To(Equal(calls))
		Eventually(func() []string { return eventReasons(got) }).Should(ContainElement(elementsv1alpha1.ReasonDeletionProtected))
		protectedEvents := 0
		for _, r := range eventReasons(got) {
			if r == elementsv1alpha1.ReasonDeletionProtected {
				protectedEvents++
			}
		}
		Expect(protectedEvents).To(Equal(1))
		Expect(sim.Total(simulator.OpDelete)).To(Equal(deletes))

		// Removing the annotation is all it takes: the edit wakes the object.
		patch := []byte(`{"metadata":{"annotations":{"` + elementsv1alpha1.DeletionProtectionAnnotation + `":null}}}`)
		Expect(k8sClient.Patch(ctx, got, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
		Eventually(gone(obj)).WithTimeout(20 * time.Second).Should(BeTrue())
		Expect(sim.Total(simulator.OpDelete)).To(Equal(deletes + 1))
		_, exists := sim.Instance(id)
		Expect(exists).To(BeFalse())
	})

	It("lets the object go, and keeps the instance, once deletionPolicy is Orphan", func() {
		obj := protectedInstance("kept")
		id := obj.Status.InstanceID
		deletes := sim.Total(simulator.OpDelete)
		got := deleteProtected(obj)

		patch := []byte(`{"spec":{"deletionPolicy":"Orphan"}}`)
		Expect(k8sClient.Patch(ctx, got, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
		Eventually(gone(obj)).WithTimeout(20 * time.Second).Should(BeTrue())
		Expect(sim.Total(simulator.OpDelete)).To(Equal(deletes))
		_, exists := sim.Instance(id)
		Expect(exists).To(BeTrue())
	})
})
