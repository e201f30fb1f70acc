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
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/callback"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// rebuildNamespace is the namespace the Git repository puts the objects in,
// the same in every cluster built from it.
const rebuildNamespace = "crm"

// The three objects of the repository, one per kind of authorization.
const (
	rebuildAPIKey = "crm-apikey"
	rebuildOAuth  = "crm-oauth"
	rebuildLegacy = "crm-legacy"
)

var rebuildNames = []string{rebuildAPIKey, rebuildOAuth, rebuildLegacy}

// rebuildCluster is one control plane of its own (kube-apiserver, etcd,
// kube-controller-manager) with its own operator process: the suite's
// control plane cannot be cluster A, because throwing A away must leave its
// objects alive and unreconciled, and the other points' cluster-wide
// operators would otherwise pick them up as a live incarnation.
type rebuildCluster struct {
	label, clusterName string
	cp                 *harness.ControlPlane
	c                  client.Client
	op                 *harness.Operator
	stopOnce           sync.Once
	stopErr            error
}

// stop ends the operator, then the control plane; the objects are never
// deleted, which is what a cluster thrown away looks like from outside.
func (rc *rebuildCluster) stop() error {
	rc.stopOnce.Do(func() {
		if rc.op != nil {
			_ = rc.op.Stop()
		}
		rc.stopErr = rc.cp.Stop()
	})
	return rc.stopErr
}

func startRebuildCluster(label, clusterName, callbackAddr string) *rebuildCluster {
	GinkgoHelper()
	// Each control plane writes its kubeconfigs and logs under fixed names:
	// a folder of its own keeps the suite's from being overwritten.
	dir := filepath.Join(workDir, "rebuild-"+label)
	Expect(os.MkdirAll(dir, 0o700)).To(Succeed())
	started := time.Now()
	cp, err := harness.StartControlPlane(root, dir)
	Expect(err).NotTo(HaveOccurred())
	rc := &rebuildCluster{label: label, clusterName: clusterName, cp: cp, c: cp.Client}
	DeferCleanup(func() { Expect(rc.stop()).To(Succeed()) })
	progress("rebuild: control plane %s at %s in %s", label, cp.Config.Host, time.Since(started).Round(100*time.Millisecond))

	rc.op = newOperator("rebuild-"+label, "--cluster-name="+clusterName, "--oauth-callback-bind-address="+callbackAddr,
		"--cloud-elements-timeout=5s")
	rc.op.Kubeconfig = cp.Kubeconfig
	startOperator(rc.op)
	dumpOnFailure(rc.op)
	return rc
}

// rebuildRepo is what the Git repository holds: the Secrets (as a sealed
// or external secret would restore them) and the three objects.
type rebuildRepo struct {
	s           *sim
	callbackURL string
	secrets     map[string]map[string]string
}

func newRebuildRepo(s *sim, callbackAddr string) *rebuildRepo {
	return &rebuildRepo{s: s, callbackURL: "http://" + callbackAddr + callback.Path, secrets: map[string]map[string]string{
		"cloud-elements":        {"user-secret": s.UserSecret, "organization-secret": s.OrgSecret},
		"hubspot-key":           {"api-key": secretValue("hubspot-api-key")},
		"hubspot-app":           {"client-id": publicValue("oauth-client-id"), "client-secret": secretValue("oauth-client-secret")},
		"hubspot-legacy":        {"client-id": publicValue("legacy-client-id")},
		"hubspot-legacy-tokens": {"access-token": secretValue("legacy-access"), "refresh-token": secretValue("legacy-refresh"), "expires-in": "21600"},
	}}
}

