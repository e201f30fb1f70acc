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

package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
)

// readyRun is one time-to-Ready measurement (operator or floor).
type readyRun struct {
	label                 string
	n, burst, concurrency int
	qps                   float64
	// total is from the first create to the last object seen Ready;
	// created, until the last create returned.
	total, created time.Duration
	latencies      []time.Duration
	// ceCallsAtReady are the Cloud Elements calls by operation until the
	// last object was Ready; ceCalls include the settle after it.
	ceCallsAtReady, ceCalls map[string]int
	// api is what kube-apiserver served meanwhile, the bench's creates
	// excluded.
	api apiCounts
	// opByMethod is the operator's rest_client_requests_total by method;
	// opWrites its writes (for the floor: the writes it made).
	opByMethod map[string]float64
	opWrites   float64
	reconciles float64
	// opCPU and apiCPU are the CPU seconds the operator and kube-apiserver
	// used from the first create until all were Ready.
	opCPU, apiCPU float64
}

func (r *readyRun) p(q float64) time.Duration { return percentile(r.latencies, q) }

func (r *readyRun) isFloor() bool { return r.opByMethod == nil }

// requests are the API-server requests the operator (or the floor) made,
// reads and writes.
func (r *readyRun) requests() float64 {
	if r.isFloor() {
		return r.opWrites
	}
	t := 0.0
	for _, v := range r.opByMethod {
		t += v
	}
	return t
}

// limiterBound is the least time the Cloud Elements limiter allows for n
// creates: the burst at once, the rest at qps.
func (r *readyRun) limiterBound() time.Duration {
	rest := max(0, r.n-r.burst)
	return time.Duration(float64(rest) / r.qps * float64(time.Second))
}

// steadyRun is one operator process with n objects in one account: time to
// Ready, memory (account listing only), at rest, restart, drift.
type steadyRun struct {
	label   string
	n       int
	listing bool
	ready   *readyRun
	mem     *memRun
	rest    *restRun
	restart *restartRun
	drift   *driftRun
}

type restRun struct {
	window, interval time.Duration
	n                int
	ceCalls          map[string]int
	polls            pollStats
	listings         []listing
	api              apiCounts
	opByMethod       map[string]float64
	reconciles       float64
}

type restartRun struct {
	n     int
	start time.Time
	// readyz: the process answered ready; allSeen: the verified gauge
	// reached n; verified: and nothing was queued or being reconciled.
	readyz, allSeen, verified time.Duration
	// synced: the controller's caches were synced and its workers started;
	// syncFloor: a plain cache of the same objects synced, measured just
	// before the restart.
	synced, syncFloor time.Duration
	ceCalls           map[string]int
	listings          []listing
	api               apiCounts
	opByMethod        map[string]float64
	reconciles        float64
}

type driftRun struct {
	interval                 time.Duration
	goneID, invalidID, newID int64
	changed                  time.Time
	sincePrevious, gone      time.Duration
	invalid                  time.Duration
	nextListing, listingTook time.Duration
	pages                    int
	invalidReason            string
	ceCalls                  map[string]int
}

type memRun struct {
	label                string
	n, unrelated         int
	fullCache            bool
	peak, rss            uint64
	heapAlloc, heapInuse uint64
	// liveHeap is heap_alloc right after a forced GC: what is reachable.
	liveHeap uint64
	ready    *readyRun
}

type results struct {
	args       []string
	revision   string
	started    time.Time
	wall       time.Duration
	machine    machine
	loadStart  string
	loadEnd    string
	loadDuring string

	scale, contrast                          *steadyRun
	overhead, overheadFloor                  *readyRun
	limitedFloor, naive, defQPS, defQPSFloor *readyRun
	limited, mem0, mem0Full, memU, memUFull  *memRun
	unrelatedCreate                          time.Duration
}

type machine struct {
	cpu    string
	cores  int
	memory string
	kernel string
	goVer  string
	goos   string
}

func describeMachine() machine {
	m := machine{cores: runtime.NumCPU(), goVer: runtime.Version(), goos: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				f := strings.Fields(line)
				if len(f) >= 2 {
					kb, _ := strconv.ParseUint(f[1], 10, 64)
					m.memory = formatBytes(kb * 1024)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

func readLoad() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

// loadSampler records the 1-minute load average every 5 seconds.
type loadSampler struct {
	mu      sync.Mutex
	samples []float64
}

func startLoadSampler(ctx context.Context) *loadSampler {
	l := &loadSampler{}
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				f := strings.Fields(readLoad())
				if len(f) > 0 {
					if v, err := strconv.ParseFloat(f[0], 64); err == nil {
						l.mu.Lock()
						l.samples = append(l.samples, v)
						l.mu.Unlock()
					}
				}
			}
		}
	}()
	return l
}

