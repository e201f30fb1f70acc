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

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// Inputs that only serve creation or re-authorization (an OAuth code, the
// legacy tokens) are not required once the instance exists, and new
// credentials reach the platform through its re-authentication call.
var _ = Describe("One-time inputs and re-authorization", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
		sim.ClearFaults()
		createCredentials(ns)
	})

	legacyInstance := func(name string) *elementsv1alpha1.HubSpotInstance {
		createSecret(ns, "hubspot-legacy", map[string]string{"client-id": "legacy-client"})
		createSecret(ns, "hubspot-legacy-tokens", map[string]string{"access-token": "at-1", "refresh-token": "rt-1", "expires-in": "21600"})
		obj := apiKeyInstance(ns, name)
		obj.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2Legacy, OAuth2Legacy: &elementsv1alpha1.OAuth2LegacyAuth{
			ClientIDSecretRef: elementsv1alpha1.SecretKeySelector{Name: "hubspot-legacy", Key: "client-id"},
			PortalID:          "123456",
			CallbackURL:       "https://operator.example.com/oauth/callback",
			TokensSecretRef:   elementsv1alpha1.LegacyTokensSecretRef{Name: "hubspot-legacy-tokens"},
		}}
		return obj
	}
	oauthWithCode := func(name string) *elementsv1alpha1.HubSpotInstance {
		createSecret(ns, "hubspot-app", map[string]string{"client-id": "oauth-client", "client-secret": "oauth-client-secret"})
		createSecret(ns, "hubspot-code", map[string]string{"code": sim.IssueCode("oauth-client")})
		obj := apiKeyInstance(ns, name)
		obj.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2, OAuth2: &elementsv1alpha1.OAuth2Auth{
			ClientSecretRef:            elementsv1alpha1.OAuthClientSecretRef{Name: "hubspot-app"},
			Scopes:                     []string{"contacts"},
			CallbackURL:                "https://operator.example.com/oauth/callback",
			AuthorizationCodeSecretRef: &elementsv1alpha1.SecretKeySelector{Name: "hubspot-code", Key: "code"},
		}}
		return obj
	}
	stillReady := func(obj *elementsv1alpha1.HubSpotInstance) {
		clock.Advance(2 * time.Minute)
		requestReconcile(key(obj))
		Consistently(func() string { return condition(get(key(obj)), elementsv1alpha1.ConditionReady).Reason }).
			WithTimeout(3 * time.Second).Should(Equal(elementsv1alpha1.ReasonAvailable))
	}

	It("OAuth 2 Legacy: a deleted tokens Secret does not break a healthy instance", func() {
		obj := legacyInstance("legacy-tokens-gone")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		eventuallyReady(key(obj))
		Expect(k8sClient.Delete(ctx, secret(ns, "hubspot-legacy-tokens", nil))).To(Succeed())
		stillReady(obj)
	})

	It("OAuth 2: a deleted, used code Secret does not break a healthy instance", func() {
		obj := oauthWithCode("code-gone")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		eventuallyReady(key(obj))
		Expect(k8sClient.Delete(ctx, secret(ns, "hubspot-code", nil))).To(Succeed())
		stillReady(obj)
	})

	It("OAuth 2: a spent code is never sent again; a lapsed instance asks for consent", func() {
		obj := oauthWithCode("spent-code")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReady(key(obj))
		reauths := sim.Total(simulator.OpReauthorize)
		got = lapse(obj, got.Status.InstanceID)
		Expect(consentLink(got).Data).To(HaveKey(elementsv1alpha1.AuthorizationURLKey))
		Expect(sim.Total(simulator.OpReauthorize)).To(Equal(reauths), "the spent code was sent again")
	})

	It("OAuth 2 Legacy: new tokens re-authorize the same instance through the re-authentication call", func() {
		obj := legacyInstance("legacy-rotated")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReady(key(obj))
		id := got.Status.InstanceID
		lapse(obj, id)

		reauths := sim.Total(simulator.OpReauthorize)
		Expect(k8sClient.Update(ctx, secret(ns, "hubspot-legacy-tokens",
			map[string]string{"access-token": "at-2", "refresh-token": "rt-2", "expires-in": "21600"}))).To(Succeed())
		got = eventuallyReady(key(obj))
		Expect(got.Status.InstanceID).To(Equal(id))
		Expect(sim.Total(simulator.OpReauthorize)).To(Equal(reauths + 1))
		Expect(eventReasons(got)).To(ContainElement(elementsv1alpha1.EventReasonReauthorized))
	})

	It("API key: a new key re-authorizes the same instance through the re-authentication call", func() {
		createSecret(ns, "hubspot-key", map[string]string{"api-key": "key-1"})
		obj := apiKeyInstance(ns, "key-rotated")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := eventuallyReady(key(obj))
		id := got.Status.InstanceID
		lapse(obj, id)

		reauths := sim.Total(simulator.OpReauthorize)
		Expect(k8sClient.Update(ctx, secret(ns, "hubspot-key", map[string]string{"api-key": "key-2"}))).To(Succeed())
		got = eventuallyReady(key(obj))
		Expect(got.Status.InstanceID).To(Equal(id))
		Expect(sim.Total(simulator.OpReauthorize)).To(Equal(reauths + 1))
	})
})
