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
	"sort"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

const (
	faultObjects = 300
	// maxCallsRatio is the bound: total Cloud Elements calls under
	// faults at most 2.5 times the fault-free run's.
	maxCallsRatio = 2.5
	// maxReconcilesPerObjectMinute is the hot-loop bound asserted here: no
	// object reconciled more than 60 times in any 60 seconds (the workqueue's
	// exponential backoff starts at 200ms; a hot loop would reach thousands).
	maxReconcilesPerObjectMinute = 60
	// settle is how long calls keep being counted after the last object is
	// Ready, in both runs alike, so trailing reconciles are not missed.
	settle = 3 * time.Second
	// faultsCreateGrace is the operator's create grace period in these runs:
	// twice the 2s client timeout they set.
	faultsCreateGrace = 4 * time.Second
)

// faultRun is one provisioning run of 300 objects on a fresh simulator.
type faultRun struct {
	calls       int
	byOp        map[string]int
	byStatus    map[string]map[int]int
	took        time.Duration
	reconciles  float64
	perMinute   float64 // reconciles per object per minute, averaged
	maxInMinute int     // most reconciles of one object in any 60s
	busiest     string
	// firstPages and laterPages split the list calls: a lookup by owner tag
	// reads every page of 200 instances, from the first.
	firstPages, laterPages int
}

