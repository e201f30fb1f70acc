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
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

// The two exactly-once scenarios of point 1 besides the SIGKILLs: creates
// that the platform commits although their answer is lost (a client
// timeout, a proxy's 503), and two operator processes creating in one
// namespace at the same time.
const (
	slowCommitObjects = 60
	// slowCommitTimeout is the operator's client timeout; the committed-late
	// creates are answered only slowCommitAnswer after they arrive, so the
	// operator always gives up on them first.
	slowCommitTimeout = time.Second
	slowCommitAnswer  = 3 * time.Second
	// slowCommitDelay is how long after its arrival a faulted create takes
	// effect: a lookup by owner tag before then finds nothing.
	slowCommitDelay = 2 * time.Second
	// slowCommitGrace is --create-grace-period, comfortably above the client
	// timeout plus the commit delay.
	slowCommitGrace = 5 * time.Second
	// repeatSlack: the grace is timed from the create-pending marker, which
	// is written just before the create it guards is sent, so two creates of
	// one object arrive at least the grace minus that moment apart.
	repeatSlack = 500 * time.Millisecond

	twoManagerObjects = 120
	twoManagerTimeout = time.Second
	twoManagerGrace   = 4 * time.Second
	// twoManagerLatency slows every create down so that the two processes'
	// creates overlap at the simulator.
	twoManagerLatency = 300 * time.Millisecond
	// twoManagerWorkers is each process's --max-concurrent-reconciles (the
	// suite's default): more creates in flight than that come from both.
	twoManagerWorkers = 10
	// twoManagerReadyMargin is what each object may take, beyond the create
	// grace period, from its create to Ready: its turn among 120 objects in
	// two work queues, a lost create's lookup, the two processes' status
	// writes. Condition times are whole seconds, so a second of it is rounding.
	twoManagerReadyMargin = 30 * time.Second
)

