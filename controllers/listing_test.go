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
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// Drift is found account by account: one listing of the operator's instances
// per poll interval, compared with what each object last saw.
var _ = Describe("drift detection by account listing", func() {
	var ns string
	BeforeEach(func() { ns = apiKeyNamespace() })

	readyObjects := func(names ...string) []*elementsv1alpha1.HubSpotInstance {
		var objs []*elementsv1alpha1.HubSpotInstance
		for _, name := range names {
			obj := apiKeyInstance(ns, name)
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			objs = append(objs, obj)
		}
		for _, obj := range objs {
			eventuallyReady(key(obj))
		}
		// Let the watch events of our own writes settle.
		Consistently(func() string { return get(key(objs[0])).ResourceVersion }).WithTimeout(time.Second).Should(Equal(get(key(objs[0])).ResourceVersion))
		return objs
	}

	It("at rest: no reconcile, no API-server request, no GET; one listing per poll interval", func() {
		objs := readyObjects("quiet-1", "quiet-2", "quiet-3")
		before := get(key(objs[0]))
		secretBefore := tokenSecret(ns, "quiet-1-element-token")

		res := forceReconcile(key(objs[0]))
		Expect(res.RequeueAfter).To(BeZero(), "the listing, not a timer per object, decides when to look")
		Expect(get(key(objs[0])).ResourceVersion).To(Equal(before.ResourceVersion), "a reconcile that finds nothing changed writes nothing")

		reads, patches, runs := apiReads.reads.Load(), writes.patches.Load(), reconciles()
		lists, gets := sim.Total(simulator.OpList), sim.Total(simulator.OpGet)
		for range 2 {
			listed := sim.Total(simulator.OpList)
			clock.Advance(2 * time.Minute)
			Eventually(func() int { return sim.Total(simulator.OpList) }).WithTimeout(20*time.Second).Should(BeNumerically(">", listed), func() string { return reconciler.DriftState() })
		}
		Consistently(func() int { return sim.Total(simulator.OpList) }).WithTimeout(2*time.Second).Should(BeNumerically("<=", lists+2),
			"one listing per interval for the three objects of the account")
		Expect(sim.Total(simulator.OpGet)).To(Equal(gets), "no GET per object")
		Expect(reconciles()).To(Equal(runs), "no reconcile at rest")
		Expect(apiReads.reads.Load()).To(Equal(reads), "no read past the cache at rest")
		Expect(writes.patches.Load()).To(Equal(patches))
		Expect(get(key(objs[0])).ResourceVersion).To(Equal(before.ResourceVersion))
		Expect(tokenSecret(ns, "quiet-1-element-token").ResourceVersion).To(Equal(secretBefore.ResourceVersion))
	})

	DescribeTable("an instance changed behind the operator's back is acted on after the next listing",
		func(change func(id int64), reason string) {
			obj := readyObjects("drifting")[0]
			id := get(key(obj)).Status.InstanceID
			change(id)
			clock.Advance(2 * time.Minute)
			eventuallyReason(key(obj), reason)
		},
		Entry("deleted: created again", func(id int64) { Expect(sim.Remove(id)).To(Succeed()) }, elementsv1alpha1.ReasonAvailable),
		Entry("invalidated", func(id int64) { Expect(sim.Invalidate(id)).To(Succeed()) }, elementsv1alpha1.ReasonReauthorizationRequired),
		Entry("disabled", func(id int64) { Expect(sim.SetDisabled(id, true)).To(Succeed()) }, elementsv1alpha1.ReasonInstanceDisabled),
	)

	It("deleted behind the operator's back: a new instance, announced", func() {
		obj := readyObjects("vanishing")[0]
		id := get(key(obj)).Status.InstanceID
		Expect(sim.Remove(id)).To(Succeed())
		clock.Advance(2 * time.Minute)
		Eventually(func() int64 { return get(key(obj)).Status.InstanceID }).WithTimeout(20 * time.Second).ShouldNot(Equal(id))
		got := eventuallyReady(key(obj))
		Expect(eventReasons(got)).To(ContainElement(elementsv1alpha1.EventReasonInstanceMissing))
		Expect(instancesOwnedBy(got)).To(Equal(1))
	})

	It("a failing listing falls back to backoff, never to a call per object", func() {
		objs := readyObjects("listless-1", "listless-2")
		gets, runs := sim.Total(simulator.OpGet), reconciles()
		sim.SetFault(simulator.OpList, simulator.Fault{FailNext: 1000, Status: http.StatusServiceUnavailable})
		failed := sim.Count(simulator.OpList, http.StatusServiceUnavailable)
		for range 3 {
			clock.Advance(2 * time.Minute)
			Eventually(func() int { return sim.Count(simulator.OpList, http.StatusServiceUnavailable) }).WithTimeout(15 * time.Second).Should(BeNumerically(">", failed))
			failed = sim.Count(simulator.OpList, http.StatusServiceUnavailable)
		}
		Expect(sim.Total(simulator.OpGet)).To(Equal(gets), "no GET per object")
		Expect(reconciles()).To(Equal(runs), "no reconcile per object")

		// The listing recovers, and finds a drift made meanwhile.
		id := get(key(objs[1])).Status.InstanceID
		Expect(sim.Invalidate(id)).To(Succeed())
		sim.ClearFaults()
		clock.Advance(2 * time.Minute)
		eventuallyReason(key(objs[1]), elementsv1alpha1.ReasonReauthorizationRequired)
		Expect(ready(key(objs[0])).Reason).To(Equal(elementsv1alpha1.ReasonAvailable))
	})

	It("after a restart every object is verified by listings: no GET, no write, no Secret read, no second reconcile", func() {
		objs := readyObjects("restart-1", "restart-2", "restart-3", "restart-4")
		versions := map[string]string{}
		for _, obj := range objs {
			versions[obj.Name] = get(key(obj)).ResourceVersion
			versions[obj.Name+"-element-token"] = tokenSecret(ns, obj.Name+"-element-token").ResourceVersion
		}
		gets, patches := sim.Total(simulator.OpGet), writes.patches.Load()
		secretReads := func() (n int64) {
			for _, obj := range objs {
				n += apiReads.readsOf(client.ObjectKey{Namespace: ns, Name: obj.Name + "-element-token"})
			}
			return n
		}
		reads, runs := secretReads(), reconciles()

		reconciler.ForgetEverything()
		for _, obj := range objs {
			// What the initial list of a restarted manager brings.
			Expect(forceReconcile(key(obj)).RequeueAfter).To(BeZero())
		}
		Eventually(func(g Gomega) {
			for _, obj := range objs {
				g.Expect(reconciler.VerifiedByListing(key(obj))).To(BeTrue(), obj.Name)
			}
		}).WithTimeout(20 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())

		Expect(sim.Total(simulator.OpGet)).To(Equal(gets), "verified by the listing, not by a GET each")
		Expect(writes.patches.Load()).To(Equal(patches))
		Expect(secretReads()).To(Equal(reads), "status says which version of each token Secret was written: none is read again")
		Expect(reconciles()).To(Equal(runs), "the listing finds the tokens status recorded: no object needs a second look")
		for _, obj := range objs {
			Expect(get(key(obj)).ResourceVersion).To(Equal(versions[obj.Name]), "no status write")
			Expect(tokenSecret(ns, obj.Name+"-element-token").ResourceVersion).To(Equal(versions[obj.Name+"-element-token"]), "no Secret write")
		}
	})

	It("after a restart, the objects that join after a listing began are verified by it, not by another", func() {
		objs := readyObjects("late-1", "late-2", "late-3", "late-4")
		gets := sim.Total(simulator.OpGet)
		reconciler.ForgetEverything()
		Expect(forceReconcile(key(objs[0])).RequeueAfter).To(BeZero())
		Eventually(func() bool { return reconciler.VerifiedByListing(key(objs[0])) }).WithTimeout(20*time.Second).Should(BeTrue(), reconciler.DriftState)

		// Every later listing fails: only the one that ran can verify the
		// objects a restart's reconciles bring after it.
		sim.SetFault(simulator.OpList, simulator.Fault{FailNext: 1000, Status: http.StatusServiceUnavailable})
		DeferCleanup(sim.ClearFaults)
		for _, obj := range objs[1:] {
			Expect(forceReconcile(key(obj)).RequeueAfter).To(BeZero())
		}
		Eventually(func(g Gomega) {
			for _, obj := range objs[1:] {
				g.Expect(reconciler.VerifiedByListing(key(obj))).To(BeTrue(), obj.Name)
			}
		}).WithTimeout(10*time.Second).Should(Succeed(), reconciler.DriftState)
		Expect(sim.Total(simulator.OpGet)).To(Equal(gets), "no GET")
	})

	It("a credentials Secret shared by many objects is read from the API server once per change, not once per object", func() {
		credentials := client.ObjectKey{Namespace: ns, Name: "cloud-elements"}
		// The first object settles the Secret: read, and protected by a
		// finalizer (a write of ours that changes metadata only).
		readyObjects("shared-0")
		Eventually(func() int64 { return apiReads.readsOf(credentials) }).Should(BeNumerically(">", 0))
		before := apiReads.readsOf(credentials)
		objs := readyObjects("shared-1", "shared-2", "shared-3", "shared-4", "shared-5", "shared-6")
		GinkgoWriter.Printf("credentials read %d times for the first object, %d for six more\n", before, apiReads.readsOf(credentials)-before)
		Expect(apiReads.readsOf(credentials)-before).To(BeNumerically("<=", 1), "six more objects cost no read of an unchanged Secret")

		// A change to the Secret: a new resourceVersion.
		Expect(k8sClient.Patch(ctx, secret(ns, "cloud-elements", map[string]string{"rotated": time.Now().String()}), client.Merge)).To(Succeed())
		before = apiReads.readsOf(credentials)
		for _, obj := range objs {
			requestReconcile(key(obj))
		}
		for _, obj := range objs {
			Eventually(func() string { o := get(key(obj)); return o.Status.LastHandledReconcileAt }).
				WithTimeout(20 * time.Second).Should(Equal(get(key(obj)).Annotations[elementsv1alpha1.ReconcileRequestAnnotation]))
		}
		Expect(apiReads.readsOf(credentials)-before).To(BeNumerically("<=", 2), "the new version read once, for all %d objects", len(objs))
	})

	It("a mass create protects the shared credentials Secret with one write, and does not send it to the protection controller per object", func() {
		names := make([]string, 12)
		for i := range names {
			names[i] = fmt.Sprintf("protected-%d", i)
		}
		before := reconcilesOf("credentials-protection")
		readyObjects(names...)
		Expect(writes.secretPatchesOf(client.ObjectKey{Namespace: ns, Name: "cloud-elements"})).To(Equal(int64(1)), "one protection write")
		// Deciding whether a Secret may be released costs a look at its
		// users: one per object in a mass create would be quadratic. Only
		// the Secret's own update (the protection added) is looked at.
		Expect(reconcilesOf("credentials-protection")-before).To(BeNumerically("<=", 1), "objects taking the protection on cannot release it")
	})

	It("an instance that predates the common tag is verified by its own GET, and gets the tag", func() {
		existing := createInstanceByHand("tagless")
		obj := apiKeyInstance(ns, "tagless")
		obj.Annotations = map[string]string{elementsv1alpha1.InstanceIDAnnotation: fmt.Sprint(existing.ID)}
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		eventuallyReady(key(obj))
		Expect(simInstance(existing.ID).Tags).To(ContainElement(elementsv1alpha1.ManagedTag), "the import gave it the common tag")
	})
})

// reconciles counts the HubSpotInstance reconciles the manager ran.
func reconciles() float64 { return reconcilesOf("hubspotinstance") }

// reconcilesOf counts the reconciles one of the manager's controllers ran.
func reconcilesOf(controller string) float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	total := 0.0
	for _, family := range families {
		if family.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range family.GetMetric() {
			for _, label := range m.GetLabel() {
				if label.GetName() == "controller" && label.GetValue() == controller {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

var _ client.Object = &elementsv1alpha1.HubSpotInstance{}
