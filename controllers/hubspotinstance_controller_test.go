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
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

var _ = Describe("HubSpotInstance reconciler", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
		sim.ClearFaults()
	})

	Describe("provisioning each auth mode", func() {
		It("API key: creates the instance and writes its token Secret", func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-key", map[string]string{"api-key": "hubspot-api-key-1"})
			obj := apiKeyInstance(ns, "support")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())

			obj = eventuallyReady(key(obj))
			inst := simInstance(obj.Status.InstanceID)
			Expect(inst.Configuration).To(HaveKeyWithValue(cloudelements.ConfigHubSpotAPIKey, "hubspot-api-key-1"))
			Expect(inst.Configuration).To(HaveKeyWithValue(cloudelements.ConfigAuthenticationType, "apiKey"))
			Expect(inst.Name).To(Equal(ns + "-support"))
			Expect(inst.Tags).To(ContainElements("team-test", obj.OwnerTag()))

			sec := tokenSecret(ns, "support-element-token")
			Expect(string(sec.Data["token"])).To(Equal(inst.Token))
			Expect(string(sec.Data["instance-id"])).To(Equal(strconv.FormatInt(inst.ID, 10)))
			Expect(string(sec.Data["element-key"])).To(Equal("hubspotcrm"))
			Expect(string(sec.Data["endpoint"])).To(Equal(endpoint))
			Expect(sec.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "hubspot-operator"))
			Expect(sec.Labels).To(HaveKeyWithValue("elements.cloud-elements.io/instance", "support"))
			Expect(metav1.IsControlledBy(sec, obj)).To(BeTrue())

			Expect(obj.Finalizers).To(ContainElement(elementsv1alpha1.Finalizer))
			Expect(obj.Status.TokenSecretName).To(Equal("support-element-token"))
			Expect(obj.Status.AppliedConfigurationHash).NotTo(BeEmpty())
			Expect(condition(obj, elementsv1alpha1.ConditionReconciling)).To(BeNil())
			Expect(condition(obj, elementsv1alpha1.ConditionStalled)).To(BeNil())
		})

		It("API key: reaches Ready with three writes, as a plain client would: marker and finalizer, token Secret, status", func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
			obj := apiKeyInstance(ns, "frugal")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			obj = eventuallyReady(key(obj))

			Expect(obj.Status.InstanceID).NotTo(BeZero(), "status records the instance id")
			Expect(obj.Annotations).NotTo(HaveKey(elementsv1alpha1.InstanceIDAnnotation), "no second write to the object")
			marker := obj.Annotations[elementsv1alpha1.CreatePendingAnnotation]
			Expect(marker).To(ContainSubstring(" for "+string(obj.UID)+" applying "), "the marker stays, naming the incarnation it created for")
			// Time for a late write or Event to show.
			Consistently(func() []string { return eventReasons(obj) }).WithTimeout(2*time.Second).Should(BeEmpty(),
				"a create that is Ready at once needs no Event: status says it")
			patches, statusPatches := writes.patchesOf(key(obj))
			Expect(patches).To(Equal(int64(1)), "the marker, with the finalizer")
			Expect(statusPatches).To(Equal(int64(1)), "Ready, with the instance id")
			Expect(tokenSecret(ns, "frugal-element-token").Data).To(HaveKey("token"))
		})

		It("OAuth 2 Legacy: creates the instance from the tokens Secret", func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-legacy", map[string]string{"client-id": "legacy-client"})
			createSecret(ns, "hubspot-legacy-tokens", map[string]string{"access-token": "at-1", "refresh-token": "rt-1", "expires-in": "21600"})
			obj := apiKeyInstance(ns, "marketing")
			obj.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2Legacy, OAuth2Legacy: &elementsv1alpha1.OAuth2LegacyAuth{
				ClientIDSecretRef: elementsv1alpha1.SecretKeySelector{Name: "hubspot-legacy", Key: "client-id"},
				PortalID:          "123456",
				CallbackURL:       "https://operator.example.com/oauth/callback",
				TokensSecretRef:   elementsv1alpha1.LegacyTokensSecretRef{Name: "hubspot-legacy-tokens"},
			}}
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())

			obj = eventuallyReady(key(obj))
			inst := simInstance(obj.Status.InstanceID)
			Expect(inst.Configuration).To(HaveKeyWithValue(cloudelements.ConfigOAuthAPISecret, "123456"))
			Expect(inst.Configuration).To(HaveKeyWithValue(cloudelements.ConfigOAuthScope, "contacts-rw+offline"))
			Expect(string(tokenSecret(ns, "marketing-element-token").Data["token"])).To(Equal(inst.Token))
		})

		It("OAuth 2 with a code given out of band: exchanges it", func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-app", map[string]string{"client-id": "oauth-client", "client-secret": "oauth-client-secret"})
			createSecret(ns, "hubspot-code", map[string]string{"code": sim.IssueCode("oauth-client")})
			obj := apiKeyInstance(ns, "sales")
			obj.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2, OAuth2: &elementsv1alpha1.OAuth2Auth{
				ClientSecretRef:            elementsv1alpha1.OAuthClientSecretRef{Name: "hubspot-app"},
				Scopes:                     []string{"contacts", "timeline"},
				CallbackURL:                "https://operator.example.com/oauth/callback",
				AuthorizationCodeSecretRef: &elementsv1alpha1.SecretKeySelector{Name: "hubspot-code", Key: "code"},
			}}
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())

			obj = eventuallyReady(key(obj))
			inst := simInstance(obj.Status.InstanceID)
			Expect(inst.Configuration).To(HaveKeyWithValue(cloudelements.ConfigOAuthAPIKey, "oauth-client"))
			Expect(string(tokenSecret(ns, "sales-element-token").Data["token"])).To(Equal(inst.Token))
			Expect(obj.Status.AuthorizationSecretName).To(BeEmpty())
			expectNoConsentLink(obj)
		})

		It("OAuth 2 without a code: puts a consent link in a Secret it owns and waits", func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-app", map[string]string{"client-id": "oauth-client", "client-secret": "oauth-client-secret"})
			obj := apiKeyInstance(ns, "sales")
			obj.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2, OAuth2: &elementsv1alpha1.OAuth2Auth{
				ClientSecretRef: elementsv1alpha1.OAuthClientSecretRef{Name: "hubspot-app"},
				Scopes:          []string{"contacts"},
				CallbackURL:     "https://operator.example.com/oauth/callback",
			}}
			creates := sim.Total(simulator.OpCreate)
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())

			obj = eventuallyReason(key(obj), elementsv1alpha1.ReasonAwaitingAuthorization)
			Expect(obj.Status.AuthorizationSecretName).To(Equal("sales-oauth-consent"))
			Expect(obj.Status.AuthorizationNonce).NotTo(BeEmpty())
			Expect(condition(obj, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring(
				"kubectl get secret sales-oauth-consent -n " + ns + " -o jsonpath='{.data.url}' | base64 -d"))
			link := consentLink(obj)
			Expect(string(link.Data[elementsv1alpha1.AuthorizationURLKey])).To(ContainSubstring("/simulator/hubspot/oauth/authorize"))
			Expect(string(link.Data[elementsv1alpha1.AuthorizationURLKey])).To(ContainSubstring("state="))
			Expect(link.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "hubspot-operator"))
			Expect(link.Labels).To(HaveKeyWithValue("elements.cloud-elements.io/instance", "sales"))
			Expect(metav1.IsControlledBy(link, obj)).To(BeTrue())
			Expect(condition(obj, elementsv1alpha1.ConditionReconciling)).NotTo(BeNil())
			Expect(sim.Total(simulator.OpCreate)).To(Equal(creates), "nothing is created before consent")
		})
	})

	Describe("missing and invalid inputs", func() {
		DescribeTable("names every missing Secret and key at once, sends nothing, and recovers when fixed",
			func(present map[string]map[string]string, wantMessage string, fix map[string]map[string]string) {
				for name, data := range present {
					createSecret(ns, name, data)
				}
				calls := totalCalls()
				obj := apiKeyInstance(ns, "broken")
				Expect(k8sClient.Create(ctx, obj)).To(Succeed())

				got := eventuallyReason(key(obj), elementsv1alpha1.ReasonMissingConfiguration)
				msg := condition(got, elementsv1alpha1.ConditionReady).Message
				Expect(msg).To(Equal(replaceNS(wantMessage, ns)))
				Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
				Expect(condition(got, elementsv1alpha1.ConditionReconciling)).To(BeNil())
				Expect(totalCalls()).To(Equal(calls), "no call to Cloud Elements with incomplete inputs")

				for name, data := range fix {
					s := secret(ns, name, data)
					if err := k8sClient.Create(ctx, s); err != nil {
						Expect(k8sClient.Update(ctx, s)).To(Succeed())
					}
				}
				eventuallyReady(key(obj))
			},
			Entry("no Secrets at all", nil,
				`Secret NS/hubspot-key not found; Secret NS/cloud-elements not found`,
				map[string]map[string]string{"hubspot-key": {"api-key": "k"}, "cloud-elements": {"user-secret": userSecret, "organization-secret": orgSecret}}),
			Entry("a key missing in each Secret",
				map[string]map[string]string{"hubspot-key": {"apikey": "k"}, "cloud-elements": {"user-secret": userSecret}},
				`Secret NS/hubspot-key has no key "api-key"; Secret NS/cloud-elements has no key "organization-secret"`,
				map[string]map[string]string{"hubspot-key": {"api-key": "k"}, "cloud-elements": {"user-secret": userSecret, "organization-secret": orgSecret}}),
			Entry("a blank value",
				map[string]map[string]string{"hubspot-key": {"api-key": "  \n"}, "cloud-elements": {"user-secret": userSecret, "organization-secret": orgSecret}},
				`Secret NS/hubspot-key key "api-key" is empty`,
				map[string]map[string]string{"hubspot-key": {"api-key": "k"}}),
		)

		It("refuses a plain-http endpoint on a non-loopback host", func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
			obj := apiKeyInstance(ns, "insecure")
			obj.Spec.Platform.Endpoint = "http://cloud-elements.example.com/elements/api-v2"
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
			Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("would send credentials over plain http"))
			Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
		})

		It("does not take over a Secret it does not own", func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
			theirs := createSecret(ns, "taken-element-token", map[string]string{"token": "somebody else's"})
			instances := len(sim.Instances())
			obj := apiKeyInstance(ns, "taken")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())

			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonSecretConflict)
			Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
			Expect(sim.Instances()).To(HaveLen(instances), "no instance is created for an object that cannot deliver its token")
			after := tokenSecret(ns, "taken-element-token")
			Expect(after.ResourceVersion).To(Equal(theirs.ResourceVersion))
			Expect(string(after.Data["token"])).To(Equal("somebody else's"))

			// Removing the obstacle is enough: the object hears of it.
			Expect(k8sClient.Delete(ctx, after)).To(Succeed())
			eventuallyReady(key(obj))
		})

		It("refuses a credential too large to be one, naming the Secret and key but not the value", func() {
			createCredentials(ns)
			huge := strings.Repeat("k", 600<<10)
			createSecret(ns, "hubspot-key", map[string]string{"api-key": huge})
			instances := len(sim.Instances())
			obj := apiKeyInstance(ns, "pasted-file")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
			msg := condition(got, elementsv1alpha1.ConditionReady).Message
			Expect(msg).To(ContainSubstring(`Secret ` + ns + `/hubspot-key key "api-key" holds 614400 bytes`))
			Expect(msg).NotTo(ContainSubstring("kkkk"))
			Expect(sim.Instances()).To(HaveLen(instances))
		})
	})

	Describe("errors from Cloud Elements", func() {
		BeforeEach(func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
			// A Secret the cache meets only after a stall would wake the
			// object once more, which the no-retry-loop specs would count.
			inManagerCache(ns, "cloud-elements")
			inManagerCache(ns, "hubspot-key")
		})

		It("400: InvalidConfiguration with the API's message, stalled, no retry loop", func() {
			sim.SetFault(simulator.OpCreate, simulator.Fault{FailNext: 1000, Status: 400})
			obj := apiKeyInstance(ns, "bad-request")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonInvalidConfiguration)
			Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
			Expect(condition(got, elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("400"))
			creates := sim.Total(simulator.OpCreate)
			Consistently(func() int { return sim.Total(simulator.OpCreate) }).WithTimeout(2 * time.Second).Should(Equal(creates))

			// Events that change nothing the attempt was made from (labels on
			// the Secrets it reads) do not repeat the refused call.
			for _, name := range []string{"cloud-elements", "hubspot-key"} {
				Expect(k8sClient.Patch(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}},
					client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"touched":"yes"}}}`)))).To(Succeed())
			}
			Consistently(func() int { return sim.Total(simulator.OpCreate) }).WithTimeout(2 * time.Second).Should(Equal(creates))

			// A change of spec is what brings the next attempt.
			sim.ClearFaults()
			got.Spec.Tags = append(got.Spec.Tags, "retry")
			Expect(k8sClient.Update(ctx, got)).To(Succeed())
			eventuallyReady(key(obj))
		})

		It("401: Unauthorized, stalled until the credentials Secret changes", func() {
			// A Secret of its own, not the shared one rewritten: the manager's
			// cache could still hold the right credentials when the object's
			// first reconcile runs. It carries a finalizer that the rotation
			// below drops in the same write as it changes the data, as a
			// wholesale replace does (our own protection may be on it too).
			wrong := secret(ns, "wrong-credentials", map[string]string{"user-secret": "wrong", "organization-secret": "wrong"})
			wrong.Finalizers = []string{"example.com/rotation"}
			Expect(k8sClient.Create(ctx, wrong)).To(Succeed())
			obj := apiKeyInstance(ns, "unauthorized")
			obj.Spec.Platform.CredentialsSecretRef.Name = "wrong-credentials"
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonUnauthorized)
			Expect(condition(got, elementsv1alpha1.ConditionStalled)).NotTo(BeNil())
			Expect(condition(got, elementsv1alpha1.ConditionReady).Message).NotTo(ContainSubstring("wrong"))

			Expect(k8sClient.Update(ctx, secret(ns, "wrong-credentials", map[string]string{"user-secret": userSecret, "organization-secret": orgSecret}))).To(Succeed())
			eventuallyReady(key(obj))
		})

		It("429: waits for Retry-After, then succeeds", func() {
			sim.SetFault(simulator.OpCreate, simulator.Fault{RateLimitRate: 1, RetryAfter: time.Second})
			obj := apiKeyInstance(ns, "rate-limited")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonRateLimited)
			Expect(condition(got, elementsv1alpha1.ConditionStalled)).To(BeNil())
			sim.ClearFaults()
			eventuallyReady(key(obj))
			Expect(instancesOwnedBy(got)).To(Equal(1))
		})

		It("429 that does not pass: a refusal after a bounded number of tries, not an endless wait", func() {
			// An update, whose 429 certainly changed nothing: a create's 429
			// is a create in doubt, each try a grace period apart. Without
			// Retry-After the workqueue's backoff brings the tries quickly,
			// as SAP's size-limit 429s would.
			obj := apiKeyInstance(ns, "refused-429")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			eventuallyReady(key(obj))
			sim.SetFault(simulator.OpUpdate, simulator.Fault{FailNext: 1000, Status: 429})
			updateSpec(key(obj), func(o *elementsv1alpha1.HubSpotInstance) { o.Spec.Tags = append(o.Spec.Tags, "refused") })
			eventuallyReason(key(obj), elementsv1alpha1.ReasonRateLimited)
			Eventually(func() *metav1.Condition { return condition(get(key(obj)), elementsv1alpha1.ConditionStalled) }).
				WithTimeout(20 * time.Second).ShouldNot(BeNil())
			Expect(condition(get(key(obj)), elementsv1alpha1.ConditionReady).Message).To(ContainSubstring("attempts in a row"))
			updates := sim.Total(simulator.OpUpdate)
			Consistently(func() int { return sim.Total(simulator.OpUpdate) }).WithTimeout(2 * time.Second).Should(Equal(updates))

			// A change of spec starts the count afresh.
			sim.ClearFaults()
			updateSpec(key(obj), func(o *elementsv1alpha1.HubSpotInstance) { o.Spec.Tags = append(o.Spec.Tags, "retry") })
			Expect(instancesOwnedBy(eventuallyReady(key(obj)))).To(Equal(1))
		})

		It("429 to a create: a create in doubt, looked up after the grace period, never sent twice blindly", func() {
			sim.SetFault(simulator.OpCreate, simulator.Fault{FailNext: 1, Status: 429})
			obj := apiKeyInstance(ns, "create-429")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReadyWithin(key(obj), 30*time.Second)
			Expect(instancesOwnedBy(got)).To(Equal(1))
			Expect(sim.Total(simulator.OpCreate)).To(BeNumerically(">=", 2))
		})

		It("5xx: APIUnavailable while it lasts, retried with backoff, then Ready", func() {
			sim.SetFault(simulator.OpCreate, simulator.Fault{ErrorRate: 1})
			obj := apiKeyInstance(ns, "unavailable")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonAPIUnavailable)
			Expect(condition(got, elementsv1alpha1.ConditionStalled)).To(BeNil())
			Expect(condition(got, elementsv1alpha1.ConditionReconciling)).NotTo(BeNil())
			sim.ClearFaults()
			got = eventuallyReady(key(obj))
			Expect(instancesOwnedBy(got)).To(Equal(1), "retries after a failed create never duplicate")
		})
	})

	Describe("changes over time", func() {
		BeforeEach(func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-key", map[string]string{"api-key": "key-v1"})
		})

		It("suspend: no calls, Ready=False Suspended", func() {
			obj := apiKeyInstance(ns, "paused")
			obj.Spec.Suspend = true
			calls := totalCalls()
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReason(key(obj), elementsv1alpha1.ReasonSuspended)
			Expect(got.Status.InstanceID).To(BeZero())
			Expect(totalCalls()).To(Equal(calls))
		})

		It("imports an existing instance named by annotation and applies the spec to it", func() {
			api, err := cloudelements.New(cloudelements.Options{Endpoint: endpoint, UserSecret: userSecret, OrganizationSecret: orgSecret})
			Expect(err).NotTo(HaveOccurred())
			existing, err := api.CreateInstance(ctx, cloudelements.InstanceRequest{
				Element: cloudelements.ElementRef{Key: "hubspotcrm"}, Name: "made by hand",
				Configuration: map[string]string{"authentication.type": "apiKey", "hubspot.authorization.apikey": "old"}})
			Expect(err).NotTo(HaveOccurred())

			creates, updates := sim.Total(simulator.OpCreate), sim.Total(simulator.OpUpdate)
			obj := apiKeyInstance(ns, "imported")
			obj.Annotations = map[string]string{elementsv1alpha1.InstanceIDAnnotation: strconv.FormatInt(existing.ID, 10)}
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))

			Expect(got.Status.InstanceID).To(Equal(existing.ID))
			Expect(sim.Total(simulator.OpCreate)).To(Equal(creates))
			Expect(sim.Total(simulator.OpUpdate)).To(Equal(updates + 1))
			inst := simInstance(existing.ID)
			Expect(inst.Name).To(Equal(ns + "-imported"))
			Expect(inst.Configuration).To(HaveKeyWithValue(cloudelements.ConfigHubSpotAPIKey, "key-v1"))
			Expect(string(tokenSecret(ns, "imported-element-token").Data["token"])).To(Equal(existing.Token))
			Expect(eventReasons(got)).To(ContainElement(elementsv1alpha1.EventReasonImported))
		})

		It("updates once on a spec change and once on a rotated Secret", func() {
			obj := apiKeyInstance(ns, "evolving")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			id := got.Status.InstanceID

			updates := sim.Total(simulator.OpUpdate)
			got.Spec.Tags = []string{"team-test", "tier-1"}
			Expect(k8sClient.Update(ctx, got)).To(Succeed())
			Eventually(func() []string { return simInstance(id).Tags }).WithTimeout(10 * time.Second).Should(ContainElement("tier-1"))
			eventuallyReady(key(obj))
			Consistently(func() int { return sim.Total(simulator.OpUpdate) }).WithTimeout(time.Second).Should(Equal(updates + 1))

			Expect(k8sClient.Update(ctx, secret(ns, "hubspot-key", map[string]string{"api-key": "key-v2"}))).To(Succeed())
			Eventually(func() string { return simInstance(id).Configuration[cloudelements.ConfigHubSpotAPIKey] }).
				WithTimeout(10 * time.Second).Should(Equal("key-v2"))
			Consistently(func() int { return sim.Total(simulator.OpUpdate) }).WithTimeout(time.Second).Should(Equal(updates + 2))
			Expect(get(key(obj)).Status.InstanceID).To(Equal(id))
		})

		It("recreates an instance deleted behind its back, once", func() {
			obj := apiKeyInstance(ns, "vanishing")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			oldID := got.Status.InstanceID
			Expect(sim.Remove(oldID)).To(Succeed())

			creates := sim.Total(simulator.OpCreate)
			clock.Advance(2 * time.Minute) // the drift poll is due
			requestReconcile(key(obj))
			Eventually(func() int64 { return get(key(obj)).Status.InstanceID }).WithTimeout(10 * time.Second).ShouldNot(Equal(oldID))
			got = eventuallyReady(key(obj))
			Expect(sim.Total(simulator.OpCreate)).To(Equal(creates + 1))
			Expect(instancesOwnedBy(got)).To(Equal(1))
			Expect(string(tokenSecret(ns, "vanishing-element-token").Data["token"])).To(Equal(simInstance(got.Status.InstanceID).Token))
			Expect(eventReasons(got)).To(ContainElement(elementsv1alpha1.EventReasonInstanceMissing))
		})

		It("reports an instance that is no longer valid", func() {
			obj := apiKeyInstance(ns, "lapsed")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			Expect(sim.Invalidate(got.Status.InstanceID)).To(Succeed())

			clock.Advance(2 * time.Minute)
			requestReconcile(key(obj))
			got = eventuallyReason(key(obj), elementsv1alpha1.ReasonReauthorizationRequired)
			Expect(got.Status.Valid).To(BeFalse())
		})

		It("reports a disabled instance", func() {
			obj := apiKeyInstance(ns, "disabled")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			Expect(sim.SetDisabled(got.Status.InstanceID, true)).To(Succeed())
			clock.Advance(2 * time.Minute)
			requestReconcile(key(obj))
			eventuallyReason(key(obj), elementsv1alpha1.ReasonInstanceDisabled)
		})

		It("restores the token Secret when it is edited or deleted", func() {
			obj := apiKeyInstance(ns, "guarded")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			want := simInstance(got.Status.InstanceID).Token

			edited := tokenSecret(ns, "guarded-element-token")
			edited.Data["token"] = []byte("tampered")
			Expect(k8sClient.Update(ctx, edited)).To(Succeed())
			Eventually(func() string { return string(tokenSecret(ns, "guarded-element-token").Data["token"]) }).
				WithTimeout(10 * time.Second).Should(Equal(want))

			Expect(k8sClient.Delete(ctx, edited)).To(Succeed())
			Eventually(func() string {
				s := &corev1.Secret{}
				_ = k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "guarded-element-token"}, s)
				return string(s.Data["token"])
			}).WithTimeout(10 * time.Second).Should(Equal(want))
		})
	})

	Describe("crash safety", func() {
		It("creates exactly one instance when the record of a create is lost", func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
			writes.failRecords.Store(1)
			writes.crashOnFailedRecord.Store(reconciler.ForgetEverything)
			obj := apiKeyInstance(ns, "crashy")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())

			got := eventuallyReady(key(obj))
			Expect(writes.failRecords.Load()).To(BeZero(), "the record write was failed once")
			Expect(instancesOwnedBy(got)).To(Equal(1))
			Expect(eventReasons(got)).To(ContainElement(elementsv1alpha1.EventReasonAdopted))
			Expect(string(tokenSecret(ns, "crashy-element-token").Data["token"])).To(Equal(simInstance(got.Status.InstanceID).Token))
		})

		It("records an instance whose status write was lost with the next reconcile: no wait, no lookup", func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
			writes.failRecords.Store(1)
			before := platformWrites()
			obj := apiKeyInstance(ns, "conflicted")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())

			got := eventuallyReady(key(obj))
			Expect(writes.failRecords.Load()).To(BeZero(), "the status write was failed once")
			Expect(instancesOwnedBy(got)).To(Equal(1))
			Expect(eventReasons(got)).NotTo(ContainElement(elementsv1alpha1.EventReasonAdopted),
				"this process knew what it had created: no owner-tag lookup, which would announce an adoption")
			after := platformWrites()
			Expect(after[simulator.OpCreate] - before[simulator.OpCreate]).To(Equal(1))
			for _, op := range []string{simulator.OpReauthorize, simulator.OpUpdate, simulator.OpPatch, simulator.OpSetConfiguration} {
				Expect(after[op]-before[op]).To(BeZero(), "%s calls: the instance was created as desired", op)
			}
		})

		It("after a restore that brought metadata but not status, keeps the instance the object was created with", func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
			original := apiKeyInstance(ns, "restored")
			original.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
			Expect(k8sClient.Create(ctx, original)).To(Succeed())
			original = eventuallyReady(key(original))
			id := original.Status.InstanceID

			// A backup taken now and restored into an empty namespace of
			// the same name: new UID, the old annotations, no status.
			deleteAndWait(original)
			creates := sim.Total(simulator.OpCreate)
			restored := apiKeyInstance(ns, "restored")
			restored.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
			restored.Annotations = original.Annotations
			Expect(k8sClient.Create(ctx, restored)).To(Succeed())

			got := eventuallyReady(key(restored))
			Expect(got.UID).NotTo(Equal(original.UID))
			Expect(got.Status.InstanceID).To(Equal(id), "the instance it had before the restore")
			Expect(sim.Total(simulator.OpCreate)).To(Equal(creates), "no second instance")
			Expect(simInstance(id).Tags).To(ContainElement(got.OwnerTag()), "the instance now carries the new owner tag")
			Expect(simInstance(id).Tags).NotTo(ContainElement(original.OwnerTag()))
			Expect(eventReasons(got)).To(ContainElement(elementsv1alpha1.EventReasonAdopted))
		})
	})

	Describe("deletion", func() {
		BeforeEach(func() {
			createCredentials(ns)
			createSecret(ns, "hubspot-key", map[string]string{"api-key": "k"})
		})

		It("Delete: deletes the instance, then releases the object", func() {
			obj := apiKeyInstance(ns, "doomed")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			deleteAndWait(got)
			_, exists := sim.Instance(got.Status.InstanceID)
			Expect(exists).To(BeFalse())
			Expect(instancesOwnedBy(got)).To(BeZero())
		})

		It("Orphan: leaves the instance in place", func() {
			obj := apiKeyInstance(ns, "orphan")
			obj.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			deleteAndWait(got)
			_, exists := sim.Instance(got.Status.InstanceID)
			Expect(exists).To(BeTrue())
		})

		It("keeps the finalizer, and says why, when credentials are gone", func() {
			obj := apiKeyInstance(ns, "stuck")
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			got := eventuallyReady(key(obj))
			// Deleting the Secret would not do: it is protected while the
			// instance exists. Its keys can still be removed.
			emptyCredentials(ns)
			Expect(k8sClient.Delete(ctx, got)).To(Succeed())

			Eventually(func(g Gomega) {
				o := get(key(obj))
				c := meta.FindStatusCondition(o.Status.Conditions, elementsv1alpha1.ConditionReady)
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Reason).To(Equal(elementsv1alpha1.ReasonDeletionBlocked))
				g.Expect(c.Message).To(ContainSubstring("Secret " + ns + "/cloud-elements has no key"))
				g.Expect(o.Finalizers).To(ContainElement(elementsv1alpha1.Finalizer))
			}).WithTimeout(10 * time.Second).Should(Succeed())
			_, exists := sim.Instance(got.Status.InstanceID)
			Expect(exists).To(BeTrue())

			restoreCredentials(ns)
			deleteAndWait(got)
			_, exists = sim.Instance(got.Status.InstanceID)
			Expect(exists).To(BeFalse())
		})
	})
})

func totalCalls() int {
	n := 0
	for _, op := range simulator.Operations {
		n += sim.Total(op)
	}
	return n
}

func replaceNS(s, ns string) string {
	out := ""
	for i := 0; i < len(s); i++ {
		if i+2 <= len(s) && s[i:i+2] == "NS" {
			out += ns
			i++
			continue
		}
		out += string(s[i])
	}
	return out
}