func (l *loadSampler) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) == 0 {
		return "n/a"
	}
	sum, peak := 0.0, 0.0
	for _, v := range l.samples {
		sum += v
		peak = max(peak, v)
	}
	return fmt.Sprintf("mean %.2f, max %.2f (1-minute load, sampled every 5 s)", sum/float64(len(l.samples)), peak)
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// ratioString prints two decimals, or four where two would round a ratio
// onto its goal from the wrong side (1.1503 is not ≤ 1.15).
func ratioString(ratio, goal float64) string {
	if s := fmt.Sprintf("%.2f", ratio); s == fmt.Sprintf("%.2f", goal) && ratio != goal {
		return fmt.Sprintf("%.4f", ratio)
	}
	return fmt.Sprintf("%.2f", ratio)
}

func signedBytes(v float64) string {
	if v < 0 {
		return "−" + formatBytes(uint64(-v))
	}
	return formatBytes(uint64(v))
}

func secs(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func met(ok bool) string {
	if ok {
		return "✅ yes"
	}
	return "❌ no"
}

// eventWrites are the Events among API-server writes.
func (a apiCounts) split() (objects, events float64) {
	for k, v := range a {
		if strings.HasSuffix(k, " events") {
			events += v
		} else {
			objects += v
		}
	}
	return objects, events
}

func (a apiCounts) String() string {
	if len(a) == 0 {
		return "none"
	}
	keys := slices.Sorted(maps.Keys(a))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, a[k]))
	}
	return strings.Join(parts, ", ")
}

func perObject(a apiCounts, n int) string {
	if len(a) == 0 {
		return "none"
	}
	keys := slices.Sorted(maps.Keys(a))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, a[k]/float64(n)))
	}
	return strings.Join(parts, ", ")
}

func calls(c map[string]int) string {
	if len(c) == 0 {
		return "none"
	}
	keys := slices.Sorted(maps.Keys(c))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
	}
	return strings.Join(parts, ", ")
}