func apiFaults() {
	point(2)

	var baseline faultRun

	It("measures the fault-free baseline", func() {
		baseline = provisionRun("faultfree", nil, nil)
		rep.fig(2, "Fault-free run: Cloud Elements calls for 300 objects", fmt.Sprintf("%d (%s)", baseline.calls, formatOps(baseline.byOp)), "")
		rep.fig(2, "Fault-free run: time to all Ready", baseline.took, "")
		rep.fig(2, "Fault-free run: reconciles per object per minute (average / max of one object in any 60s)",
			fmt.Sprintf("%.1f / %d", baseline.perMinute, baseline.maxInMinute), "")
	})

	It("converges under 20% 5xx, 10% 429 and 5% hangs with at most 2.5x the calls, no hot loop, APIUnavailable shown then cleared", func() {
		fault := simulator.Fault{ErrorRate: 0.20, RateLimitRate: 0.10, RetryAfter: time.Second, HangRate: 0.05, HangFor: 5 * time.Second}

		var (
			mu          sync.Mutex
			seenReasons = map[string]int{} // most objects seen at once with each Ready=False reason
			everAPIDown = map[string]bool{}
			samples     int
		)
		watch := func(ns string, stop <-chan struct{}) {
			defer GinkgoRecover()
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
				objs, err := listObjects(ns)
				if err != nil {
					continue
				}
				now := map[string]int{}
				for i := range objs {
					if c := readyCondition(&objs[i]); c != nil && c.Status != "True" {
						now[c.Reason]++
						if c.Reason == elementsv1alpha1.ReasonAPIUnavailable {
							mu.Lock()
							everAPIDown[objs[i].Name] = true
							mu.Unlock()
						}
					}
				}
				mu.Lock()
				samples++
				for reason, n := range now {
					seenReasons[reason] = max(seenReasons[reason], n)
				}
				mu.Unlock()
			}
		}

		var lastNS string
		faulty := provisionRun("faults", &fault, func(ns string, s *sim, stop <-chan struct{}) {
			lastNS = ns
			go watch(ns, stop)
		})

		mu.Lock()
		apiDownObjects := len(everAPIDown)
		reasons := formatReasons(seenReasons)
		mu.Unlock()
		apiEvents := countEvents(lastNS, elementsv1alpha1.ReasonAPIUnavailable)
		rateEvents := countEvents(lastNS, elementsv1alpha1.ReasonRateLimited)

		By("clearing the faults: APIUnavailable must be gone and stay gone")
		objs, err := listObjects(lastNS)
		Expect(err).NotTo(HaveOccurred())
		stillDown := 0
		for i := range objs {
			if c := readyCondition(&objs[i]); c == nil || c.Reason != elementsv1alpha1.ReasonAvailable || !isReady(&objs[i]) {
				stillDown++
			}
		}

		ratio, expected := 0.0, 0.0
		if baseline.calls > 0 {
			ratio = float64(faulty.calls) / float64(baseline.calls)
			// The draws make the measured ratio swing by ±0.3 from run to run
			// (which calls fail, and whether failed creates are many). At the
			// configured rates a call fails with probability f, so an object
			// needs 1/(1-f) creates of which f/(1-f) fail, each failed one
			// followed by this run's lookup cost in list calls.
			f := 1 - (1-fault.HangRate)*(1-fault.RateLimitRate)*(1-fault.ErrorRate)
			perObject := 1/(1-f) + f/(1-f)*listsPerFailedCreate(faulty)
			expected = perObject * faultObjects / float64(baseline.calls)
		}
		rep.fig(2, "Faulty run: Cloud Elements calls for 300 objects", fmt.Sprintf("%d (%s)", faulty.calls, formatOps(faulty.byOp)), "")
		rep.fig(2, "Faulty run: answers by status", formatStatuses(faulty.byStatus), "")
		rep.fig(2, "Faulty run: creates that failed / list calls per failed create (the owner-tag lookup before a retry)",
			fmt.Sprintf("%d / %.2f", faulty.byOp[simulator.OpCreate]-faultObjects, listsPerFailedCreate(faulty)), "")
		rep.fig(2, "Faulty run: list calls for a first page / a later page (more than 200 instances in the account)", fmt.Sprintf("%d / %d", faulty.firstPages, faulty.laterPages), "")
		rep.fig(2, "Calls ratio, faulty / fault-free", fmt.Sprintf("%.2f", ratio), fmt.Sprintf("≤ %.1f", maxCallsRatio))
		rep.fig(2, "Calls ratio expected at the configured fault rates, with this run's lookup cost", fmt.Sprintf("%.2f", expected), fmt.Sprintf("≤ %.1f", maxCallsRatio))
		rep.fig(2, "Faulty run: objects Ready", faultObjects-stillDown, "300")
		rep.fig(2, "Faulty run: time to all Ready", faulty.took, "")
		rep.fig(2, "Faulty run: reconciles (controller_runtime_reconcile_total)", int(faulty.reconciles), "")
		rep.fig(2, "Faulty run: reconciles per object per minute, average", fmt.Sprintf("%.1f", faulty.perMinute), "")
		rep.fig(2, "Faulty run: most reconciles of one object in any 60s (from the V(5) log)", fmt.Sprintf("%d (%s)", faulty.maxInMinute, faulty.busiest),
			fmt.Sprintf("≤ %d", maxReconcilesPerObjectMinute))
		rep.fig(2, "Objects seen with Ready=False APIUnavailable while faults lasted", apiDownObjects, "> 0")
		rep.fig(2, "Most objects at once per Ready=False reason (1s samples)", reasons, "")
		rep.fig(2, "APIUnavailable / RateLimited Events (one per transition)", fmt.Sprintf("%d / %d", apiEvents, rateEvents), "")
		rep.fig(2, "Objects not Ready/Available after the faults cleared", stillDown, "0")
		rep.note(2, "Where the calls go: a fault-free object costs one create. Under faults about 32%% of calls fail (5%% hang, then 10%% of the rest 429, then 20%% of the rest 5xx), so creates are retried. "+
			"A 429 proves nothing was created, so that create is sent again without more ado; a 5xx or a timeout may have created the instance, so the object waits out the create grace period "+
			"(%s: twice the 2s client timeout) and then looks the instance up by owner tag, listing instances page by page (200 a page; the platform has no filter, and a failed page restarts the lookup at page 1). "+
			"By the time the grace period has passed the account usually holds more than 200 instances, so a lookup that finds nothing reads two pages. "+
			"The measured ratio therefore moves with the luck of the draws (how many creates fail) and with the number of instances in the account at lookup time; "+
			"the expected ratio replaces the luck with the configured rates (a call fails with probability 1 − 0.95 × 0.9 × 0.8 ≈ 0.32) and keeps this run's lookup cost. Both must stay within 2.5×.",
			faultsCreateGrace)
		rep.headline(2, "300/300 Ready under faults; calls %d vs %d fault-free = **%.2f×** (expected at the configured rates %.2f×; ≤ %.1f); most reconciles of one object in a minute %d (≤ %d); APIUnavailable seen on %d objects, 0 after",
			faulty.calls, baseline.calls, ratio, expected, maxCallsRatio, faulty.maxInMinute, maxReconcilesPerObjectMinute, apiDownObjects)

		Expect(baseline.calls).To(BeNumerically(">", 0), "the fault-free baseline must have run")
		// A miss is a finding about code outside the suite (the suite owns no
		// controller code): every create answered 5xx or timed out is looked
		// up by owner tag after the grace period, reading every page of the
		// account from page 1. See the finding for the numbers.
		expectOrFinding(2, ratio <= maxCallsRatio && expected <= maxCallsRatio,
			"Calls under faults are %.2f× the fault-free run (%d vs %d; %s), and %.2f× expected at the configured fault rates, against the issue's 2.5×. "+
				"Cause: a create answered 5xx or timed out may have committed, so once the create grace period has passed the object looks the instance up by owner tag "+
				"({controllers/adoption.go|return findOwnedInstances(ctx, s.api, s.obj)}), and ListInstances ({internal/cloudelements/instances.go|func (c *Client) ListInstances}) "+
				"reads every page when the tag is absent (no server-side filter) and restarts at page 1 when a page fails. Here %d of %d list calls were for a later page: "+
				"the account passes 200 instances while the first creates are answered, and the lookups come a grace period (%s) after the failures, so most of them read two pages; "+
				"each failed create costs %.1f list calls. A shorter grace period did not bring the ratio under 2.5× in trial runs (1s and 2s). "+
				"Suggested fix: resume a failed lookup at the page that failed (keep its page token in the reconciler's memory, controllers/memory.go) instead of page 1, "+
				"and/or let the lookups of one endpoint and account that run at the same time share one listing.",
			ratio, faulty.calls, baseline.calls, formatOps(faulty.byOp), expected, faulty.laterPages, faulty.firstPages+faulty.laterPages,
			faultsCreateGrace, listsPerFailedCreate(faulty))
		Expect(faulty.maxInMinute).To(BeNumerically("<=", maxReconcilesPerObjectMinute))
		Expect(apiDownObjects).To(BeNumerically(">", 0), "APIUnavailable must be visible while the faults last")
		Expect(stillDown).To(BeZero())
	})
}

