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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

const (
	blipObjects = 300
	// leObjects provision beside them under a second operator that runs
	// with leader election as deployed (config/manager: --leader-elect,
	// the default 15s lease and 10s renew deadline).
	leObjects     = 20
	renewDeadline = 10 * time.Second
)

func controlPlaneBlips() {
	point(3)

	It("rides out a kube-apiserver restart mid-provisioning, without a restart of its own and without duplicates", func() {
		s := startSim("blip")
		ns := newNamespace("blip")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		op := newOperator("blip", "--watch-namespaces="+ns)
		startOperator(op)
		dumpOnFailure(op)

		leSim := startSim("blip-le")
		leNS := newNamespace("blip-le")
		createAccount(leNS, "cloud-elements", leSim)
		createAPIKey(leNS, "hubspot-key")
		le := newOperator("blip-le", "--watch-namespaces="+leNS, "--leader-elect", "--leader-election-id=reliability-blip")
		startOperator(le)
		Eventually(func() bool { return leads(le) }).WithTimeout(30 * time.Second).Should(BeTrue())

		restartAt := blipObjects/3 + draw(blipObjects/3)
		started := time.Now()
		createObjects(ns, s, "blip", blipObjects)
		createObjects(leNS, leSim, "blip-le", leObjects)
		Eventually(func() int { return s.Total(simulator.OpCreate) }).
			WithTimeout(3 * time.Minute).WithPolling(5 * time.Millisecond).Should(BeNumerically(">=", restartAt))
		createsBefore := s.Total(simulator.OpCreate)
		progress("blip: restarting kube-apiserver after create #%d", createsBefore)
		stop, start, graceful, err := restartAPIServer()
		Expect(err).NotTo(HaveOccurred())
		downtime := stop + start
		createsDuring := s.Total(simulator.OpCreate) - createsBefore
		progress("blip: kube-apiserver back after %s (stop %s, start %s, graceful %t)", downtime.Round(time.Millisecond),
			stop.Round(time.Millisecond), start.Round(time.Millisecond), graceful)

		objs := waitAllReady(ns, blipObjects, 5*time.Minute)
		took := time.Since(started)
		own := checkOwnership(s, objs, elementsv1alpha1.OwnerTagNamespacePrefix(ns))
		matches, problems := tokenMatches(objs, own)
		adopted := countEvents(ns, elementsv1alpha1.EventReasonAdopted)

		// The leader-elected operator: a leader that cannot renew its lease
		// within the renew deadline must stop (client-go exits the manager
		// with "leader election lost": another replica may take over), so an
		// outage longer than that costs a pod restart in a cluster. Here the
		// test restarts it, as the kubelet would, and checks it converges.
		time.Sleep(2 * time.Second)
		leSurvived := le.Running()
		if !leSurvived {
			Expect(le.Start(ctx)).To(Succeed())
		}
		leObjs := waitAllReady(leNS, leObjects, 2*time.Minute)
		leOwn := checkOwnership(leSim, leObjs, elementsv1alpha1.OwnerTagNamespacePrefix(leNS))

		rep.fig(3, "Objects applied", blipObjects, "")
		rep.fig(3, "kube-apiserver restarted after create #", createsBefore, "")
		how := "exited on SIGTERM"
		if !graceful {
			how = fmt.Sprintf("still draining after the %s grace period: SIGKILLed", apiServerGrace)
		}
		rep.fig(3, "kube-apiserver down: stop + start (etcd kept)", fmt.Sprintf("%s (%s + %s; %s)", downtime.Round(10*time.Millisecond),
			stop.Round(10*time.Millisecond), start.Round(10*time.Millisecond), how), "")
		rep.fig(3, "Creates answered while kube-apiserver was down", createsDuring, "")
		rep.fig(3, "Operator processes started", op.Starts(), "1")
		rep.fig(3, "Operator still running afterwards", op.Running(), "true")
		rep.fig(3, "Objects Ready", len(objs), fmt.Sprint(blipObjects))
		rep.fig(3, "Instances at the simulator", own.instances, fmt.Sprint(blipObjects))
		rep.fig(3, "Duplicate instances", own.duplicates, "0")
		rep.fig(3, "Token Secrets matching the simulator", matches, fmt.Sprint(blipObjects))
		rep.fig(3, "Interrupted creates resolved by owner-tag lookup (Adopted events)", adopted, "")
		rep.fig(3, "Time to all Ready, restart included", took, "")
		rep.fig(3, "With leader election as deployed (10s renew deadline): process survived the outage", leSurvived,
			fmt.Sprintf("true if the outage < %s (renew deadline − 2 retry periods)", renewDeadline-4*time.Second))
		rep.fig(3, "With leader election as deployed: objects Ready / duplicates", fmt.Sprintf("%d / %d", len(leObjs), leOwn.duplicates),
			fmt.Sprintf("%d / 0", leObjects))
		rep.note(3, "The operator under test runs without leader election: it shows that the clients and informers recover by themselves. "+
			"A second operator with leader election as deployed (`--leader-elect`, 15s lease, 10s renew deadline) provisions %d objects through the same outage. "+
			"A leader that cannot renew for the renew deadline exits on purpose (`leader election lost`: it can no longer prove it is the only writer), "+
			"so an API-server outage longer than 10s costs that process a restart (by the kubelet in a cluster, by the test here) but never a duplicate.", leObjects)
		if took > defaultCreateGrace {
			rep.note(3, "An object whose create-pending marker was written but whose instance id could not be recorded while kube-apiserver was down is left alone "+
				"for the create grace period (%s by default, twice the 30s client timeout), then its instance is looked up by owner tag (Adopted). "+
				"That wait sets the time to all Ready.", defaultCreateGrace)
		}
		rep.headline(3, "kube-apiserver down %s mid-provisioning; operator started once and still running; %d/%d Ready, duplicates %d (leader-elected operator: survived=%t, duplicates %d)",
			downtime.Round(100*time.Millisecond), len(objs), blipObjects, own.duplicates, leSurvived, leOwn.duplicates)

		Expect(op.Starts()).To(Equal(1), "the operator must recover without a restart")
		Expect(op.Running()).To(BeTrue())
		Expect(own.instances).To(Equal(blipObjects))
		Expect(own.duplicates).To(BeZero())
		Expect(own.missing).To(BeZero())
		Expect(problems).To(BeEmpty())
		Expect(leOwn.duplicates).To(BeZero())
		Expect(leOwn.missing).To(BeZero())
		// A renewal attempt may have started up to one retry period (2s)
		// before the outage and polls every 2s: an outage shorter than the
		// renew deadline minus two retry periods must never cost the lease.
		if downtime < renewDeadline-4*time.Second {
			Expect(leSurvived).To(BeTrue(), "an outage of %s is well within the renew deadline", downtime)
		}
	})
}