func methods(m map[string]float64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sumCalls(c map[string]int, except ...string) int {
	t := 0
	for k, v := range c {
		if !slices.Contains(except, k) {
			t += v
		}
	}
	return t
}

// markdown renders docs/benchmarks.md: the summary table with goals first,
// then every raw number behind it.
func (r *results) markdown(cfg config) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := r.machine
	cmd := "go run ./test/bench"
	if len(r.args) > 0 {
		cmd += " " + strings.Join(r.args, " ")
	}

	w("# Benchmarks\n\n")
	w("Written by `make bench` ([test/bench](../test/bench)); rerun it to refresh this page. ")
	w("Absolute times depend on the machine and on what else runs on it, so every time is reported next to a bound or a floor ")
	w("measured in the same run, and the goals are about the ratios.\n\n")
	w("- **Date:** %s\n", r.started.UTC().Format("2006-01-02 15:04 MST"))
	w("- **Command:** `%s` (wall time %s)\n", cmd, r.wall.Round(time.Second))
	w("- **Commit measured:** `%s` (`git rev-parse HEAD`, \"-dirty\" when the working tree differed from it; the operator binary is built from the working tree)\n", r.revision)
	w("- **Machine:** %d cores (`nproc`), %s, %s RAM, %s, %s %s\n", m.cores, orNA(m.cpu), orNA(m.memory), orNA(m.kernel), m.goVer, m.goos)
	w("- **Load average** (1, 5, 15 min): %s at the start, %s at the end; during the run %s. ", r.loadStart, r.loadEnd, r.loadDuring)
	w("Other builds and tests shared the machine.\n\n")

	w("## Setup\n\n")
	w("| Setting | Value |\n|---|---|\n")
	w("| Control plane | envtest kube-apiserver + etcd (local processes), the CRD installed |\n")
	w("| Cloud Elements | the simulator on loopback, **%s latency added to every call**; one account for all objects |\n", cfg.latency)
	w("| Operator | the real manager binary as its own process (`--kubeconfig`), default flags except `--max-concurrent-reconciles=%d --cloud-elements-qps=%g --cloud-elements-burst=%d` (and loopback metrics/pprof, no OAuth callback server, no leader election) |\n",
		cfg.concurrency, cfg.qps, cfg.burst)
	w("| Drift detection | by account listing (the default): one listing of the operator's instances (`GET /instances?tags[]=%s`, pages of 200) per account and shortest poll interval (+ up to 5%% jitter). The contrast row runs `--drift-by-account-listing=false`: a GET per object per poll interval |\n",
		elementsv1alpha1.ManagedTag)
	w("| Why not the default QPS %g | the scale run's creates alone take (N − burst) / QPS; the default is timed separately below at N=%d |\n", cfg.defaultQPS, cfg.n)
	w("| Kubernetes client limits | operator: none (controller-runtime's default QPS -1: API Priority and Fairness); the floor: the same |\n")
	w("| Objects | API-key HubSpotInstances, created at once by %d goroutines (client QPS 500, burst 1000) |\n", cfg.createWorkers)
	if cfg.nScale > 0 {
		w("| Scale run | N=%d, `pollInterval: %s`, one operator process: time to Ready, then %s settle and memory, at rest for 2 × pollInterval, a restart, then drift |\n",
			cfg.nScale, cfg.pollInterval, cfg.settle)
	}
	w("| Overhead run | N=%d, default pollInterval (10m), the Cloud Elements limit out of the way: `--cloud-elements-qps=%g --cloud-elements-burst=%.0f`, the floor's limiter the same |\n",
		cfg.n, cfg.unlimitedQPS, cfg.unlimitedQPS)
	if cfg.nContrast > 0 {
		why := ""
		if need := float64(cfg.nScale) / cfg.pollInterval.Seconds(); cfg.nScale > cfg.nContrast && need > cfg.qps {
			why = fmt.Sprintf(" (not N=%d: polling each of them every %s needs %.0f GET/s, more than the %g/s limit allows, so that run would measure the limiter)",
				cfg.nScale, cfg.pollInterval, need, cfg.qps)
		}
		w("| Contrast run | N=%d, `pollInterval: %s`, `--drift-by-account-listing=false`: time to Ready, at rest and restart as in the scale run%s |\n",
			cfg.nContrast, cfg.pollInterval, why)
	}
	w("| Write floor | a plain client, %d workers, the same Cloud Elements limiter (x/time/rate); per object, as soon as its create returns: finalizer (merge patch), the instance POST (simulator latency), token Secret (create), status (merge patch) = 3 writes, nothing read |\n",
		cfg.concurrency)
	w("| Time to Ready | from the first create to the last object seen Ready (Ready=True, reason Available, observed generation) by a watch; every token Secret checked to exist. Per object: from its create call returning to it being seen Ready |\n")
	w("| API-server requests | the operator's `rest_client_requests_total` by method (reads and writes; LIST and WATCH count as GET there); by resource from kube-apiserver's `apiserver_request_total`, minus the bench's own creates |\n")
	w("| Verified (restart) | the operator's `hubspot_operator_instances_verified` gauge (objects whose instance this process has seen at Cloud Elements, by a listing or a GET) at N, with `workqueue_depth` and `controller_runtime_active_workers` of the controller at 0; polled every 100 ms |\n")
	w("| Memory | fresh operator process per row; N objects Ready, then %s settle; peak RSS = VmHWM, RSS = VmRSS (/proc), heap from `go_memstats_*`; then `/debug/pprof/heap?gc=1` forces a GC and `go_memstats_heap_alloc_bytes` is the live heap. Baseline: %d objects |\n",
		cfg.settle, cfg.memoryObjects)
	if cfg.unrelatedSecrets > 0 {
		w("| Unrelated Secrets | %d × %s random data, in their own namespace, created before the operator starts |\n", cfg.unrelatedSecrets, formatBytes(uint64(cfg.secretSize)))
	}
	w("\n## Results\n\n")
	w("%s\n", r.table(cfg))
	w("## Notes\n\n")
	w("%s\n", r.notes(cfg))
	w("## Details\n\n")
	w("%s", r.details(cfg))
	return b.String()
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// pages is how many pages of 200 one listing of n instances takes.
func pages(n int) int { return (n + 199) / 200 }

func perObjectRSS(big, base *memRun) float64 {
	return (float64(big.rss) - float64(base.rss)) / float64(big.n-base.n)
}

// table is the summary: one row per claim, with its goal, the ratio first.
func (r *results) table(cfg config) string {
	var b strings.Builder
	row := func(num, what, measured, goal, ok string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", num, what, measured, goal, ok)
	}
	b.WriteString("| # | Measurement | Result | Goal | Met? |\n|---|---|---|---|---|\n")
	sc, ct := r.scale, r.contrast

	if sc != nil {
		rr := sc.ready
		ratio := rr.total.Seconds() / rr.limiterBound().Seconds()
		row("1", fmt.Sprintf("Time to Ready, N=%d API-key objects in one account, limit %g/s burst %d ÷ the limiter bound (N − burst) / QPS", rr.n, rr.qps, rr.burst),
			fmt.Sprintf("**%s×** = %s / %s (p50 %s, p99 %s; Cloud Elements calls: %s)", ratioString(ratio, 1.1), secs(rr.total), secs(rr.limiterBound()),
				secs(rr.p(0.5)), secs(rr.p(0.99)), calls(rr.ceCallsAtReady)), "≤ 1.1×", met(ratio <= 1.1))
	}
	if op, fl := r.overhead, r.overheadFloor; op != nil && fl != nil {
		ratio := op.total.Seconds() / fl.total.Seconds()
		row("2", fmt.Sprintf("Time to Ready, N=%d, the Cloud Elements limit out of the way (%g/s, burst %d) ÷ the write floor: the operator's own overhead", op.n, op.qps, op.burst),
			fmt.Sprintf("**%s×** = operator %s (p50 %s, p99 %s) / floor %s (p50 %s, p99 %s)", ratioString(ratio, 1.2), secs(op.total), secs(op.p(0.5)), secs(op.p(0.99)),
				secs(fl.total), secs(fl.p(0.5)), secs(fl.p(0.99))), "≤ 1.2×", met(ratio <= 1.2))
		n := float64(op.n)
		reads := op.opByMethod["GET"]
		extra := ""
		if sc != nil {
			extra = fmt.Sprintf("; N=%d at the limit: %.2f", sc.n, sc.ready.requests()/float64(sc.n))
		}
		row("3", "API-server requests per object, apply → Ready (+3 s), reads and writes",
			fmt.Sprintf("**%.2f** = %.2f reads + %.2f writes (%s per object; the overhead run)%s; the floor: %.2f", op.requests()/n, reads/n, op.opWrites/n,
				perMethod(op.opByMethod, op.n), extra, fl.requests()/float64(fl.n)), "≤ 6", met(op.requests()/n <= 6))
	}
	if sc != nil && sc.rest != nil {
		rs := sc.rest
		total := sumCalls(rs.ceCalls)
		bound := 2 * pages(sc.n)
		row("4", fmt.Sprintf("At rest, %s (2 × pollInterval), N=%d: Cloud Elements calls", rs.window, sc.n),
			fmt.Sprintf("**%d** = %s (%s)", total, calls(rs.ceCalls), listingsSummary(rs.listings)),
			fmt.Sprintf("≤ 2 × ⌈N/200⌉ = %d", bound), met(total <= bound && total == rs.ceCalls["list"]))
	}
	if ct != nil && ct.rest != nil {
		rs := ct.rest
		p := rs.polls
		extra := ""
		if sc != nil && sc.n != ct.n {
			need := float64(sc.n) / rs.interval.Seconds()
			extra = fmt.Sprintf("; at N=%d it would be %d GETs, %.0f/s", sc.n, 2*sc.n, need)
			if need > cfg.qps {
				extra += fmt.Sprintf(", more than the %g/s limit allows", cfg.qps)
			}
		}
		row("4", fmt.Sprintf("Contrast: per-object polling (`--drift-by-account-listing=false`), N=%d, the same %s", ct.n, rs.window),
			fmt.Sprintf("**%d** = %s: %.2f GETs per object (per-object period min %s, median %s, max %s; %d never polled)%s",
				sumCalls(rs.ceCalls), calls(rs.ceCalls), float64(p.gets)/float64(p.objects), secs(p.minPeriod), secs(p.medianPeriod), secs(p.maxPeriod),
				p.neverPolled, extra), "— (contrast: 2 × N)", "")
	}
	if sc != nil && sc.rest != nil {
		rs := sc.rest
		served := rs.api.requests().operators().total()
		client := sumMethods(rs.opByMethod)
		watches := ""
		if client > served {
			// The operator's client counts a watch it opens as a GET;
			// kube-apiserver counts it as WATCH, apart from reads.
			watches = fmt.Sprintf("; the operator's client counted %s: watches it re-opened, which kube-apiserver counts apart", methods(rs.opByMethod))
		}
		row("5", fmt.Sprintf("At rest, N=%d: API-server requests by the operator (reads and writes)", sc.n),
			fmt.Sprintf("**%.0f** reads and writes of HubSpotInstances, Secrets and Events served by kube-apiserver (reconciles %.0f%s)", served, rs.reconciles, watches),
			"0", met(served == 0 && writesOf(rs.opByMethod) == 0))
	}
	if ct != nil && ct.rest != nil {
		rs := ct.rest
		row("5", fmt.Sprintf("Contrast: per-object polling, N=%d", ct.n),
			fmt.Sprintf("**%.0f** (%s; reconciles %.0f)", sumMethods(rs.opByMethod), methods(rs.opByMethod), rs.reconciles), "— (contrast)", "")
	}
	if sc != nil && sc.restart != nil {
		rs := sc.restart
		bound := time.Duration(float64(pages(sc.n)) / cfg.qps * float64(time.Second))
		ratio := rs.verified.Seconds() / bound.Seconds()
		row("6", fmt.Sprintf("Restart with %d Ready: time until all verified ÷ ⌈N/200⌉ list calls at the limit (%d / %g/s)", sc.n, pages(sc.n), cfg.qps),
			fmt.Sprintf("**%s×** = %s from process start / %s (caches synced at %s; %s; %d GETs; %.0f reconciles)", ratioString(ratio, 2), secs(rs.verified), secs(bound),
				secs(rs.synced), listingsFrom(rs.listings, rs.start), rs.ceCalls["get"], rs.reconciles), "≤ 2×", met(ratio <= 2))
		if rs.syncFloor > 0 {
			floor := rs.syncFloor + bound
			row("6", "Restart, the Kubernetes share in the floor: time until all verified ÷ (a plain controller-runtime cache of the same objects synced + the list calls at the limit)",
				fmt.Sprintf("**%s×** = %s / (%s + %s)", ratioString(rs.verified.Seconds()/floor.Seconds(), 2), secs(rs.verified), secs(rs.syncFloor), secs(bound)),
				"— (what is ours)", "")
		}
		writes := writesOf(rs.opByMethod)
		row("6", "Restart: writes by the operator", fmt.Sprintf("**%.0f** (kube-apiserver saw %.0f writes in all)", writes, rs.api.writes().total()), "0", met(writes == 0))
	}
	if ct != nil && ct.restart != nil {
		rs := ct.restart
		bound := time.Duration(float64(max(0, ct.n-cfg.burst)) / cfg.qps * float64(time.Second))
		row("6", fmt.Sprintf("Contrast: per-object polling, restart with %d Ready", ct.n),
			fmt.Sprintf("**%s** until all verified (%s; the limiter alone needs %s for them); writes %.0f", secs(rs.verified), calls(rs.ceCalls), secs(bound),
				writesOf(rs.opByMethod)), "— (contrast)", "")
	}
	if sc != nil && sc.drift != nil {
		d := sc.drift
		worst := d.sincePrevious + max(d.gone, d.invalid)
		// The next listing is due an interval (+ up to 5% jitter) after the
		// last one ended; the poller looks once a second; what a listing finds
		// is acted on when its last page is in.
		due := d.interval*105/100 + time.Second
		ok := d.sincePrevious+d.nextListing <= due && max(d.gone, d.invalid) <= d.nextListing+d.listingTook+2*time.Second
		row("7", fmt.Sprintf("Drift, N=%d, pollInterval %s: an instance deleted / invalidated behind the operator's back → the object shows it", sc.n, d.interval),
			fmt.Sprintf("deleted: **%s** (recreated, instance %d → %d); invalidated: **%s** (Ready %s). Changed %s after a listing ended, so %s after it at worst; the next listing began %s after the change and took %s (%d pages)",
				secs(d.gone), d.goneID, d.newID, secs(d.invalid), d.invalidReason, secs(d.sincePrevious), secs(worst), secs(d.nextListing), secs(d.listingTook), d.pages),
			fmt.Sprintf("within pollInterval + 5%% jitter (the next listing ≤ %s after the last one ended, + 1 s tick), + that listing", secs(d.interval*105/100)), met(ok))
	}
	if sc != nil && sc.mem != nil && r.mem0 != nil && sc.n > r.mem0.n {
		per := perObjectRSS(sc.mem, r.mem0)
		slope := ""
		if r.limited != nil && r.limited.n > r.mem0.n {
			slope = fmt.Sprintf("; at N=%d: %s", r.limited.n, signedBytes(perObjectRSS(r.limited, r.mem0)))
		}
		row("8", fmt.Sprintf("RSS per object at N=%d (minus the %d-object baseline)", sc.n, r.mem0.n),
			fmt.Sprintf("**%s** (RSS %s → %s%s)", signedBytes(per), formatBytes(r.mem0.rss), formatBytes(sc.mem.rss), slope), "≤ 12 KiB", met(per <= 12<<10))
	}

	// The rows of earlier tables, kept.
	ratioRow := func(what string, op, floor *readyRun) {
		if op == nil || floor == nil {
			return
		}
		ratio := op.total.Seconds() / floor.total.Seconds()
		row("9", what, fmt.Sprintf("**%s×** = operator %s (p50 %s, p99 %s) / floor %s (p50 %s, p99 %s)", ratioString(ratio, 1.5),
			secs(op.total), secs(op.p(0.5)), secs(op.p(0.99)), secs(floor.total), secs(floor.p(0.5)), secs(floor.p(0.99))),
			"≤ 1.5×", met(ratio <= 1.5))
	}
	if r.limited != nil {
		ratioRow(fmt.Sprintf("Time to Ready, N=%d, Cloud Elements limit %g/s burst %d, ÷ the floor", r.limited.n, cfg.qps, cfg.burst), r.limited.ready, r.limitedFloor)
		if r.naive != nil && r.limitedFloor != nil {
			row("9", "Naive baseline: same, `--max-concurrent-reconciles=1`",
				fmt.Sprintf("**%s** (p50 %s, p99 %s) = %.2f× the floor, %.2f× the operator", secs(r.naive.total), secs(r.naive.p(0.5)), secs(r.naive.p(0.99)),
					r.naive.total.Seconds()/r.limitedFloor.total.Seconds(), r.naive.total.Seconds()/r.limited.ready.total.Seconds()), "— (baseline)", "")
		}
	}
	ratioRow(fmt.Sprintf("Time to Ready, N=%d, the default limit %g/s burst %d, ÷ the floor", cfg.n, cfg.defaultQPS, cfg.defaultBurst), r.defQPS, r.defQPSFloor)
	memRatio := func(what string, a, c *memRun, goal string, judge bool) {
		if a == nil || c == nil {
			return
		}
		ratio := float64(c.peak) / float64(a.peak)
		ok := ""
		if judge {
			ok = met(ratio <= 1.15)
		}
		row("10", what, fmt.Sprintf("**%s×** = peak RSS %s → %s (live heap after GC %s → %s)",
			ratioString(ratio, 1.15), formatBytes(a.peak), formatBytes(c.peak), formatBytes(a.liveHeap), formatBytes(c.liveHeap)), goal, ok)
	}
	if r.memU != nil {
		memRatio(fmt.Sprintf("Peak RSS, %d objects, 0 vs %d unrelated %s Secrets", r.mem0.n, r.memU.unrelated, formatBytes(uint64(cfg.secretSize))),
			r.mem0, r.memU, "≤ 1.15×", true)
		memRatio("Same, caching Secrets in full (contrast build, tag `"+operator.ContrastBuildTag+"`)", r.mem0Full, r.memUFull, "— (what the design saves)", false)
	}
	if e := r.overhead; e != nil {
		n := float64(e.n)
		c := e.ceCallsAtReady
		others := sumCalls(c, "create")
		row("11", fmt.Sprintf("Cloud Elements calls per object, apply → Ready (the overhead run, N=%d)", e.n),
			fmt.Sprintf("**%.2f POST**, %d other calls (%s)", float64(c["create"])/n, others, calls(c)),
			"exactly 1 POST (API key)", met(c["create"] == e.n && others == 0))
		writes := e.api.writes()
		objects, events := writes.split()
		floorW := 3.0
		if r.overheadFloor != nil {
			floorW = r.overheadFloor.api.writes().total() / float64(r.overheadFloor.n)
		}
		// The objects share one credentials Secret, protected by one write
		// for all of them: a write per account, not per object.
		shared := writes["PATCH secrets"]
		row("11", "API-server writes per object, apply → Ready (+3 s)",
			fmt.Sprintf("**%.2f** = %.2f to the object and its Secret + %.2f Events (%s; PATCH secrets %.0f in all: the protection of the "+
				"credentials Secret all %d share); the floor: %.2f",
				(objects+events)/n, objects/n, events/n, perObject(writes, e.n), shared, e.n, floorW),
			"3 (finalizer, Secret, status), + 1 per credentials Secret", met((objects+events-shared)/n <= 3.0001 && shared <= 1))
	}
	return b.String()
}

// listingsSummary: "2 listings of 50 pages".
func listingsSummary(ls []listing) string {
	if len(ls) == 0 {
		return "no listing"
	}
	counts := make([]string, 0, len(ls))
	for _, l := range ls {
		counts = append(counts, strconv.Itoa(l.pages))
	}
	return fmt.Sprintf("%d listings of %s pages", len(ls), strings.Join(counts, ", "))
}

// listingsFrom: the listings of a restart, timed from the process start.
func listingsFrom(ls []listing, start time.Time) string {
	if len(ls) == 0 {
		return "no listing"
	}
	parts := make([]string, 0, len(ls))
	total := 0
	for _, l := range ls {
		total += l.pages
		parts = append(parts, fmt.Sprintf("%d pages at %s–%s", l.pages, secs(l.first.Sub(start)), secs(l.last.Sub(start))))
	}
	return fmt.Sprintf("%d list calls: %s", total, strings.Join(parts, ", "))
}

func sumMethods(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}

func perMethod(m map[string]float64, n int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, m[k]/float64(n)))
	}
	return strings.Join(parts, ", ")
}

