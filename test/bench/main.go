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

// Command bench measures the operator at scale (thousands of objects in one
// Cloud Elements account), its own overhead, at rest, across a restart,
// against drift and in memory, and writes the table to docs/benchmarks.md. It is a benchmark, not a
// test: it asserts nothing, it reports.
//
// Everything runs locally, as in the demo: a kube-apiserver + etcd
// (envtest), the Cloud Elements simulator with a latency per call, and the
// operator as a separate process (the real binary, with --kubeconfig), so its
// memory is its own. Times on a shared machine drift, so every time is
// reported next to a bound or a floor measured in the same run, and the
// ratio is what the goals are about.
//
//	make bench                       # go run ./test/bench
//	go run ./test/bench -quick       # the same rows, small N, ~6 min, writes no file
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config holds every setting; all of them are printed with the results.
type config struct {
	n                int
	nScale           int
	nContrast        int
	quick            bool
	latency          time.Duration
	unrelatedSecrets int
	secretSize       byteSize
	pollInterval     time.Duration
	skipNaive        bool
	skipDefaultQPS   bool
	memoryOnly       bool
	out              string

	concurrency   int
	qps           float64
	burst         int
	unlimitedQPS  float64
	defaultQPS    float64
	defaultBurst  int
	memoryObjects int
	settle        time.Duration
	createWorkers int
	pprofDir      string
}

func parseFlags(args []string) (config, error) {
	c := config{secretSize: 32 << 10}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&c.n, "n", 1000, "HubSpotInstances of the overhead run (Cloud Elements limit out of the way) and of the time-to-Ready rows at the limit.")
	fs.IntVar(&c.nScale, "n-scale", 10000, "HubSpotInstances in one account for the scale run: time to Ready, at rest, restart, drift, memory per object; 0 skips it.")
	fs.IntVar(&c.nContrast, "n-contrast", 1000, "HubSpotInstances of the contrast run with --drift-by-account-listing=false (at rest, restart); 0 skips it. "+
		"Polling every object every 30s needs N/30 GET/s, so the contrast runs at an N the Cloud Elements limit can poll.")
	fs.BoolVar(&c.quick, "quick", false, "A small version to check the code: -n 200 -n-scale 1000 -n-contrast 200 -unrelated-secrets 500 "+
		"-skip-naive -skip-default-qps -settle 5s (flags given explicitly win); writes no file unless -out is given.")
	fs.DurationVar(&c.latency, "latency", 20*time.Millisecond, "Latency the simulator adds to every Cloud Elements call.")
	fs.IntVar(&c.unrelatedSecrets, "unrelated-secrets", 5000, "Unrelated Secrets in the cluster for the memory phase; 0 skips that comparison.")
	fs.Var(&c.secretSize, "secret-size", "Size of each unrelated Secret's data (e.g. 32KiB, 1MiB, 4096).")
	fs.DurationVar(&c.pollInterval, "poll-interval", 30*time.Second, "spec.pollInterval of the at-rest objects (the API's minimum is 30s).")
	fs.BoolVar(&c.skipNaive, "skip-naive", false, "Skip the --max-concurrent-reconciles=1 baseline.")
	fs.BoolVar(&c.skipDefaultQPS, "skip-default-qps", false, "Skip timing N at the operator's default Cloud Elements rate limit.")
	fs.BoolVar(&c.memoryOnly, "memory-only", false, "Run only the memory comparison (4 short operator runs), e.g. to check a memory fix; writes no file unless -out is given.")
	fs.StringVar(&c.out, "out", "docs/benchmarks.md", "Markdown file for the results (relative to the repository root); empty writes none.")
	fs.IntVar(&c.concurrency, "concurrency", 10, "--max-concurrent-reconciles of the operator, and the floor's workers.")
	fs.Float64Var(&c.qps, "qps", 50, "--cloud-elements-qps of the operator, and the floor's limiter. Not the default 10/s: the "+
		"scale run's creates alone would take (N − burst)/10 s, and the contrast's per-object polling needs N/30 GET/s.")
	fs.IntVar(&c.burst, "burst", 100, "--cloud-elements-burst of the operator, and the floor's limiter.")
	fs.Float64Var(&c.unlimitedQPS, "unlimited-qps", 100000, "--cloud-elements-qps and --cloud-elements-burst of the overhead run (operator and floor): "+
		"the Cloud Elements limit out of the way, so the operator's own cost shows.")
	fs.Float64Var(&c.defaultQPS, "default-qps", 10, "The operator's default --cloud-elements-qps, for the extra time-to-Ready row.")
	fs.IntVar(&c.defaultBurst, "default-burst", 20, "The operator's default --cloud-elements-burst, for the extra time-to-Ready row.")
	fs.IntVar(&c.memoryObjects, "memory-objects", 100, "HubSpotInstances managed during the memory comparison.")
	fs.DurationVar(&c.settle, "settle", 10*time.Second, "Wait after all are Ready before memory is read.")
	fs.IntVar(&c.createWorkers, "create-workers", 16, "Goroutines creating objects (client QPS 500, burst 1000).")
	fs.StringVar(&c.pprofDir, "pprof-dir", "", "If set, save the operator's heap profiles (and a CPU profile of the first run) there.")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.quick {
		for name, value := range map[string]string{"n": "200", "n-scale": "1000", "n-contrast": "200", "unrelated-secrets": "500",
			"skip-naive": "true", "skip-default-qps": "true", "settle": "5s"} {
			if !set[name] {
				if err := fs.Set(name, value); err != nil {
					return c, err
				}
			}
		}
	}
	if (c.memoryOnly || c.quick) && !set["out"] {
		// A partial or small run must not replace the full table, unless asked to.
		c.out = ""
	}
	switch {
	case c.n < 1:
		return c, errors.New("-n must be at least 1")
	case c.nScale < 0 || c.nContrast < 0 || c.unrelatedSecrets < 0:
		return c, errors.New("-n-scale, -n-contrast and -unrelated-secrets must not be negative")
	case c.pollInterval < 30*time.Second:
		return c, errors.New("-poll-interval must be at least 30s (the operator's minimum)")
	case c.concurrency < 1 || c.qps <= 0 || c.burst < 1 || c.unlimitedQPS < 1 || c.memoryObjects < 1 || c.createWorkers < 1:
		return c, errors.New("-concurrency, -qps, -burst, -unlimited-qps, -memory-objects and -create-workers must be positive")
	}
	return c, nil
}

// byteSize is a flag taking 4096, 32KiB, 1MiB.
type byteSize int

func (b *byteSize) String() string { return formatBytes(uint64(*b)) }

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"KB", 1000}, {"MB", 1000 * 1000}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		return fmt.Errorf("invalid size %q", s)
	}
	*b = byteSize(v * mult)
	return nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
