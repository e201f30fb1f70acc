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
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// An object is (cluster, namespace, name); its UID is only the incarnation.
// The same YAML applied again gets the same instance back.
var _ = Describe("Identity that outlives an incarnation", func() {
	var ns string

	BeforeEach(func() { ns = apiKeyNamespace() })

	orphaned := func(name string) (*elementsv1alpha1.HubSpotInstance, int64) {
		GinkgoHelper()
		obj := apiKeyInstance(ns, name)
		obj.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReady(key(obj))
		deleteAndWait(got)
		_, kept := sim.Instance(got.Status.InstanceID)
		Expect(kept).To(BeTrue())
		return got, got.Status.InstanceID
	}
	again := func(name string) *elementsv1alpha1.HubSpotInstance {
		obj := apiKeyInstance(ns, name)
		obj.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
		return obj
	}
	ownerTagsOf := func(id int64) []string {
		var tags []string
		for _, t := range simInstance(id).Tags {
			if elementsv1alpha1.IsOwnerTag(t) {
				tags = append(tags, t)
			}
		}
		return tags
	}
	It("re-applied after deletionPolicy Orphan, the same YAML adopts its instance: no create, an Adopted Event", func() {
		first, id := orphaned("lazarus")
		creates := sim.Total(simulator.OpCreate)
		obj := again("lazarus")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReady(key(obj))
		Expect(got.Status.InstanceID).To(Equal(id))
		Expect(got.UID).NotTo(Equal(first.UID))
		Expect(sim.Total(simulator.OpCreate)).To(Equal(creates))
		Expect(eventNotes(got)).To(ContainElement(ContainSubstring("found element instance " + strconv.FormatInt(id, 10) + " by this object's identity")))
		Expect(ownerTagsOf(id)).To(ConsistOf(got.OwnerTag()), "held by the new incarnation alone")
		Expect(simInstance(id).Tags).To(ContainElements(elementsv1alpha1.NameTag(ns, "lazarus"), elementsv1alpha1.ClusterTag(clusterName)))
		Expect(string(tokenSecret(ns, "lazarus-element-token").Data[elementsv1alpha1.TokenKey])).To(Equal(simInstance(id).Token))
	})

	Describe("the account's listing answers the identity lookups of a mass create", func() {
		// A listing of the account that ran after every object it covers.
		listed := func() {
			GinkgoHelper()
			before := sim.Total(simulator.OpList)
			clock.Advance(2 * time.Minute)
			Eventually(func() int { return sim.Total(simulator.OpList) }).WithTimeout(10 * time.Second).Should(BeNumerically(">", before))
		}

		It("new objects whose names the listing did not show make no lookup each", func() {
			first := apiKeyInstance(ns, "first")
			Expect(k8sClient.Create(ctx, first)).To(Succeed())
			eventuallyReady(key(first))
			listed()
			lists, creates := sim.Total(simulator.OpList), sim.Total(simulator.OpCreate)
			for i := range 5 {
				Expect(k8sClient.Create(ctx, apiKeyInstance(ns, "batch-"+strconv.Itoa(i)))).To(Succeed())
			}
			for i := range 5 {
				eventuallyReady(client.ObjectKey{Namespace: ns, Name: "batch-" + strconv.Itoa(i)})
			}
			Expect(sim.Total(simulator.OpCreate)).To(Equal(creates + 5))
			Expect(sim.Total(simulator.OpList)).To(BeNumerically("<=", lists+1), "at most the account's own next listing, no lookup per object")
		})

		It("a mass create in an account not listed yet starts its listing, and the objects after it make no lookup", func() {
			// Credentials of their own make an account this process has not
			// listed, as a restarted process or a newly applied cluster has.
			sim.RotateAccountSecrets("user-secret-mass", "organization-secret-mass")
			DeferCleanup(func() { sim.RotateAccountSecrets(userSecret, orgSecret) })
			mass := map[string]string{"user-secret": "user-secret-mass", "organization-secret": "organization-secret-mass"}
			Expect(k8sClient.Update(ctx, secret(ns, "cloud-elements", mass))).To(Succeed())
			first := apiKeyInstance(ns, "first")
			Expect(k8sClient.Create(ctx, first)).To(Succeed())
			eventuallyReady(key(first))
			const n = 20
			lists := sim.Total(simulator.OpList)
			for i := range n {
				Expect(k8sClient.Create(ctx, apiKeyInstance(ns, "mass-"+strconv.Itoa(i)))).To(Succeed())
			}
			for i := range n {
				eventuallyReady(client.ObjectKey{Namespace: ns, Name: "mass-" + strconv.Itoa(i)})
			}
			Expect(sim.Total(simulator.OpList)-lists).To(BeNumerically("<", n/2), "one listing and the lookups made before it ended, not one per object")
		})

		It("an object re-applied after Orphan still adopts: this process remembers what it let go since the listing", func() {
			// Another object keeps the account, and so its listing's index.
			keeper := apiKeyInstance(ns, "keeper")
			Expect(k8sClient.Create(ctx, keeper)).To(Succeed())
			eventuallyReady(key(keeper))
			obj := again("remembered")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			listed() // shows the instance as its object's: its name is not free, but not listed as such
			deleteAndWait(got)
			creates := sim.Total(simulator.OpCreate)
			back := again("remembered")
			Expect(k8sClient.Create(ctx, back)).To(Succeed())
			Expect(eventuallyReady(key(back)).Status.InstanceID).To(Equal(got.Status.InstanceID))
			Expect(sim.Total(simulator.OpCreate)).To(Equal(creates))
		})
	})

	It("OAuth 2 Legacy: adopted without re-authorization", func() {
		createSecret(ns, "hubspot-legacy", map[string]string{"client-id": "legacy-client"})
		createSecret(ns, "hubspot-legacy-tokens", map[string]string{"access-token": "at-1", "refresh-token": "rt-1", "expires-in": "21600"})
		legacy := func() *elementsv1alpha1.HubSpotInstance {
			obj := again("legacy")
			obj.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2Legacy, OAuth2Legacy: &elementsv1alpha1.OAuth2LegacyAuth{
				ClientIDSecretRef: elementsv1alpha1.SecretKeySelector{Name: "hubspot-legacy", Key: "client-id"},
				PortalID:          "123456",
				CallbackURL:       "https://operator.example.com/oauth/callback",
				TokensSecretRef:   elementsv1alpha1.LegacyTokensSecretRef{Name: "hubspot-legacy-tokens"},
			}}
			return obj
		}
		first := legacy()
		Expect(k8sClient.Create(ctx, first)).To(Succeed())
		id := eventuallyReady(key(first)).Status.InstanceID
		deleteAndWait(first)
		creates, reauths := sim.Total(simulator.OpCreate), sim.Total(simulator.OpReauthorize)
		obj := legacy()
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		Expect(eventuallyReady(key(obj)).Status.InstanceID).To(Equal(id))
		Expect(sim.Total(simulator.OpCreate)).To(Equal(creates))
		Expect(sim.Total(simulator.OpReauthorize)).To(Equal(reauths))
	})

	It("the import annotation naming its own orphaned instance is accepted", func() {
		_, id := orphaned("named")
		obj := again("named")
		obj.Annotations = map[string]string{elementsv1alpha1.InstanceIDAnnotation: strconv.FormatInt(id, 10)}
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		Expect(eventuallyReady(key(obj)).Status.InstanceID).To(Equal(id))
	})

	It("another name cannot adopt or import it", func() {
		_, id := orphaned("mine")
		creates := sim.Total(simulator.OpCreate)
		other := apiKeyInstance(ns, "yours")
		Expect(k8sClient.Create(ctx, other)).To(Succeed())
		Expect(eventuallyReady(key(other)).Status.InstanceID).NotTo(Equal(id))
		Expect(sim.Total(simulator.OpCreate)).To(Equal(creates + 1))

		thief := apiKeyInstance(ns, "thief")
		thief.Annotations = map[string]string{elementsv1alpha1.InstanceIDAnnotation: strconv.FormatInt(id, 10)}
		Expect(k8sClient.Create(ctx, thief)).To(Succeed())
		got := eventuallyReason(key(thief), elementsv1alpha1.ReasonInvalidConfiguration)
		Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("belongs to " + ns + "/mine"))
	})

	It("another cluster name cannot adopt or import it, and the create says which instance it passed over", func() {
		// What cluster "staging" left behind when it was thrown away.
		theirs := createInstanceByHand("staging-crm", elementsv1alpha1.OwnerTagOf(ns, "crm", types.UID("5f1b7c1e-0000-4000-8000-0000000000cc")),
			elementsv1alpha1.NameTag(ns, "crm"), elementsv1alpha1.ClusterTag("staging"), elementsv1alpha1.ManagedTag)
		importer := apiKeyInstance(ns, "crm")
		importer.Annotations = map[string]string{elementsv1alpha1.InstanceIDAnnotation: strconv.FormatInt(theirs.ID, 10)}
		Expect(k8sClient.Create(ctx, importer)).To(Succeed())
		refused := eventuallyReason(key(importer), elementsv1alpha1.ReasonInvalidConfiguration)
		Expect(condition(refused, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring(`of cluster "staging"`))
		deleteAndWait(refused)

		obj := apiKeyInstance(ns, "crm")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReady(key(obj))
		Expect(got.Status.InstanceID).NotTo(Equal(theirs.ID))
		msg := condition(got, elementsv1alpha1.ConditionReady).Message
		Expect(msg).To(ContainSubstring("element instance " + strconv.FormatInt(theirs.ID, 10) + ` of cluster "staging"`))
		Expect(msg).To(ContainSubstring("--cluster-name"))
		Expect(eventReasons(got)).To(ContainElement(elementsv1alpha1.EventReasonNotAdopted))
		Expect(ownerTagsOf(theirs.ID)).To(ConsistOf(elementsv1alpha1.OwnerTagOf(ns, "crm", types.UID("5f1b7c1e-0000-4000-8000-0000000000cc"))))
	})

	It("an instance moves to another namespace only when the releasing side hands it over", func() {
		from := apiKeyInstance(ns, "moving")
		Expect(k8sClient.Create(ctx, from)).To(Succeed())
		id := eventuallyReady(key(from)).Status.InstanceID
		to := apiKeyNamespace()
		updateSpec(key(from), func(o *elementsv1alpha1.HubSpotInstance) {
			o.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
			o.Annotations = map[string]string{elementsv1alpha1.HandOverAnnotation: to + "/moved"}
		})
		deleteAndWait(from)
		Expect(simInstance(id).Tags).To(ContainElement(elementsv1alpha1.NameTag(to, "moved")))
		Expect(ownerTagsOf(id)).To(BeEmpty())

		creates := sim.Total(simulator.OpCreate)
		obj := apiKeyInstance(to, "moved")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		Expect(eventuallyReady(key(obj)).Status.InstanceID).To(Equal(id))
		Expect(sim.Total(simulator.OpCreate)).To(Equal(creates))
	})

	It("an upgrade from owner tags without identity re-tags the instance and creates nothing", func() {
		obj := apiKeyInstance(ns, "upgraded")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReady(key(obj))
		id := got.Status.InstanceID
		creates := sim.Total(simulator.OpCreate)
		// As the previous release left it: its owner tag, no identity tags,
		// and a configuration hash over those tags.
		retagByHand(id, "team-test", got.OwnerTag(), elementsv1alpha1.ManagedTag)
		before := got.DeepCopy()
		got.Status.AppliedConfigurationHash = "from-the-previous-release"
		Expect(k8sClient.Status().Patch(ctx, got, client.MergeFrom(before))).To(Succeed())
		requestReconcile(key(obj))
		Eventually(func() []string { return simInstance(id).Tags }).WithTimeout(20 * time.Second).
			Should(ContainElements(elementsv1alpha1.NameTag(ns, "upgraded"), elementsv1alpha1.ClusterTag(clusterName), got.OwnerTag()))
		Expect(eventuallyReady(key(obj)).Status.InstanceID).To(Equal(id))
		Expect(sim.Total(simulator.OpCreate)).To(Equal(creates))
	})

	It("two live incarnations never share an instance: the one another adoption displaced stops, and never deletes it", func() {
		obj := apiKeyInstance(ns, "twin")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReady(key(obj))
		id := got.Status.InstanceID
		// What a second cluster run with the same cluster name does when it
		// applies the same YAML: it adopts the instance as its own incarnation.
		twin := elementsv1alpha1.OwnerTagOf(ns, "twin", types.UID("5f1b7c1e-0000-4000-8000-0000000000dd"))
		retagByHand(id, "team-test", twin, elementsv1alpha1.NameTag(ns, "twin"), elementsv1alpha1.ClusterTag(clusterName), elementsv1alpha1.ManagedTag)
		clock.Advance(2 * time.Minute) // the account's next listing
		stopped := eventuallyReason(key(obj), elementsv1alpha1.ReasonInstanceClaimed)
		Expect(condition(stopped, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
		Expect(condition(stopped, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("another incarnation of " + ns + "/twin"))
		deleteAndWait(stopped)
		Expect(ownerTagsOf(id)).To(ConsistOf(twin), "the instance is left to the incarnation holding it")
	})
})
