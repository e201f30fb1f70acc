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
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
)

// demo is one run: what it started, and how to stop it.
type demo struct {
	opts options
	p    *printer

	root, tmp      string
	operatorLog    string
	simulatorLog   string
	kubeconfigPath string
	kubectl        string

	env    *envtest.Environment
	client client.Client

	sim                            *simulator.Simulator
	simURL                         string
	userSecret, organizationSecret string
	callbackAddr, metricsAddr      string
	simLogWriter                   io.Writer

	// managerStopped is closed when the manager returns; managerErr is then set.
	managerStopped chan struct{}
	managerErr     error

	samples, bulk     []types.NamespacedName
	credentialsSecret string
	appliedAt         time.Time
	bulkAppliedAt     time.Time
	ready             bool

	cleanups []cleanupStep
}

type cleanupStep struct {
	done string
	fn   func() error
}

// onCleanup registers fn to run at the end, in reverse order of registration;
// done is printed once it has.
func (d *demo) onCleanup(done string, fn func() error) {
	d.cleanups = append(d.cleanups, cleanupStep{done: done, fn: fn})
}

// cleanup runs every registered step, even after a failed one.
func (d *demo) cleanup() error {
	var errs []error
	for i := len(d.cleanups) - 1; i >= 0; i-- {
		step := d.cleanups[i]
		if err := step.fn(); err != nil {
			errs = append(errs, err)
			continue
		}
		if step.done != "" {
			d.p.step("%s", step.done)
		}
	}
	d.cleanups = nil
	return errors.Join(errs...)
}

