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
	"maps"
	"slices"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// What workloads need around the token: a Secret in their own shape, and a
// signal when it changed.
var _ = Describe("the token Secret for workloads", func() {
	var ns string
	BeforeEach(func() { ns = apiKeyNamespace() })

	authorizationTemplate := map[string]elementsv1alpha1.TemplateText{
		"authorization": "User {{ .UserSecret }}, Organization {{ .OrganizationSecret }}, Element {{ .Token }}",
		"instance":      "{{ .InstanceID }}",
	}
	keysOf := func(sec *corev1.Secret) []string { return slices.Sorted(maps.Keys(sec.Data)) }

	It("renders the template, and renders it again when the account's secrets rotate", func() {
		obj := apiKeyInstance(ns, "templated")
		obj.Spec.TokenSecret.Template = &elementsv1alpha1.TokenSecretTemplate{Data: authorizationTemplate}
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReady(key(obj))
		token := simInstance(got.Status.InstanceID).Token
		sec := tokenSecret(ns, "templated-element-token")
		Expect(keysOf(sec)).To(Equal([]string{"authorization", "instance"}), "exactly the template's keys")
		Expect(string(sec.Data["authorization"])).To(Equal("User " + userSecret + ", Organization " + orgSecret + ", Element " + token))
		Expect(string(sec.Data["instance"])).To(Equal(strconv.FormatInt(got.Status.InstanceID, 10)))
		dataHash := sec.Annotations[elementsv1alpha1.DataHashAnnotation]
		Expect(dataHash).To(HavePrefix("hmac-sha256:"))
		tokenHash, changed := got.Status.TokenHash, got.Status.LastTokenChangeTime

		// The account's secrets are regenerated, and the Secret holding them
		// is updated: the rendered value follows.
		sim.RotateAccountSecrets("user-secret-2", "organization-secret-2")
		DeferCleanup(func() { sim.RotateAccountSecrets(userSecret, orgSecret) })
		Expect(k8sClient.Update(ctx, secret(ns, "cloud-elements", map[string]string{
			"user-secret": "user-secret-2", "organization-secret": "organization-secret-2"}))).To(Succeed())
		Eventually(func() string { return string(tokenSecret(ns, "templated-element-token").Data["authorization"]) }).
			WithTimeout(20 * time.Second).Should(Equal("User user-secret-2, Organization organization-secret-2, Element " + token))
		Expect(tokenSecret(ns, "templated-element-token").Annotations[elementsv1alpha1.DataHashAnnotation]).NotTo(Equal(dataHash), "the data changed")
		Expect(get(key(obj)).Status.TokenHash).To(Equal(tokenHash), "the token did not")
		Expect(get(key(obj)).Status.LastTokenChangeTime).To(Equal(changed))

		// No secret in status or Events.
		final := get(key(obj))
		for _, c := range final.Status.Conditions {
			Expect(c.Message).NotTo(ContainSubstring("secret-2"))
			Expect(c.Message).NotTo(ContainSubstring(token))
		}
		for _, note := range eventNotes(final) {
			Expect(note).NotTo(ContainSubstring("secret-2"))
			Expect(note).NotTo(ContainSubstring(token))
		}
	})

	It("a template replaces the default keys, and without it they come back", func() {
		obj := apiKeyInstance(ns, "reshaped")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		eventuallyReady(key(obj))
		Expect(keysOf(tokenSecret(ns, "reshaped-element-token"))).To(Equal([]string{"element-key", "endpoint", "instance-id", "token"}))

		updateSpec(key(obj), func(o *elementsv1alpha1.HubSpotInstance) {
			o.Spec.TokenSecret.Template = &elementsv1alpha1.TokenSecretTemplate{Data: map[string]elementsv1alpha1.TemplateText{"ELEMENT_TOKEN": "{{ .Token }}"}}
		})
		Eventually(func() []string { return keysOf(tokenSecret(ns, "reshaped-element-token")) }).
			WithTimeout(20 * time.Second).Should(Equal([]string{"ELEMENT_TOKEN"}))

		updateSpec(key(obj), func(o *elementsv1alpha1.HubSpotInstance) { o.Spec.TokenSecret.Template = nil })
		Eventually(func() []string { return keysOf(tokenSecret(ns, "reshaped-element-token")) }).
			WithTimeout(20 * time.Second).Should(Equal([]string{"element-key", "endpoint", "instance-id", "token"}))
		eventuallyReady(key(obj))
	})

	It("a bad template is named in status, and nothing is created", func() {
		instances := len(sim.Instances())
		obj := apiKeyInstance(ns, "badly-templated")
		obj.Spec.TokenSecret.Template = &elementsv1alpha1.TokenSecretTemplate{Data: map[string]elementsv1alpha1.TemplateText{
			"authorization": "Element {{ .Token }}", "password": "{{ .Password }}"}}
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
		Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
		Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring(`spec.tokenSecret.template.data: key "password": unknown value .Password`))
		Expect(sim.Instances()).To(HaveLen(instances), "no instance without a Secret it can render")

		updateSpec(key(obj), func(o *elementsv1alpha1.HubSpotInstance) {
			o.Spec.TokenSecret.Template.Data["password"] = "{{ .Token | b64enc }}"
		})
		eventuallyReady(key(obj))
	})

	It("a template is checked whole before anything is created: $.Nope stalls the object and no create call reaches Cloud Elements", func() {
		creates := sim.Total(simulator.OpCreate)
		obj := apiKeyInstance(ns, "nope-templated")
		obj.Spec.TokenSecret.Template = &elementsv1alpha1.TokenSecretTemplate{Data: map[string]elementsv1alpha1.TemplateText{
			"authorization": "Element {{ .Token }}", "nope": "{{ $.Nope }}"}}
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
		Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
		Expect(sim.Total(simulator.OpCreate)).To(Equal(creates), "no create call")
		Expect(instancesOwnedBy(got)).To(BeZero())
		Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring(`spec.tokenSecret.template.data: key "nope": unknown value $.Nope`))
		Expect(got.Status.InstanceID).To(BeZero())
	})

	It("a template written to exhaust the operator's memory stalls its object, and another object gets Ready meanwhile", func() {
		hostile := apiKeyInstance(ns, "hostile-templated")
		hostile.Spec.TokenSecret.Template = &elementsv1alpha1.TokenSecretTemplate{Data: map[string]elementsv1alpha1.TemplateText{
			"token": `{{ $a := replace "" .Token .Token }}{{ $b := replace "" $a $a }}{{ $c := replace "" $b $b }}ok`}}
		Expect(k8sClient.Create(ctx, hostile)).To(Succeed())
		neighbour := apiKeyInstance(ns, "neighbour-templated")
		neighbour.Spec.TokenSecret.Template = &elementsv1alpha1.TokenSecretTemplate{Data: authorizationTemplate}
		Expect(k8sClient.Create(ctx, neighbour)).To(Succeed())

		got := eventuallyReason(key(hostile), elementsv1alpha1.ReasonInvalidConfiguration)
		Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
		Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring(`spec.tokenSecret.template.data: key "token": variables are not supported`))
		Expect(instancesOwnedBy(got)).To(BeZero())

		ready := eventuallyReady(key(neighbour))
		Expect(string(tokenSecret(ns, "neighbour-templated-element-token").Data["authorization"])).
			To(Equal("User " + userSecret + ", Organization " + orgSecret + ", Element " + simInstance(ready.Status.InstanceID).Token))

		// Fixed, it gets Ready too: the operator was never hurt.
		updateSpec(key(hostile), func(o *elementsv1alpha1.HubSpotInstance) {
			o.Spec.TokenSecret.Template.Data = map[string]elementsv1alpha1.TemplateText{"token": `{{ replace "-" "_" .Token | b64enc }}`}
		})
		eventuallyReady(key(hostile))
	})

	It("the token hash, lastTokenChangeTime and the data-hash annotation move when the token changes, and not at rest", func() {
		obj := apiKeyInstance(ns, "signalled")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReady(key(obj))
		Expect(got.Status.TokenHash).To(HavePrefix("hmac-sha256:"))
		Expect(got.Status.LastTokenChangeTime).NotTo(BeNil())
		hash, changed := got.Status.TokenHash, got.Status.LastTokenChangeTime.Time
		secretBefore := tokenSecret(ns, "signalled-element-token")
		secretVersion, dataHash := secretBefore.ResourceVersion, secretBefore.Annotations[elementsv1alpha1.DataHashAnnotation]

		for range 2 { // polls that find nothing changed
			listed := sim.Total(simulator.OpList)
			clock.Advance(2 * time.Minute)
			Eventually(func() int { return sim.Total(simulator.OpList) }).WithTimeout(20 * time.Second).Should(BeNumerically(">", listed))
		}
		requestReconcile(key(obj))
		Consistently(func() string { return get(key(obj)).Status.TokenHash }).WithTimeout(2 * time.Second).Should(Equal(hash))
		Expect(get(key(obj)).Status.LastTokenChangeTime.Time).To(Equal(changed))
		Expect(tokenSecret(ns, "signalled-element-token").ResourceVersion).To(Equal(secretVersion))

		// Deleted behind the operator's back: a new instance, a new token.
		id := got.Status.InstanceID
		Expect(sim.Remove(id)).To(Succeed())
		clock.Advance(2 * time.Minute)
		Eventually(func() string { return get(key(obj)).Status.TokenHash }).WithTimeout(20 * time.Second).ShouldNot(Equal(hash))
		got = eventuallyReady(key(obj))
		Expect(got.Status.LastTokenChangeTime.Time).To(BeTemporally(">", changed))
		Expect(tokenSecret(ns, "signalled-element-token").Annotations[elementsv1alpha1.DataHashAnnotation]).NotTo(Equal(dataHash))
	})
})