// objects are fresh copies of the manifests: no UID, no resourceVersion.
func (r *rebuildRepo) objects() []*elementsv1alpha1.HubSpotInstance {
	apiKey := apiKeyObject(rebuildNamespace, rebuildAPIKey, r.s)
	oauth := apiKeyObject(rebuildNamespace, rebuildOAuth, r.s)
	oauth.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2, OAuth2: &elementsv1alpha1.OAuth2Auth{
		ClientSecretRef: elementsv1alpha1.OAuthClientSecretRef{Name: "hubspot-app"},
		Scopes:          []string{"crm.objects.contacts.read", "oauth"},
		CallbackURL:     elementsv1alpha1.HTTPURL(r.callbackURL)}}
	legacy := apiKeyObject(rebuildNamespace, rebuildLegacy, r.s)
	legacy.Spec.Auth = elementsv1alpha1.AuthSpec{Type: elementsv1alpha1.AuthTypeOAuth2Legacy, OAuth2Legacy: &elementsv1alpha1.OAuth2LegacyAuth{
		ClientIDSecretRef: elementsv1alpha1.SecretKeySelector{Name: "hubspot-legacy", Key: "client-id"},
		PortalID:          "4815162342", CallbackURL: elementsv1alpha1.HTTPURL(r.callbackURL),
		TokensSecretRef: elementsv1alpha1.LegacyTokensSecretRef{Name: "hubspot-legacy-tokens"}}}
	return []*elementsv1alpha1.HubSpotInstance{apiKey, oauth, legacy}
}

// apply is `kubectl apply` of the repository to a cluster.
func (r *rebuildRepo) apply(rc *rebuildCluster) {
	GinkgoHelper()
	Expect(rc.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: rebuildNamespace}})).To(Succeed())
	for name, data := range r.secrets {
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: rebuildNamespace, Name: name}, Data: map[string][]byte{}}
		for k, v := range data {
			sec.Data[k] = []byte(v)
		}
		Expect(rc.c.Create(ctx, sec)).To(Succeed())
	}
	for _, obj := range r.objects() {
		Expect(rc.c.Create(ctx, obj)).To(Succeed())
	}
}

func (rc *rebuildCluster) get(name string) *elementsv1alpha1.HubSpotInstance {
	GinkgoHelper()
	obj := &elementsv1alpha1.HubSpotInstance{}
	Expect(rc.c.Get(ctx, client.ObjectKey{Namespace: rebuildNamespace, Name: name}, obj)).To(Succeed())
	return obj
}

// waitReason waits until the object's Ready condition, for its current
// generation, has the reason.
func (rc *rebuildCluster) waitReason(name, reason string, timeout time.Duration) *elementsv1alpha1.HubSpotInstance {
	GinkgoHelper()
	var obj *elementsv1alpha1.HubSpotInstance
	Eventually(func(g Gomega) {
		obj = &elementsv1alpha1.HubSpotInstance{}
		g.Expect(rc.c.Get(ctx, client.ObjectKey{Namespace: rebuildNamespace, Name: name}, obj)).To(Succeed())
		c := readyCondition(obj)
		g.Expect(c).NotTo(BeNil())
		g.Expect(obj.Status.ObservedGeneration).To(Equal(obj.Generation))
		g.Expect(c.Reason).To(Equal(reason), "cluster %s, %s: %s", rc.label, name, c.Message)
	}).WithTimeout(timeout).WithPolling(200 * time.Millisecond).Should(Succeed())
	return obj
}

func (rc *rebuildCluster) waitReady(name string, timeout time.Duration) *elementsv1alpha1.HubSpotInstance {
	GinkgoHelper()
	obj := rc.waitReason(name, elementsv1alpha1.ReasonAvailable, timeout)
	Expect(isReady(obj)).To(BeTrue())
	return obj
}

// token is what the object's token Secret holds.
func (rc *rebuildCluster) token(obj *elementsv1alpha1.HubSpotInstance) string {
	GinkgoHelper()
	sec := &corev1.Secret{}
	Expect(rc.c.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.TokenSecretName()}, sec)).To(Succeed())
	return string(sec.Data[elementsv1alpha1.TokenKey])
}

// eventNotes are the notes of the Events with the reason on this
// incarnation of the object.
func (rc *rebuildCluster) eventNotes(obj *elementsv1alpha1.HubSpotInstance, reason string) []string {
	GinkgoHelper()
	var list corev1.EventList
	Expect(rc.c.List(ctx, &list, client.InNamespace(obj.Namespace))).To(Succeed())
	var notes []string
	for _, e := range list.Items {
		if e.InvolvedObject.UID == obj.UID && e.Reason == reason {
			notes = append(notes, e.Message)
		}
	}
	return notes
}

