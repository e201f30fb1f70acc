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

	"github.com/hubspot-operator/hubspot-operator/internal/operator"
)

// readyRun is one time-to-Ready measurement (operator or floor).
type readyRun struct {
	label                 string
	n, burst, concurrency int
	qps                   float64
	total                 time.Duration
	latencies             []time.Duration
	// ceCallsAtReady are the Cloud Elements calls by operation until the
	// last object was Ready; ceCalls include the settle after it.
	ceCallsAtReady, ceCalls map[string]int
	apiWrites               apiWrites
	// opByMethod is the operator's rest_client_requests_total by method;
	// opWrites its writes (for the floor: the writes it made).
	opByMethod map[string]float64
	opWrites   float64
}

func (r *readyRun) p(q float64) time.Duration { return percentile(r.latencies, q) }

// limiterBound is the least time the Cloud Elements limiter allows for n
// creates: the burst at once, the rest at qps.
func (r *readyRun) limiterBound() time.Duration {
	rest := max(0, r.n-r.burst)
	return time.Duration(float64(rest) / r.qps * float64(time.Second))
}

type restRun struct {
	window, interval time.Duration
	ceCalls          map[string]int
	polls            pollStats
	apiWrites        apiWrites
	opByMethod       map[string]float64
}

type restartRun struct {
	n                int
	readyz, verified time.Duration
	ceCalls          map[string]int
	apiWrites        apiWrites
	opByMethod       map[string]float64
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

	main, floor, naive, defQPS, defQPSFloor, largeFloor *readyRun
	rest                                                *restRun
	restart                                             *restartRun
	mem0, mem0Full, memU, memUFull, large               *memRun
	unrelatedCreate                                     time.Duration
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
func (a apiWrites) split() (objects, events float64) {
	for k, v := range a {
		if strings.HasSuffix(k, " events") {
			events += v
		} else {
			objects += v
		}
	}
	return objects, events
}

func (a apiWrites) String() string {
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

func perObject(a apiWrites, n int) string {
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
	w("Absolute times depend on the machine and on what else runs on it, so every time is reported next to a floor ")
	w("measured in the same run, and the goals are about the ratios.\n\n")
	w("- **Date:** %s\n", r.started.UTC().Format("2006-01-02 15:04 MST"))
	w("- **Command:** `%s` (wall time %s)\n", cmd, r.wall.Round(time.Second))
	if r.revision != "" {
		w("- **Code:** `%s` (`git describe --always --dirty`; the operator binary is built from the working tree)\n", r.revision)
	}
	w("- **Machine:** %d cores (`nproc`), %s, %s RAM, %s, %s %s\n", m.cores, orNA(m.cpu), orNA(m.memory), orNA(m.kernel), m.goVer, m.goos)
	w("- **Load average** (1, 5, 15 min): %s at the start, %s at the end; during the run %s. ", r.loadStart, r.loadEnd, r.loadDuring)
	w("Other builds and tests shared the machine.\n\n")

	w("## Setup\n\n")
	w("| Setting | Value |\n|---|---|\n")
	w("| Control plane | envtest kube-apiserver + etcd (local processes), the CRD installed |\n")
	w("| Cloud Elements | the simulator on loopback, **%s latency added to every call** |\n", cfg.latency)
	w("| Operator | the real manager binary as its own process (`--kubeconfig`), default flags except `--max-concurrent-reconciles=%d --cloud-elements-qps=%g --cloud-elements-burst=%d` (and loopback metrics/pprof, no OAuth callback server, no leader election) |\n",
		cfg.concurrency, cfg.qps, cfg.burst)
	if need := float64(cfg.n) / cfg.pollInterval.Seconds(); need > cfg.defaultQPS {
		w("| Why not the default QPS %g | polling %d objects every %s needs %.0f GET/s, more than %g/s allows; the default is timed separately below |\n",
			cfg.defaultQPS, cfg.n, cfg.pollInterval, need, cfg.defaultQPS)
	}
	w("| Kubernetes client limits | operator: none (controller-runtime's default QPS -1: API Priority and Fairness); the floor: the same |\n")
	w("| Objects | API-key HubSpotInstances, created at once by %d goroutines (client QPS 500, burst 1000) |\n", cfg.createWorkers)
	w("| N | %d, `pollInterval: %s` |\n", cfg.n, cfg.pollInterval)
	if cfg.nLarge > 0 {
		w("| N-large | %d, default pollInterval (10m), same flags |\n", cfg.nLarge)
	}
	w("| Write floor | a plain client, %d workers, the same Cloud Elements limiter (x/time/rate %g/s, burst %d); per object, as soon as its create returns: finalizer (merge patch), the instance POST (simulator latency), token Secret (create), status (merge patch) = 3 writes, nothing read |\n",
		cfg.concurrency, cfg.qps, cfg.burst)
	w("| Time to Ready | from the first create to the last object seen Ready (Ready=True, reason Available, observed generation) by a watch; every token Secret checked to exist. Per object: from its create call returning to it being seen Ready |\n")
	w("| Memory | fresh operator process per row; %d objects Ready, then %s settle; peak RSS = VmHWM, RSS = VmRSS (/proc), heap from `go_memstats_*`; then `/debug/pprof/heap?gc=1` forces a GC and `go_memstats_heap_alloc_bytes` is the live heap |\n", cfg.memoryObjects, cfg.settle)
	if cfg.unrelatedSecrets > 0 {
		w("| Unrelated Secrets | %d × %s random data, in their own namespace, created before the operator starts |\n", cfg.unrelatedSecrets, formatBytes(uint64(cfg.secretSize)))
	}
	w("| Writes by the operator | its `rest_client_requests_total` by method (POST/PUT/PATCH/DELETE); by resource from kube-apiserver's `apiserver_request_total`, minus the bench's own creates |\n\n")

	w("## Results\n\n")
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

// table is the summary: one row per claim, with its goal.
func (r *results) table(cfg config) string {
	var b strings.Builder
	row := func(num, what, measured, goal, ok string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", num, what, measured, goal, ok)
	}
	b.WriteString("| # | Measurement | Result | Goal | Met? |\n|---|---|---|---|---|\n")
	ratioRow := func(what string, op, floor *readyRun) {
		if op == nil || floor == nil {
			return
		}
		ratio := op.total.Seconds() / floor.total.Seconds()
		row("1", what, fmt.Sprintf("operator **%s** (p50 %s, p99 %s) / floor **%s** (p50 %s, p99 %s) = **%s×**",
			secs(op.total), secs(op.p(0.5)), secs(op.p(0.99)), secs(floor.total), secs(floor.p(0.5)), secs(floor.p(0.99)), ratioString(ratio, 1.5)),
			"≤ 1.5×", met(ratio <= 1.5))
	}
	if r.main != nil {
		ratioRow(fmt.Sprintf("Time to Ready, N=%d, Cloud Elements limit %g/s burst %d", r.main.n, r.main.qps, r.main.burst), r.main, r.floor)
	}
	if r.naive != nil && r.floor != nil {
		row("1", "Naive baseline: same, `--max-concurrent-reconciles=1`",
			fmt.Sprintf("**%s** (p50 %s, p99 %s) = %.2f× the floor, %.2f× the operator", secs(r.naive.total), secs(r.naive.p(0.5)), secs(r.naive.p(0.99)),
				r.naive.total.Seconds()/r.floor.total.Seconds(), r.naive.total.Seconds()/r.main.total.Seconds()), "— (baseline)", "")
	}
	ratioRow(fmt.Sprintf("Time to Ready, N=%d, the default limit %g/s burst %d", cfg.n, cfg.defaultQPS, cfg.defaultBurst), r.defQPS, r.defQPSFloor)
	if r.large != nil {
		ratioRow(fmt.Sprintf("Time to Ready, N=%d, limit %g/s burst %d", r.large.n, cfg.qps, cfg.burst), r.large.ready, r.largeFloor)
	}
	if rs := r.rest; rs != nil {
		writes := writesOf(rs.opByMethod)
		row("2", fmt.Sprintf("At rest, %s (2 × pollInterval): API-server writes by the operator", rs.window),
			fmt.Sprintf("**%.0f** (kube-apiserver saw %.0f writes in all)", writes, rs.apiWrites.total()), "0", met(writes == 0))
		p := rs.polls
		perInterval := float64(p.gets) / float64(p.objects) / (rs.window.Seconds() / rs.interval.Seconds())
		others := sumCalls(rs.ceCalls, "get")
		// Exactly one per object per interval: nobody polled sooner than the
		// interval, nobody later than the interval plus its 5% jitter (and a
		// second of scheduling), nobody missed, no other call.
		okPeriods := p.periods == 0 || (p.minPeriod >= rs.interval-100*time.Millisecond && p.maxPeriod <= rs.interval*105/100+time.Second)
		row("2", "At rest: Cloud Elements calls",
			fmt.Sprintf("**%.3f GET per object per interval** (%d GETs for %d objects; per-object period min %s, median %s, max %s; %d objects never polled; other calls %d)",
				perInterval, p.gets, p.objects, secs(p.minPeriod), secs(p.medianPeriod), secs(p.maxPeriod), p.neverPolled, others),
			"exactly 1 GET per object per interval (each object's interval is stretched by a stable 0-5% jitter)",
			met(okPeriods && p.neverPolled == 0 && others == 0 && rs.ceCalls["get"] == p.gets))
	}
	if rs := r.restart; rs != nil {
		writes := writesOf(rs.opByMethod)
		bound := time.Duration(float64(max(0, rs.n-cfg.burst)) / cfg.qps * float64(time.Second))
		row("3", fmt.Sprintf("Restart with %d Ready: time until all verified", rs.n),
			fmt.Sprintf("**%s** from process start (ready after %s; %d GETs; the limiter alone needs %s)",
				secs(rs.verified), secs(rs.readyz), rs.ceCalls["get"], secs(bound)), "—", "")
		row("3", "Restart: writes by the operator", fmt.Sprintf("**%.0f** (kube-apiserver saw %.0f)", writes, rs.apiWrites.total()), "0", met(writes == 0))
	}
	memRatio := func(what string, a, c *memRun, goal string, judge bool) {
		if a == nil || c == nil {
			return
		}
		ratio := float64(c.peak) / float64(a.peak)
		ok := ""
		if judge {
			ok = met(ratio <= 1.15)
		}
		row("4", what, fmt.Sprintf("peak RSS %s → %s = **%s×** (live heap after GC %s → %s)",
			formatBytes(a.peak), formatBytes(c.peak), ratioString(ratio, 1.15), formatBytes(a.liveHeap), formatBytes(c.liveHeap)), goal, ok)
	}
	if r.memU != nil {
		memRatio(fmt.Sprintf("Peak RSS, %d objects, 0 vs %d unrelated %s Secrets", r.mem0.n, r.memU.unrelated, formatBytes(uint64(cfg.secretSize))),
			r.mem0, r.memU, "≤ 1.15×", true)
		memRatio("Same, caching Secrets in full (contrast build, tag `"+operator.ContrastBuildTag+"`)", r.mem0Full, r.memUFull, "— (what the design saves)", false)
	}
	if r.large != nil && r.mem0 != nil && r.large.n > r.mem0.n {
		d := float64(r.large.n - r.mem0.n)
		per := func(big, base uint64) string { return signedBytes((float64(big) - float64(base)) / d) }
		row("5", fmt.Sprintf("Memory per object (N=%d minus the %d-object baseline)", r.large.n, r.mem0.n),
			fmt.Sprintf("**%s RSS** per object (%s → %s); live heap after GC %s per object (%s → %s); peak RSS %s per object (%s → %s)",
				per(r.large.rss, r.mem0.rss), formatBytes(r.mem0.rss), formatBytes(r.large.rss),
				per(r.large.liveHeap, r.mem0.liveHeap), formatBytes(r.mem0.liveHeap), formatBytes(r.large.liveHeap),
				per(r.large.peak, r.mem0.peak), formatBytes(r.mem0.peak), formatBytes(r.large.peak)), "—", "")
	}
	if e := r.efficiencyRun(); e != nil {
		n := float64(e.n)
		c := e.ceCallsAtReady
		others := sumCalls(c, "create")
		row("6", fmt.Sprintf("Cloud Elements calls per object, apply → Ready (the N=%d run)", e.n),
			fmt.Sprintf("**%.2f POST**, %d other calls (%s)", float64(c["create"])/n, others, calls(c)),
			"exactly 1 POST (API key)", met(c["create"] == e.n && others == 0))
		objects, events := e.apiWrites.split()
		floorW := 3.0
		if r.floor != nil {
			floorW = r.floor.apiWrites.total() / float64(r.floor.n)
		}
		row("6", "API-server writes per object, apply → Ready (+3 s)",
			fmt.Sprintf("**%.2f** = %.2f to the object and its Secret + %.2f Events (%s); the floor: %.2f",
				(objects+events)/n, objects/n, events/n, perObject(e.apiWrites, e.n), floorW),
			"3 (finalizer, Secret, status)", met((objects+events)/n <= 3.0001))
		row("6", "API-server reads per object, apply → Ready (+3 s)",
			fmt.Sprintf("%.2f GET (uncached Secret reads; objects come from the cache)", e.opByMethod["GET"]/n), "—", "")
	}
	return b.String()
}

// notes explain what bounds each result, and by how much a goal was missed.
func (r *results) notes(cfg config) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, "- "+format+"\n", args...) }
	if r.main != nil && r.floor != nil {
		w("**What bounds time to Ready:** the Cloud Elements client-side limit, which the operator and the floor share: "+
			"(N − burst) / QPS = %s for N=%d at %g/s. The operator took %s, the floor %s. Every object costs the operator %.1f "+
			"API-server requests (%.1f writes, %.1f reads) against the floor's 3 writes; that shows only where the limiter does not bound "+
			"both (N ≤ burst), or where the API server runs out of CPU.",
			secs(r.main.limiterBound()), r.main.n, r.main.qps, secs(r.main.total), secs(r.floor.total),
			(r.main.opWrites+r.main.opByMethod["GET"])/float64(r.main.n), r.main.opWrites/float64(r.main.n), r.main.opByMethod["GET"]/float64(r.main.n))
	}
	for _, pair := range [][2]*readyRun{{r.main, r.floor}, {r.defQPS, r.defQPSFloor}, {largeReady(r.large), r.largeFloor}} {
		op, floor := pair[0], pair[1]
		if op == nil || floor == nil {
			continue
		}
		if ratio := op.total.Seconds() / floor.total.Seconds(); ratio > 1.5 {
			w("**Time to Ready, N=%d at %g/s, is %s× the floor, %.1f%% over the 1.5× goal** (%s against %s): the limiter bound (%s) is not what limits here, "+
				"so the operator's requests per object (above) against the floor's 3 writes are.", op.n, op.qps, ratioString(ratio, 1.5), (ratio/1.5-1)*100,
				secs(op.total), secs(floor.total), secs(op.limiterBound()))
		}
	}
	if r.restart != nil {
		w("**Restart:** after a restart every object is verified once (its drift-poll memory is in process only, by design), so "+
			"the time is bound by the same limiter: %d GETs at %g/s.", r.restart.n, cfg.qps)
	}
	if r.mem0 != nil && r.memU != nil {
		if ratio := float64(r.memU.peak) / float64(r.mem0.peak); ratio > 1.15 {
			perSecret := (float64(r.memU.liveHeap) - float64(r.mem0.liveHeap)) / float64(r.memU.unrelated)
			w("**Memory vs unrelated Secrets: %s×, over the 1.15× goal by %.1f%%** (%s more peak RSS). The live heap grows by %s per unrelated "+
				"Secret (%s → %s after a forced GC): the operator watches the metadata of every Secret in the cluster "+
				"(`controllers/setup.go`: `Owns` and `Watches` with `builder.OnlyMetadata`) to hear when an input Secret changes; what each "+
				"cached `PartialObjectMetadata` keeps is decided by `SlimCachedObjects` (`internal/operator/operator.go`). Peak RSS grows "+
				"about twice the live heap: the Go GC lets the heap reach twice what is live (GOGC=100), and the initial list is decoded at once.",
				ratioString(ratio, 1.15), (ratio/1.15-1)*100, signedBytes(float64(r.memU.peak)-float64(r.mem0.peak)), signedBytes(perSecret),
				formatBytes(r.mem0.liveHeap), formatBytes(r.memU.liveHeap))
		}
	}
	if r.large != nil {
		_, events := r.large.ready.apiWrites.split()
		w("**Memory per object** counts everything one more object costs: its cached HubSpotInstance and token-Secret metadata, the "+
			"reconciler's per-object memory, its pending drift-poll timer, and the Events it caused: client-go's Event broadcaster "+
			"keeps every Event it sent (%.1f per new object here) for 6-12 minutes to de-duplicate series, so the figure is lower for "+
			"objects that are older than that.", events/float64(r.large.n))
	}
	if e := r.efficiencyRun(); e != nil {
		n := float64(e.n)
		objects, events := e.apiWrites.split()
		if objects/n > 3.0001 || events > 0 {
			msg := fmt.Sprintf("**API-server writes per object: %.2f against 3.**", (objects+events)/n)
			if e.apiWrites["PATCH hubspotinstances"]/n >= 1.9999 {
				msg += " The extra write to the object is the instance-id annotation recorded right after the POST " +
					"(`recordInstanceID`, `controllers/instance.go`), the second half of the exactly-once create; the first, the " +
					"create-pending marker written before the POST, carries the finalizer."
			}
			switch {
			case events/n > 1.0001:
				msg += fmt.Sprintf(" %.2f of them are Events: `Created` (`provision`, `controllers/instance.go`) and the Ready "+
					"transition (`recordTransition`, `controllers/hubspotinstance_controller.go`).", events/n)
			case events > 0:
				msg += fmt.Sprintf(" %.2f of them are Events: `Created` (`provision`, `controllers/instance.go`).", events/n)
			}
			w("%s", msg)
		}
	}
	return b.String()
}

