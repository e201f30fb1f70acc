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

// Command demo runs the hubspot-operator end to end on this machine, with no
// cluster and no Cloud Elements account:
//
//   - a local control plane (kube-apiserver + etcd, the same binaries as the
//     tests, provided by hack/setup-envtest.sh) with the CRD installed;
//   - the Cloud Elements API simulator (internal/cloudelements/simulator) on
//     loopback: NOT the real service;
//   - the operator itself, wired exactly as main.go wires it
//     (internal/operator), OAuth callback server included;
//   - the samples of config/samples for all three auth modes, in namespace
//     "demo", with the OAuth 2 consent completed through the simulator's
//     consent page.
//
// It prints each step as it happens, then a `kubectl get hsi -A`-style table,
// the token Secrets (tokens masked) and a line "demo ready", and keeps
// running until Ctrl-C so that the written kubeconfig can be used to look
// around. With --exit it ends once everything is Ready, non-zero if that
// did not happen within --timeout.
//
//	make demo                          # builds bin/demo, runs until Ctrl-C
//	make demo DEMO_ARGS=--exit         # what CI runs
//	make demo DEMO_ARGS="--instances 50"
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

const (
	// demoNamespace holds the samples and the bulk objects.
	demoNamespace = "demo"
	// operatorNamespace holds the operator's own Secrets (the OAuth state key).
	operatorNamespace = "hubspot-operator-system"
	// fieldManager is the server-side apply field manager of what the demo applies.
	fieldManager = "hubspot-operator-demo"
)

// options are the demo's flags.
type options struct {
	exit          bool
	timeout       time.Duration
	kubeconfigOut string
	instances     int
	verbose       bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.exit, "exit", false, "end once every object is Ready (exit 0), or exit 1 if that did not happen within --timeout")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "how long the objects may take to become Ready, counted from when they are applied")
	fs.StringVar(&o.kubeconfigOut, "kubeconfig-out", "./demo.kubeconfig", "where to write a kubeconfig for the demo's control plane (removed on exit)")
	fs.IntVar(&o.instances, "instances", 0, "also create N extra API-key HubSpotInstances (bulk-0001…) and watch them converge")
	fs.BoolVar(&o.verbose, "verbose", false, "send the operator's and the simulator's logs to stderr instead of files")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: go run ./hack/demo [flags]   (or: make demo DEMO_ARGS="...")

Runs the hubspot-operator end to end on a local kube-apiserver + etcd against
the Cloud Elements API simulator (not the real service), applies the samples
for all three auth modes in namespace "demo" and completes the OAuth 2 consent.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	case o.instances < 0 || o.instances > 9999:
		return o, fmt.Errorf("--instances must be between 0 and 9999, got %d", o.instances)
	case o.timeout <= 0:
		return o, fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	case o.kubeconfigOut == "":
		return o, errors.New("--kubeconfig-out must not be empty")
	}
	return o, nil
}

func main() {
	// Started as kube-apiserver or etcd (see startControlPlane), this program
	// becomes that binary here and never returns.
	harness.RunTiedBinary()
	os.Exit(run(os.Args[1:]))
}

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func run(args []string) int {
	opts, err := parseFlags(args, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintln(os.Stderr, "demo:", err)
		return exitUsage
	}

	// The first SIGINT/SIGTERM starts a clean shutdown. Later ones are
	// swallowed on purpose: kube-apiserver and etcd run in their own process
	// groups, so dying half-way would leave them behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	d := &demo{opts: opts, p: newPrinter(os.Stdout)}
	err = d.run(ctx)
	code := exitOK
	switch {
	case err == nil:
	case ctx.Err() != nil && !d.ready:
		d.p.step("interrupted before everything was Ready")
		code = exitInterrupted
	case ctx.Err() != nil:
		// Ctrl-C is how a demo that is not run with --exit ends.
	case errors.Is(err, errNotReady):
		code = exitFailed
	default:
		d.p.step("FAILED: %v", err)
		code = exitFailed
	}
	if ctx.Err() != nil {
		d.p.step("shutting down (signal received)…")
	} else {
		d.p.step("shutting down…")
	}
	if cerr := d.cleanup(); cerr != nil {
		d.p.step("shutdown: %v", cerr)
		if code == exitOK {
			code = exitFailed
		}
	}
	switch code {
	case exitOK:
		d.p.plain("demo finished")
	case exitInterrupted:
		d.p.plain("demo interrupted")
	default:
		d.p.plain("demo FAILED")
	}
	return code
}