func (d *demo) run(ctx context.Context) error {
	p := d.p
	p.plain("hubspot-operator demo: the operator end to end on this machine, on a local kube-apiserver + etcd.")
	p.plain("Cloud Elements API SIMULATOR — not the real service: no account is needed and nothing leaves this machine.")
	p.plain("")

	var err error
	if d.root, err = findRepoRoot(); err != nil {
		return err
	}
	if d.tmp, err = os.MkdirTemp("", "hubspot-operator-demo-"); err != nil {
		return err
	}
	tmp := d.tmp
	d.onCleanup("removed "+tmp, func() error { return os.RemoveAll(tmp) })
	if err := d.setupLogging(); err != nil {
		return err
	}

	// 1. kube-apiserver, etcd, kube-controller-manager and kubectl.
	p.step("obtaining kube-apiserver, etcd, kube-controller-manager and kubectl (hack/setup-envtest.sh; a cold machine builds them, several minutes)…")
	started := time.Now()
	assets, err := d.envtestAssets(ctx)
	if err != nil {
		return err
	}
	p.step("envtest binaries ready in %s: %s", seconds(time.Since(started)), assets)
	if err := ctx.Err(); err != nil {
		return err
	}

	// 2. The control plane, with the CRD.
	p.step("starting the control plane (kube-apiserver + etcd) and installing the CRD…")
	cfg, err := d.startControlPlane(assets)
	if err != nil {
		return err
	}
	version := serverVersion(cfg)
	p.step("control plane up: kube-apiserver %s at %s", version, cfg.Host)
	for _, crd := range d.env.CRDs {
		p.step("CRD installed: %s", crd.GetName())
	}
	if d.client, err = client.New(cfg, client.Options{Scheme: operator.Scheme}); err != nil {
		return err
	}
	if err := d.writeKubeconfig(); err != nil {
		return err
	}
	var note string
	d.kubectl, note = kubectlCommand(assets, version)
	p.step("kubeconfig written: %s (valid while the demo runs)", d.kubeconfigPath)
	if note != "" {
		p.detail("kubectl: %s (%s)", d.kubectl, note)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	// 3. The simulator.
	if err := d.startSimulator(); err != nil {
		return err
	}
	p.step("Cloud Elements API SIMULATOR (not the real service) at %s (seed %d)", d.endpoint(), d.sim.Seed())
	p.detail("its request log: %s", d.simulatorLog)

	// 4. The operator.
	for _, ns := range []string{operatorNamespace, demoNamespace} {
		if err := d.ensureNamespace(ctx, ns); err != nil {
			return err
		}
		p.step("namespace %s created", ns)
	}
	if err := d.startOperator(cfg); err != nil {
		return err
	}
	p.step("operator started (the manager of main.go, from internal/operator)")
	p.detail("OAuth callback: %s", d.callbackURL())
	p.detail("metrics:        http://%s/metrics", d.metricsAddr)
	p.detail("its log:        %s", d.operatorLog)

	// 5. The samples, and the bulk objects.
	if err := d.applySamples(ctx); err != nil {
		return err
	}

	// 6. Consent, convergence.
	t := newTracker(d)
	deadline := d.appliedAt.Add(d.opts.timeout)
	items, err := t.waitReady(ctx, deadline)
	if errors.Is(err, errNotReady) {
		t.reportNotReady(items)
		if d.opts.exit {
			d.printLogTail(d.operatorLog, 40)
			return err
		}
		p.step("still waiting (without --exit the demo keeps going; Ctrl-C to stop)…")
		items, err = t.waitReady(ctx, time.Time{})
	}
	if err != nil {
		return err
	}
	d.ready = true
	if err := d.report(ctx, items); err != nil {
		return err
	}
	if d.opts.exit {
		return nil
	}

	// 7. Look around until Ctrl-C.
	d.printHints(items)
	return t.follow(ctx)
}

// setupLogging sends the operator's and the simulator's logs to files in the
// temporary folder (stderr with --verbose), so the narration stays readable.
func (d *demo) setupLogging() error {
	var opLog, simLog io.Writer = os.Stderr, os.Stderr
	if !d.opts.verbose {
		d.operatorLog = filepath.Join(d.tmp, "operator.log")
		d.simulatorLog = filepath.Join(d.tmp, "simulator.log")
		opFile, err := os.OpenFile(d.operatorLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		simFile, err := os.OpenFile(d.simulatorLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			_ = opFile.Close()
			return err
		}
		// Left open: something may log until the very end, and unlinking an
		// open file is fine when the folder is removed.
		opLog, simLog = opFile, simFile
	} else {
		d.operatorLog, d.simulatorLog = "stderr (--verbose)", "stderr (--verbose)"
	}
	logger := zap.New(zap.WriteTo(opLog), zap.ConsoleEncoder())
	ctrl.SetLogger(logger)
	klog.SetLogger(logger.WithName("klog"))
	d.simLogWriter = simLog
	return nil
}

// startSimulator serves the simulator on a free loopback port, with random
// account secrets that only this run knows.
func (d *demo) startSimulator() error {
	d.userSecret, d.organizationSecret = randomSecret(), randomSecret()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening for the simulator: %w", err)
	}
	d.simURL = "http://" + listener.Addr().String()
	d.sim = simulator.New(simulator.Options{
		UserSecret:         d.userSecret,
		OrganizationSecret: d.organizationSecret,
		BaseURL:            d.simURL,
		Logger:             log.New(d.simLogWriter, "simulator: ", log.LstdFlags|log.Lmicroseconds),
	})
	server := &http.Server{Handler: d.sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(listener) }()
	d.onCleanup("simulator stopped", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := server.Shutdown(ctx); err != nil {
			return server.Close()
		}
		return nil
	})
	return nil
}

func randomSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "demo-" + hex.EncodeToString(b)
}

// freeLoopbackAddr picks a free port on 127.0.0.1 for a server that binds
// its own listener (the manager's).
func freeLoopbackAddr() (string, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := listener.Addr().String()
	return addr, listener.Close()
}

