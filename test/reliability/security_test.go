//go:build reliability

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

package reliability

import (
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/callback"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

func securityPosture() {
	point(7)

	var (
		s            *sim
		op           *harness.Operator
		callbackAddr string
	)

	BeforeAll(func() {
		s = startSim("security")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		callbackAddr = ln.Addr().String()
		Expect(ln.Close()).To(Succeed())
		// Cluster-wide, as deployed: the operator could read any namespace's
		// Secrets, so reading only the object's own is its choice, not the
		// cache's limit. The OAuth callback server serves on loopback.
		op = newOperator("security", "--oauth-callback-bind-address="+callbackAddr, "--cloud-elements-timeout=5s")
		startOperator(op)
		dumpOnFailure(op)
	})

	waitReason := func(key client.ObjectKey, reason string) *elementsv1alpha1.HubSpotInstance {
		GinkgoHelper()
		var obj *elementsv1alpha1.HubSpotInstance
		Eventually(func(g Gomega) {
			obj = &elementsv1alpha1.HubSpotInstance{}
			g.Expect(k8s.Get(ctx, key, obj)).To(Succeed())
			c := readyCondition(obj)
			g.Expect(c).NotTo(BeNil())
			g.Expect(obj.Status.ObservedGeneration).To(Equal(obj.Generation))
			g.Expect(c.Reason).To(Equal(reason), "message: %s", c.Message)
		}).WithTimeout(30 * time.Second).Should(Succeed())
		return obj
	}

	It("reads Secrets only from the object's own namespace, even when a same-named Secret exists in another", func() {
		nsA, nsB := newNamespace("sec-own"), newNamespace("sec-other")
		keyB := secretValue("hubspot-api-key-other-namespace")
		credsB := createSecret(nsB, "shared-creds", map[string]string{"user-secret": s.UserSecret, "organization-secret": s.OrgSecret})
		keyBSecret := createSecret(nsB, "shared-key", map[string]string{"api-key": keyB})

		obj := apiKeyObject(nsA, "cross", s)
		obj.Spec.Platform.CredentialsSecretRef.Name = "shared-creds"
		obj.Spec.Auth.APIKey.SecretRef.Name = "shared-key"
		Expect(k8s.Create(ctx, obj)).To(Succeed())
		got := waitReason(client.ObjectKeyFromObject(obj), elementsv1alpha1.ReasonMissingConfiguration)
		msg := readyCondition(got).Message
		Expect(msg).To(ContainSubstring("Secret " + nsA + "/shared-key not found"))
		Expect(msg).To(ContainSubstring("Secret " + nsA + "/shared-creds not found"))
		Expect(msg).NotTo(ContainSubstring(nsB))
		Consistently(func() int { return s.creates(got.OwnerTag()) }).WithTimeout(2 * time.Second).Should(BeZero())
		Expect(s.owned(got.OwnerTag())).To(BeEmpty())

		By("the person creates the Secrets beside the object: it uses those, never the other namespace's")
		keyA := secretValue("hubspot-api-key-own-namespace")
		createSecret(nsA, "shared-creds", map[string]string{"user-secret": s.UserSecret, "organization-secret": s.OrgSecret})
		createSecret(nsA, "shared-key", map[string]string{"api-key": keyA})
		waitReason(client.ObjectKeyFromObject(obj), elementsv1alpha1.ReasonAvailable)
		insts := s.owned(got.OwnerTag())
		Expect(insts).To(HaveLen(1))
		used := insts[0].Configuration[cloudelements.ConfigHubSpotAPIKey]
		Expect(used).To(Equal(keyA), "the instance must carry the key of the object's own namespace")

		for _, sec := range []*corev1.Secret{credsB, keyBSecret} {
			now := &corev1.Secret{}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(sec), now)).To(Succeed())
			Expect(now.ResourceVersion).To(Equal(sec.ResourceVersion), "the other namespace's Secret %s was written", sec.Name)
		}

		rep.fig(7, "Object in A referencing Secrets that exist only in B", "Ready=False MissingConfiguration: "+msg, "names A/…, never B")
		rep.asserted(7, "Creates attempted while A's Secrets were missing", "0")
		rep.asserted(7, "API key the instance was created with, once A's Secrets exist", "A's (not B's)")
		rep.addHeadline(7, "Secrets of another namespace never read")
	})

	It("never writes the token over a Secret it does not own", func() {
		ns := newNamespace("sec-token")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")

		first := apiKeyObject(ns, "first", s)
		Expect(k8s.Create(ctx, first)).To(Succeed())
		waitReason(client.ObjectKeyFromObject(first), elementsv1alpha1.ReasonAvailable)
		firstToken := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "first-element-token"}, firstToken)).To(Succeed())

		victim := createSecret(ns, "payments-db", map[string]string{"password": secretValue("payments-db-password")})
		lookalike := createSecret(ns, "lookalike-element-token", map[string]string{"token": secretValue("hand-made-token")})

		cases := []struct {
			obj    *elementsv1alpha1.HubSpotInstance
			secret *corev1.Secret
			what   string
		}{
			{apiKeyObject(ns, "payments", s), victim, "spec.tokenSecret.name naming an unrelated Secret"},
			{apiKeyObject(ns, "second", s), firstToken, "spec.tokenSecret.name naming another HubSpotInstance's token Secret"},
			{apiKeyObject(ns, "lookalike", s), lookalike, "the default name <name>-element-token already taken"},
		}
		cases[0].obj.Spec.TokenSecret.Name = "payments-db"
		cases[1].obj.Spec.TokenSecret.Name = "first-element-token"
		for _, tc := range cases {
			Expect(k8s.Create(ctx, tc.obj)).To(Succeed())
		}
		for _, tc := range cases {
			got := waitReason(client.ObjectKeyFromObject(tc.obj), elementsv1alpha1.ReasonSecretConflict)
			Expect(readyCondition(got).Message).To(ContainSubstring("Secret " + ns + "/" + tc.secret.Name + " already exists and is not owned"))
			tc.obj.UID = got.UID
		}
		unchanged := func() error {
			for _, tc := range cases {
				now := &corev1.Secret{}
				if err := k8s.Get(ctx, client.ObjectKeyFromObject(tc.secret), now); err != nil {
					return err
				}
				if now.ResourceVersion != tc.secret.ResourceVersion || !equality.Semantic.DeepEqual(now.Data, tc.secret.Data) ||
					!equality.Semantic.DeepEqual(now.OwnerReferences, tc.secret.OwnerReferences) {
					return fmt.Errorf("Secret %s was written", tc.secret.Name)
				}
			}
			return nil
		}
		Consistently(unchanged).WithTimeout(3 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
		for _, tc := range cases {
			Expect(s.owned(tc.obj.OwnerTag())).To(BeEmpty(), "no instance for %s", tc.obj.Name)
		}

		By("deleting the conflicting objects leaves the Secrets they pointed at alone")
		for _, tc := range cases {
			Expect(k8s.Delete(ctx, tc.obj)).To(Succeed())
		}
		Eventually(func(g Gomega) {
			for _, tc := range cases {
				g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(tc.obj), &elementsv1alpha1.HubSpotInstance{}))).To(BeTrue())
			}
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(unchanged()).To(Succeed())

		rep.fig(7, "Token Secret names colliding with Secrets the object does not own", len(cases), "")
		collidingInstances := 0
		for _, tc := range cases {
			collidingInstances += len(s.owned(tc.obj.OwnerTag()))
		}
		rep.asserted(7, "Of those, Secrets written over (resourceVersion, data or owners changed)", "0")
		rep.fig(7, "Instances created for the colliding objects", collidingInstances, "0")
		rep.addHeadline(7, fmt.Sprintf("0 of %d unowned Secrets written over", len(cases)))
	})

	It("refuses forged, tampered, expired, superseded and replayed OAuth states at the running operator's callback", func() {
		ns := newNamespace("sec-oauth")
		waiting, authorizationURL := awaitingConsent(ns, s, "http://"+callbackAddr+callback.Path, waitReason)
		key := client.ObjectKeyFromObject(waiting)
		nonce := waiting.Status.AuthorizationNonce
		uid := string(waiting.UID)

		noRedirect := &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(raw string) (int, string) {
			GinkgoHelper()
			resp, err := noRedirect.Get(raw)
			Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}

		By("consenting at the simulator's HubSpot page: it redirects to the operator's callback with a code and the state")
		resp, err := noRedirect.Get(authorizationURL)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusFound))
		genuine, err := url.Parse(resp.Header.Get("Location"))
		Expect(err).NotTo(HaveOccurred())
		Expect(genuine.String()).To(HavePrefix("http://" + callbackAddr + callback.Path))
		withState := func(state string) string {
			u := *genuine
			q := u.Query()
			q.Set("state", state)
			u.RawQuery = q.Encode()
			return u.String()
		}
		realState := genuine.Query().Get("state")

		keySecret := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "default", Name: "hubspot-operator-oauth-state"}, keySecret)).To(Succeed())
		secrets.add("OAuth state signing key", string(keySecret.Data["key"]))
		operatorSigner, err := oauthstate.NewSigner(keySecret.Data["key"], 0)
		Expect(err).NotTo(HaveOccurred())
		otherKey := make([]byte, 32)
		_, _ = rand.Read(otherKey)
		forgerSigner, err := oauthstate.NewSigner(otherKey, 0)
		Expect(err).NotTo(HaveOccurred())

		forged, _, err := forgerSigner.Issue(ns, waiting.Name, uid)
		Expect(err).NotTo(HaveOccurred())
		body, sig, _ := strings.Cut(realState, ".")
		// One character of the signature swapped for another valid base64url
		// character: still well-formed, no longer authentic.
		flipped := []byte(sig)
		if mid := len(flipped) / 2; flipped[mid] == 'A' {
			flipped[mid] = 'B'
		} else {
			flipped[mid] = 'A'
		}
		tampered := body + "." + string(flipped)
		expired, _, err := operatorSigner.WithClock(func() time.Time { return time.Now().Add(-time.Hour) }).Issue(ns, waiting.Name, uid)
		Expect(err).NotTo(HaveOccurred())
		superseded, _, err := operatorSigner.Issue(ns, waiting.Name, uid) // authentic, but not the nonce the object waits for
		Expect(err).NotTo(HaveOccurred())
		otherObject, _, err := operatorSigner.Issue(ns, waiting.Name, "00000000-0000-4000-8000-000000000000") // a deleted object of the same name
		Expect(err).NotTo(HaveOccurred())

		type attempt struct {
			what, state string
			status      int
			result      string
		}
		attempts := []attempt{
			{"forged: signed with another key", forged, http.StatusForbidden, "invalid_state"},
			{"tampered: one character of the genuine signature changed", tampered, http.StatusForbidden, "invalid_state"},
			{"expired: the operator's key, issued an hour ago", expired, http.StatusBadRequest, "expired_state"},
			{"superseded: the operator's key, not the nonce the object waits for", superseded, http.StatusConflict, "replayed_state"},
			{"for an earlier object of the same name (other UID)", otherObject, http.StatusNotFound, "unknown_object"},
		}
		var rows [][]string
		for _, a := range attempts {
			got, page := get(withState(a.state))
			Expect(got).To(Equal(a.status), "%s: %s", a.what, page)
			rows = append(rows, []string{a.what, fmt.Sprint(got), a.result})
		}

		By("none of them changed anything")
		after := &elementsv1alpha1.HubSpotInstance{}
		Expect(k8s.Get(ctx, key, after)).To(Succeed())
		Expect(after.Status.AuthorizationNonce).To(Equal(nonce))
		Expect(readyCondition(after).Reason).To(Equal(elementsv1alpha1.ReasonAwaitingAuthorization))
		Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: after.CallbackSecretName()}, &corev1.Secret{}))).To(BeTrue())
		Expect(s.owned(after.OwnerTag())).To(BeEmpty())

		By("the genuine callback is accepted once; its replay is refused")
		got, page := get(genuine.String())
		Expect(got).To(Equal(http.StatusOK), page)
		rows = append(rows, []string{"genuine, first use", fmt.Sprint(got), "code_accepted"})
		ready := waitReason(key, elementsv1alpha1.ReasonAvailable)
		token := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: ready.TokenSecretName()}, token)).To(Succeed())
		got, page = get(genuine.String())
		Expect(got).To(Equal(http.StatusConflict), page)
		rows = append(rows, []string{"replayed: the genuine address again, after it was used", fmt.Sprint(got), "replayed_state"})
		Consistently(func() int { return len(s.owned(ready.OwnerTag())) }).WithTimeout(2 * time.Second).Should(Equal(1))
		tokenNow := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(token), tokenNow)).To(Succeed())
		Expect(tokenNow.ResourceVersion).To(Equal(token.ResourceVersion))

		counts := map[string]float64{}
		for _, result := range []string{"invalid_state", "expired_state", "replayed_state", "unknown_object", "code_accepted"} {
			counts[result] = metric(op, "hubspot_operator_oauth_callbacks_total", `result="`+result+`"`)
		}
		Expect(counts["invalid_state"]).To(BeNumerically(">=", 2))
		Expect(counts["expired_state"]).To(BeNumerically(">=", 1))
		Expect(counts["replayed_state"]).To(BeNumerically(">=", 2))
		Expect(counts["unknown_object"]).To(BeNumerically(">=", 1))
		Expect(counts["code_accepted"]).To(Equal(1.0))

		rep.fig(7, "OAuth callbacks refused (forged, tampered, expired, superseded, other object, replayed)", len(rows)-1, "6")
		rep.fig(7, "OAuth callbacks accepted", int(counts["code_accepted"]), "1 (the genuine one, once)")
		rep.fig(7, "Instances for the OAuth object after the replay", len(s.owned(ready.OwnerTag())), "1")
		rep.fig(7, "hubspot_operator_oauth_callbacks_total by result", fmt.Sprintf("invalid_state %.0f, expired_state %.0f, replayed_state %.0f, unknown_object %.0f, code_accepted %.0f",
			counts["invalid_state"], counts["expired_state"], counts["replayed_state"], counts["unknown_object"], counts["code_accepted"]), "")
		rep.addHeadline(7, fmt.Sprintf("%d forged/tampered/expired/superseded/foreign/replayed OAuth states refused, the genuine one accepted once", len(rows)-1))
		rep.setTable(7, append([][]string{{"OAuth callback with a state that is…", "HTTP status", "Counted as"}}, rows...))
		rep.note(7, "The callback requests go to the real operator process (`--oauth-callback-bind-address`), with states signed by the key it created in `default/hubspot-operator-oauth-state`; the internal/callback package's own suite covers the same refusals against the handler in-process.")
	})

	securityHardening(func() *sim { return s }, func() string { return op.LogPath }, waitReason)
	securityReview(func() *sim { return s }, func() *harness.Operator { return op }, waitReason)
	securityReviewRest(func() *sim { return s }, func() *harness.Operator { return op }, func() string { return callbackAddr }, waitReason)

	AfterAll(func() {
		Expect(op.Running()).To(BeTrue())
		panics, restarts := panicsAndRestarts(op)
		Expect(panics).To(BeZero())
		Expect(restarts).To(BeZero())
	})
}
