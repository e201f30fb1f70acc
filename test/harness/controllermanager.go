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
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ControllerManagerBinary is kube-controller-manager's file name in the
// envtest assets folder; hack/setup-envtest.sh builds it next to
// kube-apiserver (the official envtest download has none).
const ControllerManagerBinary = "kube-controller-manager"

// ControllerManagerControllers are the controllers kube-controller-manager
// runs for tests: a namespace being deleted is emptied and removed, and
// dependents of a deleted owner are garbage-collected, as on a real cluster.
var ControllerManagerControllers = []string{"namespace-controller", "garbage-collector-controller"}

const (
	controllerManagerReadyTimeout = 2 * time.Minute
	controllerManagerStopTimeout  = 30 * time.Second
)

// ControllerManager is a kube-controller-manager process running the
// ControllerManagerControllers against an envtest control plane.
type ControllerManager struct {
	// Bin is the binary, Kubeconfig the credentials it uses (a
	// system:masters user), LogPath the file its output goes to.
	Bin, Kubeconfig, LogPath string
	// Args are the flags it was started with.
	Args []string

	cmd    *exec.Cmd
	exited chan struct{}
	// waitErr is how the process ended; set before exited is closed.
	waitErr  error
	stopping bool
}

// ControllerManagerPath returns kube-controller-manager's path in the envtest
// assets folder, or an error saying how to get it.
func ControllerManagerPath(assetsDir string) (string, error) {
	if assetsDir == "" {
		return "", fmt.Errorf("no envtest assets folder (KUBEBUILDER_ASSETS) to find %s in: "+
			"run hack/setup-envtest.sh and set KUBEBUILDER_ASSETS to the folder it prints", ControllerManagerBinary)
	}
	bin := filepath.Join(assetsDir, ControllerManagerBinary)
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s is missing from the envtest assets %s: run hack/setup-envtest.sh "+
			"(it builds %s next to kube-apiserver) and set KUBEBUILDER_ASSETS to the folder it prints",
			ControllerManagerBinary, assetsDir, ControllerManagerBinary)
	}
	return bin, nil
}

// controllerManagerArgs are kube-controller-manager's flags for tests:
//   - only the controllers tests need, so nothing else writes to the cluster
//     (no service account token controller: it would need a signing key);
//   - no leader election, no per-controller service accounts (envtest has no
//     tokens for them): every controller uses the kubeconfig's user;
//   - no HTTPS serving: readiness is observed through the API instead, and
//     nothing has to pick a free port or a certificate folder;
//   - a higher client rate limit than the default 20 QPS, so collecting
//     thousands of dependents or emptying a big namespace doesn't queue
//     behind the client-side limiter. The worker counts keep their defaults
//     (20 garbage collector, 10 namespace workers), ample for tests.
func controllerManagerArgs(kubeconfig string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--controllers=" + strings.Join(ControllerManagerControllers, ","),
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--secure-port=0",
		"--kube-api-qps=100",
		"--kube-api-burst=200",
	}
}

