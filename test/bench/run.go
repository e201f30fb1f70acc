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
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

type bench struct {
	cfg        config
	root, work string
	cp         *harness.ControlPlane
	c          client.Client
	sim        *harness.Simulator
	calls      *callLog
	bin        string
	// contrastBin is the manager built to cache Secret data, for the memory contrast.
	contrastBin string

	userSecret, orgSecret string
	res                   results
	load                  *loadSampler
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(ctx context.Context, cfg config, args []string) (retErr error) {
	began := time.Now()
	ctrllog.SetLogger(logr.Discard()) // envtest's and the tracker's chatter; the operator logs to its own file
	b := &bench{cfg: cfg, calls: newCallLog(), load: startLoadSampler(ctx)}
	b.res.args = args
	b.res.started = began
	b.res.machine = describeMachine()
	b.res.loadStart = readLoad()

	m := b.res.machine
	logf("machine: %d cores, %s, %s, %s; load average %s", m.cores, orNA(m.cpu), orNA(m.kernel), m.goVer, b.res.loadStart)
	logf("settings: -n %d -n-scale %d -n-contrast %d -latency %s -unrelated-secrets %d -secret-size %s -poll-interval %s; operator and floor: "+
		"%d workers, Cloud Elements %g/s burst %d (and the default %g/s burst %d, and %g/s for the overhead)", cfg.n, cfg.nScale, cfg.nContrast,
		cfg.latency, cfg.unrelatedSecrets, &cfg.secretSize, cfg.pollInterval, cfg.concurrency, cfg.qps, cfg.burst, cfg.defaultQPS, cfg.defaultBurst,
		cfg.unlimitedQPS)

	var err error
	if b.root, err = harness.RepoRoot(); err != nil {
		return err
	}
	if b.work, err = os.MkdirTemp("", "hubspot-operator-bench-"); err != nil {
		return err
	}
	defer func() {
		if retErr == nil {
			_ = os.RemoveAll(b.work)
		} else {
			logf("operator logs kept in %s", b.work)
		}
	}()
	if cfg.pprofDir != "" {
		if err := os.MkdirAll(cfg.pprofDir, 0o755); err != nil {
			return err
		}
	}

	var reports []string
	if cfg.out != "" {
		reports = append(reports, cfg.out)
	}
	b.res.revision = harness.Commit(b.root, reports...)
	logf("building the operator (the real binary)")
	if b.bin, err = harness.BuildOperator(b.root, b.work); err != nil {
		return err
	}
	if b.contrastBin, err = harness.BuildOperator(b.root, b.work, operator.ContrastBuildTag); err != nil {
		return err
	}
	logf("starting kube-apiserver and etcd (envtest)")
	if b.cp, err = harness.StartControlPlane(b.root, b.work); err != nil {
		return err
	}
	defer func() {
		if err := b.cp.Stop(); err != nil {
			logf("stopping the control plane: %v", err)
		}
	}()
	b.c = b.cp.Client

	b.userSecret, b.orgSecret = randomHex(), randomHex()
	if b.sim, err = harness.StartSimulator(simulator.Options{UserSecret: b.userSecret, OrganizationSecret: b.orgSecret,
		Logger: log.New(b.calls, "", 0)}); err != nil {
		return err
	}
	defer b.sim.Close()
	b.sim.SetFault("*", simulator.Fault{Latency: cfg.latency})
	logf("simulator on %s, %s per call", b.sim.URL, cfg.latency)

	if err := b.phases(ctx); err != nil {
		return err
	}

	b.res.loadEnd = readLoad()
	b.res.loadDuring = b.load.summary()
	b.res.wall = time.Since(began)
	md := b.res.markdown(cfg)
	fmt.Println(md)
	if cfg.out != "" {
		path := cfg.out
		if !filepath.IsAbs(path) {
			path = filepath.Join(b.root, path)
		}
		if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
			return err
		}
		logf("wrote %s", path)
	}
	return nil
}

