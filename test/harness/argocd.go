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
	"net"
	"os"
	"os/exec"
	"path/filepath"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ArgoCDNamespace is the namespace Argo CD's components run for: its
// settings (argocd-cm, argocd-secret), AppProjects and Applications.
const ArgoCDNamespace = "argocd"

// ArgoCD is Argo CD's application controller and repo-server (the one
// binary hack/setup-gitops.sh built, under their names) with a Redis for
// their cache (Debian's redis-server), each a process against a control
// plane.
type ArgoCD struct {
	Redis, RepoServer, ApplicationController, Server *Controller
	// ServerURL is argocd-server's API, plain HTTP and without
	// authentication.
	ServerURL string
}

// InstallArgoCDCRDs installs the Application and AppProject CRDs that
// hack/setup-gitops.sh copied from Argo CD's module.
func InstallArgoCDCRDs(cp *ControlPlane, assets string) error {
	_, err := envtest.InstallCRDs(cp.Config, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(assets, "argocd-crd")}, ErrorIfPathMissing: true,
	})
	return err
}

// StartArgoCD starts redis-server, the repo-server, the application
// controller and argocd-server (for its API: resource actions). The controller takes the kubeconfig's cluster as Argo CD's
// in-cluster destination (https://kubernetes.default.svc), as it does in a
// Pod; its settings must already be in ArgoCDNamespace.
func StartArgoCD(ctx context.Context, assets, kubeconfig, workDir string) (*ArgoCD, error) {
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found in PATH (Debian: apt-get install redis-server): Argo CD caches in Redis")
	}
	redisAddr := freeAddr()
	redisHost, redisPort, _ := net.SplitHostPort(redisAddr)
	redis := &Controller{Name: "redis-server", Bin: redisBin, LogPath: filepath.Join(workDir, "redis-server.log"),
		Args: []string{"--bind", redisHost, "--port", redisPort, "--save", "", "--appendonly", "no", "--dir", workDir}}

	env := []string{"KUBECONFIG=" + kubeconfig, "ARGOCD_FAKE_IN_CLUSTER=true", "ARGOCD_GPG_ENABLED=false",
		"ARGOCD_NAMESPACE=" + ArgoCDNamespace, "HOME=" + workDir}
	repoAddr := freeAddr()
	_, repoPort, _ := net.SplitHostPort(repoAddr)
	repoMetrics := freePort()
	repoServer := &Controller{Name: "argocd-repo-server", Bin: filepath.Join(assets, "argocd-repo-server"), Env: env,
		LogPath:  filepath.Join(workDir, "argocd-repo-server.log"),
		ReadyURL: "http://127.0.0.1:" + repoMetrics + "/metrics",
		Args: []string{"--address=127.0.0.1", "--port=" + repoPort, "--metrics-address=127.0.0.1", "--metrics-port=" + repoMetrics,
			"--disable-tls", "--redis=" + redisAddr, "--loglevel=debug", "--logformat=text"}}
	controllerMetrics := freePort()
	controller := &Controller{Name: "argocd-application-controller", Bin: filepath.Join(assets, "argocd-application-controller"), Env: env,
		LogPath:  filepath.Join(workDir, "argocd-application-controller.log"),
		ReadyURL: "http://127.0.0.1:" + controllerMetrics + "/healthz",
		Args: []string{"--kubeconfig=" + kubeconfig, "--namespace=" + ArgoCDNamespace,
			"--repo-server=" + repoAddr, "--repo-server-plaintext", "--redis=" + redisAddr,
			"--metrics-port=" + controllerMetrics, "--status-processors=2", "--operation-processors=2",
			"--app-resync=10", "--self-heal-timeout-seconds=1", "--loglevel=debug", "--logformat=text",
			// Each resource's health in the Application's status, where a test reads it
			// (by default Argo CD 3 keeps it only in its resource tree).
			"--persist-resource-health"}}
	serverAddr := freeAddr()
	_, serverPort, _ := net.SplitHostPort(serverAddr)
	server := &Controller{Name: "argocd-server", Bin: filepath.Join(assets, "argocd-server"), Env: env,
		LogPath:  filepath.Join(workDir, "argocd-server.log"),
		ReadyURL: "http://" + serverAddr + "/healthz",
		Args: []string{"--kubeconfig=" + kubeconfig, "--namespace=" + ArgoCDNamespace,
			"--address=127.0.0.1", "--port=" + serverPort, "--metrics-port=" + freePort(),
			// Its API for the tests only: plain HTTP, every request admin.
			"--insecure", "--disable-auth",
			"--repo-server=" + repoAddr, "--repo-server-plaintext", "--redis=" + redisAddr,
			"--staticassets=" + filepath.Join(workDir, "no-ui"), "--loglevel=debug", "--logformat=text"}}
	a := &ArgoCD{Redis: redis, RepoServer: repoServer, ApplicationController: controller, Server: server,
		ServerURL: "http://" + serverAddr}
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return nil, err
	}
	for _, c := range []*Controller{redis, repoServer, controller, server} {
		if err := c.Start(ctx); err != nil {
			return nil, errors.Join(err, a.Stop())
		}
	}
	return a, nil
}

// Stop ends argocd-server, the application controller, the repo-server,
// then Redis.
func (a *ArgoCD) Stop() error {
	if a == nil {
		return nil
	}
	return errors.Join(a.Server.Stop(), a.ApplicationController.Stop(), a.RepoServer.Stop(), a.Redis.Stop())
}

// freePort is a free port on 127.0.0.1, for a process that takes the
// address and the port in separate flags.
func freePort() string {
	_, port, _ := net.SplitHostPort(freeAddr())
	return port
}