// waitEvent waits for an Event with the reason on the object, and returns
// its note ("" when none came within the timeout).
func (rc *rebuildCluster) waitEvent(obj *elementsv1alpha1.HubSpotInstance, reason string, timeout time.Duration) string {
	GinkgoHelper()
	deadline := time.Now().Add(timeout)
	for {
		if notes := rc.eventNotes(obj, reason); len(notes) > 0 {
			return notes[0]
		}
		if time.Now().After(deadline) {
			return ""
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// consentAt completes an OAuth 2 consent without a browser: the consent
// link leads to the simulator's HubSpot page, which redirects to the
// object's callback URL with a code and the operator's signed state. The
// redirect is delivered to deliverTo, the callback server of the operator
// that signed the state, whatever host the callback URL names.
func (rc *rebuildCluster) consentAt(waiting *elementsv1alpha1.HubSpotInstance, deliverTo string) {
	GinkgoHelper()
	link := &corev1.Secret{}
	Expect(rc.c.Get(ctx, client.ObjectKey{Namespace: waiting.Namespace, Name: waiting.Status.AuthorizationSecretName}, link)).To(Succeed())
	authorizationURL := string(link.Data[elementsv1alpha1.AuthorizationURLKey])
	Expect(authorizationURL).NotTo(BeEmpty())
	noRedirect := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(authorizationURL)
	Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusFound))
	redirect, err := url.Parse(resp.Header.Get("Location"))
	Expect(err).NotTo(HaveOccurred())
	Expect(redirect.Query().Get("code")).NotTo(BeEmpty())
	redirect.Host = deliverTo
	resp, err = noRedirect.Get(redirect.String())
	Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusOK), "the operator's callback refused the consent")
}

// ownerTagsOf are the incarnations an instance's tags name.
func ownerTagsOf(inst cloudelements.Instance) []string {
	var out []string
	for _, t := range inst.Tags {
		if elementsv1alpha1.IsOwnerTag(t) {
			out = append(out, t)
		}
	}
	return out
}

// simCalls snapshots the simulator's counters of the operations a rebuild
// must not repeat.
type simCalls struct{ creates, oauthURLs, consents, reauthorizations, deletes int }

func callsAt(s *sim) simCalls {
	return simCalls{creates: s.Total(simulator.OpCreate), oauthURLs: s.Total(simulator.OpOAuthURL),
		consents: s.Total(simulator.OpConsent), reauthorizations: s.Total(simulator.OpReauthorize),
		deletes: s.Total(simulator.OpDelete)}
}

func (c simCalls) since(before simCalls) simCalls {
	return simCalls{creates: c.creates - before.creates, oauthURLs: c.oauthURLs - before.oauthURLs,
		consents: c.consents - before.consents, reauthorizations: c.reauthorizations - before.reauthorizations,
		deletes: c.deletes - before.deletes}
}

// opsSince is the simulator's calls by operation since the snapshot.
func opsSince(s *sim, before map[string]int) map[string]int {
	_, now := s.calls()
	out := map[string]int{}
	for op, n := range now {
		if d := n - before[op]; d > 0 {
			out[op] = d
		}
	}
	return out
}

func freeLoopbackAddr() string {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	return addr
}

