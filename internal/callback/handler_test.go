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

package callback_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/callback"
	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
)

// oauth2Instance is a valid OAuth2 HubSpotInstance; the Secrets it names
// need not exist for the handler, which reads none of them.
func oauth2Instance(namespace, name, endpoint, callbackURL string) *elementsv1alpha1.HubSpotInstance {
	return &elementsv1alpha1.HubSpotInstance{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: elementsv1alpha1.HubSpotInstanceSpec{
			Platform: elementsv1alpha1.PlatformSpec{
				Endpoint:             elementsv1alpha1.HTTPURL(endpoint),
				CredentialsSecretRef: elementsv1alpha1.CredentialsSecretRef{Name: "cloud-elements"},
			},
			Auth: elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2, OAuth2: &elementsv1alpha1.OAuth2Auth{
				ClientSecretRef: elementsv1alpha1.OAuthClientSecretRef{Name: "hubspot-app"},
				Scopes:          []string{"crm.objects.contacts.read", "oauth"},
				CallbackURL:     elementsv1alpha1.HTTPURL(callbackURL),
			}},
		},
	}
}

// awaitConsent plays the reconciler's part: it signs a state for obj and
// records its nonce on status, as when an authorization URL is published.
func awaitConsent(obj *elementsv1alpha1.HubSpotInstance) (string, oauthstate.Claims) {
	state, claims, err := signer.Issue(obj.Namespace, obj.Name, string(obj.UID))
	Expect(err).NotTo(HaveOccurred())
	setNonce(obj, claims)
	return state, claims
}

func setNonce(obj *elementsv1alpha1.HubSpotInstance, claims oauthstate.Claims) {
	patch := client.MergeFrom(obj.DeepCopy())
	expires := metav1.NewTime(claims.ExpiresAt)
	obj.Status.AuthorizationSecretName = obj.AuthorizationSecretName()
	obj.Status.AuthorizationNonce = claims.Nonce
	obj.Status.AuthorizationExpiresAt = &expires
	Expect(k8sClient.Status().Patch(ctx, obj, patch)).To(Succeed())
}

func callbackQuery(pairs ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		q.Add(pairs[i], pairs[i+1])
	}
	return q
}

func fetch(obj client.Object) {
	ExpectWithOffset(1, k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
}

func callbackSecretOf(obj *elementsv1alpha1.HubSpotInstance) (*corev1.Secret, error) {
	sec := &corev1.Secret{}
	err := k8sClient.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: obj.CallbackSecretName()}, sec)
	return sec, err
}

func expectNoCallbackSecret(obj *elementsv1alpha1.HubSpotInstance) {
	_, err := callbackSecretOf(obj)
	ExpectWithOffset(1, apierrors.IsNotFound(err)).To(BeTrue(), "want no callback Secret, got err=%v", err)
}