// phases runs the measurements in an order that keeps them apart: the
// memory baselines on an empty cluster first, the unrelated Secrets last.
// Each phase has its own namespace, emptied afterwards.
func (b *bench) phases(ctx context.Context) error {
	cfg := b.cfg
	// Memory with 0 unrelated Secrets, metadata-only and full Secret cache:
	// the baselines of the memory rows.
	var err error
	if b.res.mem0, err = b.memoryRun(ctx, "memory-0", "bench-mem-0", false, 0); err != nil {
		return err
	}
	if b.res.mem0Full, err = b.memoryRun(ctx, "memory-0-full", "bench-mem-0-full", true, 0); err != nil {
		return err
	}
	if cfg.memoryOnly {
		return b.unrelatedMemory(ctx)
	}

	// The scale run first, on a fresh etcd: N objects in one account, timed
	// to Ready, then memory, at rest, restart and drift with the same objects.
	if cfg.nScale > 0 {
		if b.res.scale, err = b.steadyRun(ctx, "scale", "bench-scale", cfg.nScale, true); err != nil {
			return err
		}
	}

	// The operator's own overhead: the Cloud Elements limit out of the way.
	unlimitedBurst := int(cfg.unlimitedQPS)
	if b.res.overhead, err = b.operatorReadyRun(ctx, "overhead", "bench-overhead", cfg.n, nil, cfg.concurrency, cfg.unlimitedQPS, unlimitedBurst); err != nil {
		return err
	}
	if b.res.overheadFloor, err = b.runFloor(ctx, "overhead-floor", "bench-overhead-floor", cfg.n, cfg.unlimitedQPS, unlimitedBurst); err != nil {
		return err
	}
	if err := b.cleanup(ctx, "bench-overhead-floor"); err != nil {
		return err
	}

	// At the limit: the operator (a fresh process, so its memory is one more
	// point of the memory slope) against the floor.
	if b.res.limited, err = b.memoryRunN(ctx, "limited", "bench-limited", false, 0, cfg.n); err != nil {
		return err
	}
	if b.res.limitedFloor, err = b.runFloor(ctx, "limited-floor", "bench-limited-floor", cfg.n, cfg.qps, cfg.burst); err != nil {
		return err
	}
	if err := b.cleanup(ctx, "bench-limited-floor"); err != nil {
		return err
	}
	if !cfg.skipNaive {
		if b.res.naive, err = b.operatorReadyRun(ctx, "naive", "bench-naive", cfg.n, nil, 1, cfg.qps, cfg.burst); err != nil {
			return err
		}
	}
	if !cfg.skipDefaultQPS {
		if b.res.defQPS, err = b.operatorReadyRun(ctx, "default-qps", "bench-default-qps", cfg.n, nil, cfg.concurrency, cfg.defaultQPS, cfg.defaultBurst); err != nil {
			return err
		}
		if b.res.defQPSFloor, err = b.runFloor(ctx, "default-qps-floor", "bench-default-qps-floor", cfg.n, cfg.defaultQPS, cfg.defaultBurst); err != nil {
			return err
		}
		if err := b.cleanup(ctx, "bench-default-qps-floor"); err != nil {
			return err
		}
	}

	// The contrast: the per-object design, at rest and restarted.
	if cfg.nContrast > 0 {
		if b.res.contrast, err = b.steadyRun(ctx, "per-object", "bench-per-object", cfg.nContrast, false); err != nil {
			return err
		}
	}

	return b.unrelatedMemory(ctx)
}

// unrelatedMemory is memory with unrelated Secrets in the cluster.
func (b *bench) unrelatedMemory(ctx context.Context) error {
	cfg := b.cfg
	var err error
	if cfg.unrelatedSecrets > 0 {
		logf("creating %d unrelated Secrets of %s", cfg.unrelatedSecrets, formatBytes(uint64(cfg.secretSize)))
		start := time.Now()
		if err := b.createUnrelatedSecrets(ctx, "bench-unrelated", cfg.unrelatedSecrets, int(cfg.secretSize)); err != nil {
			return err
		}
		b.res.unrelatedCreate = time.Since(start)
		logf("  created in %s", b.res.unrelatedCreate.Round(time.Millisecond))
		if b.res.memU, err = b.memoryRun(ctx, "memory-unrelated", "bench-mem-u", false, cfg.unrelatedSecrets); err != nil {
			return err
		}
		if b.res.memUFull, err = b.memoryRun(ctx, "memory-unrelated-full", "bench-mem-u-full", true, cfg.unrelatedSecrets); err != nil {
			return err
		}
	}
	return nil
}

