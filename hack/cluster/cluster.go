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
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

const (
	// nodeName is the node's name and the kubelet's identity.
	nodeName = "hubspot-operator-node"
	// bridgeName is the bridge CNI plugin's bridge.
	bridgeName   = "hso-cni0"
	podCIDR      = "10.244.0.0/24"
	serviceCIDR  = "10.96.0.0/16"
	dnsServiceIP = "10.96.0.10"
	// Namespaces, each enforcing the restricted Pod Security level.
	operatorNamespace  = "hubspot-operator-system"
	simulatorNamespace = "cloud-elements-simulator"
	samplesNamespace   = "samples"
	helmRelease        = "hubspot-operator"
	// Images: imported into containerd, never pulled.
	simulatorImage = "hubspot-operator.local/cloud-elements-simulator:e2e"
	workloadImage  = "hubspot-operator.local/e2e-workload:e2e"
	// simulatorPort is where the simulator's Service listens.
	simulatorPort = 8090
)

type cluster struct {
	opts     options
	p        *printer
	cleanups []cleanupStep
	procs    []*process
	ready    bool

	root, tmp      string // the repository, the run's temporary folder
	envtest, node  string // binaries of hack/setup-envtest.sh, hack/setup-node.sh
	hostIP         net.IP
	pki            *pki
	apiServer      string // https://host:port
	admin          string // the admin kubeconfig in tmp
	containerdSock string
	images         []string // tarballs to import
}

func (c *cluster) path(parts ...string) string {
	return filepath.Join(append([]string{c.tmp}, parts...)...)
}

func (c *cluster) kubectl(ctx context.Context, stdin []byte, args ...string) (string, error) {
	return runCmd(ctx, stdin, filepath.Join(c.envtest, "kubectl"), append([]string{"--kubeconfig", c.admin}, args...)...)
}

func (c *cluster) apply(ctx context.Context, manifest string) error {
	_, err := c.kubectl(ctx, []byte(manifest), "apply", "--server-side", "--field-manager=hubspot-operator-cluster", "-f", "-")
	return err
}

func (c *cluster) run(ctx context.Context) error {
	var err error
	if c.root, err = findRepoRoot(); err != nil {
		return err
	}
	if pid, ok := running(); ok {
		return fmt.Errorf("another make cluster runs (pid %d): stop it first, or point the e2e tests at it with E2E_KUBECONFIG", pid)
	}
	cleanStale(c.p)
	// Whatever is left now is not a run of ours: another Kubernetes on this
	// host (k3s, a kubelet). Running beside it would fight over its chains,
	// and the teardown would sweep them.
	if chains := clusterChainsOnHost(); len(chains) > 0 {
		return fmt.Errorf("this machine's network already has Kubernetes iptables chains that no make cluster left (%d, e.g. %s): "+
			"another cluster runs here, and make cluster would break it and sweep its chains when it stops; stop that cluster, or remove the chains, first",
			len(chains), chains[0])
	}

	c.p.step("binaries: hack/setup-envtest.sh (kube-apiserver, etcd, kubectl, kube-controller-manager)…")
	if c.envtest, err = c.streamCmd(ctx, c.root, []string{"GOWORK=off"}, filepath.Join(c.root, "hack", "setup-envtest.sh")); err != nil {
		return err
	}
	c.p.step("binaries: hack/setup-node.sh (kubelet, kube-scheduler, kube-proxy, CoreDNS, the pause image)…")
	if c.node, err = c.streamCmd(ctx, c.root, []string{"GOWORK=off"}, filepath.Join(c.root, "hack", "setup-node.sh")); err != nil {
		return err
	}
	c.p.detail("%s", c.node)
	for _, tool := range []string{"containerd", "ctr", "runc", "iptables", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed: apt-get install -y containerd runc containernetworking-plugins iptables iproute2", tool)
		}
	}
	if _, err := os.Stat(filepath.Join(cniBinDir, "bridge")); err != nil {
		return errors.New("the CNI plugins are not installed: apt-get install -y containernetworking-plugins")
	}

	if c.tmp, err = os.MkdirTemp("", "hubspot-operator-cluster-"); err != nil {
		return err
	}
	c.onCleanup("removed "+c.tmp, func() error {
		unmountUnder(c.tmp)
		recordRoot("")
		return os.RemoveAll(c.tmp)
	})
	recordRoot(c.tmp)
	// Runs after every daemon has stopped: the chains the kubelet keeps
	// (its canaries) and whatever a CNI DEL could not remove.
	c.onCleanup("iptables chains swept, kubepods cgroups removed", func() error {
		sweepChains()
		removeKubepodsCgroups()
		return nil
	})
	for _, dir := range []string{"logs", "etcd", "pki", "containerd", "cni/net.d", "cni/ipam", "kubelet", "kube-proxy"} {
		if err := os.MkdirAll(c.path(dir), 0o700); err != nil {
			return err
		}
	}

	if err := c.buildImages(ctx); err != nil {
		return err
	}
	if c.hostIP, err = hostIP(); err != nil {
		return err
	}
	if err := c.startControlPlane(ctx); err != nil {
		return err
	}
	if err := c.startNode(ctx); err != nil {
		return err
	}
	if err := c.deploy(ctx); err != nil {
		return err
	}

	c.ready = true
	c.p.plain("")
	c.p.plain("cluster ready")
	kubeconfig, _ := filepath.Abs(c.opts.kubeconfigOut)
	c.p.plain("  kubeconfig: %s", kubeconfig)
	c.p.plain("  kubectl:    %s --kubeconfig %s get pods -A", filepath.Join(c.envtest, "kubectl"), kubeconfig)
	c.p.plain("  e2e:        E2E_KUBECONFIG=%s make test-e2e (in another shell)", kubeconfig)
	c.p.plain("  logs:       %s", c.path("logs"))
	if c.opts.exit {
		return nil
	}
	c.p.step("running until Ctrl-C…")
	<-ctx.Done()
	return nil
}