// slowCommitCreates: a share of creates commits after the client timed out,
// another share commits and is answered 503, a few hang and commit nothing.
func slowCommitCreates() {
	It(fmt.Sprintf("creates %d instances exactly once when creates commit after the client timeout or commit then answer 503", slowCommitObjects), func() {
		s := startSim("slowcommit")
		ns := newNamespace("slowcommit")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		flags := []string{"--cloud-elements-timeout=" + slowCommitTimeout.String(), "--create-grace-period=" + slowCommitGrace.String()}
		op := newOperator("slowcommit", append([]string{"--watch-namespaces=" + ns}, flags...)...)
		startOperator(op)
		dumpOnFailure(op)
		// Draw order: a hang first, then commit-late, then commit-then-503,
		// so about 5% hang, 28.5% commit late and 10% commit then fail.
		fault := simulator.Fault{
			HangRate: 0.05, HangFor: slowCommitAnswer,
			CommitLateRate: 0.30, AnswerAfter: slowCommitAnswer,
			CommitFailRate: 0.15, CommitFailStatus: 503,
			CommitDelay: slowCommitDelay,
		}
		s.SetFault(simulator.OpCreate, fault)

		started := time.Now()
		createObjects(ns, s, "slow", slowCommitObjects)
		objs := waitAllReady(ns, slowCommitObjects, 3*time.Minute)
		took := time.Since(started)
		s.ClearFaults()

		prefix := elementsv1alpha1.OwnerTagNamespacePrefix(ns)
		own := checkOwnership(s, objs, prefix)
		matches, problems := tokenMatches(objs, own)
		adopted := countEvents(ns, elementsv1alpha1.EventReasonAdopted)
		late, failed := s.CommittedLate(simulator.OpCreate), s.CommittedFailed(simulator.OpCreate)
		createCalls := s.Total(simulator.OpCreate)
		statuses := s.Counts()[simulator.OpCreate]
		resent, shortest := s.repeatedCreates(prefix)
		lost := statuses[504] + statuses[503]
		hung := max(lost-late-failed, 0)

		rep.fig(1, "Slow commits: objects applied", slowCommitObjects, "≥ 50")
		rep.fig(1, "Slow commits: operator flags", "`"+strings.Join(flags, " ")+"`", "")
		rep.fig(1, "Slow commits: create calls answered (by status)", fmt.Sprintf("%d (%s)", createCalls, formatStatuses(map[string]map[int]int{"": statuses})), "")
		rep.fig(1, "Slow commits: creates committed after the client timed out / committed then answered 503", fmt.Sprintf("%d / %d", late, failed), "> 0 / > 0")
		rep.fig(1, "Slow commits: creates that hung and committed nothing", hung, "")
		rep.fig(1, "Slow commits: answer-lost creates resolved by owner-tag lookup (Adopted events)", adopted, fmt.Sprintf("≥ %d (every committed one)", late+failed))
		rep.fig(1, "Slow commits: objects whose create was sent again (the lookup after the grace found nothing)", resent, "")
		rep.fig(1, "Slow commits: shortest time between two creates of one object", shortest,
			fmt.Sprintf("≥ %s (the grace period, timed from the marker written just before the first)", slowCommitGrace-repeatSlack))
		rep.fig(1, "Slow commits: instances / duplicates / orphans", fmt.Sprintf("%d / %d / %d", own.instances, own.duplicates, own.orphans),
			fmt.Sprintf("%d / 0 / 0", slowCommitObjects))
		rep.fig(1, "Slow commits: token Secrets matching the simulator", matches, fmt.Sprint(slowCommitObjects))
		rep.fig(1, "Slow commits: objects Ready", len(objs), fmt.Sprint(slowCommitObjects))
		rep.fig(1, "Slow commits: time to all Ready", took, "")
		rep.note(1, "Slow commits: every create is faulted at the simulator by draw, in this order: %.0f%% hang for %s and commit nothing; "+
			"%.0f%% of the rest take effect %s after they arrive and are answered %s after (the operator's client gave up after %s); "+
			"%.0f%% of the rest take effect %s after they arrive and are answered 503 at once, as by a proxy that forwarded them. "+
			"Each answer-lost create waits out the %s grace period from its create-pending marker, then the owner-tag lookup adopts what committed "+
			"and sends a new create only for what did not. The shortest time between two creates of one object shows that no create is sent again within the grace period.",
			fault.HangRate*100, fault.HangFor, fault.CommitLateRate*100, slowCommitDelay, slowCommitAnswer, slowCommitTimeout,
			fault.CommitFailRate*100, slowCommitDelay, slowCommitGrace)
		rep.addHeadline(1, fmt.Sprintf("slow commits: %d objects, %d creates committed after the timeout and %d committed then 503, %d adopted, duplicates %d",
			slowCommitObjects, late, failed, adopted, own.duplicates))

		Expect(own.instances).To(Equal(slowCommitObjects))
		Expect(own.duplicates).To(BeZero())
		Expect(own.missing).To(BeZero())
		Expect(own.orphans).To(BeZero())
		Expect(problems).To(BeEmpty())
		Expect(matches).To(Equal(slowCommitObjects))
		Expect(late).To(BeNumerically(">", 0), "some creates must have committed after the client timeout")
		Expect(failed).To(BeNumerically(">", 0), "some creates must have committed, then been answered 503")
		Expect(adopted).To(BeNumerically(">=", late+failed), "every create that committed without an answer is adopted, not sent again")
		if resent > 0 {
			Expect(shortest).To(BeNumerically(">=", slowCommitGrace-repeatSlack), "no create is sent again within the grace period")
		}
		Expect(op.Running()).To(BeTrue())
	})
}

