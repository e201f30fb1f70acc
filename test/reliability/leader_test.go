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
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

const (
	leaseDuration = 4 * time.Second
	// killSlack is allowed on top of the lease after a SIGKILL: the standby
	// times the lease from when it last saw it renewed, which can be one
	// retry late, and notices the expiry on its next retry (client-go jitters
	// the 500ms retry period up to 1.1s: 2.2s for both), then starts its
	// controller and reconciles the new object.
	killSlack = 4 * time.Second
	// gracefulBound is "at once" for a graceful stop: the lease is released,
	// so one jittered retry (≤ 1.1s) plus the controller's start; well under
	// the 4s lease.
	gracefulBound = 2500 * time.Millisecond
)

func leaderElection() {
	point(4)

	It("hands over within the lease after the leader is SIGKILLed, and at once after a graceful stop", func() {
		s := startSim("leader")
		ns := newNamespace("leader")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		leaseName := "reliability-" + ns
		args := []string{"--watch-namespaces=" + ns, "--leader-elect", "--leader-election-id=" + leaseName,
			"--leader-election-lease-duration=4s", "--leader-election-renew-deadline=3s", "--leader-election-retry-period=500ms"}
		a := newOperator("leader-a", args...)
		b := newOperator("leader-b", args...)
		startOperator(a)
		dumpOnFailure(a)
		Eventually(func() bool { return leads(a) }).WithTimeout(30 * time.Second).Should(BeTrue())
		startOperator(b)
		dumpOnFailure(b)
		Consistently(func() bool { return leads(b) }).WithTimeout(time.Second).Should(BeFalse(), "only one leader at a time")

		create := func(name string) client.ObjectKey {
			GinkgoHelper()
			obj := apiKeyObject(ns, name, s)
			Expect(k8s.Create(ctx, obj)).To(Succeed())
			return client.ObjectKeyFromObject(obj)
		}
		ready := func(key client.ObjectKey) bool {
			got := &elementsv1alpha1.HubSpotInstance{}
			return k8s.Get(ctx, key, got) == nil && isReady(got)
		}
		// untilBoth polls the leadership of o and the readiness of key
		// together and returns when each first became true.
		untilBoth := func(o *harness.Operator, key client.ObjectKey) (leading, readied time.Time) {
			GinkgoHelper()
			Eventually(func() bool {
				if leading.IsZero() && leads(o) {
					leading = time.Now()
				}
				if readied.IsZero() && ready(key) {
					readied = time.Now()
				}
				return !leading.IsZero() && !readied.IsZero()
			}).WithTimeout(30 * time.Second).WithPolling(20 * time.Millisecond).Should(BeTrue())
			return leading, readied
		}
		first := create("before-failover")
		Eventually(func() bool { return ready(first) }).WithTimeout(30 * time.Second).Should(BeTrue())

		By("SIGKILLing the leader: the lease must expire before the standby takes over")
		killed := time.Now()
		Expect(a.Kill()).To(Succeed())
		tookOver, readyAt := untilBoth(b, create("after-kill"))
		killTakeover := tookOver.Sub(killed)
		killReady := readyAt.Sub(killed)

		By("restarting the killed process as the standby, then stopping the leader gracefully")
		Expect(a.Start(ctx)).To(Succeed())
		Consistently(func() bool { return leads(a) }).WithTimeout(time.Second).Should(BeFalse())
		stopping := time.Now()
		stopped := make(chan time.Duration, 1)
		go func() {
			defer GinkgoRecover()
			Expect(b.Stop()).To(Succeed())
			stopped <- time.Since(stopping)
		}()
		handedOver, readied := untilBoth(a, create("after-stop"))
		gracefulTakeover := handedOver.Sub(stopping)
		gracefulTotal := readied.Sub(stopping)
		exit := <-stopped

		lease := &coordinationv1.Lease{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "default", Name: leaseName}, lease)).To(Succeed())
		transitions := int32(0)
		if lease.Spec.LeaseTransitions != nil {
			transitions = *lease.Spec.LeaseTransitions
		}
		objs, err := listObjects(ns)
		Expect(err).NotTo(HaveOccurred())
		own := checkOwnership(s, objs, elementsv1alpha1.OwnerTagNamespacePrefix(ns))

		rep.configured(4, "Lease duration / renew deadline / retry period", "4s / 3s / 500ms")
		rep.fig(4, "SIGKILL of the leader → standby leads", killTakeover, "")
		rep.fig(4, "SIGKILL → object (created right after the kill) Ready", killReady, fmt.Sprintf("≤ %s (lease + %s slack)", leaseDuration+killSlack, killSlack))
		rep.fig(4, "SIGTERM of the leader → process exited", exit, "")
		rep.fig(4, "SIGTERM of the leader → standby leads", gracefulTakeover, fmt.Sprintf("≤ %s (well under the lease)", gracefulBound))
		rep.fig(4, "SIGTERM → object (created right after it) Ready", gracefulTotal, "")
		rep.fig(4, "Lease transitions recorded", transitions, "≥ 2")
		rep.fig(4, "Instances for the 3 objects / duplicates", fmt.Sprintf("%d / %d", own.instances, own.duplicates), "3 / 0")
		rep.note(4, "After a SIGKILL the lease cannot change hands before it expires: the standby times it (%s) from when it last saw it renewed, which can be one retry late, and notices the expiry on its next retry (every 500ms, which client-go jitters up to 1.1s). The object created right after the kill is therefore bounded by the lease plus %s for those two retries, the controller's start and one reconcile. A graceful stop releases the lease (LeaderElectionReleaseOnCancel), so the standby takes over on its next retry.", leaseDuration, killSlack)
		rep.headline(4, "SIGKILL: standby leads after %s, new object Ready %s after the kill (≤ %s); SIGTERM: standby leads after %s (≤ %s)",
			killTakeover.Round(10*time.Millisecond), killReady.Round(10*time.Millisecond), leaseDuration+killSlack,
			gracefulTakeover.Round(10*time.Millisecond), gracefulBound)

		Expect(killReady).To(BeNumerically("<=", leaseDuration+killSlack))
		Expect(gracefulTakeover).To(BeNumerically("<=", gracefulBound))
		Expect(transitions).To(BeNumerically(">=", 2))
		Expect(own.instances).To(Equal(3))
		Expect(own.duplicates).To(BeZero())
	})

	shardedLeaders()
}

// leads says whether an operator process holds the lease, from its own
// leader_election_master_status gauge (the Lease's holderIdentity is
// hostname_uuid, the same host for both processes).
func leads(o *harness.Operator) bool {
	if !o.Running() {
		return false
	}
	m, err := o.Metrics()
	if err != nil {
		return false
	}
	return harness.Sum(m, "leader_election_master_status") >= 1
}
