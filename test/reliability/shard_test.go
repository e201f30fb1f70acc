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
	"maps"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// Sharding as Flux does it: one operator process per shard on one API
// server, each reconciling the objects labelled for it, each with its own
// Lease.
const (
	shardKey = "sharding.fluxcd.io/key"
	// perShard objects are labelled for each shard.
	perShard = 3
	// shardTimeout is both shards' client timeout: a held create is given
	// up on this long after it was sent.
	shardTimeout = 2 * time.Second
	// shardGrace is both shards' --create-grace-period: the new owner of an
	// object whose create is in flight waits this long from the marker, then
	// looks the instance up by owner tag.
	shardGrace = 6 * time.Second
)

func shardedLeaders() {
	It("splits the objects between two shards by label, each with its own leader, and hands a relabelled object over without a second instance", func() {
		s := startSim("shards")
		ns := newNamespace("shards")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		names := []string{"shard1", "shard2"}
		ops := map[string]*harness.Operator{}
		leaseOf := func(shard string) string { return "reliability-" + ns + "-" + shard }
		for _, shard := range names {
			o := newOperator("shards-"+shard, "--watch-namespaces="+ns, "--leader-elect", "--leader-election-id="+leaseOf(shard),
				"--leader-election-lease-duration=4s", "--leader-election-renew-deadline=3s", "--leader-election-retry-period=500ms",
				"--watch-label-selector="+shardKey+"="+shard,
				"--cloud-elements-timeout="+shardTimeout.String(), "--create-grace-period="+shardGrace.String())
			startOperator(o)
			dumpOnFailure(o)
			ops[shard] = o
		}
		one, two := ops["shard1"], ops["shard2"]

		By("each shard leads its own Lease")
		Eventually(func() bool { return leads(one) && leads(two) }).WithTimeout(30 * time.Second).Should(BeTrue())
		holders := map[string]string{}
		for _, shard := range names {
			lease := &coordinationv1.Lease{}
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "default", Name: leaseOf(shard)}, lease)).To(Succeed())
			Expect(lease.Spec.HolderIdentity).NotTo(BeNil())
			Expect(*lease.Spec.HolderIdentity).NotTo(BeEmpty())
			holders[shard] = *lease.Spec.HolderIdentity
		}
		Expect(holders["shard1"]).NotTo(Equal(holders["shard2"]), "each shard's Lease has its own holder")

		By("applying objects labelled for each shard, and one labelled for neither")
		labelled := func(name, shard string) *elementsv1alpha1.HubSpotInstance {
			obj := apiKeyObject(ns, name, s)
			if shard != "" {
				obj.Labels = map[string]string{shardKey: shard}
			}
			return obj
		}
		byShard := map[string][]string{}
		var all []*elementsv1alpha1.HubSpotInstance
		for _, shard := range names {
			for i := range perShard {
				obj := labelled(fmt.Sprintf("%s-%d", shard, i), shard)
				byShard[shard] = append(byShard[shard], obj.Name)
				all = append(all, obj)
			}
		}
		unsharded := labelled("unsharded", "")
		all = append(all, unsharded)
		parallel(len(all), 4, func(i int) error { return k8s.Create(ctx, all[i]) })
		readyByName := func(name string) func() bool {
			return func() bool {
				got := &elementsv1alpha1.HubSpotInstance{}
				return k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, got) == nil && isReady(got)
			}
		}
		for _, shard := range names {
			for _, name := range byShard[shard] {
				Eventually(readyByName(name)).WithTimeout(time.Minute).Should(BeTrue(), "%s Ready", name)
			}
		}
		// Each process logs a "Reconciling" line (V(5)) for every
		// HubSpotInstance it reconciles; once all are Ready each has
		// reconciled its own, and nothing else.
		reconciledBy := map[string][]string{}
		for _, shard := range names {
			reconciledBy[shard] = slices.Sorted(maps.Keys(reconcileTimes(ops[shard].LogPath, ns)))
		}
		Expect(reconciledBy["shard1"]).To(Equal(byShard["shard1"]), "shard 1 reconciles exactly the objects labelled shard1")
		Expect(reconciledBy["shard2"]).To(Equal(byShard["shard2"]), "shard 2 reconciles exactly the objects labelled shard2")
		got := &elementsv1alpha1.HubSpotInstance{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(unsharded), got)).To(Succeed())
		Expect(got.Status.Conditions).To(BeEmpty(), "an object labelled for no running shard is left alone")
		creates := map[string]float64{}
		for _, shard := range names {
			creates[shard] = metric(ops[shard], "cloudelements_requests_total", `operation="create_instance"`)
			Expect(creates[shard]).To(BeNumerically("==", perShard), "%s sends the creates of its own objects", shard)
		}

		By("relabelling a Ready object from shard1 to shard2, then adding a tag")
		moved := &elementsv1alpha1.HubSpotInstance{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: byShard["shard1"][0]}, moved)).To(Succeed())
		movedID, movedTag := moved.Status.InstanceID, moved.OwnerTag()
		Expect(movedID).NotTo(BeZero())
		updatesBefore := metric(one, "cloudelements_requests_total", `operation="update_instance"`)
		relabel := func(obj *elementsv1alpha1.HubSpotInstance, shard string) {
			GinkgoHelper()
			patch := client.MergeFrom(obj.DeepCopy())
			obj.Labels[shardKey] = shard
			Expect(k8s.Patch(ctx, obj, patch)).To(Succeed())
		}
		relabel(moved, "shard2")
		patch := client.MergeFrom(moved.DeepCopy())
		moved.Spec.Tags = append(moved.Spec.Tags, "moved-to-shard2")
		Expect(k8s.Patch(ctx, moved, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(readyByName(moved.Name)()).To(BeTrue())
			owned := s.owned(movedTag)
			g.Expect(owned).To(HaveLen(1))
			g.Expect(owned[0].Tags).To(ContainElement("moved-to-shard2"))
		}).WithTimeout(time.Minute).Should(Succeed())
		Expect(s.owned(movedTag)[0].ID).To(Equal(movedID), "the same instance, updated by its new shard")
		Expect(s.creates(movedTag)).To(Equal(1))
		updatedByOne := metric(one, "cloudelements_requests_total", `operation="update_instance"`) - updatesBefore
		updatedByTwo := metric(two, "cloudelements_requests_total", `operation="update_instance"`)
		Expect(updatedByOne).To(BeZero(), "shard 1 let go of the object")
		Expect(updatedByTwo).To(BeNumerically(">=", 1), "shard 2 applied the new tag")
		Expect(reconcileTimes(two.LogPath, ns)).To(HaveKey(moved.Name))

		By("relabelling an object from shard1 to shard2 while shard 1's create of it is held, uncommitted, at the platform")
		const inflightName = "inflight"
		arrived, release := s.holdCreates(elementsv1alpha1.OwnerTagNamespacePrefix(ns) + inflightName + "/")
		DeferCleanup(release)
		inflight := labelled(inflightName, "shard1")
		Expect(k8s.Create(ctx, inflight)).To(Succeed())
		Eventually(arrived).WithTimeout(time.Minute).Should(BeClosed(), "shard 1 sends the create")
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(inflight), inflight)).To(Succeed())
		marker := inflight.Annotations[elementsv1alpha1.CreatePendingAnnotation]
		Expect(marker).NotTo(BeEmpty(), "shard 1 marked the create pending before sending it")
		relabel(inflight, "shard2")
		// The create commits only now, after the relabel and after shard 1's
		// client gave up on it: nobody has its answer, and shard 2 must find
		// the instance by its owner tag once the grace has passed.
		release()
		Eventually(readyByName(inflightName)).WithTimeout(time.Minute).Should(BeTrue())
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(inflight), inflight)).To(Succeed())
		inflightTag := inflight.OwnerTag()
		owned := s.owned(inflightTag)
		Expect(owned).To(HaveLen(1), "exactly one instance for the object that changed shards mid-create")
		Expect(inflight.Status.InstanceID).To(Equal(owned[0].ID))
		Expect(s.creates(inflightTag)).To(Equal(1), "the create was never sent again")
		adopted := 0
		for _, e := range events(ns) {
			if e.Reason == elementsv1alpha1.EventReasonAdopted && e.InvolvedObject.Name == inflightName {
				adopted++
			}
		}
		Expect(adopted).To(BeNumerically(">=", 1), "shard 2 adopted the instance by its owner tag")
		Expect(reconcileTimes(two.LogPath, ns)).To(HaveKey(inflightName))
		inflightCreates := metric(one, "cloudelements_requests_total", `operation="create_instance"`) - creates["shard1"]

		objs, err := listObjects(ns)
		Expect(err).NotTo(HaveOccurred())
		objs = slices.DeleteFunc(objs, func(o elementsv1alpha1.HubSpotInstance) bool { return o.Name == unsharded.Name })
		own := checkOwnership(s, objs, elementsv1alpha1.OwnerTagNamespacePrefix(ns))

		rep.fig(4, "Shards: processes / objects per shard (+1 labelled for neither)", fmt.Sprintf("2 / %d", perShard), "")
		rep.fig(4, "Shards: Leases led at once, holders distinct", fmt.Sprintf("2, %v", holders["shard1"] != holders["shard2"]), "2, true")
		rep.fig(4, "Shards: objects reconciled by shard 1 / shard 2 before any relabel (each exactly its own)",
			fmt.Sprintf("%d / %d", len(reconciledBy["shard1"]), len(reconciledBy["shard2"])), fmt.Sprintf("%d / %d", perShard, perShard))
		rep.fig(4, "Shards: relabelled Ready object, instance updates by shard 1 / shard 2", fmt.Sprintf("%d / %d", int(updatedByOne), int(updatedByTwo)), "0 / ≥ 1")
		rep.fig(4, "Shards: object relabelled mid-create, creates sent (by shard 1) / instances / Adopted events", fmt.Sprintf("%d (%d) / %d / %d",
			s.creates(inflightTag), int(inflightCreates), len(owned), adopted), "1 / 1 / ≥ 1")
		rep.fig(4, "Shards: instances / duplicates / orphans", fmt.Sprintf("%d / %d / %d", own.instances, own.duplicates, own.orphans),
			fmt.Sprintf("%d / 0 / 0", len(objs)))
		rep.note(4, "Shards: two operator processes on one namespace, started with `--watch-label-selector=%s=shard1` and `=shard2` and Leases of their own, "+
			"as the chart's sharding values start them. A Ready object relabelled from shard1 to shard2 and given a new tag is updated by shard 2, in place. "+
			"Another object is relabelled while shard 1's create of it is held at the simulator; the create commits only after the relabel and after shard 1's "+
			"%s client timeout, so nobody has its answer: shard 2 sees shard 1's create-pending marker, waits out the %s grace and adopts the instance by its owner tag.",
			shardKey, shardTimeout, shardGrace)
		rep.addHeadline(4, fmt.Sprintf("two shards: disjoint objects, 2 leaders; relabelled objects handed over with %d duplicates", own.duplicates))

		Expect(own.duplicates).To(BeZero())
		Expect(own.orphans).To(BeZero())
		Expect(own.missing).To(BeZero())
		Expect(one.Running() && two.Running()).To(BeTrue())
	})
}
