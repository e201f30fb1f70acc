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
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// cniBinDir is where Debian's containernetworking-plugins installs them.
const cniBinDir = "/usr/lib/cni"

// startNode starts containerd, imports the images, and starts the kubelet,
// kube-proxy and CoreDNS.
func (c *cluster) startNode(ctx context.Context) error {
	start := time.Now()
	if err := c.enableForwarding(); err != nil {
		return err
	}
	if _, err := c.writeFile("cni/net.d/10-hubspot-operator.conflist", `{
  "cniVersion": "1.0.0",
  "name": "hubspot-operator",
  "plugins": [
    {"type": "bridge", "bridge": "`+bridgeName+`", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "`+c.path("cni", "ipam")+`", "ranges": [[{"subnet": "`+podCIDR+`"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`); err != nil {
		return err
	}
	c.onCleanup("bridge "+bridgeName+" removed", func() error { return deleteBridge() })

	pause, err := os.Readlink(filepath.Join(c.node, "pause.tar"))
	if err != nil {
		return fmt.Errorf("the pause image: %w", err)
	}
	pauseImage := "hubspot-operator.local/pause:" + strings.TrimSuffix(strings.TrimPrefix(pause, "pause-"), ".tar")
	c.containerdSock = c.path("containerd", "containerd.sock")
	cfg, err := c.writeFile("containerd/config.toml", `version = 2
root = "`+c.path("containerd", "root")+`"
state = "`+c.path("containerd", "state")+`"

[grpc]
  address = "`+c.containerdSock+`"
[ttrpc]
  address = "`+c.containerdSock+`.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "`+c.path("containerd", "opt")+`"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "`+pauseImage+`"
  # Without CAP_SYS_RESOURCE a negative oom_score_adj cannot be written:
  # every sandbox would fail to start.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "`+c.path("containerd", "runc")+`"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "`+cniBinDir+`"
    conf_dir = "`+c.path("cni", "net.d")+`"
`)
	if err != nil {
		return err
	}
	if err := c.start("containerd", "containerd", "--config", cfg); err != nil {
		return err
	}
	// Registered after containerd's stop, so it runs first: the sandboxes
	// go through CNI DEL (veth, address, masquerade rule) while containerd
	// still runs.
	c.onCleanup("Pod sandboxes stopped and removed", func() error { return removeSandboxes(c.containerdSock) })
	if err := c.waitFor(ctx, "containerd", time.Minute, func(ctx context.Context) error {
		_, err := runCmd(ctx, nil, "ctr", "--address", c.containerdSock, "version")
		return err
	}); err != nil {
		return err
	}
	for _, img := range c.images {
		if _, err := runCmd(ctx, nil, "ctr", "--address", c.containerdSock, "-n", "k8s.io", "images", "import", img); err != nil {
			return err
		}
	}
	out, err := runCmd(ctx, nil, "ctr", "--address", c.containerdSock, "-n", "k8s.io", "images", "ls", "-q")
	if err != nil {
		return err
	}
	c.p.step("containerd running; images imported:")
	for _, l := range strings.Fields(out) {
		if !strings.HasPrefix(l, "sha256:") {
			c.p.detail("%s", l)
		}
	}

	kubeletCert, kubeletKey, err := c.pki.issue("kubelet-client", "system:node:"+nodeName, []string{"system:nodes"}, nil, nil)
	if err != nil {
		return err
	}
	kubeletKubeconfig := c.path("kubelet.kubeconfig")
	if err := c.pki.kubeconfig(kubeletKubeconfig, c.apiServer, kubeletCert, kubeletKey); err != nil {
		return err
	}
	servingCert, servingKey, err := c.pki.issue("kubelet-serving", "system:node:"+nodeName, []string{"system:nodes"}, []string{nodeName}, ipList(c.hostIP))
	if err != nil {
		return err
	}
	kubeletPort, err := freePort()
	if err != nil {
		return err
	}
	healthzPort, err := freePort()
	if err != nil {
		return err
	}
	kubeletConfig, err := c.writeFile("kubelet/config.yaml", `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This node's cgroup hierarchy is v1; since 1.35 the kubelet refuses it
# unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://`+c.containerdSock+`
address: `+c.hostIP.String()+`
port: `+itoa(kubeletPort)+`
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: `+itoa(healthzPort)+`
tlsCertFile: `+servingCert+`
tlsPrivateKeyFile: `+servingKey+`
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: `+c.pki.caPath()+`}
authorization:
  mode: Webhook
clusterDomain: cluster.local
clusterDNS: [`+dnsServiceIP+`]
failSwapOn: false
# A shared build machine's disk may be fuller than the defaults allow: the
# node must not evict its own Pods for it.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
imageGCHighThresholdPercent: 100
# Secret volumes are refreshed on each Pod sync: 10 s rather than 1 min, so
# that a rotated token shows in a volume within seconds.
syncFrequency: 10s
serializeImagePulls: false
`)
	if err != nil {
		return err
	}
	if err := c.start("kubelet", filepath.Join(c.node, "kubelet"),
		"--config="+kubeletConfig, "--kubeconfig="+kubeletKubeconfig,
		"--root-dir="+c.path("kubelet"), "--cert-dir="+c.path("kubelet", "pki"),
		"--hostname-override="+nodeName, "--node-ip="+c.hostIP.String()); err != nil {
		return err
	}
	if err := c.waitFor(ctx, "node "+nodeName+" Ready", c.opts.timeout, func(ctx context.Context) error {
		out, err := c.kubectl(ctx, nil, "get", "node", nodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		if err != nil {
			return err
		}
		if out != "True" {
			return fmt.Errorf("condition Ready is %q", out)
		}
		return nil
	}); err != nil {
		return err
	}
	c.p.step("kubelet: node %s Ready at %s (containerd, bridge CNI %s) (%.1fs)", nodeName, c.hostIP, podCIDR, time.Since(start).Seconds())

	proxyCert, proxyKey, err := c.pki.issue("kube-proxy", "system:kube-proxy", nil, nil, nil)
	if err != nil {
		return err
	}
	proxyKubeconfig := c.path("kube-proxy", "kubeconfig")
	if err := c.pki.kubeconfig(proxyKubeconfig, c.apiServer, proxyCert, proxyKey); err != nil {
		return err
	}
	proxyMetrics, err := freePort()
	if err != nil {
		return err
	}
	proxyHealthz, err := freePort()
	if err != nil {
		return err
	}
	kubeProxy := filepath.Join(c.node, "kube-proxy")
	c.onCleanup("kube-proxy's iptables chains removed", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := runCmd(ctx, nil, kubeProxy, "--cleanup", "--proxy-mode=iptables")
		return err
	})
	if err := c.start("kube-proxy", kubeProxy,
		"--kubeconfig="+proxyKubeconfig, "--hostname-override="+nodeName,
		"--proxy-mode=iptables", "--cluster-cidr="+podCIDR,
		// The kernel's conntrack table size is the host's business.
		"--conntrack-max-per-core=0",
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", proxyMetrics),
		fmt.Sprintf("--healthz-bind-address=127.0.0.1:%d", proxyHealthz)); err != nil {
		return err
	}
	return c.startDNS(ctx)
}

