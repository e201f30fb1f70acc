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
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// A namespace user can reach no further than their namespace, and a hostile
// endpoint cannot take the operator down for others.
var _ = Describe("Tenant isolation and hostile endpoints", func() {
	var ns string

	BeforeEach(func() { ns = apiKeyNamespace() })

	handMade := func(tags ...string) cloudelements.Instance { return createInstanceByHand("theirs", tags...) }
	importing := func(name string, id int64) *elementsv1alpha1.HubSpotInstance {
		obj := apiKeyInstance(ns, name)
		obj.Annotations = map[string]string{elementsv1alpha1.InstanceIDAnnotation: strconv.FormatInt(id, 10)}
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		return obj
	}

	Describe("import cannot capture someone else's instance", func() {
		It("refuses an instance whose owner tag names another object, and leaves it untouched", func() {
			victim := apiKeyInstance("other-team", "crm")
			victim.UID = "5f1b7c1e-0000-4000-8000-000000000001"
			theirs := handMade("team-b", victim.OwnerTag())
			obj := importing("thief", theirs.ID)
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
			Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("belongs to other-team/crm"))
			after := simInstance(theirs.ID)
			Expect(after.Tags).To(Equal(theirs.Tags))
			Expect(after.Name).To(Equal("theirs"))
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "thief-element-token"}, &corev1.Secret{})).NotTo(Succeed())
			deleteAndWait(got)
			_, exists := sim.Instance(theirs.ID)
			Expect(exists).To(BeTrue(), "deleting the importer never deletes their instance")
		})

		It("refuses an instance of another element", func() {
			theirs := handMade()
			Expect(sim.SetElementKey(theirs.ID, "salesforce")).To(Succeed())
			obj := importing("wrong-element", theirs.ID)
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
			Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("salesforce"))
			Expect(simInstance(theirs.ID).Name).To(Equal("theirs"))
		})

		It("adopts an untagged instance and tags it as ours", func() {
			untagged := handMade()
			obj := importing("adopter", untagged.ID)
			got := eventuallyReady(key(obj))
			Expect(simInstance(untagged.ID).Tags).To(ContainElement(got.OwnerTag()))
		})

		It("refuses to switch to another instance once one is recorded", func() {
			obj := apiKeyInstance(ns, "settled")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			first := got.Status.InstanceID
			other := handMade()
			got.Annotations[elementsv1alpha1.InstanceIDAnnotation] = strconv.FormatInt(other.ID, 10)
			Expect(k8sClient.Update(ctx, got)).To(Succeed())
			got = eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
			Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring(strconv.FormatInt(first, 10)))
			Expect(got.Status.InstanceID).To(Equal(first))
			Expect(simInstance(other.ID).Name).To(Equal("theirs"))
		})
	})

	Describe("the platform is fixed once an instance exists", func() {
		It("refuses a new endpoint or credentials Secret at admission", func() {
			obj := apiKeyInstance(ns, "bound")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			moved := got.DeepCopy()
			moved.Spec.Platform.Endpoint = "https://api.cloud-elements.com/elements/api-v2"
			err := k8sClient.Update(ctx, moved)
			Expect(err).To(MatchError(ContainSubstring("spec.platform is immutable once an element instance is recorded")))
			moved = get(key(obj))
			moved.Spec.Platform.CredentialsSecretRef.Name = "another-account"
			Expect(k8sClient.Update(ctx, moved)).To(MatchError(ContainSubstring("spec.platform is immutable")))
		})
	})

	Describe("credentials go only to allowed endpoints", func() {
		It("refuses an endpoint off the allow-list before reading any Secret", func() {
			obj := apiKeyInstance(ns, "exfiltrate")
			obj.Spec.Platform.Endpoint = "https://collector.attacker.example/elements/api-v2"
			obj.Spec.Platform.CredentialsSecretRef.Name = "does-not-exist"
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
			msg := condition(got, elementsv1alpha1.ConditionReady).Message
			Expect(msg).To(ContainSubstring("collector.attacker.example"))
			Expect(msg).To(ContainSubstring("not allowed"))
			Expect(msg).NotTo(ContainSubstring("does-not-exist"), "no Secret was read")
		})
	})

	Describe("the token Secret", func() {
		It("is never taken over when a Secret of its name appears at the last moment", func() {
			obj := apiKeyInstance(ns, "raced")
			writes.beforeTokenApply.Store(func() {
				Expect(k8sClient.Create(ctx, secret(ns, "raced-element-token", map[string]string{"theirs": "precious"}))).To(Succeed())
			})
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			eventuallyReason(key(obj), elementsv1alpha1.ReasonSecretConflict)
			theirs := tokenSecret(ns, "raced-element-token")
			Expect(theirs.OwnerReferences).To(BeEmpty())
			Expect(theirs.Data).To(Equal(map[string][]byte{"theirs": []byte("precious")}))
		})

		It("loses a label or annotation removed from spec.tokenSecret", func() {
			obj := apiKeyInstance(ns, "relabelled")
			obj.Spec.TokenSecret.Labels = map[string]string{"reflect": "yes"}
			obj.Spec.TokenSecret.Annotations = map[string]string{"reflector/allowed-namespaces": "everyone"}
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			Expect(tokenSecret(ns, "relabelled-element-token").Annotations).To(HaveKey("reflector/allowed-namespaces"))
			got.Spec.TokenSecret.Labels = nil
			got.Spec.TokenSecret.Annotations = nil
			Expect(k8sClient.Update(ctx, got)).To(Succeed())
			Eventually(func(g Gomega) {
				s := tokenSecret(ns, "relabelled-element-token")
				g.Expect(s.Labels).NotTo(HaveKey("reflect"))
				g.Expect(s.Annotations).NotTo(HaveKey("reflector/allowed-namespaces"))
			}).WithTimeout(10 * time.Second).Should(Succeed())
		})
	})

	It("ten objects on an endpoint that pages forever do not hold up a healthy one", func() {
		// The create fails with a 500 (it may have committed), so after the
		// grace period each object looks for it by owner tag — and the
		// endpoint answers page after page, each with a fresh next-page token.
		var pages atomic.Int64
		hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/instances") {
				n := pages.Add(1)
				w.Header().Set(cloudelements.NextPageHeader, "page-"+strconv.FormatInt(n, 10))
				_, _ = w.Write([]byte(`[{"id":` + strconv.FormatInt(n, 10) + `,"tags":["somebody-else"]}]`))
				return
			}
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"message":"try again"}`))
		}))
		defer hostile.Close()
		for i := range 10 {
			obj := apiKeyInstance(ns, "hostile-"+strconv.Itoa(i))
			obj.Spec.Platform.Endpoint = elementsv1alpha1.HTTPURL(hostile.URL + "/elements/api-v2")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		}
		Eventually(pages.Load).WithTimeout(3*createGrace).Should(BeNumerically(">", 1000), "the lookups are paging")
		healthy := apiKeyInstance(ns, "healthy")
		Expect(k8sClient.Create(ctx, healthy)).To(Succeed())
		eventuallyReadyWithin(key(healthy), 15*time.Second)
	})
})
