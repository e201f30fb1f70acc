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
	"fmt"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// What a tenant who may only edit HubSpotInstances in their own namespace
// tries against another namespace's instances, and against the status the
// operator must always be able to write.
var _ = Describe("A hostile tenant", func() {
	var ns string

	BeforeEach(func() { ns = apiKeyNamespace() })

	// theirs is an instance another namespace's object owns.
	theirs := func() int64 {
		return createInstanceByHand("theirs", elementsv1alpha1.OwnerTagOf("other-team", "crm", "5f1b7c1e-0000-4000-8000-0000000000aa")).ID
	}
	naming := func(obj *elementsv1alpha1.HubSpotInstance, id int64) {
		obj.Annotations = map[string]string{elementsv1alpha1.InstanceIDAnnotation: strconv.FormatInt(id, 10)}
	}
	stillThere := func(id int64) {
		GinkgoHelper()
		Consistently(func() bool { _, ok := sim.Instance(id); return ok }).WithTimeout(2*time.Second).Should(BeTrue(),
			"element instance %d of another object survives", id)
	}
	markedPending := func(k client.ObjectKey) *elementsv1alpha1.HubSpotInstance {
		GinkgoHelper()
		var obj *elementsv1alpha1.HubSpotInstance
		Eventually(func() string {
			obj = get(k)
			return obj.Annotations[elementsv1alpha1.CreatePendingAnnotation]
		}).WithTimeout(20 * time.Second).ShouldNot(BeEmpty())
		return obj
	}

	Describe("deleting an object deletes only an instance proven to be its own", func() {
		It("not the instance its import annotation names, with the operator's finalizer written by the user", func() {
			id := theirs()
			obj := apiKeyInstance(ns, "wrecker")
			naming(obj, id)
			obj.Finalizers = []string{elementsv1alpha1.Finalizer}
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			deleteAndWait(obj)
			stillThere(id)
		})

		It("not the instance an annotation added after a refused create names", func() {
			sim.SetFault(simulator.OpCreate, simulator.Fault{FailNext: 1000, Status: 400})
			obj := apiKeyInstance(ns, "refused-then-named")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
			Expect(got.Finalizers).To(ContainElement(elementsv1alpha1.Finalizer))
			sim.ClearFaults()
			id := theirs()
			got.Annotations[elementsv1alpha1.InstanceIDAnnotation] = strconv.FormatInt(id, 10)
			Expect(k8sClient.Update(ctx, got)).To(Succeed())
			deleteAndWait(got)
			stillThere(id)
		})
	})

	Describe("an interrupted create's owner-tag lookup adopts only an instance that is certainly its own", func() {
		// The create is answered 500 and commits nothing, and keeps being
		// so: the instances the lookup finds were made by somebody else, and
		// tagged as this object's by a PATCH (which the create fault leaves
		// alone) whenever it comes, before or after the grace period.
		interrupted := func(name string) *elementsv1alpha1.HubSpotInstance {
			GinkgoHelper()
			sim.SetFault(simulator.OpCreate, simulator.Fault{FailNext: 1000, Status: 500})
			obj := apiKeyInstance(ns, name)
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			return markedPending(key(obj))
		}

		It("never one that also carries another object's owner tag (smuggled past the platform's sanitising)", func() {
			attacker := elementsv1alpha1.OwnerTagOf("ns-a", "attacker", "5f1b7c1e-0000-4000-8000-0000000000bb")
			planted := createInstanceByHand("attacker", attacker)
			obj := interrupted("smuggled")
			retagByHand(planted.ID, attacker, obj.OwnerTag())
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
			Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
			Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring(strconv.FormatInt(planted.ID, 10)))
			Expect(got.Status.InstanceID).To(BeZero())
			sim.ClearFaults()
			deleteAndWait(got)
			stillThere(planted.ID)
		})

		It("never the first of several: Stalled, naming them all", func() {
			a, b := createInstanceByHand("one"), createInstanceByHand("two")
			obj := interrupted("several")
			retagByHand(a.ID, obj.OwnerTag())
			retagByHand(b.ID, obj.OwnerTag())
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
			msg := condition(got, elementsv1alpha1.ConditionReady).Message
			Expect(msg).To(ContainSubstring(strconv.FormatInt(a.ID, 10)))
			Expect(msg).To(ContainSubstring(strconv.FormatInt(b.ID, 10)))
			Expect(got.Status.InstanceID).To(BeZero())
			Expect(instancesOwnedBy(got)).To(Equal(2), "nothing more was created")
		})
	})

	Describe("the account, not the Secret's name, is what an instance is bound to", func() {
		// The simulator serves one account: new secrets for it stand in for
		// a rotation, and, with the instance removed, for another account
		// in which the recorded id reads 404.
		readyWithAccount := func(name string) *elementsv1alpha1.HubSpotInstance {
			GinkgoHelper()
			obj := apiKeyInstance(ns, name)
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			Expect(got.Status.InstanceAccount).NotTo(BeEmpty())
			DeferCleanup(func() { sim.RotateAccountSecrets(userSecret, orgSecret) })
			return got
		}
		putCredentials := func(user, org string) {
			Expect(k8sClient.Update(ctx, secret(ns, "cloud-elements", map[string]string{"user-secret": user, "organization-secret": org}))).To(Succeed())
		}

		It("a rotation of the same account's secrets keeps the instance", func() {
			got := readyWithAccount("rotated")
			creates := sim.Total(simulator.OpCreate)
			sim.RotateAccountSecrets("user-secret-rotated", "organization-secret-rotated")
			putCredentials("user-secret-rotated", "organization-secret-rotated")
			Eventually(func() string { return get(key(got)).Status.InstanceAccount }).ShouldNot(Equal(got.Status.InstanceAccount))
			after := eventuallyReady(key(got))
			Expect(after.Status.InstanceID).To(Equal(got.Status.InstanceID))
			Expect(sim.Total(simulator.OpCreate)).To(Equal(creates))
		})

		It("another account's values in the same Secret: the recorded instance is not found, and nothing is created or let go", func() {
			got := readyWithAccount("switched")
			creates := sim.Total(simulator.OpCreate)
			sim.RotateAccountSecrets("user-secret-other", "organization-secret-other")
			Expect(sim.Remove(got.Status.InstanceID)).To(Succeed())
			putCredentials("user-secret-other", "organization-secret-other")
			stopped := eventuallyReason(key(got), elementsv1alpha1.ReasonAccountChanged)
			Expect(condition(stopped, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
			Expect(condition(stopped, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("creates no new instance"))
			Expect(stopped.Status.InstanceID).To(Equal(got.Status.InstanceID))
			Consistently(func() int { return sim.Total(simulator.OpCreate) }).WithTimeout(2 * time.Second).Should(Equal(creates))

			By("deleting it waits for the credentials, or for deletionPolicy Orphan")
			Expect(k8sClient.Delete(ctx, stopped)).To(Succeed())
			Consistently(func() error { return k8sClient.Get(ctx, key(got), &elementsv1alpha1.HubSpotInstance{}) }).
				WithTimeout(2 * time.Second).Should(Succeed())
			updateSpec(key(got), func(o *elementsv1alpha1.HubSpotInstance) {
				o.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
			})
			deleteAndWait(got)
		})
	})

	Describe("ownership is re-checked, and import races have one winner", func() {
		It("an observer stops copying the token once another object imports the instance", func() {
			id := createInstanceByHand("shared").ID
			observer := apiKeyInstance(ns, "observer")
			observer.Spec.ManagementPolicy = elementsv1alpha1.ManagementPolicyObserveOnly
			naming(observer, id)
			Expect(k8sClient.Create(ctx, observer)).To(Succeed())
			// Named and tagged otherwise than the spec says: observed, drifted.
			eventuallyReason(key(observer), elementsv1alpha1.ReasonInstanceDrifted)

			importer := apiKeyInstance(ns, "importer")
			naming(importer, id)
			Expect(k8sClient.Create(ctx, importer)).To(Succeed())
			eventuallyReady(key(importer))

			clock.Advance(2 * time.Minute) // the account's next listing
			got := eventuallyReason(key(observer), elementsv1alpha1.ReasonInstanceClaimed)
			Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("belongs to " + ns + "/importer"))
		})

		It("two objects importing one untagged instance at once: one owner, the other Stalled", func() {
			id := createInstanceByHand("contended").ID
			// Slow reads keep both checks in flight together, so both see
			// the instance untagged before either tags it.
			sim.SetFault(simulator.OpGet, simulator.Fault{Latency: time.Second})
			first, second := apiKeyInstance(ns, "first"), apiKeyInstance(ns, "second")
			naming(first, id)
			naming(second, id)
			Expect(k8sClient.Create(ctx, first)).To(Succeed())
			Expect(k8sClient.Create(ctx, second)).To(Succeed())
			var owner, loser *elementsv1alpha1.HubSpotInstance
			Eventually(func(g Gomega) {
				a, b := get(key(first)), get(key(second))
				ra, rb := condition(a, elementsv1alpha1.ConditionReady), condition(b, elementsv1alpha1.ConditionReady)
				g.Expect(ra).NotTo(BeNil())
				g.Expect(rb).NotTo(BeNil())
				// The loser is refused by its import check, or by the read-back
				// after both tagged it.
				g.Expect([]string{ra.Reason, rb.Reason}).To(ContainElement(elementsv1alpha1.ReasonAvailable))
				g.Expect([]string{ra.Reason, rb.Reason}).To(ContainElement(BeElementOf(elementsv1alpha1.ReasonInvalidConfiguration, elementsv1alpha1.ReasonInstanceClaimed)))
				owner, loser = a, b
				if rb.Reason == elementsv1alpha1.ReasonAvailable {
					owner, loser = b, a
				}
			}).WithTimeout(30 * time.Second).Should(Succeed())
			sim.ClearFaults()
			Expect(owner.Status.InstanceID).To(Equal(id))
			Expect(loser.Status.InstanceID).To(BeZero())
			Expect(condition(loser, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
			var ownerTags []string
			for _, t := range simInstance(id).Tags {
				if elementsv1alpha1.IsOwnerTag(t) {
					ownerTags = append(ownerTags, t)
				}
			}
			Expect(ownerTags).To(ConsistOf(owner.OwnerTag()))
			deleteAndWait(loser)
			stillThere(id)
		})
	})

	It("cannot keep status from being written: an observed instance with 400 long tags", func() {
		tags := make([]string, 400)
		for i := range tags {
			tags[i] = fmt.Sprintf("tag-%03d-%s", i, strings.Repeat("x", 200))
		}
		id := createInstanceByHand("tagged-to-the-brim", tags...).ID
		obj := apiKeyInstance(ns, "observer")
		obj.Spec.ManagementPolicy = elementsv1alpha1.ManagementPolicyObserveOnly
		naming(obj, id)
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInstanceDrifted)
		msg := condition(got, elementsv1alpha1.ConditionReady).Message
		Expect(len(msg)).To(BeNumerically("<=", 4096))
		Expect(msg).To(ContainSubstring("and 390 more"))
		Expect(len(got.Status.Drift)).To(BeNumerically("<=", 10))
	})
})