// findRepoRoot walks up to the module's go.mod.
func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/hubspot-operator/hubspot-operator\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the hubspot-operator repository: run make cluster from its root")
		}
		dir = parent
	}
}

// hostIP is the address of the interface of the default route: Pods reach
// the API server and CoreDNS there, so it cannot be loopback.
func hostIP() (net.IP, error) {
	conn, err := net.Dial("udp", "192.0.2.255:9")
	if err == nil {
		defer conn.Close()
		if ip := conn.LocalAddr().(*net.UDPAddr).IP.To4(); ip != nil && !ip.IsLoopback() {
			return ip, nil
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.To4(), nil
		}
	}
	return nil, errors.New("no non-loopback IPv4 address for the node")
}

// buildImages packs the simulator and the e2e workload as make image packs
// the operator, and collects the tarballs to import.
func (c *cluster) buildImages(ctx context.Context) error {
	operator := filepath.Join(c.root, "bin", "image.tar")
	if _, err := os.Stat(operator); err != nil {
		return fmt.Errorf("%s is missing: run make image first (make cluster does)", operator)
	}
	c.images = []string{operator, filepath.Join(c.node, "pause.tar")}
	for _, img := range []struct{ pkg, tag string }{
		{"./hack/cloud-elements-simulator", simulatorImage},
		{"./hack/e2e-workload", workloadImage},
	} {
		start := time.Now()
		name := filepath.Base(img.pkg)
		tarPath := c.path(name + ".tar")
		if _, err := runCmd(ctx, nil, "go", "-C", c.root, "run", "./hack/build-image", "-pkg", img.pkg,
			"-entrypoint", "/"+name, "-title", name, "-tag", img.tag, "-o", c.path(name+"-layout"), "-tar", tarPath); err != nil {
			return err
		}
		c.p.step("image %s built (%s, %.1fs)", img.tag, img.pkg, time.Since(start).Seconds())
		c.images = append(c.images, tarPath)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *cluster) writeFile(rel, content string) (string, error) {
	p := c.path(rel)
	return p, os.WriteFile(p, []byte(content), 0o600)
}