var _ = Describe("Handler against the API server", func() {
	var (
		namespace string
		obj       *elementsv1alpha1.HubSpotInstance
		recorder  *events.FakeRecorder
		handler   *callback.Handler
	)

	serve := func(method string, query url.Values) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(method, callback.Path+"?"+query.Encode(), nil))
		return rec
	}
	get := func(query url.Values) *httptest.ResponseRecorder { return serve(http.MethodGet, query) }

	// expectUntouched: a refused request leaves the object and the world as they were.
	expectUntouched := func(nonce string) {
		GinkgoHelper()
		fetch(obj)
		Expect(obj.Status.AuthorizationNonce).To(Equal(nonce))
		Expect(obj.Status.AuthorizationSecretName).NotTo(BeEmpty())
		expectNoCallbackSecret(obj)
		Expect(recorder.Events).To(BeEmpty())
	}

	BeforeEach(func() {
		namespace = newNamespace()
		obj = oauth2Instance(namespace, "crm", "http://127.0.0.1:9/elements/api-v2", "https://operator.example.com/oauth/callback")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		recorder = events.NewFakeRecorder(32)
		handler = callback.NewHandler(k8sClient, k8sClient, signer, callback.WithEventRecorder(recorder))
	})

	It("hands a code over in a Secret the object controls, consumes the nonce and says where to look", func() {
		state, claims := awaitConsent(obj)
		accepted := callbackCount("code_accepted")

		rec := get(callbackQuery("code", "c0de-7b4e", "state", state))

		Expect(rec.Code).To(Equal(http.StatusOK), rec.Body.String())
		Expect(rec.Header().Get("Content-Type")).To(Equal("text/html; charset=utf-8"))
		Expect(rec.Header().Get("Cache-Control")).To(Equal("no-store"))
		Expect(rec.Header().Get("X-Content-Type-Options")).To(Equal("nosniff"))
		Expect(rec.Header().Get("Referrer-Policy")).To(Equal("no-referrer"))
		Expect(rec.Header().Get("Content-Security-Policy")).To(HavePrefix("default-src 'none'; style-src 'unsafe-inline'"))
		body := rec.Body.String()
		Expect(body).To(ContainSubstring("kubectl get hsi -n " + namespace + " crm"))
		Expect(body).To(ContainSubstring("kubectl describe hsi -n " + namespace + " crm"))
		Expect(body).NotTo(ContainSubstring("c0de-7b4e"), "the page must never show the code")
		Expect(callbackCount("code_accepted")).To(Equal(accepted + 1))

		sec, err := callbackSecretOf(obj)
		Expect(err).NotTo(HaveOccurred())
		Expect(sec.Data).To(Equal(map[string][]byte{elementsv1alpha1.CallbackCodeKey: []byte("c0de-7b4e")}))
		Expect(sec.Type).To(Equal(corev1.SecretTypeOpaque))
		Expect(sec.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "hubspot-operator"))
		Expect(sec.Labels).To(HaveKeyWithValue("elements.cloud-elements.io/instance", "crm"))
		Expect(sec.Annotations).To(HaveKeyWithValue(callback.NonceAnnotation, claims.Nonce))
		Expect(sec.OwnerReferences).To(ConsistOf(metav1.OwnerReference{
			APIVersion: "elements.cloud-elements.io/v1alpha1", Kind: "HubSpotInstance", Name: "crm", UID: obj.UID,
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
		}))
		Expect(metav1.IsControlledBy(sec, obj)).To(BeTrue(), "the reconciler trusts only a Secret its object controls")

		fetch(obj)
		Expect(obj.Status.AuthorizationNonce).To(BeEmpty())
		Expect(obj.Status.AuthorizationSecretName).To(BeEmpty(), "status must not point at a used link")
		Expect(obj.Status.AuthorizationExpiresAt).To(BeNil())
		Expect(recorder.Events).To(Receive(HavePrefix("Normal AuthorizationReceived")))
	})

	It("refuses a replay of the same address and changes nothing", func() {
		state, _ := awaitConsent(obj)
		query := callbackQuery("code", "first", "state", state)
		Expect(get(query).Code).To(Equal(http.StatusOK))
		Expect(recorder.Events).To(Receive())
		sec, err := callbackSecretOf(obj)
		Expect(err).NotTo(HaveOccurred())
		fetch(obj)
		objectVersion := obj.ResourceVersion
		replayed := callbackCount("replayed_state")

		for _, q := range []url.Values{query, callbackQuery("code", "second", "state", state), callbackQuery("error", "access_denied", "state", state)} {
			rec := get(q)
			Expect(rec.Code).To(Equal(http.StatusConflict), rec.Body.String())
			Expect(rec.Body.String()).To(ContainSubstring("already used"))
		}

		Expect(callbackCount("replayed_state")).To(Equal(replayed + 3))
		after, err := callbackSecretOf(obj)
		Expect(err).NotTo(HaveOccurred())
		Expect(after.ResourceVersion).To(Equal(sec.ResourceVersion))
		Expect(after.Data[elementsv1alpha1.CallbackCodeKey]).To(Equal([]byte("first")))
		fetch(obj)
		Expect(obj.ResourceVersion).To(Equal(objectVersion))
		Expect(recorder.Events).To(BeEmpty())
	})

	It("refuses a superseded address: only the newest nonce is accepted", func() {
		oldState, _ := awaitConsent(obj)
		_, claims := awaitConsent(obj)

		rec := get(callbackQuery("code", "c", "state", oldState))

		Expect(rec.Code).To(Equal(http.StatusConflict))
		expectUntouched(claims.Nonce)
	})

	It("lets the Secret arbitrate when the nonce could not be cleared: same answer again is fine, another is refused", func() {
		state, claims := awaitConsent(obj)
		Expect(get(callbackQuery("code", "first", "state", state)).Code).To(Equal(http.StatusOK))
		sec, err := callbackSecretOf(obj)
		Expect(err).NotTo(HaveOccurred())
		// As if the handler had died between writing the Secret and clearing the nonce.
		fetch(obj)
		setNonce(obj, claims)

		Expect(get(callbackQuery("code", "second", "state", state)).Code).To(Equal(http.StatusConflict))
		after, err := callbackSecretOf(obj)
		Expect(err).NotTo(HaveOccurred())
		Expect(after.ResourceVersion).To(Equal(sec.ResourceVersion), "another code for a used state must not replace the first")

		Expect(get(callbackQuery("code", "first", "state", state)).Code).To(Equal(http.StatusOK), "a reload of the same response is harmless")
		after, err = callbackSecretOf(obj)
		Expect(err).NotTo(HaveOccurred())
		Expect(after.ResourceVersion).To(Equal(sec.ResourceVersion))
		fetch(obj)
		Expect(obj.Status.AuthorizationNonce).To(BeEmpty(), "and it finishes the job: the nonce is consumed")
	})

	It("lets exactly one of many concurrent callbacks with the same state win", func() {
		state, _ := awaitConsent(obj)
		const n = 8
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				statuses[i] = get(callbackQuery("code", fmt.Sprintf("code-%d", i), "state", state)).Code
			}()
		}
		wg.Wait()

		winners := 0
		winner := -1
		for i, status := range statuses {
			Expect(status).To(BeElementOf(http.StatusOK, http.StatusConflict))
			if status == http.StatusOK {
				winners++
				winner = i
			}
		}
		Expect(winners).To(Equal(1), "statuses: %v", statuses)
		sec, err := callbackSecretOf(obj)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(sec.Data[elementsv1alpha1.CallbackCodeKey])).To(Equal(fmt.Sprintf("code-%d", winner)))
		fetch(obj)
		Expect(obj.Status.AuthorizationNonce).To(BeEmpty())
	})

	It("records a refusal of consent in the Secret, as a Warning Event, and escapes the provider's text", func() {
		state, _ := awaitConsent(obj)
		denied := callbackCount("denied_recorded")

		rec := get(callbackQuery("error", "access_denied", "error_description", `<script>alert("x")</script> & no`, "state", state))

		Expect(rec.Code).To(Equal(http.StatusOK), rec.Body.String())
		body := rec.Body.String()
		Expect(body).NotTo(ContainSubstring("<script>"))
		Expect(body).To(ContainSubstring("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; no"))
		Expect(body).To(ContainSubstring(elementsv1alpha1.ReconcileRequestAnnotation), "the page says how to get a fresh link")
		Expect(callbackCount("denied_recorded")).To(Equal(denied + 1))

		sec, err := callbackSecretOf(obj)
		Expect(err).NotTo(HaveOccurred())
		Expect(sec.Data).To(Equal(map[string][]byte{
			elementsv1alpha1.CallbackErrorKey:            []byte("access_denied"),
			elementsv1alpha1.CallbackErrorDescriptionKey: []byte(`<script>alert("x")</script> & no`),
		}))
		Expect(metav1.IsControlledBy(sec, obj)).To(BeTrue())
		fetch(obj)
		Expect(obj.Status.AuthorizationNonce).To(BeEmpty())
		Expect(recorder.Events).To(Receive(And(HavePrefix("Warning AuthorizationDenied"), ContainSubstring("access_denied"))))
	})

	DescribeTable("refuses a state it did not issue, before reading anything",
		func(tamper func(state string) string, wantStatus int) {
			state, claims := awaitConsent(obj)
			invalid := callbackCount("invalid_state")

			rec := get(callbackQuery("code", "c", "state", tamper(state)))

			Expect(rec.Code).To(Equal(wantStatus), rec.Body.String())
			Expect(rec.Body.String()).NotTo(ContainSubstring("kubectl"), "a forged state names nothing")
			Expect(callbackCount("invalid_state")).To(Equal(invalid + 1))
			expectUntouched(claims.Nonce)
		},
		Entry("payload altered, signature kept", func(state string) string {
			body, sig, _ := strings.Cut(state, ".")
			raw, err := base64.RawURLEncoding.DecodeString(body)
			Expect(err).NotTo(HaveOccurred())
			var c map[string]any
			Expect(json.Unmarshal(raw, &c)).To(Succeed())
			c["n"] = "someone-else"
			raw, err = json.Marshal(c)
			Expect(err).NotTo(HaveOccurred())
			return base64.RawURLEncoding.EncodeToString(raw) + "." + sig
		}, http.StatusForbidden),
		Entry("signature altered", func(state string) string {
			body, sig, _ := strings.Cut(state, ".")
			flipped := []byte(sig)
			flipped[0] = map[bool]byte{true: 'B', false: 'A'}[flipped[0] == 'A']
			return body + "." + string(flipped)
		}, http.StatusForbidden),
		Entry("signed with another key", func(string) string {
			other, err := oauthstate.NewSigner([]byte(strings.Repeat("x", oauthstate.MinKeySize)), 0)
			Expect(err).NotTo(HaveOccurred())
			state, _, err := other.Issue(obj.Namespace, obj.Name, string(obj.UID))
			Expect(err).NotTo(HaveOccurred())
			return state
		}, http.StatusForbidden),
		Entry("signature missing", func(state string) string {
			body, _, _ := strings.Cut(state, ".")
			return body
		}, http.StatusBadRequest),
		Entry("not a state at all", func(string) string { return "hello" }, http.StatusBadRequest),
	)

	It("refuses an expired state, naming the object and how to get a fresh link", func() {
		past := signer.WithClock(func() time.Time { return time.Now().Add(-time.Hour) })
		state, old, err := past.Issue(obj.Namespace, obj.Name, string(obj.UID))
		Expect(err).NotTo(HaveOccurred())
		setNonce(obj, old) // expired even though the object still waits for it
		expired := callbackCount("expired_state")

		rec := get(callbackQuery("code", "c", "state", state))

		Expect(rec.Code).To(Equal(http.StatusBadRequest))
		Expect(rec.Body.String()).To(ContainSubstring("expired"))
		Expect(rec.Body.String()).To(ContainSubstring("kubectl get hsi -n " + namespace + " crm"))
		Expect(callbackCount("expired_state")).To(Equal(expired + 1))
		expectUntouched(old.Nonce)
	})

	It("refuses a state for an object that no longer exists", func() {
		state, _ := awaitConsent(obj)
		Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		unknown := callbackCount("unknown_object")

		rec := get(callbackQuery("code", "c", "state", state))

		Expect(rec.Code).To(Equal(http.StatusNotFound))
		Expect(callbackCount("unknown_object")).To(Equal(unknown + 1))
		expectNoCallbackSecret(obj)
	})

	It("refuses a state for an object of the same name that was deleted and created again", func() {
		state, claims := awaitConsent(obj)
		Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		obj = oauth2Instance(namespace, "crm", "http://127.0.0.1:9/elements/api-v2", "https://operator.example.com/oauth/callback")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		Expect(string(obj.UID)).NotTo(Equal(claims.UID))
		setNonce(obj, claims) // even with the very same nonce on the new object

		rec := get(callbackQuery("code", "c", "state", state))

		Expect(rec.Code).To(Equal(http.StatusNotFound), rec.Body.String())
		expectUntouched(claims.Nonce)
	})

	It("refuses a state for an object that no longer uses OAuth2", func() {
		apiKey := &elementsv1alpha1.HubSpotInstance{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "with-key"},
			Spec: elementsv1alpha1.HubSpotInstanceSpec{
				Platform: elementsv1alpha1.PlatformSpec{CredentialsSecretRef: elementsv1alpha1.CredentialsSecretRef{Name: "cloud-elements"}},
				Auth: elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeAPIKey, APIKey: &elementsv1alpha1.APIKeyAuth{
					SecretRef: elementsv1alpha1.SecretKeySelector{Name: "hubspot", Key: "api-key"}}},
			},
		}
		Expect(k8sClient.Create(ctx, apiKey)).To(Succeed())
		state, _ := awaitConsent(apiKey)

		rec := get(callbackQuery("code", "c", "state", state))

		Expect(rec.Code).To(Equal(http.StatusConflict))
		expectNoCallbackSecret(apiKey)
	})

	It("never overwrites a Secret of that name that the object does not control", func() {
		state, claims := awaitConsent(obj)
		foreign := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: obj.CallbackSecretName()},
			Data:       map[string][]byte{"precious": []byte("data")},
		}
		Expect(k8sClient.Create(ctx, foreign)).To(Succeed())

		rec := get(callbackQuery("code", "c", "state", state))

		Expect(rec.Code).To(Equal(http.StatusConflict))
		Expect(rec.Body.String()).To(ContainSubstring("will not overwrite"))
		fetch(foreign)
		Expect(foreign.Data).To(Equal(map[string][]byte{"precious": []byte("data")}))
		Expect(foreign.OwnerReferences).To(BeEmpty())
		fetch(obj)
		Expect(obj.Status.AuthorizationNonce).To(Equal(claims.Nonce), "nothing was delivered, so nothing is used up")
	})

	It("replaces an answer to an older link, dropping the keys it no longer needs", func() {
		_, older := awaitConsent(obj)
		stale := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: obj.CallbackSecretName(),
				Annotations: map[string]string{callback.NonceAnnotation: older.Nonce},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "elements.cloud-elements.io/v1alpha1", Kind: "HubSpotInstance",
					Name: obj.Name, UID: obj.UID, Controller: ptr.To(true)}}},
			Data: map[string][]byte{elementsv1alpha1.CallbackErrorKey: []byte("access_denied")},
		}
		Expect(k8sClient.Create(ctx, stale)).To(Succeed())
		state, _ := awaitConsent(obj)

		Expect(get(callbackQuery("code", "newer", "state", state)).Code).To(Equal(http.StatusOK))

		sec, err := callbackSecretOf(obj)
		Expect(err).NotTo(HaveOccurred())
		Expect(sec.UID).To(Equal(stale.UID))
		Expect(sec.Data).To(Equal(map[string][]byte{elementsv1alpha1.CallbackCodeKey: []byte("newer")}))
	})

	It("replaces a Secret left behind by a deleted object of the same name", func() {
		leftover := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: obj.CallbackSecretName(),
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "elements.cloud-elements.io/v1alpha1", Kind: "HubSpotInstance",
					Name: obj.Name, UID: "0b5e55ed-dead-4bad-bead-000000000000", Controller: ptr.To(true)}}},
			Data: map[string][]byte{elementsv1alpha1.CallbackCodeKey: []byte("stale")},
		}
		Expect(k8sClient.Create(ctx, leftover)).To(Succeed())
		state, _ := awaitConsent(obj)

		Expect(get(callbackQuery("code", "fresh", "state", state)).Code).To(Equal(http.StatusOK))

		sec, err := callbackSecretOf(obj)
		Expect(err).NotTo(HaveOccurred())
		Expect(metav1.IsControlledBy(sec, obj)).To(BeTrue())
		Expect(sec.Data).To(Equal(map[string][]byte{elementsv1alpha1.CallbackCodeKey: []byte("fresh")}))
	})

	It("answers HEAD without changing anything", func() {
		state, claims := awaitConsent(obj)

		rec := serve(http.MethodHead, callbackQuery("code", "c", "state", state))

		Expect(rec.Code).To(Equal(http.StatusOK))
		expectUntouched(claims.Nonce)
	})

	DescribeTable("refuses a malformed response even with a valid state, and writes nothing",
		func(method string, extra func(state string) url.Values, wantStatus int) {
			state, claims := awaitConsent(obj)

			rec := serve(method, extra(state))

			Expect(rec.Code).To(Equal(wantStatus), rec.Body.String())
			if wantStatus == http.StatusMethodNotAllowed {
				Expect(rec.Header().Get("Allow")).To(Equal("GET, HEAD"))
			}
			expectUntouched(claims.Nonce)
		},
		Entry("POST", http.MethodPost, func(s string) url.Values { return callbackQuery("code", "c", "state", s) }, http.StatusMethodNotAllowed),
		Entry("both code and error", http.MethodGet, func(s string) url.Values {
			return callbackQuery("code", "c", "error", "access_denied", "state", s)
		}, http.StatusBadRequest),
		Entry("neither code nor error", http.MethodGet, func(s string) url.Values { return callbackQuery("state", s) }, http.StatusBadRequest),
		Entry("no state", http.MethodGet, func(string) url.Values { return callbackQuery("code", "c") }, http.StatusBadRequest),
		Entry("an oversized code", http.MethodGet, func(s string) url.Values {
			return callbackQuery("code", strings.Repeat("c", 4097), "state", s)
		}, http.StatusBadRequest),
		Entry("an oversized description", http.MethodGet, func(s string) url.Values {
			return callbackQuery("error", "access_denied", "error_description", strings.Repeat("d", 4097), "state", s)
		}, http.StatusBadRequest),
		Entry("an oversized query", http.MethodGet, func(s string) url.Values {
			q := callbackQuery("code", "c", "state", s)
			for i := range 8 {
				q.Set(fmt.Sprintf("pad%d", i), strings.Repeat("p", 4000))
			}
			return q
		}, http.StatusBadRequest),
		Entry("a repeated code", http.MethodGet, func(s string) url.Values {
			return callbackQuery("code", "c", "code", "d", "state", s)
		}, http.StatusBadRequest),
	)
})
