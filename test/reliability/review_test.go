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
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// oomTemplate is the template of the review that made the operator allocate
// without bound: each variable doubles what the previous held, squared.
const oomTemplate = `{{ $a := replace "" .Token .Token }}{{ $b := replace "" $a $a }}{{ $c := replace "" $b $b }}ok`

// maxStatusMessage is what the operator promises a condition message stays
// under, whatever the instance it reports on holds.
const maxStatusMessage = 4096

// securityReview replays, against the running operator of point 7, each hole
// a hostile review found (and main fixed): a template that exhausts memory or
// probes a secret, a deletion steered by an import annotation, a create
// answered 409 after it was committed, a tag the platform's sanitising turns
// into another object's owner tag, a status too large to write, and another
// account's credentials under the same Secret name.
func securityReview(simOf func() *sim, opOf func() *harness.Operator, waitReason func(client.ObjectKey, string) *elementsv1alpha1.HubSpotInstance) {
	stalled := func(obj *elementsv1alpha1.HubSpotInstance) bool {
		c := meta.FindStatusCondition(obj.Status.Conditions, elementsv1alpha1.ConditionStalled)
		return c != nil && c.Status == metav1.ConditionTrue
	}
	withTemplate := func(ns, name string, s *sim, key, text string) *elementsv1alpha1.HubSpotInstance {
		obj := apiKeyObject(ns, name, s)
		obj.Spec.TokenSecret.Template = &elementsv1alpha1.TokenSecretTemplate{
			Data: map[string]elementsv1alpha1.TemplateText{key: elementsv1alpha1.TemplateText(text)}}
		return obj
	}
	// noCreates holds for a while: a refusal that came after the create
	// would show up as a create call carrying the object's owner tag.
	noCreates := func(s *sim, objs ...*elementsv1alpha1.HubSpotInstance) int {
		GinkgoHelper()
		total := func() int {
			n := 0
			for _, o := range objs {
				n += s.creates(o.OwnerTag()) + len(s.owned(o.OwnerTag()))
			}
			return n
		}
		Consistently(total).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(BeZero())
		return total()
	}
	byHand := func(s *sim, name string, tags ...string) cloudelements.Instance {
		GinkgoHelper()
		api, err := cloudelements.New(cloudelements.Options{Endpoint: s.Endpoint, UserSecret: s.UserSecret, OrganizationSecret: s.OrgSecret})
		Expect(err).NotTo(HaveOccurred())
		inst, err := api.CreateInstance(ctx, cloudelements.InstanceRequest{Element: cloudelements.ElementRef{Key: cloudelements.ElementKey},
			Name: name, Tags: tags, Configuration: map[string]string{cloudelements.ConfigAuthenticationType: "apiKey",
				cloudelements.ConfigHubSpotAPIKey: secretValue("hand-made-api-key")}})
		Expect(err).NotTo(HaveOccurred())
		return *inst
	}
	gone := func(objs ...*elementsv1alpha1.HubSpotInstance) {
		GinkgoHelper()
		Eventually(func(g Gomega) {
			for _, o := range objs {
				g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(o), &elementsv1alpha1.HubSpotInstance{}))).To(BeTrue(), o.Name)
			}
		}).WithTimeout(30 * time.Second).Should(Succeed())
	}

	It("refuses a token template that would exhaust memory, keeps serving its neighbour, and does not restart", func() {
		s, op := simOf(), opOf()
		ns := newNamespace("sec-tmpl-oom")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		_, peakBefore, err := op.Memory()
		Expect(err).NotTo(HaveOccurred())
		startsBefore := op.Starts()

		hostile := []*elementsv1alpha1.HubSpotInstance{
			withTemplate(ns, "bomb", s, "token", oomTemplate),
			// Within the grammar that is left, replace is the one function
			// that multiplies: the token put in for each of its own bytes.
			withTemplate(ns, "amplifier", s, "token", `{{ .Token | replace "a" .Token | replace "a" .Token }}`),
		}
		neighbour := withTemplate(ns, "neighbour", s, "authorization",
			"User {{ .UserSecret }}, Organization {{ .OrganizationSecret }}, Element {{ .Token }}")
		for _, o := range append(hostile, neighbour) {
			Expect(k8s.Create(ctx, o)).To(Succeed())
		}
		var msgs []string
		for _, o := range hostile {
			got := waitReason(client.ObjectKeyFromObject(o), elementsv1alpha1.ReasonInvalidConfiguration)
			msg := readyCondition(got).Message
			Expect(msg).To(ContainSubstring("spec.tokenSecret.template.data"))
			Expect(msg).To(ContainSubstring(`"token"`))
			Expect(stalled(got)).To(BeTrue(), "Stalled for %s", o.Name)
			msgs = append(msgs, msg)
		}
		ready := waitReason(client.ObjectKeyFromObject(neighbour), elementsv1alpha1.ReasonAvailable)
		insts := s.owned(ready.OwnerTag())
		Expect(insts).To(HaveLen(1))
		token := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: ready.TokenSecretName()}, token)).To(Succeed())
		Expect(string(token.Data["authorization"])).To(Equal("User " + s.UserSecret + ", Organization " + s.OrgSecret + ", Element " + insts[0].Token))
		creates := noCreates(s, hostile...)

		Expect(op.Running()).To(BeTrue(), "the operator process exited")
		_, peakAfter, err := op.Memory()
		Expect(err).NotTo(HaveOccurred())
		panics, _ := panicsAndRestarts(op)
		restarts := op.Starts() - startsBefore
		Expect(panics).To(BeZero())
		Expect(restarts).To(BeZero())
		// The templates' worst case is gigabytes; a reconcile of three objects is not.
		growth := int64(peakAfter) - int64(peakBefore)
		Expect(growth).To(BeNumerically("<", 64<<20))

		rep.fig(7, "Token template `"+oomTemplate+"`", "Ready=False InvalidConfiguration, Stalled: "+msgs[0], "refused naming spec.tokenSecret.template.data and the key")
		rep.fig(7, "Token template `{{ .Token | replace \"a\" .Token | replace \"a\" .Token }}`", "Ready=False InvalidConfiguration, Stalled: "+msgs[1], "refused")
		rep.fig(7, "Creates for the objects with those templates", creates, "0")
		rep.asserted(7, "Object beside them with an Authorization-header template", "Ready, Secret rendered")
		rep.fig(7, "Operator after the templates: running / restarts / reconcile panics / growth of peak RSS",
			fmt.Sprintf("yes / %d / %.0f / %d MiB", restarts, panics, max(growth, 0)>>20), "yes / 0 / 0 / < 64 MiB")
		rep.addHeadline(7, "memory-bomb templates refused, operator up")
	})

	It("refuses an unknown value and oracle constructs on a secret before any create", func() {
		s := simOf()
		ns := newNamespace("sec-tmpl-oracle")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		cases := []struct{ name, text string }{
			{"unknown", `{{ $.Nope }}`},
			{"if", `{{ if eq .UserSecret "a-guess" }}hit{{ end }}`},
			{"slice", `{{ slice .Token 0 1 }}`},
			{"printf", `{{ printf "%.1s" .OrganizationSecret }}`},
		}
		objs := make([]*elementsv1alpha1.HubSpotInstance, len(cases))
		for i, tc := range cases {
			objs[i] = withTemplate(ns, tc.name, s, "header", tc.text)
			Expect(k8s.Create(ctx, objs[i])).To(Succeed())
		}
		for i, tc := range cases {
			got := waitReason(client.ObjectKeyFromObject(objs[i]), elementsv1alpha1.ReasonInvalidConfiguration)
			msg := readyCondition(got).Message
			Expect(msg).To(ContainSubstring("spec.tokenSecret.template.data"))
			Expect(msg).To(ContainSubstring(`"header"`))
			Expect(stalled(got)).To(BeTrue(), "Stalled for %s", tc.name)
			Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: got.TokenSecretName()}, &corev1.Secret{}))).To(BeTrue())
			rep.fig(7, "Token template `"+tc.text+"`", "Ready=False InvalidConfiguration, Stalled: "+msg, "refused before any create")
		}
		creates := noCreates(s, objs...)
		rep.fig(7, "Create calls at the simulator for those objects", creates, "0")
		rep.addHeadline(7, fmt.Sprintf("%d probing templates refused before any create", len(cases)))
	})

	It("deletes no instance an import annotation names, whether the finalizer was written by the user or left by a refused create", func() {
		s := startSim("sec-finalizer")
		theirs, ns := newNamespace("sec-theirs"), newNamespace("sec-wrecker")
		for _, n := range []string{theirs, ns} {
			createAccount(n, "cloud-elements", s)
			createAPIKey(n, "hubspot-key")
		}
		victim := apiKeyObject(theirs, "victim", s)
		Expect(k8s.Create(ctx, victim)).To(Succeed())
		victimReady := waitReason(client.ObjectKeyFromObject(victim), elementsv1alpha1.ReasonAvailable)
		id := victimReady.Status.InstanceID
		naming := map[string]string{elementsv1alpha1.InstanceIDAnnotation: strconv.FormatInt(id, 10)}
		deletesBefore := s.Total(simulator.OpDelete)

		// The fault stays until the end: a create that got through after
		// the annotation was added would make an instance the object owns,
		// whose deletion would be right.
		s.SetFault(simulator.OpCreate, simulator.Fault{FailNext: 1000, Status: 400})
		DeferCleanup(s.ClearFaults)

		By("the operator's finalizer written by the user, deleted before anything is recorded")
		userFinalizer := apiKeyObject(ns, "user-finalizer", s)
		userFinalizer.Annotations = naming
		userFinalizer.Finalizers = []string{elementsv1alpha1.Finalizer}
		Expect(k8s.Create(ctx, userFinalizer)).To(Succeed())
		Expect(k8s.Delete(ctx, userFinalizer)).To(Succeed())

		By("a create refused with 400, then the annotation added, then deleted")
		refused := apiKeyObject(ns, "refused-then-named", s)
		Expect(k8s.Create(ctx, refused)).To(Succeed())
		got := waitReason(client.ObjectKeyFromObject(refused), elementsv1alpha1.ReasonInvalidConfiguration)
		Expect(got.Finalizers).To(ContainElement(elementsv1alpha1.Finalizer))
		if got.Annotations == nil {
			got.Annotations = map[string]string{}
		}
		got.Annotations[elementsv1alpha1.InstanceIDAnnotation] = naming[elementsv1alpha1.InstanceIDAnnotation]
		Expect(k8s.Update(ctx, got)).To(Succeed())
		var importMsg string
		Eventually(func(g Gomega) {
			now := &elementsv1alpha1.HubSpotInstance{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(refused), now)).To(Succeed())
			g.Expect(readyCondition(now)).NotTo(BeNil())
			importMsg = readyCondition(now).Message
			g.Expect(importMsg).To(ContainSubstring("belongs to " + theirs + "/victim"))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(k8s.Delete(ctx, got)).To(Succeed())

		gone(userFinalizer, refused)
		Consistently(func() bool { _, ok := s.Instance(id); return ok }).WithTimeout(2*time.Second).Should(BeTrue(),
			"instance %d of %s/victim deleted", id, theirs)
		deletes := s.Total(simulator.OpDelete) - deletesBefore
		Expect(deletes).To(BeZero())
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(victim), victimReady)).To(Succeed())
		Expect(isReady(victimReady)).To(BeTrue(), "the victim stays Ready")

		rep.configured(7, "Objects deleted with the operator's finalizer and an import annotation naming another namespace's instance (user-written finalizer; after a refused create)", 2)
		rep.fig(7, "Import annotation added after the refused create", "Ready=False "+importMsg, "refused: another object's")
		rep.fig(7, "Of that instance: deleted / DELETE calls sent", fmt.Sprintf("no / %d", deletes), "no / 0")
		rep.addHeadline(7, "0 instances deleted through an import annotation")
	})

	It("creates exactly one instance when the platform commits a create and answers 409", func() {
		s := startSim("sec-409")
		ns := newNamespace("sec-409")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		s.SetFault(simulator.OpCreate, simulator.Fault{CommitFailNext: 1, CommitFailStatus: 409,
			CommitFailBody: `{"message":"Instance is being created"}`})
		obj := apiKeyObject(ns, "conflicted", s)
		started := time.Now()
		Expect(k8s.Create(ctx, obj)).To(Succeed())
		ready := waitReason(client.ObjectKeyFromObject(obj), elementsv1alpha1.ReasonAvailable)
		took := time.Since(started)
		Expect(s.CommittedFailed(simulator.OpCreate)).To(Equal(1), "the 409 was not served")
		Consistently(func() int { return len(s.owned(ready.OwnerTag())) }).WithTimeout(2 * time.Second).Should(Equal(1))
		insts := s.owned(ready.OwnerTag())
		Expect(ready.Status.InstanceID).To(Equal(insts[0].ID))
		creates := s.creates(ready.OwnerTag())
		Expect(creates).To(Equal(1))

		rep.fig(7, "Create committed by the platform and answered 409 {\"message\":\"Instance is being created\"}: instances / create calls",
			fmt.Sprintf("%d / %d", len(insts), creates), "1 / 1")
		rep.fig(7, "Time to Ready after the 409 (the create grace period, then the owner-tag lookup adopts it)", took, "")
		rep.addHeadline(7, "409 after commit: 1 instance")
	})

	It("refuses at admission a tag the platform's sanitising would turn into another object's owner tag", func() {
		s := simOf()
		ns := newNamespace("sec-smuggle")
		ownerTag := elementsv1alpha1.OwnerTagOf("ns-b", "crm", "5f1b7c1e-0000-4000-8000-0000000000cc")
		const want = "tags must not contain '<', '>' or '&'"
		smuggled := []string{
			"<i></i>" + ownerTag,
			"k8s&#58;" + strings.TrimPrefix(ownerTag, elementsv1alpha1.OwnerTagPrefix),
		}
		refused := 0
		var msg string
		for i, tag := range smuggled {
			obj := apiKeyObject(ns, fmt.Sprintf("smuggler-%d", i), s)
			obj.Spec.Tags = []string{tag}
			err := k8s.Create(ctx, obj)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "creating with tag %q: %v", tag, err)
			Expect(err.Error()).To(ContainSubstring(want))
			msg = err.Error()
			refused++
		}
		By("nor can an admitted object take one on later")
		later := apiKeyObject(ns, "smuggler-later", s)
		Expect(k8s.Create(ctx, later)).To(Succeed())
		// The operator writes the object too (its finalizer): only a refusal
		// of the tag counts, not a conflict with that write.
		var err error
		for range 20 {
			now := &elementsv1alpha1.HubSpotInstance{}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(later), now)).To(Succeed())
			now.Spec.Tags = []string{smuggled[0]}
			if err = k8s.Update(ctx, now); !apierrors.IsConflict(err) {
				break
			}
		}
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "updating to a smuggled tag: %v", err)
		Expect(err.Error()).To(ContainSubstring(want))
		refused++

		rep.fig(7, "Tags smuggling an owner tag past admission (`<i></i>k8s:…`, `k8s&#58;…`; create and update)", fmt.Sprintf("%d of %d refused", refused, len(smuggled)+1), "all refused")
		rep.note(7, "Admission answer to a tag the platform's sanitising would turn into another object's owner tag: `%s`.", msg)
	})

	It("adopts nothing after an interrupted create when the owner-tag lookup finds an instance another object also claims, or several", func() {
		s := startSim("sec-lookup")
		ns := newNamespace("sec-lookup")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		// A 500 commits nothing here, but the operator cannot know that: it
		// waits out the grace period, then looks for its owner tag, and
		// meets what was planted meanwhile.
		s.SetFault(simulator.OpCreate, simulator.Fault{FailNext: 2, Status: 500})
		claimed, several := apiKeyObject(ns, "claimed", s), apiKeyObject(ns, "several", s)
		for _, o := range []*elementsv1alpha1.HubSpotInstance{claimed, several} {
			Expect(k8s.Create(ctx, o)).To(Succeed())
		}
		Eventually(func() int { return s.Counts()[simulator.OpCreate][500] }).WithTimeout(30 * time.Second).Should(Equal(2))
		Expect(s.creates(claimed.OwnerTag())).To(Equal(1))
		Expect(s.creates(several.OwnerTag())).To(Equal(1))
		planted := byHand(s, "planted", claimed.OwnerTag(), elementsv1alpha1.OwnerTagOf("ns-a", "crm", "5f1b7c1e-0000-4000-8000-0000000000dd"))
		one, two := byHand(s, "one", several.OwnerTag()), byHand(s, "two", several.OwnerTag())

		gotClaimed := waitReason(client.ObjectKeyFromObject(claimed), elementsv1alpha1.ReasonInvalidConfiguration)
		gotSeveral := waitReason(client.ObjectKeyFromObject(several), elementsv1alpha1.ReasonInvalidConfiguration)
		claimedMsg, severalMsg := readyCondition(gotClaimed).Message, readyCondition(gotSeveral).Message
		Expect(claimedMsg).To(ContainSubstring(strconv.FormatInt(planted.ID, 10)))
		Expect(severalMsg).To(ContainSubstring(strconv.FormatInt(one.ID, 10)))
		Expect(severalMsg).To(ContainSubstring(strconv.FormatInt(two.ID, 10)))
		for _, got := range []*elementsv1alpha1.HubSpotInstance{gotClaimed, gotSeveral} {
			Expect(stalled(got)).To(BeTrue(), "Stalled for %s", got.Name)
			Expect(got.Status.InstanceID).To(BeZero())
			Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: got.TokenSecretName()}, &corev1.Secret{}))).To(BeTrue())
		}
		// The hand-made creates carried the owner tags too: only the operator's one each.
		Consistently(func() []int {
			return []int{s.creates(claimed.OwnerTag()), s.creates(several.OwnerTag())}
		}).WithTimeout(2 * time.Second).Should(Equal([]int{2, 3}))

		By("deleting them leaves the planted instance alone")
		for _, o := range []*elementsv1alpha1.HubSpotInstance{gotClaimed, gotSeveral} {
			Expect(k8s.Delete(ctx, o)).To(Succeed())
		}
		gone(claimed, several)
		_, plantedKept := s.Instance(planted.ID)
		Expect(plantedKept).To(BeTrue(), "the instance another owner tag claims was deleted")

		rep.fig(7, "Interrupted create; the owner-tag lookup finds one instance also carrying another object's owner tag", "Ready=False InvalidConfiguration, Stalled: "+claimedMsg, "adopts nothing, names the id")
		rep.fig(7, "Interrupted create; the owner-tag lookup finds two instances", "Ready=False InvalidConfiguration, Stalled: "+severalMsg, "adopts nothing, names both")
		rep.asserted(7, "Instances adopted by those lookups / further creates / doubly-tagged instance deleted with its object", "0 / 0 / no")
		rep.addHeadline(7, "owner-tag lookups adopt no contested instance")
	})

	It("writes the status of an observed instance with 400 long tags, bounded", func() {
		s := simOf()
		ns := newNamespace("sec-bigstatus")
		createAccount(ns, "cloud-elements", s)
		tags := make([]string, 400)
		for i := range tags {
			tags[i] = fmt.Sprintf("tag-%03d-%s", i, strings.Repeat("x", 200))
		}
		inst := byHand(s, "tagged-to-the-brim", tags...)
		obj := apiKeyObject(ns, "observer", s)
		obj.Spec.ManagementPolicy = elementsv1alpha1.ManagementPolicyObserveOnly
		obj.Annotations = map[string]string{elementsv1alpha1.InstanceIDAnnotation: strconv.FormatInt(inst.ID, 10)}
		Expect(k8s.Create(ctx, obj)).To(Succeed())
		got := waitReason(client.ObjectKeyFromObject(obj), elementsv1alpha1.ReasonInstanceDrifted)
		msg := readyCondition(got).Message
		Expect(len(msg)).To(BeNumerically("<=", maxStatusMessage))
		Expect(msg).To(ContainSubstring("… and 390 more"), "the 400 extra tags, listed 10 at most")
		Expect(len(got.Status.Drift)).To(BeNumerically("<=", 10))
		Expect(got.Status.InstanceID).To(Equal(inst.ID))
		status, err := json.Marshal(got.Status)
		Expect(err).NotTo(HaveOccurred())
		refusedWrites := countEvents(ns, "StatusRefused")
		Expect(refusedWrites).To(BeZero())
		Expect(s.creates(got.OwnerTag())).To(BeZero())

		rep.fig(7, "ObserveOnly over an instance with 400 tags of 208 characters: Ready reason / message bytes / status.drift entries",
			fmt.Sprintf("%s / %d / %d", readyCondition(got).Reason, len(msg), len(got.Status.Drift)), fmt.Sprintf("written / ≤ %d / ≤ 10", maxStatusMessage))
		rep.fig(7, "That object's whole status (JSON bytes) / StatusRefused Events", fmt.Sprintf("%d / %d", len(status), refusedWrites), "– / 0")
		rep.addHeadline(7, fmt.Sprintf("status over 400 long tags written (%d-byte message)", len(msg)))
	})

	It("creates nothing and holds the deletion when another account's credentials replace the account's in its Secret", func() {
		s := startSim("sec-account")
		ns := newNamespace("sec-account")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		obj := apiKeyObject(ns, "switched", s)
		Expect(k8s.Create(ctx, obj)).To(Succeed())
		ready := waitReason(client.ObjectKeyFromObject(obj), elementsv1alpha1.ReasonAvailable)
		Expect(ready.Status.InstanceAccount).NotTo(BeEmpty())
		id, tag := ready.Status.InstanceID, ready.OwnerTag()
		createsBefore := s.creates(tag)

		// One simulator serves one account: new secrets, with the instance
		// gone, is what the platform shows another account's credentials.
		user, org := secretValue("ce-user-secret-other-account"), secretValue("ce-org-secret-other-account")
		s.RotateAccountSecrets(user, org)
		Expect(s.Remove(id)).To(Succeed())
		creds := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cloud-elements"}, creds)).To(Succeed())
		creds.Data = map[string][]byte{"user-secret": []byte(user), "organization-secret": []byte(org)}
		Expect(k8s.Update(ctx, creds)).To(Succeed())

		got := waitReason(client.ObjectKeyFromObject(obj), elementsv1alpha1.ReasonAccountChanged)
		msg := readyCondition(got).Message
		Expect(stalled(got)).To(BeTrue())
		Expect(got.Status.InstanceID).To(Equal(id))
		Consistently(func() int { return s.creates(tag) - createsBefore }).WithTimeout(2 * time.Second).Should(BeZero())
		Expect(s.Instances()).To(BeEmpty())

		By("deleting it waits: the instance may still live in the first account")
		deletesBefore := s.Total(simulator.OpDelete)
		Expect(k8s.Delete(ctx, got)).To(Succeed())
		Consistently(func(g Gomega) {
			now := &elementsv1alpha1.HubSpotInstance{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), now)).To(Succeed())
			g.Expect(now.DeletionTimestamp).NotTo(BeNil())
		}).WithTimeout(3 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
		Eventually(func() error {
			now := &elementsv1alpha1.HubSpotInstance{}
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), now); err != nil {
				return err
			}
			now.Spec.DeletionPolicy = elementsv1alpha1.DeletionPolicyOrphan
			return k8s.Update(ctx, now)
		}).WithTimeout(10 * time.Second).Should(Succeed())
		gone(obj)
		creates, deletes := s.creates(tag)-createsBefore, s.Total(simulator.OpDelete)-deletesBefore

		rep.fig(7, "Another account's values in the same credentials Secret, the recorded id not found there", "Ready=False AccountChanged, Stalled: "+msg, "AccountChanged, Stalled")
		rep.fig(7, "Creates after the switch / DELETE calls / deletion held until deletionPolicy Orphan", fmt.Sprintf("%d / %d / yes", creates, deletes), "0 / 0 / yes")
		rep.addHeadline(7, "another account's credentials: AccountChanged, 0 creates")
	})
}