// startOperator starts a fresh operator process with the defaults but for the
// settings under test, plus pprof on loopback; its log goes to label.log.
func (b *bench) startOperator(ctx context.Context, label string, concurrency int, qps float64, burst int, extra ...string) (*harness.Operator, string, error) {
	return b.startOperatorBin(ctx, b.bin, label, concurrency, qps, burst, extra...)
}

func (b *bench) startOperatorBin(ctx context.Context, bin, label string, concurrency int, qps float64, burst int, extra ...string) (*harness.Operator, string, error) {
	pprof := freeAddr()
	op := &harness.Operator{Bin: bin, Kubeconfig: b.cp.Kubeconfig, LogPath: filepath.Join(b.work, label+".log"),
		Args: append([]string{
			"--max-concurrent-reconciles=" + strconv.Itoa(concurrency),
			"--cloud-elements-qps=" + strconv.FormatFloat(qps, 'g', -1, 64),
			"--cloud-elements-burst=" + strconv.Itoa(burst),
			"--pprof-bind-address=" + pprof,
			// Log times to the nanosecond, for the restart's cache-sync time.
			"--zap-time-encoding=rfc3339nano",
		}, extra...)}
	if err := op.Start(ctx); err != nil {
		return nil, "", err
	}
	return op, pprof, nil
}

// operatorReadyRun starts a fresh operator, times n objects to Ready, and
// stops it and empties the namespace.
func (b *bench) operatorReadyRun(ctx context.Context, label, ns string, n int, poll *metav1.Duration, concurrency int, qps float64, burst int) (*readyRun, error) {
	op, _, err := b.startOperator(ctx, label, concurrency, qps, burst)
	if err != nil {
		return nil, err
	}
	defer func() { _ = op.Stop() }()
	rr, err := b.timeToReady(ctx, label, ns, n, poll, op, concurrency, qps, burst)
	if err != nil {
		return nil, err
	}
	if err := op.Stop(); err != nil {
		return nil, err
	}
	return rr, b.cleanup(ctx, ns)
}

