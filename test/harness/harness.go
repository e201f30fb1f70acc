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

// Package harness runs the pieces the benchmark and the reliability suite
// need, as separate parts: a local kube-apiserver + etcd (envtest) with a
// kube-controller-manager for namespace deletion and garbage collection, the
// Cloud Elements simulator on loopback, and the operator as its own process
// (the real binary), so it can be killed, restarted and measured.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/hubspot-operator/hubspot-operator/internal/operator"
)

const modulePath = "github.com/hubspot-operator/hubspot-operator"

// RepoRoot finds the module's root from the working directory upwards.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("not inside the %s repository", modulePath)
		}
		dir = parent
	}
}

// EnvtestAssets returns the folder with kube-apiserver, etcd, kubectl and
// kube-controller-manager:
// KUBEBUILDER_ASSETS when set, otherwise what hack/setup-envtest.sh prints
// (which may build them first; its progress goes to stderr).
func EnvtestAssets(root string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	cmd := exec.Command(filepath.Join(root, "hack", "setup-envtest.sh"))
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/setup-envtest.sh: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// ControlPlane is a kube-apiserver and etcd with the CRD installed, a
// kube-controller-manager running the namespace and garbage collector
// controllers, and a kubeconfig for a cluster-admin user that the operator
// process uses.
type ControlPlane struct {
	Env               *envtest.Environment
	Config            *rest.Config
	Client            client.Client
	Kubeconfig        string
	ControllerManager *ControllerManager
}

// StartControlPlane starts the control plane; workDir receives the
// kubeconfig and kube-controller-manager's log.
func StartControlPlane(root, workDir string) (*ControlPlane, error) {
	assets, err := EnvtestAssets(root)
	if err != nil {
		return nil, err
	}
	// Before starting anything: a folder from an older setup-envtest.sh has
	// no kube-controller-manager.
	if _, err := ControllerManagerPath(assets); err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		Scheme:                   operator.Scheme,
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd: %w", err)
	}
	cp := &ControlPlane{Env: env}
	if err := cp.connect(cfg, workDir); err != nil {
		_ = env.Stop()
		return nil, err
	}
	if cp.ControllerManager, err = StartControllerManager(context.Background(), env, assets, workDir); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return cp, nil
}

func (cp *ControlPlane) connect(cfg *rest.Config, workDir string) error {
	cfg.QPS, cfg.Burst = 500, 1000 // the test driver must not be the bottleneck
	c, err := client.New(cfg, client.Options{Scheme: operator.Scheme})
	if err != nil {
		return err
	}
	user, err := cp.Env.AddUser(envtest.User{Name: "operator", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("provisioning the operator's user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return err
	}
	path := filepath.Join(workDir, "operator.kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return err
	}
	cp.Config, cp.Client, cp.Kubeconfig = cfg, c, path
	return nil
}

// Stop stops kube-controller-manager, then kube-apiserver and etcd.
func (cp *ControlPlane) Stop() error {
	cmErr := cp.ControllerManager.Stop()
	return errors.Join(cmErr, cp.Env.Stop())
}
