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
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

const crashObjects = 300

// defaultCreateGrace is the operator's create grace period when neither
// --create-grace-period nor --cloud-elements-timeout is given: twice the
// default 30s client timeout.
const defaultCreateGrace = 2 * 30 * time.Second

func crashSafety() {
	point(1)

	It("creates 300 instances exactly once through 10 SIGKILLs, then deletes them all through 3 more", func() {
		s := startSim("crash")
		ns := newNamespace("crash")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		op := newOperator("crash", "--watch-namespaces="+ns)
		startOperator(op)
		dumpOnFailure(op)

		// Kill moments: 10 distinct positions in the stream of creates the
		// simulator answers (so every kill lands while objects provision),
		// each followed by a random delay of up to 40ms, so a kill can land
		// anywhere in a reconcile: before the create, between the create and
		// the write that records its id, or after.
		kills := drawDistinct(10, 10, crashObjects-20)
		delays := make([]time.Duration, len(kills))
		for i := range delays {
			delays[i] = time.Duration(draw(40000)) * time.Microsecond
		}
		plan := make([]string, len(kills))
		for i := range kills {
			plan[i] = fmt.Sprintf("create #%d +%s", kills[i], delays[i].Round(time.Millisecond))
		}
		progress("crash: kill plan %s", strings.Join(plan, ", "))

		started := time.Now()
		created := createObjects(ns, s, "crash", crashObjects)
		Expect(created).To(HaveLen(crashObjects))

		var moments []string
		for i, at := range kills {
			Eventually(func() int { return s.Total(simulator.OpCreate) }).
				WithTimeout(3*time.Minute).WithPolling(2*time.Millisecond).
				Should(BeNumerically(">=", at), "kill %d waits for create #%d", i+1, at)
			time.Sleep(delays[i])
			creates := s.Total(simulator.OpCreate)
			Expect(op.Kill()).To(Succeed())
			moments = append(moments, fmt.Sprintf("%d (after create #%d, %.1fs)", i+1, creates, time.Since(started).Seconds()))
			Expect(op.Start(ctx)).To(Succeed(), "restart %d; log at %s", i+1, op.LogPath)
		}
		progress("crash: %d kills done, waiting for all Ready", len(kills))

		objs := waitAllReady(ns, crashObjects, 5*time.Minute)
		provisioned := time.Since(started)
		own := checkOwnership(s, objs, elementsv1alpha1.OwnerTagNamespacePrefix(ns))
		matches, problems := tokenMatches(objs, own)
		adopted := countEvents(ns, elementsv1alpha1.EventReasonAdopted)
		createCalls := s.Total(simulator.OpCreate)

		rep.fig(1, "Objects applied", crashObjects, "300")
		rep.fig(1, "SIGKILLs while provisioning (all survived: restarted, no manual step)", len(moments), "10")
		rep.fig(1, "Operator processes started (1 + restarts)", op.Starts(), "")
		rep.fig(1, "Instances at the simulator", own.instances, "300")
		rep.fig(1, "Objects with exactly one instance (by owner tag)", own.owners-countDuplicated(own, objs), "300")
		rep.fig(1, "Duplicate instances", own.duplicates, "0")
		rep.fig(1, "Orphan instances (owner tag matches no object)", own.orphans, "0")
		rep.fig(1, "Token Secrets whose token and instance id match the simulator's", matches, "300")
		rep.fig(1, "Objects Ready", len(objs), "300")
		rep.fig(1, "Interrupted creates resolved by owner-tag lookup (Adopted events)", adopted, "")
		rep.fig(1, "Create calls answered by the simulator", createCalls, "")
		rep.fig(1, "Time to all Ready, kills included", provisioned, "")
		rep.note(1, "Kill moments (kill number, creates answered when it landed, time since the objects were applied): %s.", strings.Join(moments, "; "))
		if provisioned > defaultCreateGrace {
			rep.note(1, "The operator runs here with its default 30s client timeout, hence the default create grace period of %s: a create cut off by a kill after its "+
				"create-pending marker was written may still commit at the platform, so the restarted process leaves the object alone until that marker is %s old, "+
				"then looks the instance up by owner tag (Adopted) or creates it. Those waits, not the restarts, set the time to all Ready.", defaultCreateGrace, defaultCreateGrace)
		}

		Expect(own.instances).To(Equal(crashObjects))
		Expect(own.duplicates).To(BeZero())
		Expect(own.missing).To(BeZero())
		Expect(own.orphans).To(BeZero())
		Expect(problems).To(BeEmpty())
		Expect(matches).To(Equal(crashObjects))

		By("deleting all 300 while killing the operator 3 more times")
		delKills := drawDistinct(3, 20, crashObjects-20)
		deleteStarted := time.Now()
		parallel(len(created), 8, func(i int) error {
			err := k8s.Delete(ctx, created[i])
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		})
		var delMoments []string
		for i, at := range delKills {
			Eventually(func() int { return s.Total(simulator.OpDelete) }).
				WithTimeout(3*time.Minute).WithPolling(2*time.Millisecond).
				Should(BeNumerically(">=", at), "deletion kill %d waits for delete #%d", i+1, at)
			time.Sleep(time.Duration(draw(40000)) * time.Microsecond)
			deletes := s.Total(simulator.OpDelete)
			Expect(op.Kill()).To(Succeed())
			delMoments = append(delMoments, fmt.Sprintf("%d (after delete #%d, %.1fs)", i+1, deletes, time.Since(deleteStarted).Seconds()))
			Expect(op.Start(ctx)).To(Succeed(), "restart during deletion; log at %s", op.LogPath)
		}
		var left []elementsv1alpha1.HubSpotInstance
		Eventually(func(g Gomega) {
			var err error
			left, err = listObjects(ns)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(left).To(BeEmpty(), "objects still waiting on the finalizer")
		}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())
		deleted := time.Since(deleteStarted)
		remaining := len(s.Instances())

		rep.fig(1, "SIGKILLs while deleting (all survived)", len(delMoments), "3")
		rep.fig(1, "Instances left at the simulator after deletion", remaining, "0")
		rep.fig(1, "Objects stuck on the finalizer", len(left), "0")
		rep.fig(1, "Delete calls answered by the simulator", s.Total(simulator.OpDelete), "")
		rep.fig(1, "Time to delete all, kills included", deleted, "")
		rep.note(1, "Deletion kill moments: %s.", strings.Join(delMoments, "; "))
		rep.headline(1, "%d + %d SIGKILLs survived; %d instances for %d objects, duplicates %d, tokens matching %d/%d; after deletion %d instances left, %d objects stuck",
			len(moments), len(delMoments), own.instances, crashObjects, own.duplicates, matches, crashObjects, remaining, len(left))

		Expect(remaining).To(BeZero())
		Expect(op.Running()).To(BeTrue())
	})

	slowCommitCreates()
	twoManagers()
	namespaceDeletion()
}

// countDuplicated is how many objects own more than one instance.
func countDuplicated(o ownership, objs []elementsv1alpha1.HubSpotInstance) int {
	n := 0
	for i := range objs {
		if len(o.byOwner[objs[i].OwnerTag()]) > 1 {
			n++
		}
	}
	return n
}