// timeToReady creates n objects at once and waits for all of them to be
// Ready with their token Secrets, counting what the operator did meanwhile
// (plus a short settle, so that requests trailing Ready are counted).
func (b *bench) timeToReady(ctx context.Context, label, ns string, n int, poll *metav1.Duration, op *harness.Operator,
	concurrency int, qps float64, burst int) (*readyRun, error) {
	logf("  %s: %d objects, --max-concurrent-reconciles=%d --cloud-elements-qps=%g --cloud-elements-burst=%d", label, n, concurrency, qps, burst)
	if err := b.prepareNamespace(ctx, ns); err != nil {
		return nil, err
	}
	t, err := b.track(ctx, ns, n)
	if err != nil {
		return nil, err
	}
	defer t.stop()
	simBefore := b.sim.Counts()
	apiBefore, err := b.scrapeAPIServer(ctx)
	if err != nil {
		return nil, err
	}
	mBefore, err := op.Metrics()
	if err != nil {
		return nil, err
	}
	apiCPU := b.apiServerCPU(ctx)
	start := time.Now()
	if err := b.createInstances(ctx, ns, n, poll, t, nil); err != nil {
		return nil, err
	}
	created := time.Since(start)
	last, err := t.wait(ctx, label, b.readyTimeout(n, qps))
	if err != nil {
		return nil, err
	}
	rr := &readyRun{label: label, n: n, qps: qps, burst: burst, concurrency: concurrency,
		total: last.Sub(start), created: created, latencies: t.latencies(), apiCPU: b.apiServerCPU(ctx) - apiCPU}
	if m, err := op.Metrics(); err == nil {
		rr.opCPU = harness.Sum(m, "process_cpu_seconds_total") - harness.Sum(mBefore, "process_cpu_seconds_total")
	}
	logf("  %s: all %d Ready in %s (all created after %s)", label, n, rr.total.Round(time.Millisecond), created.Round(time.Millisecond))
	rr.ceCallsAtReady = diffCounts(b.sim.Counts(), simBefore)
	select {
	case <-time.After(3 * time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rr.ceCalls = diffCounts(b.sim.Counts(), simBefore)
	apiAfter, err := b.scrapeAPIServer(ctx)
	if err != nil {
		return nil, err
	}
	rr.api = apiAfter.minus(apiBefore, "POST hubspotinstances")
	mAfter, err := op.Metrics()
	if err != nil {
		return nil, err
	}
	rr.opByMethod = restDelta(mAfter, mBefore)
	rr.opWrites = writesOf(rr.opByMethod)
	rr.reconciles = reconciles(mAfter) - reconciles(mBefore)
	var secrets corev1.SecretList
	if err := b.c.List(ctx, &secrets, client.InNamespace(ns), client.MatchingLabels{elementsv1alpha1.ManagedByLabel: elementsv1alpha1.FieldManager}); err != nil {
		return nil, err
	}
	if len(secrets.Items) < n {
		return nil, fmt.Errorf("%s: %d objects Ready but only %d token Secrets", label, n, len(secrets.Items))
	}
	return rr, nil
}

// steadyRun: n objects with pollInterval in one account, timed to Ready;
// with account listings (the default) their memory read, then watched at
// rest for two intervals, the operator restarted, and two instances changed
// behind its back; with per-object polling (the contrast) the same but
// memory and drift.
func (b *bench) steadyRun(ctx context.Context, label, ns string, n int, listing bool) (*steadyRun, error) {
	cfg := b.cfg
	var extra []string
	if !listing {
		extra = append(extra, "--drift-by-account-listing=false")
	}
	logf("%s: %d objects in one account, pollInterval %s, drift by %s", label, n, cfg.pollInterval, driftMode(listing))
	op, pprof, err := b.startOperator(ctx, label, cfg.concurrency, cfg.qps, cfg.burst, extra...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = op.Stop() }()
	if cfg.pprofDir != "" && listing {
		seconds := int(min(30, float64(n)/cfg.qps+5))
		go saveProfile(pprof, fmt.Sprintf("profile?seconds=%d", seconds), filepath.Join(cfg.pprofDir, label+"-time-to-ready.cpu.pb.gz"))
	}
	sr := &steadyRun{label: label, n: n, listing: listing}
	poll := &metav1.Duration{Duration: cfg.pollInterval}
	if sr.ready, err = b.timeToReady(ctx, label, ns, n, poll, op, cfg.concurrency, cfg.qps, cfg.burst); err != nil {
		return nil, err
	}
	if listing {
		select {
		case <-time.After(cfg.settle):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if sr.mem, err = b.readMemory(op, pprof, label, n, 0, false, sr.ready); err != nil {
			return nil, err
		}
	}

	var list elementsv1alpha1.HubSpotInstanceList
	if err := b.c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(list.Items))
	for _, obj := range list.Items {
		ids = append(ids, obj.Status.InstanceID)
	}
	if sr.rest, err = b.atRest(ctx, label, op, ids); err != nil {
		return nil, err
	}
	if sr.restart, err = b.restart(ctx, label, op, n); err != nil {
		return nil, err
	}
	if listing {
		if sr.drift, err = b.drift(ctx, label, ns); err != nil {
			return nil, err
		}
	}
	if err := op.Stop(); err != nil {
		return nil, err
	}
	return sr, b.cleanup(ctx, ns)
}

func driftMode(listing bool) string {
	if listing {
		return "account listing (default)"
	}
	return "per-object polling (--drift-by-account-listing=false)"
}

// atRest watches Ready objects for two poll intervals and counts every call
// and request the operator makes meanwhile.
func (b *bench) atRest(ctx context.Context, label string, op *harness.Operator, ids []int64) (*restRun, error) {
	cfg := b.cfg
	window := 2 * cfg.pollInterval
	logf("  %s at rest: watching %d Ready objects for %s (2 × pollInterval)", label, len(ids), window)
	rest := &restRun{window: window, interval: cfg.pollInterval, n: len(ids)}
	b.calls.reset()
	simBefore := b.sim.Counts()
	apiBefore, err := b.scrapeAPIServer(ctx)
	if err != nil {
		return nil, err
	}
	mBefore, err := op.Metrics()
	if err != nil {
		return nil, err
	}
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rest.ceCalls = diffCounts(b.sim.Counts(), simBefore)
	rest.polls = b.calls.stats(ids)
	rest.listings = b.calls.listings()
	apiAfter, err := b.scrapeAPIServer(ctx)
	if err != nil {
		return nil, err
	}
	rest.api = apiAfter.minus(apiBefore)
	mAfter, err := op.Metrics()
	if err != nil {
		return nil, err
	}
	rest.opByMethod = restDelta(mAfter, mBefore)
	rest.reconciles = reconciles(mAfter) - reconciles(mBefore)
	logf("  %s at rest: Cloud Elements %s; operator requests %s; reconciles %.0f", label, calls(rest.ceCalls), methods(rest.opByMethod), rest.reconciles)
	return rest, nil
}

// restart stops the operator and starts a new process with n Ready objects,
// and times it until every instance is verified again: the operator's
// hubspot_operator_instances_verified gauge at n, with nothing queued or
// being reconciled.
func (b *bench) restart(ctx context.Context, label string, op *harness.Operator, n int) (*restartRun, error) {
	logf("  %s restart: stopping the operator and starting a new process with %d Ready objects", label, n)
	if err := op.Stop(); err != nil {
		return nil, err
	}
	rs := &restartRun{n: n}
	var err error
	if rs.syncFloor, err = b.cacheSyncFloor(ctx); err != nil {
		return nil, err
	}
	b.calls.reset()
	simBefore := b.sim.Counts()
	apiBefore, err := b.scrapeAPIServer(ctx)
	if err != nil {
		return nil, err
	}
	rs.start = time.Now()
	if err := op.Start(ctx); err != nil {
		return nil, err
	}
	rs.readyz = time.Since(rs.start)
	deadline := time.Now().Add(b.readyTimeout(n, b.cfg.qps))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	progress := time.Now()
	for {
		m, err := op.Metrics()
		if err != nil {
			return nil, err
		}
		verified := harness.Sum(m, "hubspot_operator_instances_verified")
		if verified >= float64(n) && rs.allSeen == 0 {
			rs.allSeen = time.Since(rs.start)
		}
		busy := harness.Sum(m, "workqueue_depth", `name="hubspotinstance"`) + harness.Sum(m, "controller_runtime_active_workers", `controller="hubspotinstance"`)
		if verified >= float64(n) && busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("restart: only %.0f of %d verified", verified, n)
		}
		if time.Since(progress) >= 10*time.Second {
			progress = time.Now()
			logf("    %s restart: %.0f/%d verified", label, verified, n)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	rs.verified = time.Since(rs.start)
	rs.synced = workersStarted(op.LogPath, rs.start)
	logf("  %s restart: caches synced and workers started %s, all %d verified %s after the process started (a plain cache of the same objects syncs in %s)", label,
		rs.synced.Round(time.Millisecond), n, rs.verified.Round(time.Millisecond), rs.syncFloor.Round(time.Millisecond))
	select {
	case <-time.After(5 * time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rs.ceCalls = diffCounts(b.sim.Counts(), simBefore)
	rs.listings = b.calls.listings()
	apiAfter, err := b.scrapeAPIServer(ctx)
	if err != nil {
		return nil, err
	}
	rs.api = apiAfter.minus(apiBefore)
	m, err := op.Metrics() // a new process: its counters started at zero
	if err != nil {
		return nil, err
	}
	rs.opByMethod = restDelta(m, nil)
	rs.reconciles = reconciles(m)
	logf("  %s restart: Cloud Elements %s; operator requests %s; reconciles %.0f", label, calls(rs.ceCalls), methods(rs.opByMethod), rs.reconciles)
	return rs, nil
}

// drift deletes one instance and invalidates another behind the operator's
// back, right after a listing ended (the worst moment: the whole interval
// until the next), and times until each object shows it.
func (b *bench) drift(ctx context.Context, label, ns string) (*driftRun, error) {
	cfg := b.cfg
	var gone, invalid elementsv1alpha1.HubSpotInstance
	if err := b.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hsi-00000"}, &gone); err != nil {
		return nil, err
	}
	if err := b.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hsi-00001"}, &invalid); err != nil {
		return nil, err
	}
	logf("  %s drift: waiting for a listing to end, then deleting instance %d and invalidating %d", label, gone.Status.InstanceID, invalid.Status.InstanceID)
	deadline := time.Now().Add(3 * cfg.pollInterval)
	for last := b.calls.lastList(); last.IsZero() || time.Since(last) < 2*time.Second; last = b.calls.lastList() {
		if time.Now().After(deadline) {
			return nil, errors.New("drift: no listing ended")
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	dr := &driftRun{interval: cfg.pollInterval, goneID: gone.Status.InstanceID, invalidID: invalid.Status.InstanceID}
	simBefore := b.sim.Counts()
	dr.changed = time.Now()
	dr.sincePrevious = dr.changed.Sub(b.calls.lastList())
	if err := b.sim.Remove(dr.goneID); err != nil {
		return nil, err
	}
	if err := b.sim.Invalidate(dr.invalidID); err != nil {
		return nil, err
	}
	deadline = time.Now().Add(3 * cfg.pollInterval)
	for dr.gone == 0 || dr.invalid == 0 {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("drift: not shown within %s", 3*cfg.pollInterval)
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if dr.gone == 0 {
			if err := b.c.Get(ctx, client.ObjectKeyFromObject(&gone), &gone); err != nil {
				return nil, err
			}
			if id := gone.Status.InstanceID; id != 0 && id != dr.goneID {
				dr.gone, dr.newID = time.Since(dr.changed), id
			}
		}
		if dr.invalid == 0 {
			if err := b.c.Get(ctx, client.ObjectKeyFromObject(&invalid), &invalid); err != nil {
				return nil, err
			}
			if c := meta.FindStatusCondition(invalid.Status.Conditions, elementsv1alpha1.ConditionReady); !invalid.Status.Valid && c != nil {
				dr.invalid, dr.invalidReason = time.Since(dr.changed), string(c.Status)+" "+c.Reason
			}
		}
	}
	for _, l := range b.calls.listings() {
		if l.first.After(dr.changed) {
			dr.nextListing, dr.listingTook, dr.pages = l.first.Sub(dr.changed), l.last.Sub(l.first), l.pages
			break
		}
	}
	dr.ceCalls = diffCounts(b.sim.Counts(), simBefore)
	logf("  %s drift: deleted instance shown after %s (now %d), invalidated after %s (Ready %s)", label, dr.gone.Round(time.Millisecond),
		dr.newID, dr.invalid.Round(time.Millisecond), dr.invalidReason)
	return dr, nil
}

func (b *bench) memoryRun(ctx context.Context, label, ns string, fullCache bool, unrelated int) (*memRun, error) {
	return b.memoryRunN(ctx, label, ns, fullCache, unrelated, b.cfg.memoryObjects)
}

// memoryRunN starts a fresh operator (peak RSS is per process), makes n
// objects Ready, lets it settle and reads its memory.
func (b *bench) memoryRunN(ctx context.Context, label, ns string, fullCache bool, unrelated, n int) (*memRun, error) {
	cfg := b.cfg
	bin := b.bin
	if fullCache {
		bin = b.contrastBin
	}
	logf("%s: fresh operator, %d objects, %d unrelated Secrets, %s", label, n, unrelated, cacheMode(fullCache))
	op, pprof, err := b.startOperatorBin(ctx, bin, label, cfg.concurrency, cfg.qps, cfg.burst)
	if err != nil {
		return nil, err
	}
	defer func() { _ = op.Stop() }()
	rr, err := b.timeToReady(ctx, label, ns, n, nil, op, cfg.concurrency, cfg.qps, cfg.burst)
	if err != nil {
		return nil, err
	}
	select {
	case <-time.After(cfg.settle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	mr, err := b.readMemory(op, pprof, label, n, unrelated, fullCache, rr)
	if err != nil {
		return nil, err
	}
	if err := op.Stop(); err != nil {
		return nil, err
	}
	return mr, b.cleanup(ctx, ns)
}

// readMemory reads a settled operator's memory.
func (b *bench) readMemory(op *harness.Operator, pprof, label string, n, unrelated int, fullCache bool, rr *readyRun) (*memRun, error) {
	mr := &memRun{label: label, n: n, unrelated: unrelated, fullCache: fullCache, ready: rr}
	var err error
	if mr.rss, mr.peak, err = op.Memory(); err != nil {
		return nil, err
	}
	m, err := op.Metrics()
	if err != nil {
		return nil, err
	}
	mr.heapAlloc = uint64(harness.Sum(m, "go_memstats_heap_alloc_bytes"))
	mr.heapInuse = uint64(harness.Sum(m, "go_memstats_heap_inuse_bytes"))
	// Then the live heap: the heap profile endpoint with gc=1 collects
	// first, so the heap in use afterwards is what is reachable (RSS and
	// its peak were read before).
	profile := ""
	if b.cfg.pprofDir != "" {
		profile = filepath.Join(b.cfg.pprofDir, label+".heap.pb.gz")
	}
	saveProfile(pprof, "heap?gc=1", profile)
	if m, err = op.Metrics(); err != nil {
		return nil, err
	}
	mr.liveHeap = uint64(harness.Sum(m, "go_memstats_heap_alloc_bytes"))
	logf("  %s: peak RSS %s, RSS %s, heap in use %s, live heap after GC %s", label, formatBytes(mr.peak), formatBytes(mr.rss),
		formatBytes(mr.heapInuse), formatBytes(mr.liveHeap))
	return mr, nil
}

func cacheMode(full bool) string {
	if full {
		return "Secrets cached in full (the contrast build, tag " + operator.ContrastBuildTag + ")"
	}
	return "Secrets cached as metadata only (default)"
}

// readyTimeout is generous: three times the rate-limit bound, plus slack.
func (b *bench) readyTimeout(n int, qps float64) time.Duration {
	return time.Duration(3*float64(n)/qps*float64(time.Second)) + 3*time.Minute
}

// reconciles is the operator's count of HubSpotInstance reconciles.
func reconciles(m map[string]float64) float64 {
	return harness.Sum(m, "controller_runtime_reconcile_total", `controller="hubspotinstance"`)
}

// restDelta is the operator's rest_client_requests_total by method.
func restDelta(after, before map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for _, method := range []string{"GET", "LIST", "WATCH", "POST", "PUT", "PATCH", "DELETE"} {
		match := `method="` + method + `"`
		d := harness.Sum(after, "rest_client_requests_total", match)
		if before != nil {
			d -= harness.Sum(before, "rest_client_requests_total", match)
		}
		if d > 0 {
			out[method] = d
		}
	}
	return out
}

func writesOf(byMethod map[string]float64) float64 {
	return byMethod["POST"] + byMethod["PUT"] + byMethod["PATCH"] + byMethod["DELETE"]
}

// saveProfile fetches a pprof endpoint into path ("" discards it).
func saveProfile(addr, what, path string) {
	resp, err := http.Get("http://" + addr + "/debug/pprof/" + what)
	if err != nil {
		logf("pprof %s: %v", what, err)
		return
	}
	defer resp.Body.Close()
	if path == "" {
		_, _ = io.Copy(io.Discard, resp.Body)
		return
	}
	f, err := os.Create(path)
	if err != nil {
		logf("pprof %s: %v", what, err)
		return
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		logf("pprof %s: %v", what, err)
	}
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "bench-" + hex.EncodeToString(b)
}

// workersStarted reads from the operator's log when the HubSpotInstance
// controller started its workers, which it does once its caches are synced:
// the time since start, or 0 when the log does not say.
func workersStarted(logPath string, start time.Time) time.Duration {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return 0
	}
	var found time.Duration
	for _, line := range strings.Split(string(data), "\n") {
		var entry struct {
			Msg        string `json:"msg"`
			Controller string `json:"controller"`
			TS         string `json:"ts"`
		}
		if json.Unmarshal([]byte(line), &entry) != nil || entry.Msg != "Starting workers" || entry.Controller != "hubspotinstance" {
			continue
		}
		if ts, err := time.Parse(time.RFC3339Nano, entry.TS); err == nil && !ts.Before(start) {
			found = ts.Sub(start)
		}
	}
	return found
}
