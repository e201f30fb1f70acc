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
	"net/http/httptest"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// Where the public record of Cloud Elements is ambiguous, the operator must
// be right under every reading (docs/cloud-elements-api.md, section 4). Each
// entry runs the whole lifecycle, in all three auth modes, against a
// simulator of its own that plays one reading.
var _ = Describe("the lifecycle under each reading of the record", func() {
	DescribeTable("create, recover a failed create, edit tags and events, poll, delete",
		func(opts simulator.Options) {
			opts.UserSecret, opts.OrganizationSecret, opts.Seed = userSecret, orgSecret, 7
			platform := simulator.New(opts)
			server := httptest.NewServer(platform)
			DeferCleanup(server.Close)
			at := server.URL + simulator.APIPrefix

			ns := newNamespace()
			createCredentials(ns)
			createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
			createSecret(ns, "hubspot-app", map[string]string{"client-id": "oauth-client", "client-secret": "oauth-client-secret"})
			createSecret(ns, "hubspot-code", map[string]string{"code": platform.IssueCode("oauth-client")})
			createSecret(ns, "hubspot-legacy", map[string]string{"client-id": "legacy-client"})
			createSecret(ns, "hubspot-legacy-tokens", map[string]string{"access-token": "at-1", "refresh-token": "rt-1", "expires-in": "21600"})

			apiKey := apiKeyInstance(ns, "api-key")
			oauth2 := apiKeyInstance(ns, "oauth2")
			oauth2.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2, OAuth2: &elementsv1alpha1.OAuth2Auth{
				ClientSecretRef:            elementsv1alpha1.OAuthClientSecretRef{Name: "hubspot-app"},
				Scopes:                     []string{"contacts"},
				CallbackURL:                "https://operator.example.com/oauth/callback",
				AuthorizationCodeSecretRef: &elementsv1alpha1.SecretKeySelector{Name: "hubspot-code", Key: "code"},
			}}
			legacy := apiKeyInstance(ns, "legacy")
			legacy.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2Legacy, OAuth2Legacy: &elementsv1alpha1.OAuth2LegacyAuth{
				ClientIDSecretRef: elementsv1alpha1.SecretKeySelector{Name: "hubspot-legacy", Key: "client-id"},
				PortalID:          "123456",
				CallbackURL:       "https://operator.example.com/oauth/callback",
				TokensSecretRef:   elementsv1alpha1.LegacyTokensSecretRef{Name: "hubspot-legacy-tokens"},
			}}
			objects := []*elementsv1alpha1.HubSpotInstance{apiKey, oauth2, legacy}

			owned := func(obj *elementsv1alpha1.HubSpotInstance) []cloudelements.Instance {
				var found []cloudelements.Instance
				for _, inst := range platform.Instances() {
					if slices.Contains(inst.Tags, obj.OwnerTag()) {
						found = append(found, inst)
					}
				}
				return found
			}

			By("a first create answered 503 before it reached the platform: the owner-tag lookup finds nothing, and the create is made once")
			platform.SetFault(simulator.OpCreate, simulator.Fault{FailNext: 1, Status: 503})
			for _, obj := range objects {
				obj.Spec.Platform.Endpoint = elementsv1alpha1.HTTPURL(at)
				Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			}
			for _, obj := range objects {
				got := eventuallyReadyWithin(key(obj), 30*time.Second)
				Expect(owned(got)).To(HaveLen(1), "%s: exactly one instance", obj.Name)
				inst := owned(got)[0]
				Expect(inst.ID).To(Equal(got.Status.InstanceID))
				Expect(string(tokenSecret(ns, obj.Name+"-element-token").Data["token"])).To(Equal(inst.Token))
			}

			By("editing the tags and the events block of each Ready object")
			for _, obj := range objects {
				got := get(key(obj))
				got.Spec.Tags = append(got.Spec.Tags, "edited")
				got.Spec.Events = &elementsv1alpha1.EventsSpec{Enabled: true, VendorType: elementsv1alpha1.EventVendorTypePolling,
					CallbackURL: "https://hooks.example.com/hubspot", Objects: []string{"contacts"}}
				Expect(k8sClient.Update(ctx, got)).To(Succeed())
			}
			for _, obj := range objects {
				Eventually(func(g Gomega) {
					got := get(key(obj))
					g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
					g.Expect(readyReason(got)).To(Equal(elementsv1alpha1.ReasonAvailable))
					inst := owned(got)
					g.Expect(inst).To(HaveLen(1))
					g.Expect(inst[0].Tags).To(ContainElement("edited"))
					g.Expect(inst[0].Configuration).To(HaveKeyWithValue(cloudelements.ConfigEventsEnabled, "true"))
					g.Expect(inst[0].Configuration).To(HaveKeyWithValue(cloudelements.ConfigEventObjects, "contacts"))
					g.Expect(inst[0].Valid).To(BeTrue(), "%s: the edit left the instance authorized", obj.Name)
				}).WithTimeout(20 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
			}

			By("a drift poll reads every instance still valid")
			clock.Advance(2 * time.Minute)
			for _, obj := range objects {
				requestReconcile(key(obj))
			}
			for _, obj := range objects {
				Eventually(func(g Gomega) {
					got := get(key(obj))
					g.Expect(got.Status.LastHandledReconcileAt).To(Equal(got.Annotations[elementsv1alpha1.ReconcileRequestAnnotation]))
					g.Expect(readyReason(got)).To(Equal(elementsv1alpha1.ReasonAvailable))
					g.Expect(got.Status.Valid).To(BeTrue())
				}).WithTimeout(20 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
			}

			By("deleting the objects deletes their instances")
			for _, obj := range objects {
				deleteAndWait(obj)
			}
			Expect(platform.Instances()).To(BeEmpty())
		},
		Entry("as the simulator plays the record by default", simulator.Options{}),
		Entry("an empty list answers 404 \"No instances found\"", simulator.Options{EmptyListNotFound: true}),
		Entry("every list page carries a next-page token, the last one too", simulator.Options{NextPageTokenOnLastPage: true}),
		Entry("the tags[] filter is ignored", simulator.Options{IgnoreTagFilter: true}),
		Entry("a full PUT without oauth.user.* drops the OAuth tokens", simulator.Options{PutDropsOAuthTokens: true}),
		Entry("tags come back as objects", simulator.Options{ObjectTags: true}),
		Entry("configuration values come back typed", simulator.Options{TypedConfigurationValues: true}),
		Entry("the client id comes back in clear", simulator.Options{ClearClientID: true}),
		Entry("event keys are required and spelled strictly", simulator.Options{StrictEventKeys: true}),
		Entry("all of these at once", simulator.Options{EmptyListNotFound: true, NextPageTokenOnLastPage: true,
			IgnoreTagFilter: true, PutDropsOAuthTokens: true, ObjectTags: true, TypedConfigurationValues: true, StrictEventKeys: true}),
	)
})

// readyReason is the reason of an object's Ready condition, "" when it has none.
func readyReason(obj *elementsv1alpha1.HubSpotInstance) string {
	if c := condition(obj, elementsv1alpha1.ConditionReady); c != nil {
		return c.Reason
	}
	return ""
}