// startOperator builds the manager exactly as main.go does, from the
// operator's flag defaults with a few local overrides, and starts it.
func (d *demo) startOperator(cfg *rest.Config) error {
	var err error
	if d.callbackAddr, err = freeLoopbackAddr(); err != nil {
		return err
	}
	if d.metricsAddr, err = freeLoopbackAddr(); err != nil {
		return err
	}
	var o operator.Options
	flags := flag.NewFlagSet("operator", flag.ContinueOnError)
	o.BindFlags(flags) // the defaults
	o.MetricsAddr = d.metricsAddr
	o.SecureMetrics = false // plain http on loopback, for curl
	o.ProbeAddr = "0"
	o.LeaderElection = false
	o.OperatorNamespace = operatorNamespace
	o.CallbackAddr = d.callbackAddr
	o.AllowLoopback = true // the simulator, or any local stand-in, on loopback
	cloudelements.Version = "demo"
	if _, err := operator.TuneRuntime(flags, o); err != nil {
		return err
	}

	// The rate limits main.go gets from ctrl.GetConfig, not envtest's
	// "go fast" ones: the demo shows the operator as it runs in a cluster.
	opCfg := rest.CopyConfig(cfg)
	opCfg.QPS, opCfg.Burst = 20, 30

	ctx, cancel := context.WithCancel(context.Background())
	ctx = logr.NewContext(ctx, ctrl.Log)
	mgr, err := operator.New(ctx, opCfg, o)
	if err != nil {
		cancel()
		return fmt.Errorf("setting up the operator: %w", err)
	}
	d.managerStopped = make(chan struct{})
	go func() {
		defer close(d.managerStopped)
		d.managerErr = mgr.Start(ctx)
	}()
	d.onCleanup("operator stopped", func() error {
		cancel()
		select {
		case <-d.managerStopped:
		case <-time.After(time.Minute):
			return errors.New("the operator did not stop within a minute")
		}
		if d.managerErr != nil && !errors.Is(d.managerErr, context.Canceled) {
			return fmt.Errorf("the operator stopped with: %w", d.managerErr)
		}
		return nil
	})
	return nil
}

// applySamples applies the samples' Secrets, then their HubSpotInstances,
// then the bulk objects.
func (d *demo) applySamples(ctx context.Context) error {
	objs, err := loadSamples(d.root)
	if err != nil {
		return err
	}
	secrets, instances, err := d.prepareSamples(objs)
	if err != nil {
		return err
	}
	for _, s := range secrets {
		if err := d.apply(ctx, s.obj); err != nil {
			return err
		}
		if s.note != "" {
			d.p.step("applied Secret %s/%s (%s)", s.obj.GetNamespace(), s.obj.GetName(), s.note)
		} else {
			d.p.step("applied Secret %s/%s", s.obj.GetNamespace(), s.obj.GetName())
		}
	}
	d.appliedAt = time.Now()
	for _, s := range instances {
		if err := d.apply(ctx, s.obj); err != nil {
			return err
		}
		d.p.step("applied HubSpotInstance %s/%s (%s)", s.obj.GetNamespace(), s.obj.GetName(), s.note)
	}
	if d.opts.instances == 0 {
		return nil
	}
	secret, bulk := d.bulkObjects()
	if err := d.apply(ctx, secret); err != nil {
		return err
	}
	d.bulkAppliedAt = time.Now()
	for _, obj := range bulk {
		if err := d.apply(ctx, obj); err != nil {
			return err
		}
	}
	d.p.step("applied %d extra API-key HubSpotInstances %s/%s … %s (sharing Secret %s/%s) in %s",
		len(bulk), demoNamespace, bulk[0].GetName(), bulk[len(bulk)-1].GetName(), demoNamespace, bulkKeySecret,
		seconds(time.Since(d.bulkAppliedAt)))
	return nil
}

// printLogTail shows the end of a log, for a failure seen only in CI where
// the temporary folder is gone afterwards.
func (d *demo) printLogTail(path string, lines int) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return
	}
	all := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	d.p.step("last %d lines of the operator's log (%s):", len(all), path)
	for _, line := range all {
		d.p.detail("%s", line)
	}
}
