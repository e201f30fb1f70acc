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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/hubspot-operator/hubspot-operator/internal/operator"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

const modulePath = "github.com/hubspot-operator/hubspot-operator"

// findRepoRoot walks up from the working directory to the module's go.mod:
// `make demo` runs from the root, but `go run ./hack/demo` may not.
func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("not inside the %s repository: run the demo from its root (make demo)", modulePath)
		}
		dir = parent
	}
}

// envtestAssets runs hack/setup-envtest.sh, streaming its progress (it may
// build kube-apiserver, etcd, kubectl and kube-controller-manager for several
// minutes on a cold machine), and returns the binaries' folder, its last line
// of stdout.
func (d *demo) envtestAssets(ctx context.Context) (string, error) {
	script := filepath.Join(d.root, "hack", "setup-envtest.sh")
	cmd := exec.CommandContext(ctx, script)
	cmd.Dir = d.root
	cmd.Env = append(os.Environ(), "GOWORK=off")
	// Its own process group, so that an interrupt stops the whole build
	// (go build and the compilers it runs), not just the script.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("running %s: %w", script, err)
	}
	scanner := bufio.NewScanner(stderr)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for scanner.Scan() {
		d.p.detail("│ %s", scanner.Text())
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("hack/setup-envtest.sh failed (%w); its output is above", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	dir := strings.TrimSpace(lines[len(lines)-1])
	if dir == "" {
		return "", errors.New("hack/setup-envtest.sh printed no binaries folder")
	}
	for _, bin := range []string{"kube-apiserver", "etcd", "kubectl", harness.ControllerManagerBinary} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("hack/setup-envtest.sh printed %s, which lacks %s", dir, bin)
		}
	}
	return dir, nil
}

// startControlPlane starts kube-apiserver and etcd with the CRD installed,
// then kube-controller-manager with the namespace and garbage collector
// controllers (the test harness's, same flags), so that deleting a namespace
// or an owner behaves as on a real cluster. Their working folders and
// kube-controller-manager's log live in the demo's temporary folder.
func (d *demo) startControlPlane(assets string) (*rest.Config, error) {
	apiserverDir := filepath.Join(d.tmp, "kube-apiserver")
	etcdDir := filepath.Join(d.tmp, "etcd")
	for _, dir := range []string{apiserverDir, etcdDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	// Tools that honour KUBEBUILDER_ASSETS (envtest among them) find the
	// same binaries.
	_ = os.Setenv("KUBEBUILDER_ASSETS", assets)
	// A demo that dies without stopping them (SIGKILL, the out-of-memory
	// killer) must not leave kube-apiserver and etcd running: envtest starts
	// them in process groups of their own, so they are started through links
	// that give each a parent-death signal (kube-controller-manager gets one
	// from the harness).
	tied, err := harness.TieBinaries(filepath.Join(d.tmp, "bin"), assets)
	if err != nil {
		return nil, fmt.Errorf("tying kube-apiserver and etcd to the demo: %w", err)
	}
	useExisting := false
	d.env = &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{CertDir: apiserverDir, Path: tied["kube-apiserver"]},
			Etcd:      &envtest.Etcd{DataDir: etcdDir, Path: tied["etcd"]},
		},
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        []string{filepath.Join(d.root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		UseExistingCluster:       &useExisting,
		Scheme:                   operator.Scheme,
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	// Registered before Start: a failure half-way must not leave
	// kube-apiserver or etcd running.
	d.onCleanup("control plane stopped (kube-apiserver, etcd)", func() error { return d.env.Stop() })
	cfg, err := d.env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd: %w", err)
	}
	// Returns once it has garbage-collected a probe object: a fraction of a
	// second. Registered after the control plane, so it stops first.
	cm, err := harness.StartControllerManager(context.Background(), d.env, assets, d.tmp)
	if err != nil {
		return nil, err
	}
	d.onCleanup("kube-controller-manager stopped", cm.Stop)
	d.p.detail("kube-controller-manager: %s; its log: %s",
		strings.Join(harness.ControllerManagerControllers, ", "), cm.LogPath)
	return cfg, nil
}

// serverVersion is the API server's version, e.g. v1.37.2.
func serverVersion(cfg *rest.Config) string {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return "unknown version"
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return "unknown version"
	}
	return v.GitVersion
}

// writeKubeconfig provisions a system:masters user and writes a kubeconfig
// for it, readable by its owner only: it holds a client key.
func (d *demo) writeKubeconfig() error {
	user, err := d.env.AddUser(envtest.User{Name: "demo-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("provisioning the kubeconfig user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("rendering the kubeconfig: %w", err)
	}
	path := d.opts.kubeconfigOut
	// A leftover file from a killed run may have looser permissions:
	// WriteFile keeps an existing file's mode.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	d.kubeconfigPath = filepath.Clean(path)
	d.onCleanup("removed "+d.kubeconfigPath+" (it pointed at the control plane that just stopped)", func() error {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	})
	return nil
}

// kubectlCommand is the kubectl to suggest: the one on PATH if it is within
// one minor version of the API server (kubectl's supported skew), otherwise
// the one hack/setup-envtest.sh provides, by its full path.
func kubectlCommand(assets, serverGitVersion string) (cmd, note string) {
	envtestKubectl := filepath.Join(assets, "kubectl")
	path, err := exec.LookPath("kubectl")
	if err != nil {
		return envtestKubectl, "no kubectl on PATH: use the one envtest provides"
	}
	serverMinor, ok := minorOf(serverGitVersion)
	if !ok {
		return "kubectl", ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "version", "--client", "-o", "json").Output()
	if err != nil {
		return envtestKubectl, "couldn't tell the version of the kubectl on PATH: use the one envtest provides"
	}
	var v struct {
		ClientVersion struct {
			GitVersion string `json:"gitVersion"`
		} `json:"clientVersion"`
	}
	if json.Unmarshal(out, &v) != nil {
		return envtestKubectl, "couldn't tell the version of the kubectl on PATH: use the one envtest provides"
	}
	clientMinor, ok := minorOf(v.ClientVersion.GitVersion)
	if !ok || clientMinor < serverMinor-1 || clientMinor > serverMinor+1 {
		return envtestKubectl, fmt.Sprintf("the kubectl on PATH is %s, too far from the API server's %s: use the one envtest provides",
			v.ClientVersion.GitVersion, serverGitVersion)
	}
	return "kubectl", ""
}

// minorOf reads 37 out of v1.37.2.
func minorOf(gitVersion string) (int, bool) {
	parts := strings.SplitN(strings.TrimPrefix(gitVersion, "v"), ".", 3)
	if len(parts) < 2 {
		return 0, false
	}
	minor, err := strconv.Atoi(parts[1])
	return minor, err == nil
}
