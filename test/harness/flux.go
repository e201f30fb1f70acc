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

package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// GitOpsAssets returns the folder with the GitOps controllers' binaries and
// CRDs: GITOPS_ASSETS when set, otherwise what hack/setup-gitops.sh prints
// for components ("flux", "argocd" or both; it may build them first, its
// progress going to stderr).
func GitOpsAssets(root, components string) (string, error) {
	if dir := os.Getenv("GITOPS_ASSETS"); dir != "" {
		return dir, nil
	}
	cmd := exec.Command(filepath.Join(root, "hack", "setup-gitops.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GITOPS_COMPONENTS="+components)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/setup-gitops.sh: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// InstallGitOpsCRDs installs the CRDs hack/setup-gitops.sh copied from the
// controllers' modules, so the API served is the one the binaries speak.
func InstallGitOpsCRDs(cp *ControlPlane, assets string) error {
	_, err := envtest.InstallCRDs(cp.Config, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(assets, "crd")}, ErrorIfPathMissing: true,
	})
	return err
}

// Controller is one GitOps controller process (a Flux controller, an Argo
// CD component) with its output in a log file.
type Controller struct {
	Name, Bin, LogPath string
	Args, Env          []string
	// ReadyURL, when set, answers 200 once the process is ready.
	ReadyURL string

	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs the process and waits for ReadyURL.
func (c *Controller) Start(ctx context.Context) error {
	logFile, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.Bin, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting %s: %w", c.Name, err)
	}
	c.cmd, c.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(c.exited)
	}()
	if c.ReadyURL == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("%s exited during start-up; see %s:\n%s", c.Name, c.LogPath, logTail(c.LogPath, 20))
		case <-ctx.Done():
			_ = c.Stop()
			return fmt.Errorf("%s not ready within 2 minutes (%w); see %s:\n%s", c.Name, ctx.Err(), c.LogPath, logTail(c.LogPath, 20))
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(c.ReadyURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
}

// Running says whether the process is alive.
func (c *Controller) Running() bool {
	if c == nil || c.exited == nil {
		return false
	}
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// Stop ends the process gracefully (SIGTERM; SIGKILL after 30 s).
func (c *Controller) Stop() error {
	if !c.Running() {
		return nil
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil && c.Running() {
		return err
	}
	select {
	case <-c.exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
		return fmt.Errorf("%s ignored SIGTERM for 30s; see %s", c.Name, c.LogPath)
	}
}

// Flux is Flux's source-controller and kustomize-controller, each a process
// of the binaries hack/setup-gitops.sh built, against a control plane.
type Flux struct {
	Source, Kustomize *Controller
}

// FluxNamespace is where the tests put GitRepositories and Kustomizations,
// and what the controllers take as their own namespace.
const FluxNamespace = "flux-system"

// StartFlux starts source-controller (its artifact storage in workDir,
// served on loopback) and kustomize-controller, with the control plane's
// cluster-admin kubeconfig, and waits until both are ready.
func StartFlux(ctx context.Context, assets, kubeconfig, workDir string) (*Flux, error) {
	storage := filepath.Join(workDir, "flux-storage")
	if err := os.MkdirAll(storage, 0o700); err != nil {
		return nil, err
	}
	env := []string{"KUBECONFIG=" + kubeconfig, "RUNTIME_NAMESPACE=" + FluxNamespace}
	storageAddr := freeAddr()
	source := &Controller{Name: "source-controller", Bin: filepath.Join(assets, "source-controller"), Env: env,
		LogPath: filepath.Join(workDir, "source-controller.log")}
	kustomize := &Controller{Name: "kustomize-controller", Bin: filepath.Join(assets, "kustomize-controller"), Env: env,
		LogPath: filepath.Join(workDir, "kustomize-controller.log")}
	for _, c := range []*Controller{source, kustomize} {
		health := freeAddr()
		c.ReadyURL = "http://" + health + "/readyz"
		c.Args = []string{"--metrics-addr=" + freeAddr(), "--health-addr=" + health, "--log-level=debug", "--log-encoding=console"}
	}
	source.Args = append(source.Args, "--storage-path="+storage, "--storage-addr="+storageAddr, "--storage-adv-addr="+storageAddr)
	f := &Flux{Source: source, Kustomize: kustomize}
	for _, c := range []*Controller{source, kustomize} {
		if err := c.Start(ctx); err != nil {
			return nil, errors.Join(err, f.Stop())
		}
	}
	return f, nil
}

// Stop ends both controllers.
func (f *Flux) Stop() error {
	if f == nil {
		return nil
	}
	return errors.Join(f.Kustomize.Stop(), f.Source.Stop())
}
