//go:build e2e

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

// Package e2e runs the operator as its users run it, on the one-node cluster
// of hack/cluster (make cluster): as Pods from the image make image builds,
// installed by the Helm chart under the restricted Pod Security level. The
// suite starts that cluster (bin/cluster) and stops it at the end, unless
// E2E_KUBECONFIG names one already running. It needs root, like the cluster.
//
//	make test-e2e
package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	ce "github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
)

// What hack/cluster installs.
const (
	operatorNamespace  = "hubspot-operator-system"
	simulatorNamespace = "cloud-elements-simulator"
	samplesNamespace   = "samples"
	helmRelease        = "hubspot-operator"
	leaseName          = "hubspot-operator.cloud-elements.io"
	simulatorEndpoint  = "http://cloud-elements-simulator.cloud-elements-simulator.svc:8090/elements/api-v2"
	workloadImage      = "hubspot-operator.local/e2e-workload:e2e"
	operatorSelector   = "control-plane=controller-manager"
)

var (
	cfg            *rest.Config
	k8s            client.Client
	clientset      *kubernetes.Clientset
	kubeconfigPath string
	repoRoot       string
	clusterCmd     *exec.Cmd
	clusterDone    chan error
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "e2e on the make cluster node")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(GinkgoLogr)
	var err error
	repoRoot, err = filepath.Abs(filepath.Join("..", ".."))
	Expect(err).NotTo(HaveOccurred())
	kubeconfigPath = os.Getenv("E2E_KUBECONFIG")
	if kubeconfigPath == "" {
		kubeconfigPath = startCluster()
	}
	cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfigPath)
	Expect(err).NotTo(HaveOccurred())
	k8s, err = client.New(cfg, client.Options{Scheme: operator.Scheme})
	Expect(err).NotTo(HaveOccurred())
	clientset, err = kubernetes.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
})

// startCluster runs bin/cluster until it prints "cluster ready", and returns
// its kubeconfig. AfterSuite stops it.
func startCluster() string {
	bin := filepath.Join(repoRoot, "bin", "cluster")
	Expect(bin).To(BeAnExistingFile(), "build it first: make test-e2e does")
	kubeconfig := filepath.Join(GinkgoT().TempDir(), "cluster.kubeconfig")
	clusterCmd = exec.Command(bin, "--kubeconfig-out", kubeconfig)
	clusterCmd.Dir = repoRoot
	clusterCmd.Stderr = GinkgoWriter
	// Its own process group: a Ctrl-C of the test run reaches it through
	// AfterSuite, once, rather than twice.
	clusterCmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	out, err := clusterCmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(clusterCmd.Start()).To(Succeed())
	ready := make(chan struct{})
	clusterDone = make(chan error, 1)
	go func() {
		scanner := bufio.NewScanner(out)
		for scanner.Scan() {
			line := scanner.Text()
			fmt.Fprintln(GinkgoWriter, "cluster:", line)
			if line == "cluster ready" {
				close(ready)
			}
		}
		clusterDone <- clusterCmd.Wait()
	}()
	select {
	case <-ready:
	case err := <-clusterDone:
		Fail(fmt.Sprintf("bin/cluster ended before the cluster was ready: %v", err))
	case <-time.After(20 * time.Minute):
		Fail("bin/cluster: no \"cluster ready\" within 20 minutes")
	}
	return kubeconfig
}

var _ = AfterSuite(func() {
	if clusterCmd == nil || clusterCmd.Process == nil {
		return
	}
	_ = clusterCmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-clusterDone:
		Expect(err).NotTo(HaveOccurred(), "bin/cluster should stop cleanly")
	case <-time.After(3 * time.Minute):
		_ = syscall.Kill(-clusterCmd.Process.Pid, syscall.SIGKILL)
		Fail("bin/cluster did not stop within 3 minutes")
	}
})

// operatorPods are the operator's Pods of the main Deployment (no shard).
func operatorPods(ctx context.Context) []corev1.Pod {
	var pods corev1.PodList
	Expect(k8s.List(ctx, &pods, client.InNamespace(operatorNamespace), client.MatchingLabels{"control-plane": "controller-manager"})).To(Succeed())
	var out []corev1.Pod
	for _, p := range pods.Items {
		if strings.Contains(p.Name, "-shard") {
			continue
		}
		out = append(out, p)
	}
	return out
}

func podReady(p corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// leaseHolder is the Pod name holding a Lease ("" when none): the identity
// is <pod name>_<uuid>.
func leaseHolder(ctx context.Context, name string) string {
	var lease coordinationv1.Lease
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: name}, &lease); err != nil {
		return ""
	}
	if lease.Spec.HolderIdentity == nil {
		return ""
	}
	holder, _, _ := strings.Cut(*lease.Spec.HolderIdentity, "_")
	return holder
}

// stopWatch records how an operator Pod ends and what becomes of the Lease
// meanwhile: a watch sees every update, so the kubelet's last status of the
// Pod (its container's exit code) and a Lease released with no holder are
// seen even when they last an instant.
type stopWatch struct {
	mu       sync.Mutex
	exitCode *int32
	released bool
	cancel   context.CancelFunc
}

func watchStop(ctx context.Context, pod, lease string) *stopWatch {
	w := &stopWatch{}
	wctx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	DeferCleanup(cancel)
	pods, err := clientset.CoreV1().Pods(operatorNamespace).Watch(wctx, metav1.ListOptions{FieldSelector: "metadata.name=" + pod})
	Expect(err).NotTo(HaveOccurred())
	leases, err := clientset.CoordinationV1().Leases(operatorNamespace).Watch(wctx, metav1.ListOptions{FieldSelector: "metadata.name=" + lease})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		for ev := range pods.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			for _, cs := range p.Status.ContainerStatuses {
				if cs.Name == "manager" && cs.State.Terminated != nil {
					code := cs.State.Terminated.ExitCode
					w.mu.Lock()
					w.exitCode = &code
					w.mu.Unlock()
				}
			}
		}
	}()
	go func() {
		for ev := range leases.ResultChan() {
			l, ok := ev.Object.(*coordinationv1.Lease)
			if ok && (l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "") {
				w.mu.Lock()
				w.released = true
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// ExitCode is the manager container's exit code once the kubelet reported
// it, else -1.
func (w *stopWatch) ExitCode() int32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.exitCode == nil {
		return -1
	}
	return *w.exitCode
}

// Released says whether the Lease was seen with no holder.
func (w *stopWatch) Released() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.released
}

// simulatorURL is the simulator's Service as this host reaches it: through
// kube-proxy's rules for the ClusterIP.
func simulatorURL(ctx context.Context) string {
	var svc corev1.Service
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: simulatorNamespace, Name: "cloud-elements-simulator"}, &svc)).To(Succeed())
	return fmt.Sprintf("http://%s:8090", svc.Spec.ClusterIP)
}

// simulatorInstances are every instance the simulator holds (its test knob).
func simulatorInstances(ctx context.Context) ([]ce.Instance, error) {
	var instances []ce.Instance
	return instances, getJSON(ctx, simulatorURL(ctx)+"/simulator/instances", &instances)
}

func getJSON(ctx context.Context, url string, into any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return json.Unmarshal(body, into)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// helm runs the pinned helm against the cluster.
func helm(args ...string) (string, error) {
	path, err := exec.Command("go", "-C", repoRoot, "tool", "-n", "helm").Output()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(strings.TrimSpace(string(path)), append([]string{"--kubeconfig", kubeconfigPath}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