// Limits of the holes-left specs: every loop below is bounded by one of
// these, so each spec ends in well under a minute whatever the operator does.
const (
	floodWorkers   = 6
	floodPerWorker = 1500
	floodFor       = 15 * time.Second
	// The person consents once a third of the flood has been answered (or
	// floodGenuineBy has passed, on a slow machine): in its middle, whatever
	// the machine's speed.
	floodGenuineBy = 5 * time.Second

	rotations = 300
	// rotationWait bounds the wait for one rotated value to reach the platform.
	rotationWait = 2 * time.Second

	listTimeout = 3 * time.Second
	// listPageLatency makes one page of the listing quick enough for the
	// per-request timeout (listRequestTimeout) and a listing of listPages
	// pages too slow for the listing's deadline.
	listPageLatency    = 2 * time.Second
	listRequestTimeout = 5 * time.Second
	listPages          = 3
	// listFailures is how many failed listings (and so backoffs) are waited for.
	listFailures = 3
)

// securityReviewRest replays the rest of the second review's holes: a flood
// of forged callbacks around a genuine consent, credentials rotated many
// times, ownership re-checked and one-winner imports, a listing with a
// deadline, and (in point 1) two writers under load.
func securityReviewRest(simOf func() *sim, opOf func() *harness.Operator, callbackOf func() string,
	waitReason func(client.ObjectKey, string) *elementsv1alpha1.HubSpotInstance) {
	statusesOf := func(m map[int]int) string {
		codes := make([]int, 0, len(m))
		for c := range m {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		parts := make([]string, len(codes))
		for i, c := range codes {
			parts[i] = fmt.Sprintf("%d × %d", m[c], c)
		}
		return strings.Join(parts, ", ")
	}
	unclaimed := func(s *sim, name string) cloudelements.Instance {
		GinkgoHelper()
		api, err := cloudelements.New(cloudelements.Options{Endpoint: s.Endpoint, UserSecret: s.UserSecret, OrganizationSecret: s.OrgSecret})
		Expect(err).NotTo(HaveOccurred())
		inst, err := api.CreateInstance(ctx, cloudelements.InstanceRequest{Element: cloudelements.ElementRef{Key: cloudelements.ElementKey},
			Name: name, Configuration: map[string]string{cloudelements.ConfigAuthenticationType: "apiKey",
				cloudelements.ConfigHubSpotAPIKey: secretValue("hand-made-api-key")}})
		Expect(err).NotTo(HaveOccurred())
		return *inst
	}
	ownerTags := func(s *sim, id int64) []string {
		inst, ok := s.Instance(id)
		Expect(ok).To(BeTrue(), "instance %d gone", id)
		var out []string
		for _, t := range inst.Tags {
			if elementsv1alpha1.IsOwnerTag(t) {
				out = append(out, t)
			}
		}
		return out
	}

	It("answers a genuine consent 2xx in the middle of a forged-callback flood, and the object becomes Ready", func() {
		s, op, callbackAddr := simOf(), opOf(), callbackOf()
		ns := newNamespace("sec-flood")
		waiting, authorizationURL := awaitingConsent(ns, s, "http://"+callbackAddr+callback.Path, waitReason)
		key := client.ObjectKeyFromObject(waiting)

		otherKey := make([]byte, 32)
		_, _ = rand.Read(otherKey)
		forger, err := oauthstate.NewSigner(otherKey, 0)
		Expect(err).NotTo(HaveOccurred())
		forged, _, err := forger.Issue(ns, waiting.Name, string(waiting.UID))
		Expect(err).NotTo(HaveOccurred())
		forgedURL := "http://" + callbackAddr + callback.Path + "?" + url.Values{"code": {"forged-code"}, "state": {forged}}.Encode()
		noRedirect := &http.Client{Timeout: 10 * time.Second,
			Transport:     &http.Transport{MaxIdleConnsPerHost: floodWorkers + 2},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		DeferCleanup(noRedirect.CloseIdleConnections)

		floodCtx, stopFlood := context.WithTimeout(ctx, floodFor)
		defer stopFlood()
		var (
			mu                     sync.Mutex
			forgedAnswers          = map[int]int{}
			errs                   int
			firstErr               string
			wg                     sync.WaitGroup
			answered, afterGenuine atomic.Int64
			genuineAnswered        atomic.Bool
		)
		started := time.Now()
		for range floodWorkers {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				mine, failed := map[int]int{}, 0
				for i := 0; i < floodPerWorker && floodCtx.Err() == nil; i++ {
					req, _ := http.NewRequestWithContext(floodCtx, http.MethodGet, forgedURL, nil)
					resp, err := noRedirect.Do(req)
					if err != nil {
						if failed == 0 {
							mu.Lock()
							firstErr = cmp.Or(firstErr, err.Error())
							mu.Unlock()
						}
						failed++
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mine[resp.StatusCode]++
					answered.Add(1)
					if genuineAnswered.Load() {
						afterGenuine.Add(1)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				for c, n := range mine {
					forgedAnswers[c] += n
				}
				errs += failed
			}()
		}

		By("the person consents while the flood runs")
		Eventually(answered.Load).WithTimeout(floodGenuineBy).WithPolling(10 * time.Millisecond).Should(BeNumerically(">=", floodWorkers*floodPerWorker/3))
		genuineAfter, answeredBefore := time.Since(started), answered.Load()
		resp, err := noRedirect.Get(authorizationURL)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusFound))
		genuine := resp.Header.Get("Location")
		Expect(genuine).To(HavePrefix("http://" + callbackAddr + callback.Path))
		consentAt := time.Now()
		resp, err = noRedirect.Get(genuine)
		Expect(err).NotTo(HaveOccurred())
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		genuineStatus := resp.StatusCode
		genuineAnswered.Store(true)
		genuineDuring := floodCtx.Err() == nil
		ready := waitReason(key, elementsv1alpha1.ReasonAvailable)
		toReady := time.Since(consentAt)
		stopFlood()
		wg.Wait()
		floodTook := time.Since(started)

		Expect(genuineDuring).To(BeTrue(), "the genuine callback must be answered while the flood still runs")
		Expect(afterGenuine.Load()).To(BeNumerically(">", 0), "the flood must go on after the genuine callback")
		Expect(genuineStatus).To(BeNumerically(">=", 200))
		Expect(genuineStatus).To(BeNumerically("<", 300), "genuine callback: %s", page)
		Expect(s.owned(ready.OwnerTag())).To(HaveLen(1))
		total := 0
		for c, n := range forgedAnswers {
			Expect([]int{http.StatusTooManyRequests, http.StatusForbidden}).To(ContainElement(c), "a forged callback answered %d", c)
			total += n
		}
		Expect(forgedAnswers[http.StatusTooManyRequests]).To(BeNumerically(">", 0), "the flood must have met the limit")
		Expect(op.Running()).To(BeTrue())

		rep.fig(7, fmt.Sprintf("Forged-state callbacks from %d goroutines over %s (≤ %d each): answers by status / transport errors",
			floodWorkers, floodTook.Round(100*time.Millisecond), floodPerWorker), fmt.Sprintf("%d: %s / %d", total, statusesOf(forgedAnswers), errs), "429 or 403 only")
		if firstErr != "" {
			rep.note(7, "Forged-callback flood: the first transport error (the client's own, under the flood's load): `%s`.", firstErr)
		}
		rep.fig(7, "Genuine consent in the middle of the flood: forged answers before / after it (at)",
			fmt.Sprintf("%d / %d (%s)", answeredBefore, afterGenuine.Load(), genuineAfter.Round(10*time.Millisecond)), "> 0 / > 0")
		rep.fig(7, "Genuine consent: callback answer / time from consent to Ready", fmt.Sprintf("%d / %s", genuineStatus, toReady.Round(10*time.Millisecond)), "2xx / Ready")
		rep.addHeadline(7, fmt.Sprintf("genuine consent answered %d amid %d forged callbacks", genuineStatus, total))
	})

	It("keeps working while one object's credentials are rotated 300 times, and recovers when the right ones return", func() {
		s := startSim("sec-rotate")
		op := opOf()
		ns, other := newNamespace("sec-rotate"), newNamespace("sec-rotate-neighbour")
		for _, n := range []string{ns, other} {
			createAccount(n, "cloud-elements", s)
			createAPIKey(n, "hubspot-key")
		}
		rotated, neighbour := apiKeyObject(ns, "rotated", s), apiKeyObject(other, "neighbour", s)
		for _, o := range []*elementsv1alpha1.HubSpotInstance{rotated, neighbour} {
			Expect(k8s.Create(ctx, o)).To(Succeed())
		}
		waitReason(client.ObjectKeyFromObject(rotated), elementsv1alpha1.ReasonAvailable)
		waitReason(client.ObjectKeyFromObject(neighbour), elementsv1alpha1.ReasonAvailable)
		rssBefore, peakBefore, err := op.Memory()
		Expect(err).NotTo(HaveOccurred())

		unauthorized := func() int {
			n := 0
			for _, byCode := range s.Counts() {
				n += byCode[http.StatusUnauthorized]
			}
			return n
		}
		credsKey := client.ObjectKey{Namespace: ns, Name: "cloud-elements"}
		write := func(user, org string) {
			GinkgoHelper()
			Eventually(func() error {
				creds := &corev1.Secret{}
				if err := k8s.Get(ctx, credsKey, creds); err != nil {
					return err
				}
				creds.Data = map[string][]byte{"user-secret": []byte(user), "organization-secret": []byte(org)}
				return k8s.Update(ctx, creds)
			}).WithTimeout(10 * time.Second).Should(Succeed())
		}
		started, reached := time.Now(), 0
		for i := range rotations {
			before := unauthorized()
			// Values no account has: each makes an account key of its own.
			user, org := publicValue(fmt.Sprintf("rotated-user-%03d", i)), publicValue(fmt.Sprintf("rotated-org-%03d", i))
			if i%30 == 0 {
				secrets.add("rotated account secret", user)
			}
			write(user, org)
			deadline := time.Now().Add(rotationWait)
			for unauthorized() == before && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if unauthorized() > before {
				reached++
			}
		}
		rotating := time.Since(started)
		neighbourNow := &elementsv1alpha1.HubSpotInstance{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(neighbour), neighbourNow)).To(Succeed())
		Expect(isReady(neighbourNow)).To(BeTrue(), "the neighbour stays Ready")

		By("the right values return")
		write(s.UserSecret, s.OrgSecret)
		recoveredAt := time.Now()
		waitReason(client.ObjectKeyFromObject(rotated), elementsv1alpha1.ReasonAvailable)
		recovery := time.Since(recoveredAt)
		Expect(op.Running()).To(BeTrue())
		rssAfter, peakAfter, err := op.Memory()
		Expect(err).NotTo(HaveOccurred())
		growth := int64(rssAfter) - int64(rssBefore)
		Expect(reached).To(BeNumerically(">=", rotations*9/10), "most rotations must reach the platform")
		Expect(growth).To(BeNumerically("<", 64<<20))

		rep.fig(7, fmt.Sprintf("Credentials Secret rewritten %d times, each with values of no account: rotations that reached the platform (401) / time", rotations),
			fmt.Sprintf("%d / %s", reached, rotating.Round(100*time.Millisecond)), fmt.Sprintf("≥ %d", rotations*9/10))
		rep.fig(7, "After the rotations: neighbour on the same platform Ready / rotated object Ready again once the right values return (after)",
			fmt.Sprintf("yes / yes (%s)", recovery.Round(10*time.Millisecond)), "yes / yes")
		rep.fig(7, "Operator RSS before / after the rotations (peak before / after); growth",
			fmt.Sprintf("%d / %d MiB (%d / %d MiB); %d MiB", rssBefore>>20, rssAfter>>20, peakBefore>>20, peakAfter>>20, growth>>20),
			"growth < 64 MiB; eviction of limiters and retry budgets once full and idle 5 minutes is proven by the unit tests "+
				"TestRotatingKeysStaysBounded, TestRotatedCredentialsLeaveNoLimiterBehind and TestRetryBudgetsForgetAccountsNoLongerUsed (1,000 rotations each): "+
				"the suite cannot wait out the idle window")
		rep.addHeadline(7, fmt.Sprintf("%d credential rotations: RSS %+d MiB, object recovers", rotations, growth>>20))
	})

	It("re-checks an observer's ownership after an import, and gives an instance two importers race for to exactly one", func() {
		s := startSim("sec-claims")
		ns := newNamespace("sec-claims")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		naming := func(id int64) map[string]string {
			return map[string]string{elementsv1alpha1.InstanceIDAnnotation: strconv.FormatInt(id, 10)}
		}

		By("an observer, then an importer of the same instance")
		observed := unclaimed(s, "observed")
		observer := apiKeyObject(ns, "observer", s)
		observer.Spec.ManagementPolicy = elementsv1alpha1.ManagementPolicyObserveOnly
		observer.Annotations = naming(observed.ID)
		Expect(k8s.Create(ctx, observer)).To(Succeed())
		// The hand-made instance differs from the spec (name, tags): an
		// observer reports that as drift and changes nothing, which is
		// observing all the same.
		observing := &elementsv1alpha1.HubSpotInstance{}
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(observer), observing)).To(Succeed())
			g.Expect(observing.Status.InstanceID).To(Equal(observed.ID))
			g.Expect(readyCondition(observing)).NotTo(BeNil())
			g.Expect(readyCondition(observing).Reason).To(BeElementOf(elementsv1alpha1.ReasonAvailable, elementsv1alpha1.ReasonInstanceDrifted))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		observingReason := readyCondition(observing).Reason
		importer := apiKeyObject(ns, "importer", s)
		importer.Annotations = naming(observed.ID)
		Expect(k8s.Create(ctx, importer)).To(Succeed())
		imported := waitReason(client.ObjectKeyFromObject(importer), elementsv1alpha1.ReasonAvailable)
		Expect(imported.Status.InstanceID).To(Equal(observed.ID))
		Expect(ownerTags(s, observed.ID)).To(Equal([]string{imported.OwnerTag()}))

		Eventually(func() error {
			now := &elementsv1alpha1.HubSpotInstance{}
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(observer), now); err != nil {
				return err
			}
			now.Annotations[elementsv1alpha1.ReconcileRequestAnnotation] = time.Now().Format(time.RFC3339Nano)
			return k8s.Update(ctx, now)
		}).WithTimeout(10 * time.Second).Should(Succeed())
		claimed := waitReason(client.ObjectKeyFromObject(observer), elementsv1alpha1.ReasonInstanceClaimed)
		claimedMsg := readyCondition(claimed).Message
		Expect(claimedMsg).To(ContainSubstring(ns + "/importer"))
		tokenKey := client.ObjectKey{Namespace: ns, Name: observing.TokenSecretName()}
		token := &corev1.Secret{}
		tokenErr := k8s.Get(ctx, tokenKey, token)
		if tokenErr == nil {
			Consistently(func() string {
				now := &corev1.Secret{}
				if err := k8s.Get(ctx, tokenKey, now); err != nil {
					return err.Error()
				}
				return now.ResourceVersion
			}).WithTimeout(3 * time.Second).WithPolling(200 * time.Millisecond).Should(Equal(token.ResourceVersion))
		}

		By("two importers of one instance at the same moment, the platform's GETs slowed by a second")
		contested := unclaimed(s, "contested")
		s.SetFault(simulator.OpGet, simulator.Fault{Latency: time.Second})
		DeferCleanup(s.ClearFaults)
		racers := []*elementsv1alpha1.HubSpotInstance{apiKeyObject(ns, "racer-a", s), apiKeyObject(ns, "racer-b", s)}
		for _, o := range racers {
			o.Annotations = naming(contested.ID)
		}
		parallel(len(racers), len(racers), func(i int) error { return k8s.Create(ctx, racers[i]) })
		var winner, loser *elementsv1alpha1.HubSpotInstance
		Eventually(func(g Gomega) {
			winner, loser = nil, nil
			for _, o := range racers {
				now := &elementsv1alpha1.HubSpotInstance{}
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(o), now)).To(Succeed())
				c := readyCondition(now)
				g.Expect(c).NotTo(BeNil())
				g.Expect(now.Status.ObservedGeneration).To(Equal(now.Generation))
				switch {
				case isReady(now):
					winner = now
				case c.Reason == elementsv1alpha1.ReasonInvalidConfiguration || c.Reason == elementsv1alpha1.ReasonInstanceClaimed:
					g.Expect(meta.IsStatusConditionTrue(now.Status.Conditions, elementsv1alpha1.ConditionStalled)).To(BeTrue(), now.Name)
					loser = now
				}
			}
			g.Expect(winner).NotTo(BeNil(), "one racer Ready")
			g.Expect(loser).NotTo(BeNil(), "the other Stalled")
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(winner.Status.InstanceID).To(Equal(contested.ID))
		Consistently(func() []string { return ownerTags(s, contested.ID) }).WithTimeout(2 * time.Second).Should(Equal([]string{winner.OwnerTag()}))
		loserMsg := readyCondition(loser).Message
		slowGets := s.Total(simulator.OpGet)

		rep.fig(7, "ObserveOnly object over an untagged hand-made instance, before the import", "Ready reason "+observingReason, "observing (Available or InstanceDrifted)")
		rep.fig(7, "ObserveOnly object whose instance a Full object imported, at its next requested reconcile",
			fmt.Sprintf("Ready=False %s: %s", readyCondition(claimed).Reason, claimedMsg), "InstanceClaimed naming the importer")
		tokenRow := "none written"
		if tokenErr == nil {
			tokenRow = "not rewritten (resourceVersion unchanged)"
		}
		rep.fig(7, "The observer's token Secret after that", tokenRow, "not rewritten")
		rep.fig(7, "Two Full objects importing one untagged instance at once, GETs slowed by 1s: Ready / Stalled / owner tags on the instance",
			fmt.Sprintf("%s / %s (%s: %s) / %d", winner.Name, loser.Name, readyCondition(loser).Reason, loserMsg, len(ownerTags(s, contested.ID))), "1 / 1 / 1")
		rep.fig(7, "GET calls at the simulator in that spec (each slowed 1s)", slowGets, "")
		rep.addHeadline(7, "ownership re-checked (InstanceClaimed), import race: 1 winner")
	})

	It("ends every account listing at its deadline, backs the account off, and sends no GET per object instead", func() {
		s := startSim("sec-listdeadline")
		ns := newNamespace("sec-listdeadline")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		objs := createObjects(ns, s, "listed", 3)
		waitAllReady(ns, len(objs), time.Minute)

		// Instances enough for listPages pages of 200, beside the objects'.
		api, err := cloudelements.New(cloudelements.Options{Endpoint: s.Endpoint, UserSecret: s.UserSecret, OrganizationSecret: s.OrgSecret})
		Expect(err).NotTo(HaveOccurred())
		filler := (listPages-1)*200 + 50
		parallel(filler, 8, func(i int) error {
			_, err := api.CreateInstance(ctx, cloudelements.InstanceRequest{Element: cloudelements.ElementRef{Key: cloudelements.ElementKey},
				Name: fmt.Sprintf("filler-%03d", i), Tags: []string{elementsv1alpha1.ManagedTag},
				Configuration: map[string]string{cloudelements.ConfigAuthenticationType: "apiKey", cloudelements.ConfigHubSpotAPIKey: "filler"}})
			return err
		})
		s.SetFault(simulator.OpList, simulator.Fault{Latency: listPageLatency})
		DeferCleanup(s.ClearFaults)
		getsBefore := s.Total(simulator.OpGet)
		firstBefore, laterBefore := s.pagesListed()

		// A process of its own, which has verified none of them: each waits
		// for the account's first listing, which cannot finish.
		flags := []string{"--watch-namespaces=" + ns, "--leader-elect=false", "--cloud-elements-list-timeout=" + listTimeout.String(),
			"--cloud-elements-timeout=" + listRequestTimeout.String()}
		lop := newOperator("sec-listdeadline", flags...)
		startOperator(lop)
		dumpOnFailure(lop)
		var fails []listFailure
		Eventually(func() int {
			fails = readListFailures(lop.LogPath)
			return len(fails)
		}).WithTimeout(45 * time.Second).WithPolling(500 * time.Millisecond).Should(BeNumerically(">=", listFailures))
		gets := s.Total(simulator.OpGet) - getsBefore
		first, later := s.pagesListed()
		Expect(lop.Stop()).To(Succeed())

		var retries, gaps []string
		for i, f := range fails[:listFailures] {
			Expect(f.err).To(ContainSubstring("listing deadline exceeded"))
			Expect(f.err).To(ContainSubstring("not finished within " + listTimeout.String()))
			retries = append(retries, f.retryIn.String())
			if i > 0 {
				gap := f.at.Sub(fails[i-1].at)
				gaps = append(gaps, gap.Round(100*time.Millisecond).String())
				Expect(gap).To(BeNumerically(">=", fails[i-1].retryIn), "a listing started before its backoff ended")
				Expect(f.retryIn).To(BeNumerically(">", fails[i-1].retryIn), "the backoff grows")
			}
		}
		Expect(gets).To(BeZero(), "a failed listing never falls back to a GET per object")
		Expect(later-laterBefore).To(BeNumerically(">", 0), "the listings must have reached a later page")
		for _, o := range objs {
			now := &elementsv1alpha1.HubSpotInstance{}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(o), now)).To(Succeed())
			Expect(isReady(now)).To(BeTrue(), "%s stays Ready", o.Name)
		}

		rep.fig(7, fmt.Sprintf("Listing of %d pages, each slowed %s, with `--cloud-elements-list-timeout=%s --cloud-elements-timeout=%s`: how each ended (operator log)",
			listPages, listPageLatency, listTimeout, listRequestTimeout), "\""+fails[0].err+"\"", "the deadline error")
		rep.fig(7, "Listing attempts spaced out: backoff after failures 1, 2, 3 / time between failures",
			strings.Join(retries, ", ")+" / "+strings.Join(gaps, ", "), fmt.Sprintf("growing / each ≥ the backoff, each listing ≈ %s, not %d × %s", listTimeout, listPages, listRequestTimeout))
		rep.fig(7, fmt.Sprintf("While %d Ready objects waited for that listing: GET calls / listing requests for a first / later page", len(objs)),
			fmt.Sprintf("%d / %d / %d", gets, first-firstBefore, later-laterBefore), "0 / – / –")
		rep.addHeadline(7, fmt.Sprintf("listings end at their %s deadline, back off %s, 0 GETs", listTimeout, strings.Join(retries, "→")))
	})
}

// listFailure is one failed account listing, as the operator logged it.
type listFailure struct {
	at      time.Time
	retryIn time.Duration
	err     string
}

// readListFailures reads the operator's failed-listing lines, oldest first.
func readListFailures(path string) []listFailure {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []listFailure
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte("listing the instances of an account failed")) {
			continue
		}
		var entry struct {
			TS      any    `json:"ts"`
			RetryIn string `json:"retryIn"`
			Error   string `json:"error"`
		}
		if json.Unmarshal(line, &entry) != nil {
			continue
		}
		var at time.Time
		switch ts := entry.TS.(type) {
		case float64:
			at = time.Unix(0, int64(ts*1e9))
		case string:
			at, _ = time.Parse(time.RFC3339Nano, ts)
		}
		retryIn, _ := time.ParseDuration(entry.RetryIn)
		out = append(out, listFailure{at: at, retryIn: retryIn, err: entry.Error})
	}
	return out
}