// StartControllerManager starts kube-controller-manager against a running
// envtest environment and returns once it collects garbage (see waitReady).
// assetsDir is the folder hack/setup-envtest.sh prints ("" means
// env.BinaryAssetsDirectory, then KUBEBUILDER_ASSETS); workDir receives its
// kubeconfig and its log, kube-controller-manager.log.
func StartControllerManager(ctx context.Context, env *envtest.Environment, assetsDir, workDir string) (*ControllerManager, error) {
	if assetsDir == "" {
		assetsDir = env.BinaryAssetsDirectory
	}
	if assetsDir == "" {
		assetsDir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	bin, err := ControllerManagerPath(assetsDir)
	if err != nil {
		return nil, err
	}
	if env.Config == nil {
		return nil, errors.New("starting kube-controller-manager: the envtest environment isn't started")
	}
	if workDir == "" {
		return nil, errors.New("starting kube-controller-manager: no work folder for its kubeconfig and log")
	}

	user, err := env.AddUser(envtest.User{Name: "kube-controller-manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("provisioning kube-controller-manager's user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	cm := &ControllerManager{
		Bin:        bin,
		Kubeconfig: filepath.Join(workDir, "kube-controller-manager.kubeconfig"),
		LogPath:    filepath.Join(workDir, "kube-controller-manager.log"),
	}
	if err := os.WriteFile(cm.Kubeconfig, kubeconfig, 0o600); err != nil {
		return nil, err
	}
	cm.Args = controllerManagerArgs(cm.Kubeconfig)

	logFile, err := os.OpenFile(cm.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, cm.Args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = endsWithParent()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	cm.cmd, cm.exited = cmd, make(chan struct{})
	go func() {
		cm.waitErr = cmd.Wait()
		logFile.Close()
		close(cm.exited)
	}()

	if err := cm.waitReady(ctx, env); err != nil {
		_ = cm.Stop()
		return nil, err
	}
	return cm, nil
}

// waitReady waits until kube-controller-manager has garbage-collected a
// probe: a ConfigMap owned by another ConfigMap that is deleted. That needs
// the process up, authenticated, past API discovery and with the garbage
// collector's informers synced and its workers running. Both controllers
// are built before either runs (a failure to build one ends the process) and
// then started together, so the namespace controller is running too; it
// isn't probed itself because it waits a fixed 5 s before acting on a
// deleted namespace.
func (cm *ControllerManager) waitReady(ctx context.Context, env *envtest.Environment) error {
	ctx, cancel := context.WithTimeout(ctx, controllerManagerReadyTimeout)
	defer cancel()
	c, err := client.New(env.Config, client.Options{})
	if err != nil {
		return err
	}
	owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Namespace: metav1.NamespaceSystem, GenerateName: "kube-controller-manager-readiness-",
	}}
	if err := c.Create(ctx, owner); err != nil {
		return fmt.Errorf("kube-controller-manager readiness probe: %w", err)
	}
	isController := true
	dependent := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Namespace: owner.Namespace, Name: owner.Name + "-dependent",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID,
			Controller: &isController, BlockOwnerDeletion: &isController}},
	}}
	if err := c.Create(ctx, dependent); err != nil {
		_ = c.Delete(context.Background(), owner)
		return fmt.Errorf("kube-controller-manager readiness probe: %w", err)
	}
	if err := c.Delete(ctx, owner); client.IgnoreNotFound(err) != nil {
		_ = c.Delete(context.Background(), dependent)
		return fmt.Errorf("kube-controller-manager readiness probe: %w", err)
	}

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.Get(ctx, client.ObjectKeyFromObject(dependent), &corev1.ConfigMap{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-cm.exited:
			return fmt.Errorf("kube-controller-manager exited during start-up (%v); see %s:\n%s",
				cm.waitErr, cm.LogPath, logTail(cm.LogPath, 20))
		case <-ctx.Done():
			_ = c.Delete(context.Background(), dependent)
			if errors.Is(ctx.Err(), context.Canceled) {
				return ctx.Err()
			}
			return fmt.Errorf("kube-controller-manager didn't garbage-collect its readiness probe within %s (%w); see %s:\n%s",
				controllerManagerReadyTimeout, ctx.Err(), cm.LogPath, logTail(cm.LogPath, 20))
		case <-tick.C:
		}
	}
}

// Running says whether the process is alive.
func (cm *ControllerManager) Running() bool {
	if cm == nil || cm.exited == nil {
		return false
	}
	select {
	case <-cm.exited:
		return false
	default:
		return true
	}
}

// Stop ends kube-controller-manager gracefully (SIGTERM; SIGKILL after 30 s).
// It reports an error if the process had already ended on its own, which
// means the controllers weren't running for part of the test.
func (cm *ControllerManager) Stop() error {
	if cm == nil || cm.cmd == nil {
		return nil
	}
	if cm.stopping {
		<-cm.exited
		return nil
	}
	cm.stopping = true
	select {
	case <-cm.exited:
		return fmt.Errorf("kube-controller-manager had exited (%v) before it was stopped; see %s", cm.waitErr, cm.LogPath)
	default:
	}
	if err := cm.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		select {
		case <-cm.exited: // ended in between
			return nil
		default:
			return err
		}
	}
	select {
	case <-cm.exited:
		return nil
	case <-time.After(controllerManagerStopTimeout):
		_ = cm.cmd.Process.Kill()
		<-cm.exited
		return fmt.Errorf("kube-controller-manager ignored SIGTERM for %s; see %s", controllerManagerStopTimeout, cm.LogPath)
	}
}

// logTail is the last n lines of a log file, for error messages.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