// startDNS runs CoreDNS on the node, as a host process behind the kube-dns
// Service: a Service without a selector whose EndpointSlice is the node's
// address, so Pods resolve through 10.96.0.10 as on any cluster. (As a
// Pod it would need an image of its own, for no difference the tests see.)
func (c *cluster) startDNS(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	corefile, err := c.writeFile("Corefile", `.:`+itoa(port)+` {
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig `+c.admin+` hubspot-operator
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loadbalance
}
`)
	if err != nil {
		return err
	}
	if err := c.start("coredns", filepath.Join(c.node, "coredns"), "-conf", corefile); err != nil {
		return err
	}
	if err := c.apply(ctx, `apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  clusterIP: `+dnsServiceIP+`
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: `+itoa(port)+`}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: `+itoa(port)+`}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-node
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: hubspot-operator-cluster}
addressType: IPv4
endpoints:
- addresses: [`+c.hostIP.String()+`]
  conditions: {ready: true}
ports:
- {name: dns, port: `+itoa(port)+`, protocol: UDP}
- {name: dns-tcp, port: `+itoa(port)+`, protocol: TCP}
`); err != nil {
		return err
	}
	// Through the Service, so kube-proxy's rules are checked too.
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, dnsServiceIP+":53")
	}}
	if err := c.waitFor(ctx, "kubernetes.default.svc.cluster.local through "+dnsServiceIP, time.Minute, func(ctx context.Context) error {
		_, err := resolver.LookupHost(ctx, "kubernetes.default.svc.cluster.local")
		return err
	}); err != nil {
		return err
	}
	c.p.step("kube-proxy (iptables) and CoreDNS (kube-dns %s → %s:%d) answering", dnsServiceIP, c.hostIP, port)
	return nil
}

// enableForwarding turns IPv4 forwarding on (Pods' traffic leaves through
// the host) and puts the old value back on exit.
func (c *cluster) enableForwarding() error {
	const knob = "/proc/sys/net/ipv4/ip_forward"
	old, err := os.ReadFile(knob)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(old)) == "1" {
		return nil
	}
	if err := os.WriteFile(knob, []byte("1"), 0o644); err != nil {
		return fmt.Errorf("enabling IPv4 forwarding: %w", err)
	}
	c.onCleanup("IPv4 forwarding set back to "+strings.TrimSpace(string(old)), func() error {
		return os.WriteFile(knob, old, 0o644)
	})
	return nil
}
