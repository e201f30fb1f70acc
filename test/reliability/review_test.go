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
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
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
		rep.fig(7, "Object beside them with an Authorization-header template", "Ready, Secret rendered", "Ready")
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

		rep.fig(7, "Objects deleted with the operator's finalizer and an import annotation naming another namespace's instance (user-written finalizer; after a refused create)", 2, "")
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
		later.Spec.Tags = []string{smuggled[0]}
		err := k8s.Update(ctx, later)
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
		rep.fig(7, "Instances adopted by those lookups / further creates / doubly-tagged instance deleted with its object", "0 / 0 / no", "0 / 0 / no")
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
