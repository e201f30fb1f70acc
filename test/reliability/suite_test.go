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
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// defaultSeed is used when RELIABILITY_SEED is unset; every run prints the
// seed it used, and RELIABILITY_SEED=<it> repeats the run's random choices
// (kill moments, secret values, the simulators' fault draws and tokens).
const defaultSeed = 9

var (
	ctx          context.Context
	cancel       context.CancelFunc
	root         string
	workDir      string
	cp           *harness.ControlPlane
	k8s          client.Client
	operatorBin  string
	seed         int64
	rngMu        sync.Mutex
	rng          *rand.Rand
	suiteStarted time.Time
	// keepWorkDir keeps the operator logs (and a partial run's report).
	keepWorkDir bool
)

func TestReliability(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Reliability suite")
}

var _ = BeforeSuite(func() {
	// envtest logs through controller-runtime, which otherwise prints a stack
	// trace into the report when a control plane starts 30 s into the run.
	logf.SetLogger(GinkgoLogr)
	suiteStarted = time.Now()
	ctx, cancel = context.WithCancel(context.Background())
	SetDefaultEventuallyTimeout(time.Minute)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)

	seed = defaultSeed
	if v := os.Getenv("RELIABILITY_SEED"); v != "" {
		parsed, err := strconv.ParseInt(v, 10, 64)
		Expect(err).NotTo(HaveOccurred(), "RELIABILITY_SEED must be an integer")
		seed = parsed
	}
	rng = rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x5eed))
	fmt.Fprintf(GinkgoWriter, "reliability seed: %d (repeat with RELIABILITY_SEED=%d)\n", seed, seed)
	rep.seed = seed

	var err error
	root, err = harness.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	// Read before anything runs: the commit the figures belong to.
	rep.commit = harness.Commit(root, "docs/reliability.md")
	workDir, err = os.MkdirTemp("", "hubspot-reliability-")
	Expect(err).NotTo(HaveOccurred())
	fmt.Fprintf(GinkgoWriter, "work dir (operator logs): %s\n", workDir)

	// The control plane and the operator build are independent: overlap them.
	built := make(chan error, 1)
	go func() {
		var err error
		operatorBin, err = harness.BuildOperator(root, workDir)
		built <- err
	}()
	cp, err = harness.StartControlPlane(root, workDir)
	Expect(err).NotTo(HaveOccurred())
	k8s = cp.Client
	Expect(<-built).To(Succeed())
	if dc, err := discovery.NewDiscoveryClientForConfig(cp.Config); err == nil {
		if v, err := dc.ServerVersion(); err == nil {
			rep.kubernetes = v.GitVersion
		}
	}
	progress("control plane at %s (kube-apiserver %s), operator built", cp.Config.Host, rep.kubernetes)
})

var _ = AfterSuite(func() {
	rep.wall = time.Since(suiteStarted)
	if root != "" {
		// Only a run of every point rewrites docs/reliability.md; a focused
		// or filtered run writes its report beside the operator logs.
		path := os.Getenv("RELIABILITY_REPORT")
		switch {
		case path != "":
		case rep.ranAll():
			path = filepath.Join(root, "docs", "reliability.md")
		default:
			path = filepath.Join(workDir, "reliability.md")
			keepWorkDir = true
		}
		md := rep.markdown()
		if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
			fmt.Fprintf(GinkgoWriter, "writing %s: %v\n", path, err)
		}
		fmt.Fprintf(GinkgoWriter, "\n%s\n(written to %s)\n", md, path)
	}
	for _, s := range sims {
		s.close()
	}
	if cancel != nil {
		cancel()
	}
	if cp != nil {
		Expect(cp.Stop()).To(Succeed())
	}
	for _, dir := range keptCertDirs {
		_ = os.RemoveAll(dir)
	}
	if workDir != "" && !keepWorkDir && os.Getenv("RELIABILITY_KEEP_LOGS") == "" && !rep.anyFailed() {
		_ = os.RemoveAll(workDir)
	}
})

// One ordered container: the leak scan (6) must come last, after every
// other spec has written its logs, Events and statuses; the rest are
// independent of one another (each has its own namespaces, simulator and
// operator processes). ContinueOnFailure: one failing point must not hide
// the figures of the others.
var _ = Describe("The operator under stress", Ordered, ContinueOnFailure, func() {
	Describe("7. Security posture", Label("security"), securityPosture)
	Describe("5. Bad input", Label("bad-input"), badInput)
	Describe("1. Crash safety", Label("crash"), crashSafety)
	Describe("3. Control-plane blips", Label("blips"), controlPlaneBlips)
	Describe("2. Cloud Elements faults", Label("faults"), apiFaults)
	Describe("4. Leader election", Label("leader"), leaderElection)
	Describe("8. Rebuilt from Git", Label("rebuild"), rebuiltFromGit)
	Describe("6. No leaks", Label("leaks"), noLeaks)
})

// point marks which report section a Describe fills, and records whether
// its specs passed, each once all of its checks have run (see record).
func point(n int) {
	ReportAfterEach(func(spec SpecReport) { rep.record(n, spec) })
}