func rebuiltFromGit() {
	point(8)

	It("gives a cluster rebuilt from Git under the same cluster name its instances back, and another cluster name new ones", func() {
		s := startSim("rebuild")
		// The callback URL in the repository: the one address the operator
		// of the cluster in charge serves its callback on.
		callbackAddr := freeLoopbackAddr()
		repo := newRebuildRepo(s, callbackAddr)

		By("cluster A (--cluster-name=prod) provisions the three objects, the OAuth 2 one after consent")
		a := startRebuildCluster("a", "prod", callbackAddr)
		repo.apply(a)
		waiting := a.waitReason(rebuildOAuth, elementsv1alpha1.ReasonAwaitingAuthorization, time.Minute)
		a.consentAt(waiting, callbackAddr)
		type provisioned struct {
			id    int64
			token string
		}
		inA := map[string]provisioned{}
		for _, name := range rebuildNames {
			obj := a.waitReady(name, time.Minute)
			inA[name] = provisioned{id: obj.Status.InstanceID, token: a.token(obj)}
			Expect(inA[name].token).NotTo(BeEmpty())
		}
		createsA := callsAt(s).creates
		progress("rebuild: cluster A Ready on instances %d, %d, %d", inA[rebuildAPIKey].id, inA[rebuildOAuth].id, inA[rebuildLegacy].id)

		By("throwing cluster A away without deleting anything: its operator and its control plane stop, its objects stay")
		Expect(a.stop()).To(Succeed())
		for _, name := range rebuildNames {
			inst, ok := s.Instance(inA[name].id)
			Expect(ok).To(BeTrue())
			Expect(inst.Tags).To(ContainElement(elementsv1alpha1.ClusterTag("prod")))
		}

		By("cluster B, rebuilt from the same repository under the same cluster name, gets A's instances back")
		beforeB := callsAt(s)
		_, opsBeforeB := s.calls()
		b := startRebuildCluster("b", "prod", callbackAddr)
		applied := time.Now()
		repo.apply(b)
		inB := map[string]*elementsv1alpha1.HubSpotInstance{}
		sameIDs, sameTokens, adoptedEvents, heldByB, validInB := 0, 0, 0, 0, 0
		var adoptedNote string
		for _, name := range rebuildNames {
			// An OAuth 2 object that asked for consent would wait for it
			// forever: Ready within the minute is the requirement.
			obj := b.waitReady(name, time.Minute)
			inB[name] = obj
		}
		convergedB := time.Since(applied)
		// Whatever a rebuilt cluster would still do on its own (a create, a
		// consent link) it does within a few seconds of being Ready.
		Consistently(func() simCalls { return callsAt(s).since(beforeB) }).WithTimeout(3 * time.Second).
			WithPolling(250 * time.Millisecond).Should(Equal(simCalls{}))
		callsB := callsAt(s).since(beforeB)
		for _, name := range rebuildNames {
			obj := inB[name]
			if obj.Status.InstanceID == inA[name].id {
				sameIDs++
			}
			if b.token(obj) == inA[name].token {
				sameTokens++
			}
			if note := b.waitEvent(obj, elementsv1alpha1.EventReasonAdopted, 10*time.Second); note != "" {
				adoptedEvents++
				adoptedNote = note
			}
			if inst, ok := s.Instance(inA[name].id); ok && slices.Equal(ownerTagsOf(inst), []string{obj.OwnerTag()}) {
				heldByB++
			}
			if inst, ok := s.Instance(inA[name].id); ok && inst.Valid && !inst.Disabled && obj.Status.Valid {
				validInB++
			}
			Expect(obj.Status.AuthorizationSecretName).To(BeEmpty(), "%s in B has a consent link", name)
		}
		progress("rebuild: cluster B Ready in %s; simulator calls during B: %+v", convergedB.Round(100*time.Millisecond), callsB)
		Expect(sameIDs).To(Equal(3), "instance ids kept")
		Expect(callsB.creates).To(BeZero(), "creates during B")
		Expect(callsB.oauthURLs+callsB.consents).To(BeZero(), "consent asked during B")
		Expect(callsB.reauthorizations).To(BeZero(), "re-authorizations during B")
		Expect(callsB.deletes).To(BeZero(), "deletes during B")
		Expect(sameTokens).To(Equal(3), "token Secrets holding A's tokens")
		Expect(adoptedEvents).To(Equal(3), "Adopted Events in B")
		Expect(heldByB).To(Equal(3), "A's instances held by B's incarnations alone")
		Expect(validInB).To(Equal(3), "instances valid in B without new consent")
		Expect(s.Total(simulator.OpCreate)).To(Equal(createsA))
		// What else B told about the objects: the first configuration
		// write after an adoption is announced as well, see the note.
		otherEventsB := map[string]int{}
		for _, name := range rebuildNames {
			var list corev1.EventList
			Expect(b.c.List(ctx, &list, client.InNamespace(rebuildNamespace))).To(Succeed())
			for _, e := range list.Items {
				if e.InvolvedObject.UID == inB[name].UID && e.Reason != elementsv1alpha1.EventReasonAdopted {
					otherEventsB[e.Reason]++
				}
			}
		}

		rep.fig(8, "Cluster A (prod): objects Ready, OAuth 2 after one consent", fmt.Sprintf("%d/3", len(inA)), "3/3")
		rep.fig(8, "Cluster B (prod, same YAML, new UIDs): Ready on A's instance ids", fmt.Sprintf("%d/3", sameIDs), "3/3")
		rep.fig(8, "Cluster B: token Secrets holding A's tokens", fmt.Sprintf("%d/3", sameTokens), "3/3")
		rep.fig(8, "Cluster B: creates at the simulator", callsB.creates, "0")
		rep.fig(8, "Cluster B: consent asked (OAuth URL requests + consents at the simulator)", callsB.oauthURLs+callsB.consents, "0")
		rep.fig(8, "Cluster B: re-authorizations (legacy or OAuth 2)", callsB.reauthorizations, "0")
		rep.fig(8, "Cluster B: instances valid (platform and status) without new consent", fmt.Sprintf("%d/3", validInB), "3/3")
		rep.fig(8, "Cluster B: deletes at the simulator", callsB.deletes, "0")
		rep.fig(8, "Cluster B: every call at the simulator, by operation", formatOps(opsSince(s, opsBeforeB)), "no create, oauthUrl, consent, reauthorize, delete")
		rep.fig(8, "Cluster B: Adopted Events", fmt.Sprintf("%d/3", adoptedEvents), "3/3")
		rep.fig(8, "Cluster B: other Events on the objects, by reason", formatOps(otherEventsB), "")
		rep.fig(8, "Cluster B: A's instances held by B's incarnations alone (owner tags)", fmt.Sprintf("%d/3", heldByB), "3/3")
		rep.fig(8, "Cluster B: apply to all three Ready", convergedB, "")
		rep.note(8, "An Adopted Event in B: `%s`.", adoptedNote)
		if n := otherEventsB[elementsv1alpha1.EventReasonImported]; n > 0 {
			rep.note(8, "%d of B's objects also get an Imported Event (\"element instance … configuration applied\") right after Adopted, though none has an import annotation: "+
				"adopting clears the applied configuration hash, and the first configuration write after an empty hash is announced as an import (%s).",
				n, expandLocs("{controllers/sync.go|reason = elementsv1alpha1.EventReasonImported}"))
		}

		By("cluster C, the same repository under another cluster name (staging), gets new instances and says what it passed over")
		// B keeps running: prod and staging share the account, and B's
		// operator would notice if C took its instances.
		beforeC := callsAt(s)
		cCallback := freeLoopbackAddr()
		c := startRebuildCluster("c", "staging", cCallback)
		repo.apply(c)
		inC := map[string]*elementsv1alpha1.HubSpotInstance{}
		for _, name := range []string{rebuildAPIKey, rebuildLegacy} {
			inC[name] = c.waitReady(name, time.Minute)
		}
		awaiting := c.waitReason(rebuildOAuth, elementsv1alpha1.ReasonAwaitingAuthorization, time.Minute)
		awaitingMessage := readyCondition(awaiting).Message
		createsBeforeConsent := callsAt(s).since(beforeC).creates
		// Staging's own consent, sent to staging's callback server: the
		// repository's callback URL is prod's.
		c.consentAt(awaiting, cCallback)
		inC[rebuildOAuth] = c.waitReady(rebuildOAuth, time.Minute)
		callsC := callsAt(s).since(beforeC)

		newIDs, notAdopted, passedOver := 0, 0, 0
		var notAdoptedNote, readyMessage string
		for _, name := range rebuildNames {
			obj := inC[name]
			if inst, ok := s.Instance(obj.Status.InstanceID); ok && obj.Status.InstanceID != inA[name].id &&
				slices.Contains(inst.Tags, elementsv1alpha1.ClusterTag("staging")) {
				newIDs++
			}
			if note := c.waitEvent(obj, elementsv1alpha1.EventReasonNotAdopted, 10*time.Second); note != "" {
				notAdopted++
				notAdoptedNote = note
			}
			msg := readyCondition(obj).Message
			if strings.Contains(msg, fmt.Sprintf("element instance %d", inA[name].id)) && strings.Contains(msg, "--cluster-name") {
				passedOver++
				readyMessage = msg
			}
		}
		untouched := 0
		for _, name := range rebuildNames {
			inst, ok := s.Instance(inA[name].id)
			bNow := b.get(name)
			if ok && slices.Equal(ownerTagsOf(inst), []string{inB[name].OwnerTag()}) &&
				slices.Contains(inst.Tags, elementsv1alpha1.ClusterTag("prod")) && inst.Token == inA[name].token &&
				isReady(bNow) && bNow.Status.InstanceID == inA[name].id {
				untouched++
			}
		}
		progress("rebuild: cluster C: simulator calls %+v, %d new instances, %d NotAdopted, %d untouched", callsC, newIDs, notAdopted, untouched)

		rep.fig(8, "Cluster C (staging, same YAML): new instances, tagged staging", fmt.Sprintf("%d/3", newIDs), "3/3")
		rep.fig(8, "Cluster C: creates before the OAuth 2 object's consent", createsBeforeConsent, "2 (OAuth 2 creates only after consent)")
		rep.fig(8, "Cluster C: OAuth 2 object before consent", elementsv1alpha1.ReasonAwaitingAuthorization, "AwaitingAuthorization (a new instance needs consent)")
		rep.fig(8, "Cluster C: creates in all, after staging's consent", callsC.creates, "3")
		rep.fig(8, "Cluster C: NotAdopted Events", fmt.Sprintf("%d/3", notAdopted), "3/3")
		rep.fig(8, "Cluster C: Ready messages naming the prod instance passed over and --cluster-name", fmt.Sprintf("%d/3", passedOver), "3/3")
		rep.fig(8, "A's instances untouched after C (exist, same token, held by B alone, tagged prod; B still Ready on them)", fmt.Sprintf("%d/3", untouched), "3/3")
		rep.note(8, "The OAuth 2 object in C before consent: `%s`.", awaitingMessage)
		rep.note(8, "A NotAdopted Event in C: `%s`.", notAdoptedNote)
		if readyMessage != "" {
			rep.note(8, "A Ready message in C: `%s`.", readyMessage)
		}
		rep.note(8, "Three control planes of their own (kube-apiserver, etcd, kube-controller-manager each), not the suite's, and one simulator (one Cloud Elements account). A is stopped (operator SIGTERM, then its control plane) with every object still in place; B and C then run side by side, as prod and staging would.")
		rep.addHeadline(8, fmt.Sprintf("rebuilt under the same cluster name: %d/3 instances back, %d creates, %d consents asked", sameIDs, callsB.creates, callsB.oauthURLs+callsB.consents))
		rep.addHeadline(8, fmt.Sprintf("another cluster name: %d new instances, %d/3 NotAdopted, prod's %d/3 untouched", newIDs, notAdopted, untouched))

		Expect(createsBeforeConsent).To(Equal(2))
		Expect(callsC.creates).To(Equal(3))
		Expect(newIDs).To(Equal(3))
		Expect(notAdopted).To(Equal(3), "NotAdopted Events in C")
		Expect(passedOver).To(Equal(3), "Ready messages naming the instance passed over")
		Expect(untouched).To(Equal(3), "A's instances untouched")
		Expect(callsC.deletes).To(BeZero(), "deletes during C")

		By("cluster D, started under prod as well while B runs, adopts the instances; B stops at its next look and its deletion leaves them to D")
		// Two live control planes with one cluster name share the platform:
		// the one that adopts last keeps the instances, and the other must
		// neither change them, copy their tokens nor delete them.

		// B's token Secrets, by resourceVersion and token: once B stalls,
		// nothing of B's may write them again, whatever D does.
		secretVersions := func() map[string]string {
			out := map[string]string{}
			for _, name := range rebuildNames {
				sec := &corev1.Secret{}
				if err := b.c.Get(ctx, client.ObjectKey{Namespace: rebuildNamespace, Name: inB[name].TokenSecretName()}, sec); err == nil {
					out[name] = sec.ResourceVersion + "/" + string(sec.Data[elementsv1alpha1.TokenKey])
				}
			}
			return out
		}
		beforeD := callsAt(s)
		versionsBeforeD := secretVersions()
		d := startRebuildCluster("d", "prod", freeLoopbackAddr())
		appliedD := time.Now()
		repo.apply(d)
		inD := map[string]*elementsv1alpha1.HubSpotInstance{}
		for _, name := range rebuildNames {
			inD[name] = d.waitReady(name, time.Minute)
		}
		convergedD := time.Since(appliedD)
		sameIDsD, adoptedD, heldByD := 0, 0, 0
		for _, name := range rebuildNames {
			obj := inD[name]
			if obj.Status.InstanceID == inA[name].id {
				sameIDsD++
			}
			if d.waitEvent(obj, elementsv1alpha1.EventReasonAdopted, 10*time.Second) != "" {
				adoptedD++
			}
			if inst, ok := s.Instance(inA[name].id); ok && slices.Equal(ownerTagsOf(inst), []string{obj.OwnerTag()}) {
				heldByD++
			}
		}
		callsD := callsAt(s).since(beforeD)
		progress("rebuild: cluster D Ready in %s on %d/3 of B's instances; simulator calls during D: %+v", convergedD.Round(100*time.Millisecond), sameIDsD, callsD)

		// B would notice at its next poll anyway; the Flux annotation makes
		// that look happen now, so the step does not wait out the interval.
		requested := time.Now()
		for _, name := range rebuildNames {
			obj := b.get(name)
			patch := client.MergeFrom(obj.DeepCopy())
			if obj.Annotations == nil {
				obj.Annotations = map[string]string{}
			}
			obj.Annotations[elementsv1alpha1.ReconcileRequestAnnotation] = requested.UTC().Format(time.RFC3339Nano)
			Expect(b.c.Patch(ctx, obj, patch)).To(Succeed())
		}
		claimedB, stalledB := 0, 0
		var claimedMessage string
		for _, name := range rebuildNames {
			obj := b.waitReason(name, elementsv1alpha1.ReasonInstanceClaimed, 30*time.Second)
			msg := readyCondition(obj).Message
			if strings.Contains(msg, fmt.Sprintf("element instance %d ", inA[name].id)) &&
				strings.Contains(msg, "another incarnation of "+rebuildNamespace+"/"+name) {
				claimedB++
				claimedMessage = msg
			}
			if c := meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
				stalledB++
			}
		}
		stalledAfter := time.Since(requested)
		versionsStalled := secretVersions()
		rewritten := map[string]bool{}
		for watchUntil := time.Now().Add(3 * time.Second); time.Now().Before(watchUntil); time.Sleep(250 * time.Millisecond) {
			now := secretVersions()
			for _, name := range rebuildNames {
				if now[name] != versionsStalled[name] {
					rewritten[name] = true
				}
			}
		}
		changedSinceD := 0
		for _, name := range rebuildNames {
			if versionsStalled[name] != versionsBeforeD[name] {
				changedSinceD++
			}
		}
		tokensKept := 0
		for _, name := range rebuildNames {
			if b.token(inB[name]) == inA[name].token {
				tokensKept++
			}
		}

		// The YAML leaves deletionPolicy out: admission defaults it to Delete.
		doomed := b.get(rebuildAPIKey)
		policy := doomed.Spec.DeletionPolicy
		beforeDelete := callsAt(s)
		Expect(b.c.Delete(ctx, doomed)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(b.c.Get(ctx, client.ObjectKeyFromObject(doomed), &elementsv1alpha1.HubSpotInstance{}))
		}).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).Should(BeTrue(), "B's %s not gone", rebuildAPIKey)
		deletesB := callsAt(s).since(beforeDelete).deletes
		orphanedNote := b.waitEvent(doomed, elementsv1alpha1.EventReasonOrphaned, 10*time.Second)
		inst, survived := s.Instance(inA[rebuildAPIKey].id)
		keptByD := survived && slices.Equal(ownerTagsOf(inst), []string{inD[rebuildAPIKey].OwnerTag()})
		stillReadyInD := 0
		for _, name := range rebuildNames {
			if obj := d.get(name); isReady(obj) && obj.Status.InstanceID == inA[name].id {
				stillReadyInD++
			}
		}
		progress("rebuild: B stalled in %s (%d/3 InstanceClaimed); deleting B's %s: %d deletes, instance kept by D: %t",
			stalledAfter.Round(100*time.Millisecond), claimedB, rebuildAPIKey, deletesB, keptByD)

		rep.fig(8, "Cluster D (prod too, same YAML, while B runs): Ready on B's instance ids", fmt.Sprintf("%d/3", sameIDsD), "3/3")
		rep.fig(8, "Cluster D: creates at the simulator", callsD.creates, "0")
		rep.fig(8, "Cluster D: Adopted Events", fmt.Sprintf("%d/3", adoptedD), "3/3")
		rep.fig(8, "Cluster D: instances held by D's incarnations alone (owner tags)", fmt.Sprintf("%d/3", heldByD), "3/3")
		rep.fig(8, "Cluster B after a reconcile request: Ready=False InstanceClaimed naming the instance and \"another incarnation of <ns>/<name>\"", fmt.Sprintf("%d/3", claimedB), "3/3")
		rep.fig(8, "Cluster B: Stalled=True", fmt.Sprintf("%d/3", stalledB), "3/3")
		rep.fig(8, "Cluster B: reconcile request to all three InstanceClaimed", stalledAfter, "")
		rep.fig(8, "Cluster B: token Secrets written between D's start and B stalling", fmt.Sprintf("%d/3", changedSinceD), "")
		rep.fig(8, "Cluster B: token Secrets written in the 3s after B stalled (resourceVersion or token)", fmt.Sprintf("%d/3", len(rewritten)), "0/3")
		rep.fig(8, "Cluster B: token Secrets still holding A's tokens", fmt.Sprintf("%d/3", tokensKept), "3/3")
		rep.fig(8, "Cluster B: deleting "+rebuildAPIKey+" (deletionPolicy "+string(policy)+"): DELETE calls at the simulator", deletesB, "0")
		rep.fig(8, "Cluster B: its instance after the deletion", fmt.Sprintf("exists: %t, held by D alone: %t", survived, keptByD), "exists, held by D alone")
		rep.fig(8, "Cluster B: Orphaned Warning Event on the deleted object", orphanedNote != "", "true")
		rep.fig(8, "Cluster D: objects still Ready on the instances after B's deletion", fmt.Sprintf("%d/3", stillReadyInD), "3/3")
		rep.note(8, "B's Ready message once D adopted: `%s`.", claimedMessage)
		if orphanedNote != "" {
			rep.note(8, "The Warning Event of B's deletion: `%s`.", orphanedNote)
		}
		rep.addHeadline(8, fmt.Sprintf("two live prod clusters: D adopts %d/3, B stops %d/3 InstanceClaimed, B's deletion: %d deletes", sameIDsD, claimedB, deletesB))

		Expect(sameIDsD).To(Equal(3), "D on B's instance ids")
		Expect(callsD.creates).To(BeZero(), "creates during D")
		Expect(adoptedD).To(Equal(3), "Adopted Events in D")
		Expect(heldByD).To(Equal(3), "instances held by D alone")
		Expect(claimedB).To(Equal(3), "B's objects InstanceClaimed naming the instance")
		Expect(stalledB).To(Equal(3), "B's objects Stalled")
		Expect(rewritten).To(BeEmpty(), "B's token Secrets written after B stalled")
		Expect(tokensKept).To(Equal(3), "B's token Secrets")
		Expect(policy).To(Equal(elementsv1alpha1.DeletionPolicyDelete))
		Expect(deletesB).To(BeZero(), "DELETE calls for B's deletion")
		Expect(keptByD).To(BeTrue(), "instance %d after B's deletion", inA[rebuildAPIKey].id)
		Expect(orphanedNote).NotTo(BeEmpty(), "Orphaned Event on B's deleted object")
		Expect(stillReadyInD).To(Equal(3), "D still Ready")
	})
}