// twoManagers: two operator processes without leader election reconcile
// one namespace at the same time, as two installs watching it would.
func twoManagers() {
	It(fmt.Sprintf("creates %d instances exactly once with two operator processes reconciling one namespace at the same time", twoManagerObjects), func() {
		s := startSim("twomanagers")
		ns := newNamespace("twomanagers")
		createAccount(ns, "cloud-elements", s)
		createAPIKey(ns, "hubspot-key")
		flags := []string{"--watch-namespaces=" + ns, "--leader-elect=false",
			"--cloud-elements-timeout=" + twoManagerTimeout.String(), "--create-grace-period=" + twoManagerGrace.String()}
		a := newOperator("twomanagers-a", flags...)
		b := newOperator("twomanagers-b", flags...)
		startOperator(a)
		dumpOnFailure(a)
		startOperator(b)
		dumpOnFailure(b)
		fault := simulator.Fault{Latency: twoManagerLatency,
			CommitLateRate: 0.10, AnswerAfter: 2 * time.Second, CommitDelay: time.Second}
		s.SetFault(simulator.OpCreate, fault)

		started := time.Now()
		createObjects(ns, s, "two", twoManagerObjects)
		objs := waitAllReady(ns, twoManagerObjects, 3*time.Minute)
		took := time.Since(started)
		s.ClearFaults()

		prefix := elementsv1alpha1.OwnerTagNamespacePrefix(ns)
		own := checkOwnership(s, objs, prefix)
		matches, problems := tokenMatches(objs, own)
		createsA := metric(a, "cloudelements_requests_total", `operation="create_instance"`)
		createsB := metric(b, "cloudelements_requests_total", `operation="create_instance"`)
		lostA := logCount(a.LogPath, ns, "object changed during reconcile; retrying", "recording a pending create")
		lostB := logCount(b.LogPath, ns, "object changed during reconcile; retrying", "recording a pending create")
		byA, byB := reconcileTimes(a.LogPath, ns), reconcileTimes(b.LogPath, ns)
		both := 0
		for name := range byA {
			if len(byB[name]) > 0 {
				both++
			}
		}
		late := s.CommittedLate(simulator.OpCreate)
		adoptions := map[string]int{}
		for _, e := range events(ns) {
			if e.Reason == elementsv1alpha1.EventReasonAdopted {
				adoptions[e.InvolvedObject.Name]++
			}
		}
		adopted, adoptedTwice := 0, 0
		for _, n := range adoptions {
			adopted += n
			if n > 1 {
				adoptedTwice++
			}
		}
		resent, shortest := s.repeatedCreates(prefix)
		inFlight := s.mostCreatesInFlight()
		// API-key objects created as desired need no update and no
		// re-authorization, whichever process created or adopted them: a
		// second writer must not make either process see drift in the other's work.
		reauthorizes, updates, patches := s.Total(simulator.OpReauthorize), s.Total(simulator.OpUpdate), s.Total(simulator.OpPatch)
		var slowest time.Duration
		slowestName := ""
		for i := range objs {
			c := readyCondition(&objs[i])
			if took := c.LastTransitionTime.Sub(objs[i].CreationTimestamp.Time); took > slowest {
				slowest, slowestName = took, objs[i].Name
			}
		}

		rep.fig(1, "Two managers: objects applied in one namespace", twoManagerObjects, "≥ 100")
		rep.fig(1, "Two managers: flags of both processes", "`"+strings.Join(flags[1:], " ")+"` and `--watch-namespaces` the namespace", "")
		rep.fig(1, "Two managers: creates sent by process A / B", fmt.Sprintf("%d / %d", int(createsA), int(createsB)), "> 0 / > 0")
		rep.fig(1, "Two managers: objects reconciled by both processes", both, "")
		rep.fig(1, "Two managers: create races lost at the create-pending marker (optimistic-lock conflicts), A / B", fmt.Sprintf("%d / %d", lostA, lostB), "")
		rep.fig(1, "Two managers: most creates in flight at once at the simulator", inFlight, fmt.Sprintf("> %d (one process's workers)", twoManagerWorkers))
		rep.fig(1, "Two managers: creates committed after the client timed out / Adopted events (objects adopted by both processes)",
			fmt.Sprintf("%d / %d (%d)", late, adopted, adoptedTwice), "")
		repeat := "–"
		if resent > 0 {
			repeat = shortest.Round(10 * time.Millisecond).String()
		}
		rep.fig(1, "Two managers: objects whose create was sent again / shortest time between two of its creates", fmt.Sprintf("%d / %s", resent, repeat),
			fmt.Sprintf("– / ≥ %s", twoManagerGrace-repeatSlack))
		rep.fig(1, "Two managers: instances / duplicates / orphans", fmt.Sprintf("%d / %d / %d", own.instances, own.duplicates, own.orphans),
			fmt.Sprintf("%d / 0 / 0", twoManagerObjects))
		rep.fig(1, "Two managers: token Secrets matching the simulator", matches, fmt.Sprint(twoManagerObjects))
		rep.fig(1, "Two managers: objects Ready", len(objs), fmt.Sprint(twoManagerObjects))
		rep.fig(1, "Two managers: time to all Ready", took, "")
		rep.fig(1, "Two managers: re-authorize / update / patch calls at the simulator", fmt.Sprintf("%d / %d / %d", reauthorizes, updates, patches),
			fmt.Sprintf("0 / ≤ %d / – (what one process alone makes: none for an object created as desired, one re-apply per adopted object)", len(adoptions)))
		rep.fig(1, "Two managers: slowest object from its create to Ready (condition times, whole seconds)",
			fmt.Sprintf("%s (%s)", slowest, slowestName), fmt.Sprintf("≤ %s (the create grace period plus %s)", twoManagerGrace+twoManagerReadyMargin, twoManagerReadyMargin))
		rep.note(1, "Two managers: two operator processes, both without leader election and both watching the one namespace (as two installs would), "+
			"reconcile %d objects at once. Every create is slowed by %s at the simulator, so the two processes' creates overlap, and %.0f%% commit %s after they "+
			"arrive and are answered only after the %s client timeout. Before each create a process must win an optimistic-locked write of the create-pending marker; "+
			"the loser re-reads the object, sees a marker younger than the %s grace period and waits. A create whose answer was lost is looked up by both processes "+
			"once its marker is that old, so both may adopt the same instance (one Adopted Event each, the same instance id).",
			twoManagerObjects, twoManagerLatency, fault.CommitLateRate*100, fault.CommitDelay, twoManagerTimeout, twoManagerGrace)
		rep.addHeadline(1, fmt.Sprintf("two managers on one namespace: %d objects, creates %d + %d, %d instances, duplicates %d",
			twoManagerObjects, int(createsA), int(createsB), own.instances, own.duplicates))

		Expect(createsA).To(BeNumerically(">", 0), "process A must have created some instances")
		Expect(createsB).To(BeNumerically(">", 0), "process B must have created some instances")
		Expect(own.instances).To(Equal(twoManagerObjects))
		Expect(own.duplicates).To(BeZero())
		Expect(own.missing).To(BeZero())
		Expect(own.orphans).To(BeZero())
		Expect(problems).To(BeEmpty())
		Expect(matches).To(Equal(twoManagerObjects))
		Expect(inFlight).To(BeNumerically(">", twoManagerWorkers), "the two processes' creates must overlap")
		Expect(reauthorizes).To(BeZero(), "no re-authorization: neither process may take the other's work for drift")
		// One process alone re-applies the configuration once per instance it
		// adopts (that re-tags it as the incarnation's); a created instance
		// answered normally needs none.
		expectOrFinding(1, updates <= len(adoptions),
			"two managers: %d update calls for %d adopted objects (%d Adopted events): both processes adopt a committed-late instance and each re-applies "+
				"its configuration with a PUT, so the second writer costs a redundant update per lost create; one process alone makes one per adopted object "+
				"({controllers/adoption.go|func (r *HubSpotInstanceReconciler) adopt(} clears AppliedConfigurationHash on every adoption). Suggested fix: skip the "+
				"re-apply when the adopted instance already carries this incarnation's owner tag and the desired shape", updates, len(adoptions), adopted)
		Expect(slowest).To(BeNumerically("<=", twoManagerGrace+twoManagerReadyMargin), "%s took longest from create to Ready", slowestName)
		if resent > 0 {
			Expect(shortest).To(BeNumerically(">=", twoManagerGrace-repeatSlack), "no create is sent again within the grace period")
		}
		Expect(a.Running()).To(BeTrue())
		Expect(b.Running()).To(BeTrue())
	})
}

// logCount counts the JSON log lines of one namespace's objects with this
// message whose error contains errPart.
func logCount(path, namespace, msg, errPart string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(msg)) {
			continue
		}
		var entry struct {
			Msg       string `json:"msg"`
			Namespace string `json:"namespace"`
			Error     string `json:"error"`
		}
		if json.Unmarshal(line, &entry) == nil && entry.Msg == msg && entry.Namespace == namespace &&
			strings.Contains(entry.Error, errPart) {
			n++
		}
	}
	return n
}