// provisionRun applies 300 objects on a fresh simulator (with a fault on
// every operation, when given) and waits until all are Ready.
func provisionRun(name string, fault *simulator.Fault, during func(ns string, s *sim, stop <-chan struct{})) faultRun {
	GinkgoHelper()
	s := startSim(name)
	ns := newNamespace(name)
	createAccount(ns, "cloud-elements", s)
	createAPIKey(ns, "hubspot-key")
	op := newOperator(name, "--watch-namespaces="+ns, "--cloud-elements-timeout=2s")
	startOperator(op)
	dumpOnFailure(op)
	if fault != nil {
		s.SetFault("*", *fault)
	}
	stop := make(chan struct{})
	if during != nil {
		during(ns, s, stop)
	}
	started := time.Now()
	createObjects(ns, s, name, faultObjects)
	objs := waitAllReady(ns, faultObjects, 8*time.Minute)
	took := time.Since(started)
	time.Sleep(settle)
	close(stop)

	run := faultRun{took: took, byStatus: s.Counts()}
	run.calls, run.byOp = s.calls()
	run.firstPages, run.laterPages = s.pagesListed()
	run.reconciles = metric(op, "controller_runtime_reconcile_total", `controller="hubspotinstance"`)
	minutes := (took + settle).Minutes()
	run.perMinute = run.reconciles / float64(faultObjects) / minutes
	for obj, times := range reconcileTimes(op.LogPath, ns) {
		if n := maxInAnyMinute(times); n > run.maxInMinute {
			run.maxInMinute, run.busiest = n, obj
		}
	}
	if fault != nil {
		s.ClearFaults()
	}
	own := checkOwnership(s, objs, elementsv1alpha1.OwnerTagNamespacePrefix(ns))
	Expect(own.duplicates).To(BeZero(), "duplicates in run %s", name)
	Expect(own.instances).To(Equal(faultObjects))
	progress("%s: %d calls, all Ready in %s", name, run.calls, took.Round(time.Second))
	return run
}

// listsPerFailedCreate: list calls per create that did not succeed.
func listsPerFailedCreate(run faultRun) float64 {
	failed := run.byOp[simulator.OpCreate] - faultObjects
	if failed <= 0 {
		return 0
	}
	return float64(run.byOp[simulator.OpList]) / float64(failed)
}

func dumpOnFailure(o *harness.Operator) {
	DeferCleanup(func() {
		if CurrentSpecReport().Failed() {
			fmt.Fprintf(GinkgoWriter, "operator log tail (%s):\n%s\n", o.LogPath, tailLog(o.LogPath, 60))
		}
	})
}

func formatOps(byOp map[string]int) string {
	keys := make([]string, 0, len(byOp))
	for k := range byOp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, byOp[k]))
	}
	return strings.Join(parts, ", ")
}

func formatStatuses(byOp map[string]map[int]int) string {
	total := map[int]int{}
	for _, codes := range byOp {
		for code, n := range codes {
			total[code] += n
		}
	}
	codes := make([]int, 0, len(total))
	for c := range total {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d: %d", c, total[c]))
	}
	return strings.Join(parts, ", ")
}

func formatReasons(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