// efficiencyRun is the run whose per-object calls are reported: the large
// one, whose objects keep the default 10m pollInterval, so no drift poll can
// fall between apply and Ready; otherwise the main one.
func (r *results) efficiencyRun() *readyRun {
	if r.large != nil {
		return r.large.ready
	}
	return r.main
}

func (r *results) details(cfg config) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("### Time to Ready\n\n")
	w("| Run | N | Workers | CE limit | Time to Ready | Limiter bound | p50 | p99 | Cloud Elements calls (until Ready +3 s) | Operator requests by method | API-server writes (bench's creates excluded) |\n")
	w("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, rr := range []*readyRun{r.main, r.floor, r.naive, r.defQPS, r.defQPSFloor, largeReady(r.large), r.largeFloor} {
		if rr == nil {
			continue
		}
		req := methods(rr.opByMethod)
		if strings.Contains(rr.label, "floor") {
			req = fmt.Sprintf("%.0f writes", rr.opWrites)
		}
		w("| %s | %d | %d | %g/s, burst %d | %s | %s | %s | %s | %s | %s | %s |\n", rr.label, rr.n, rr.concurrency, rr.qps, rr.burst,
			secs(rr.total), secs(rr.limiterBound()), secs(rr.p(0.5)), secs(rr.p(0.99)), calls(rr.ceCalls), req, rr.apiWrites)
	}
	w("\nThe limiter bound is (N − burst) / QPS: no client honouring the limit can create N instances faster.\n\n")

	if rs := r.rest; rs != nil {
		w("### At rest (%d objects, %s)\n\n", rs.polls.objects, rs.window)
		w("- Cloud Elements calls: %s\n", calls(rs.ceCalls))
		w("- GETs per object: at most %d in the window, %d objects polled once, %d polled never; %d measured periods\n",
			rs.polls.maxPerObject, rs.polls.polledMaxOne, rs.polls.neverPolled, rs.polls.periods)
		w("- Operator requests by method: %s (reads are the uncached Secret reads of each poll)\n", methods(rs.opByMethod))
		w("- kube-apiserver writes: %s\n\n", rs.apiWrites)
	}
	if rs := r.restart; rs != nil {
		w("### Restart (%d objects)\n\n", rs.n)
		w("- Process start → ready: %s; → all verified: %s\n", secs(rs.readyz), secs(rs.verified))
		w("- Cloud Elements calls (until verified +5 s): %s\n", calls(rs.ceCalls))
		w("- Operator requests by method (the new process): %s\n", methods(rs.opByMethod))
		w("- kube-apiserver writes: %s\n\n", rs.apiWrites)
	}
	w("### Memory\n\n")
	w("| Run | Objects | Unrelated Secrets | Secret cache | Peak RSS | RSS | Heap alloc | Heap in use | Live heap after GC | Time to Ready |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, mr := range []*memRun{r.mem0, r.mem0Full, r.memU, r.memUFull, r.large} {
		if mr == nil {
			continue
		}
		mode := "metadata only"
		if mr.fullCache {
			mode = "full (contrast)"
		}
		w("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", mr.label, mr.n, mr.unrelated, mode, formatBytes(mr.peak), formatBytes(mr.rss),
			formatBytes(mr.heapAlloc), formatBytes(mr.heapInuse), formatBytes(mr.liveHeap), secs(mr.ready.total))
	}
	if r.unrelatedCreate > 0 {
		w("\nCreating the %d unrelated Secrets took %s.\n", cfg.unrelatedSecrets, secs(r.unrelatedCreate))
	}
	return b.String()
}

func largeReady(m *memRun) *readyRun {
	if m == nil {
		return nil
	}
	return m.ready
}
