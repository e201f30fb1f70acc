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

// Command cluster runs a one-node Kubernetes cluster on this machine, with
// the operator installed in it as its users install it: from the image `make
// image` builds, by `helm install` of charts/hubspot-operator, in a namespace
// that enforces the restricted Pod Security level. Nothing comes from an
// image registry: every binary is built through the Go module proxy
// (hack/setup-envtest.sh, hack/setup-node.sh) and every image is packed
// without a container engine (hack/build-image).
//
// The node: etcd, kube-apiserver (PodSecurity, ServiceAccount and
// NodeRestriction admission, Node and RBAC authorization, its own CA and
// service-account keys), kube-controller-manager with its default
// controllers, kube-scheduler, containerd (Debian's, with a configuration,
// socket and state of its own), the kubelet, the bridge CNI plugin,
// kube-proxy (iptables) and CoreDNS (a host process behind the kube-dns
// Service). In it: the Cloud Elements API simulator as a Deployment behind a
// Service (not the real service), the operator, and the API-key sample.
//
// It prints each step, then "cluster ready" and the kubeconfig, and runs until
// Ctrl-C (with --exit it stops once ready). It must run as root. On exit it
// removes what it started: Pods and their sandboxes, processes, mounts,
// iptables chains, the bridge and its temporary folder; a run that was
// killed is cleaned up by the next one.
//
//	make cluster                      # until Ctrl-C
//	make cluster CLUSTER_ARGS=--exit  # stop once ready
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

type options struct {
	exit          bool
	timeout       time.Duration
	kubeconfigOut string
}

func run(args []string) int {
	var o options
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.BoolVar(&o.exit, "exit", false, "stop once the cluster is ready (exit 0), or exit 1 if it did not get there within --timeout")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long the node and the Pods may take to become ready, once the binaries and images are built")
	fs.StringVar(&o.kubeconfigOut, "kubeconfig-out", "./cluster.kubeconfig", "where to write the cluster's admin kubeconfig (removed on exit)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "cluster: must run as root (containerd, the kubelet, the bridge and iptables need it)")
		return 2
	}
	// The first signal starts a clean shutdown; later ones are ignored so
	// that the shutdown is not cut short, leaving mounts and chains behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	c := &cluster{opts: o, p: newPrinter(os.Stdout)}
	err := c.run(ctx)
	code := 0
	switch {
	case err == nil:
	case ctx.Err() != nil && c.ready:
	case ctx.Err() != nil:
		c.p.step("interrupted before the cluster was ready")
		code = 130
	default:
		c.p.step("FAILED: %v", err)
		code = 1
	}
	c.p.step("shutting down…")
	if cerr := c.cleanup(); cerr != nil {
		c.p.step("shutdown: %v", cerr)
		if code == 0 {
			code = 1
		}
	}
	if code == 0 {
		c.p.plain("cluster stopped")
	} else {
		c.p.plain("cluster FAILED")
	}
	return code
}
