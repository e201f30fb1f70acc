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
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"
)

// startControlPlane issues the certificates and starts etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler.
func (c *cluster) startControlPlane(ctx context.Context) error {
	start := time.Now()
	var err error
	if c.pki, err = newPKI(c.path("pki")); err != nil {
		return err
	}
	apiPort, err := freePort()
	if err != nil {
		return err
	}
	c.apiServer = fmt.Sprintf("https://%s:%d", c.hostIP, apiPort)
	serving, servingKey, err := c.pki.issue("kube-apiserver", "kube-apiserver", nil,
		[]string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"},
		[]net.IP{c.hostIP, net.ParseIP("10.96.0.1"), net.ParseIP("127.0.0.1")})
	if err != nil {
		return err
	}
	// The API server's client certificate towards kubelets: exec, logs and
	// port-forward go through it.
	kubeletClient, kubeletClientKey, err := c.pki.issue("apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"}, nil, nil)
	if err != nil {
		return err
	}
	saPub, saKey, err := c.pki.serviceAccountKey()
	if err != nil {
		return err
	}
	adminCert, adminKey, err := c.pki.issue("admin", "hubspot-operator-cluster-admin", []string{"system:masters"}, nil, nil)
	if err != nil {
		return err
	}
	c.admin = c.path("admin.kubeconfig")
	if err := c.pki.kubeconfig(c.admin, c.apiServer, adminCert, adminKey); err != nil {
		return err
	}

	etcdClient, err := freePort()
	if err != nil {
		return err
	}
	etcdPeer, err := freePort()
	if err != nil {
		return err
	}
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	if err := c.start("etcd", filepath.Join(c.envtest, "etcd"),
		"--data-dir="+c.path("etcd"), "--name=default",
		"--listen-client-urls="+clientURL, "--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		// One throw-away node: durability buys nothing, and fsync on a
		// busy disk slows every write.
		"--unsafe-no-fsync"); err != nil {
		return err
	}

	if err := c.start("kube-apiserver", filepath.Join(c.envtest, "kube-apiserver"),
		"--etcd-servers="+clientURL,
		"--bind-address=0.0.0.0", fmt.Sprintf("--secure-port=%d", apiPort), "--advertise-address="+c.hostIP.String(),
		"--tls-cert-file="+serving, "--tls-private-key-file="+servingKey,
		"--client-ca-file="+c.pki.caPath(),
		"--service-cluster-ip-range="+serviceCIDR,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saPub, "--service-account-signing-key-file="+saKey,
		"--authorization-mode=Node,RBAC",
		// PodSecurity and ServiceAccount are on by default; named so that
		// turning them off shows here.
		"--enable-admission-plugins=NodeRestriction,PodSecurity,ServiceAccount",
		"--kubelet-client-certificate="+kubeletClient, "--kubelet-client-key="+kubeletClientKey,
		"--kubelet-certificate-authority="+c.pki.caPath(),
		// Reach the kubelet at its address: the node's name resolves
		// nowhere.
		"--kubelet-preferred-address-types=InternalIP,Hostname",
		"--allow-privileged=false",
		"--profiling=false"); err != nil {
		return err
	}
	if err := c.waitFor(ctx, "kube-apiserver /readyz", 2*time.Minute, func(ctx context.Context) error {
		out, err := c.kubectl(ctx, nil, "get", "--raw", "/readyz")
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != "ok" {
			return errors.New(out)
		}
		return nil
	}); err != nil {
		return err
	}
	c.p.step("etcd and kube-apiserver %s ready at %s (%.1fs)", "v"+k8sVersion(c.envtest), c.apiServer, time.Since(start).Seconds())

	if err := c.start("kube-controller-manager", filepath.Join(c.envtest, "kube-controller-manager"),
		"--kubeconfig="+c.admin,
		"--controllers=*",
		"--leader-elect=false",
		"--secure-port=0",
		// Each controller acts with its own service account's token (minted
		// with the key the API server verifies), as on a real cluster.
		"--use-service-account-credentials=true",
		"--service-account-private-key-file="+saKey,
		"--root-ca-file="+c.pki.caPath(),
		"--service-cluster-ip-range="+serviceCIDR,
		"--cluster-signing-cert-file="+c.pki.caPath(), "--cluster-signing-key-file="+filepath.Join(c.pki.dir, "ca.key")); err != nil {
		return err
	}
	if err := c.start("kube-scheduler", filepath.Join(c.node, "kube-scheduler"),
		"--kubeconfig="+c.admin, "--leader-elect=false", "--secure-port=0"); err != nil {
		return err
	}
	// The token controller is running once the default service account of a
	// namespace has been created.
	if err := c.waitFor(ctx, "the default service account", time.Minute, func(ctx context.Context) error {
		_, err := c.kubectl(ctx, nil, "get", "serviceaccount", "default", "-n", "default")
		return err
	}); err != nil {
		return err
	}
	c.p.step("kube-controller-manager (all default controllers) and kube-scheduler running")
	return nil
}

// k8sVersion reads 1.37.2 out of a setup script's folder name.
func k8sVersion(dir string) string {
	v, _, _ := strings.Cut(filepath.Base(dir), "-")
	return v
}