// notes explain what bounds each result, and by how much a goal was missed.
func (r *results) notes(cfg config) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, "- "+format+"\n", args...) }
	if sc := r.scale; sc != nil {
		rr := sc.ready
		w("**What bounds time to Ready at N=%d:** the Cloud Elements client-side limit allows (N − burst) / QPS = %s at %g/s; the listings "+
			"of the account share that limiter with the creates (%d list calls while the objects became Ready), and the bench's creates were "+
			"all in after %s. Meanwhile the operator used %.0f CPU-seconds and kube-apiserver %.0f, in %s on %d cores shared with other work: "+
			"%.2f cores busy with these two alone.", rr.n, secs(rr.limiterBound()), rr.qps, rr.ceCallsAtReady["list"], secs(rr.created),
			rr.opCPU, rr.apiCPU, secs(rr.total), r.machine.cores, (rr.opCPU+rr.apiCPU)/rr.total.Seconds())
	}
	if op, fl := r.overhead, r.overheadFloor; op != nil && fl != nil {
		n := float64(op.n)
		ratio := op.total.Seconds() / fl.total.Seconds()
		msg := fmt.Sprintf("**Overhead (the limit out of the way): %s×.** Each object costs the operator %.2f API-server requests (%s) and %.2f reconciles "+
			"against the floor's %.0f writes and no read; kube-apiserver by resource: %s.", ratioString(ratio, 1.2), op.requests()/n,
			perMethod(op.opByMethod, op.n), op.reconciles/n, fl.requests()/float64(fl.n), perObject(op.api.requests(), op.n))
		msg += fmt.Sprintf(" CPU from the first create to the last Ready: the operator %.1f s, kube-apiserver %.1f s (the floor's run: kube-apiserver %.1f s), "+
			"on %d cores shared with other work.", op.opCPU, op.apiCPU, fl.apiCPU, r.machine.cores)
		if ratio > 1.2 {
			msg += fmt.Sprintf(" The goal of 1.2× is missed by %.0f%%.", (ratio/1.2-1)*100)
		}
		w("%s", msg)
	}
	if sc, ct := r.scale, r.contrast; sc != nil && ct != nil && sc.rest != nil && ct.rest != nil {
		w("**At rest, account listing against per-object polling:** %d Cloud Elements calls for %d objects against %d for %d objects, "+
			"and %.0f API-server requests against %.0f (per-object polling reconciles each object every interval, reading its Secrets). "+
			"Per object and interval: %.4f calls against %.2f.",
			sumCalls(sc.rest.ceCalls), sc.n, sumCalls(ct.rest.ceCalls), ct.n, sumMethods(sc.rest.opByMethod), sumMethods(ct.rest.opByMethod),
			float64(sumCalls(sc.rest.ceCalls))/float64(sc.n)/2, float64(sumCalls(ct.rest.ceCalls))/float64(ct.n)/2)
	}
	if sc := r.scale; sc != nil && sc.restart != nil {
		rs := sc.restart
		first, last := time.Duration(0), time.Duration(0)
		if len(rs.listings) > 0 {
			first, last = rs.listings[0].first.Sub(rs.start), rs.listings[len(rs.listings)-1].last.Sub(rs.start)
		}
		bound := time.Duration(float64(pages(sc.n)) / cfg.qps * float64(time.Second))
		msg := fmt.Sprintf("**Restart at N=%d:** the process was ready after %s and its caches synced at %s (a plain cache of the same objects, "+
			"timed just before, syncs in %s: kube-apiserver's list of %d HubSpotInstances in JSON, which no operator avoids); the first page of "+
			"a listing came at %s (the first object to join its account starts it), the last at %s; the verified gauge reached %d at %s, the queue was empty at %s. "+
			"No instance was read by a GET (%d GETs). The new process made %.0f reconciles (%.2f per object, from its cache's initial list: "+
			"each joins its account's listing, which vouches for it by the token hash status recorded) and %.2f API-server "+
			"requests per object (%s).", sc.n, secs(rs.readyz), secs(rs.synced), secs(rs.syncFloor), sc.n, secs(first), secs(last), sc.n, secs(rs.allSeen), secs(rs.verified), rs.ceCalls["get"],
			rs.reconciles, rs.reconciles/float64(sc.n), sumMethods(rs.opByMethod)/float64(sc.n), perMethod(rs.opByMethod, sc.n))
		if ratio := rs.verified.Seconds() / bound.Seconds(); ratio > 2 {
			msg += fmt.Sprintf(" So the goal of 2 × %s is missed (%s×): Cloud Elements is not what bounds a restart any more; the cache sync "+
				"(%s of it in a plain cache) and the %.0f first reconciles, at %d workers, are.", secs(bound), ratioString(ratio, 2), secs(rs.syncFloor),
				rs.reconciles, cfg.concurrency)
		}
		w("%s", msg)
	}
	if sc := r.scale; sc != nil && sc.drift != nil {
		d := sc.drift
		w("**Drift:** both changes were made %s after a listing ended, the worst moment: the next listing is due a poll interval (+ the account's "+
			"stable 0-5%% jitter) after the previous one *ended*, the poller looks once a second, and a listing acts on what it found once its "+
			"last page is in. Cloud Elements calls meanwhile: %s (the deleted instance's 404 GET and its re-creation).", secs(d.sincePrevious), calls(d.ceCalls))
	}
	if sc := r.scale; sc != nil && sc.mem != nil && r.mem0 != nil {
		_, events := sc.ready.api.writes().split()
		w("**Memory per object** counts everything one more object costs: its cached HubSpotInstance and token-Secret metadata, the "+
			"reconciler's per-object memory, its place in the account's listing, and the Events it caused: client-go's Event broadcaster "+
			"keeps every Event it sent (%.1f per new object here) for 6-12 minutes to de-duplicate series, so the figure is lower for "+
			"objects that are older than that.", events/float64(sc.n))
	}
	if e := r.overhead; e != nil {
		n := float64(e.n)
		writes := e.api.writes()
		objects, events := writes.split()
		if (objects-writes["PATCH secrets"])/n > 3.0001 || writes["PATCH secrets"] > 1 || events > 0 {
			msg := fmt.Sprintf("**API-server writes per object: %.2f against 3** (the create-pending marker with the finalizer, the token "+
				"Secret, status): by resource %s.", (objects+events)/n, perObject(writes, e.n))
			w("%s", msg)
		}
	}
	if r.mem0 != nil && r.memU != nil {
		if ratio := float64(r.memU.peak) / float64(r.mem0.peak); ratio > 1.15 {
			w("**Memory vs unrelated Secrets: %s×, over the 1.15× goal by %.1f%%** (%s more peak RSS).", ratioString(ratio, 1.15), (ratio/1.15-1)*100,
				signedBytes(float64(r.memU.peak)-float64(r.mem0.peak)))
		}
	}
	return b.String()
}

func (r *results) details(cfg config) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("### Time to Ready\n\n")
	w("| Run | N | Workers | CE limit | Time to Ready | Limiter bound | p50 | p99 | CPU-s operator / kube-apiserver | Cloud Elements calls (until Ready +3 s) | API-server requests by method | Reconciles | kube-apiserver (bench's creates excluded) |\n")
	w("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var runs []*readyRun
	if r.scale != nil {
		runs = append(runs, r.scale.ready)
	}
	runs = append(runs, r.overhead, r.overheadFloor)
	if r.limited != nil {
		runs = append(runs, r.limited.ready)
	}
	runs = append(runs, r.limitedFloor, r.naive, r.defQPS, r.defQPSFloor)
	if r.contrast != nil {
		runs = append(runs, r.contrast.ready)
	}
	for _, rr := range runs {
		if rr == nil {
			continue
		}
		req, rec, cpu := methods(rr.opByMethod), fmt.Sprintf("%.0f", rr.reconciles), fmt.Sprintf("%.1f / %.1f", rr.opCPU, rr.apiCPU)
		if rr.isFloor() {
			req, rec, cpu = fmt.Sprintf("%.0f writes", rr.opWrites), "—", fmt.Sprintf("— / %.1f", rr.apiCPU)
		}
		w("| %s | %d | %d | %g/s, burst %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", rr.label, rr.n, rr.concurrency, rr.qps, rr.burst,
			secs(rr.total), secs(rr.limiterBound()), secs(rr.p(0.5)), secs(rr.p(0.99)), cpu, calls(rr.ceCalls), req, rec, rr.api.requests())
	}
	w("\nThe limiter bound is (N − burst) / QPS: no client honouring the limit can create N instances faster.\n\n")

	for _, sr := range []*steadyRun{r.scale, r.contrast} {
		if sr == nil {
			continue
		}
		mode := driftMode(sr.listing)
		if rs := sr.rest; rs != nil {
			w("### At rest: %s, %d objects, %s\n\n", mode, sr.n, rs.window)
			w("- Cloud Elements calls: %s; %s\n", calls(rs.ceCalls), listingsSummary(rs.listings))
			if !sr.listing {
				w("- GETs per object: at most %d in the window, %d objects polled once, %d polled never; %d measured periods\n",
					rs.polls.maxPerObject, rs.polls.polledMaxOne, rs.polls.neverPolled, rs.polls.periods)
			}
			w("- Operator requests by method: %s; reconciles %.0f\n", methods(rs.opByMethod), rs.reconciles)
			w("- kube-apiserver: %s\n\n", rs.api)
		}
		if rs := sr.restart; rs != nil {
			w("### Restart: %s, %d objects\n\n", mode, sr.n)
			w("- Process start → ready: %s; → caches synced, workers started: %s; → verified gauge at %d: %s; → all verified and the queue empty: %s\n",
				secs(rs.readyz), secs(rs.synced), sr.n, secs(rs.allSeen), secs(rs.verified))
			w("- Cloud Elements calls (until verified +5 s): %s; %s\n", calls(rs.ceCalls), listingsFrom(rs.listings, rs.start))
			w("- Operator requests by method (the new process): %s; reconciles %.0f\n", methods(rs.opByMethod), rs.reconciles)
			w("- kube-apiserver: %s\n\n", rs.api)
		}
		if d := sr.drift; d != nil {
			w("### Drift: %s, %d objects, pollInterval %s\n\n", mode, sr.n, d.interval)
			w("- Instance %d deleted and instance %d invalidated at Cloud Elements %s after a listing ended\n", d.goneID, d.invalidID, secs(d.sincePrevious))
			w("- The next listing began %s later and took %s (%d pages)\n", secs(d.nextListing), secs(d.listingTook), d.pages)
			w("- The deleted one's object showed a new instance (%d) after %s; the invalidated one's showed `valid: false`, Ready %s, after %s\n",
				d.newID, secs(d.gone), d.invalidReason, secs(d.invalid))
			w("- Cloud Elements calls meanwhile: %s\n\n", calls(d.ceCalls))
		}
	}

	w("### Memory\n\n")
	w("| Run | Objects | Unrelated Secrets | Secret cache | Peak RSS | RSS | RSS per object over the baseline | Heap alloc | Heap in use | Live heap after GC | Time to Ready |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	mems := []*memRun{r.mem0, r.mem0Full, r.memU, r.memUFull, r.limited}
	if r.scale != nil {
		mems = append(mems, r.scale.mem)
	}
	for _, mr := range mems {
		if mr == nil {
			continue
		}
		mode := "metadata only"
		if mr.fullCache {
			mode = "full (contrast)"
		}
		per := "—"
		if r.mem0 != nil && mr.n > r.mem0.n && !mr.fullCache && mr.unrelated == 0 {
			per = signedBytes(perObjectRSS(mr, r.mem0))
		}
		w("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", mr.label, mr.n, mr.unrelated, mode, formatBytes(mr.peak), formatBytes(mr.rss),
			per, formatBytes(mr.heapAlloc), formatBytes(mr.heapInuse), formatBytes(mr.liveHeap), secs(mr.ready.total))
	}
	if r.unrelatedCreate > 0 {
		w("\nCreating the %d unrelated Secrets took %s.\n", cfg.unrelatedSecrets, secs(r.unrelatedCreate))
	}
	return b.String()
}
