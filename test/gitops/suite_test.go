//go:build gitops

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

// Package gitops drives the operator through real GitOps controllers: Flux's
// source-controller and kustomize-controller, built by hack/setup-gitops.sh
// and run as processes, fetch a Git repository served on loopback by git
// http-backend and apply it to an envtest control plane (with
// kube-controller-manager), where the operator process reconciles against
// the Cloud Elements simulator over HTTP. Behind the gitops build tag:
// `make test-gitops`. Argo CD's application controller and repo-server run
// the same way, with Debian's redis-server, over a second repository.
package gitops

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/callback"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

var (
	ctx     context.Context
	cancel  context.CancelFunc
	root    string
	workDir string
	cp      *harness.ControlPlane
	k8s     client.Client
	sim     *harness.Simulator
	git     *harness.GitServer
	repo    *harness.GitRepo
	op      *harness.Operator
	flux    *harness.Flux
	// operatorBin is the manager binary every operator process runs.
	operatorBin string
	argoCD      *harness.ArgoCD
	// gitopsAssets is the folder of the GitOps controllers' binaries and CRDs.
	gitopsAssets string
	// callbackURL is the operator's OAuth 2 callback, which the OAuth 2
	// objects in Git name.
	callbackURL string
	// failed keeps the work dir, and with it every process's log.
	failed bool
)

// clusterName is the operator's cluster name: a cluster rebuilt from the
// repository keeps it, and so the identity of every object.
const clusterName = "gitops"

// The Cloud Elements account the simulator accepts, as the repository's
// credentials Secret holds it.
const (
	userSecret = "gitops-user-secret"
	orgSecret  = "gitops-organization-secret"
)

func TestGitOps(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "GitOps suite (Flux source-controller and kustomize-controller, envtest, simulator)")
}

var _ = BeforeSuite(func() {
	// envtest logs through controller-runtime, which otherwise prints a stack
	// trace into the report when a control plane starts 30 s into the run.
	logf.SetLogger(GinkgoLogr)
	ctx, cancel = context.WithCancel(context.Background())
	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)

	var err error
	root, err = harness.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	workDir, err = os.MkdirTemp("", "hubspot-gitops-")
	Expect(err).NotTo(HaveOccurred())
	fmt.Fprintf(GinkgoWriter, "work dir (controller and operator logs): %s\n", workDir)

	started := time.Now()
	gitopsAssets, err = harness.GitOpsAssets(root, "flux argocd")
	Expect(err).NotTo(HaveOccurred(), "hack/setup-gitops.sh builds Flux's controllers and Argo CD from the Go module proxy")
	fmt.Fprintf(GinkgoWriter, "GitOps controllers in %s (%s)\n", gitopsAssets, time.Since(started).Round(time.Second))

	operatorBin, err = harness.BuildOperator(root, workDir)
	Expect(err).NotTo(HaveOccurred())

	cp, err = harness.StartControlPlane(root, workDir)
	Expect(err).NotTo(HaveOccurred(), "start the control plane: `make test-gitops` sets KUBEBUILDER_ASSETS from hack/setup-envtest.sh")
	k8s = cp.Client
	Expect(harness.InstallGitOpsCRDs(cp, gitopsAssets)).To(Succeed())

	sim, err = harness.StartSimulator(simulator.Options{UserSecret: userSecret, OrganizationSecret: orgSecret})
	Expect(err).NotTo(HaveOccurred())
	git, err = harness.StartGitServer(filepath.Join(workDir, "git"))
	Expect(err).NotTo(HaveOccurred())
	repo, err = git.NewRepo("platform", workDir)
	Expect(err).NotTo(HaveOccurred())

	callbackAddr := harness.FreeAddr()
	callbackURL = "http://" + callbackAddr + callback.Path
	op = &harness.Operator{Bin: operatorBin, Kubeconfig: cp.Kubeconfig, LogPath: filepath.Join(workDir, "operator.log"),
		Args: []string{"--oauth-callback-bind-address=" + callbackAddr, "--cloud-elements-timeout=5s", "--cluster-name=" + clusterName}}
	Expect(op.Start(ctx)).To(Succeed())

	for _, ns := range []string{harness.FluxNamespace, crmNamespace} {
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
	flux, err = harness.StartFlux(ctx, gitopsAssets, cp.Kubeconfig, workDir)
	Expect(err).NotTo(HaveOccurred())
	fmt.Fprintf(GinkgoWriter, "suite ready in %s\n", time.Since(started).Round(100*time.Millisecond))
})

// A failed spec shows the end of each process's log.
var _ = AfterEach(func() {
	if !CurrentSpecReport().Failed() {
		return
	}
	failed = true
	logs := []string{op.LogPath}
	if flux != nil {
		logs = append(logs, flux.Source.LogPath, flux.Kustomize.LogPath)
	}
	if argoCD != nil {
		logs = append(logs, argoCD.RepoServer.LogPath, argoCD.ApplicationController.LogPath)
	}
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if len(b) > 8<<10 {
			b = b[len(b)-8<<10:]
		}
		AddReportEntry(filepath.Base(path)+" (tail)", string(b))
	}
})

var _ = AfterSuite(func() {
	if flux != nil {
		Expect(flux.Stop()).To(Succeed())
	}
	if op != nil {
		Expect(op.Stop()).To(Succeed())
	}
	if cancel != nil {
		cancel()
	}
	if cp != nil {
		Expect(cp.Stop()).To(Succeed())
	}
	if git != nil {
		git.Close()
	}
	if sim != nil {
		sim.Close()
	}
	if workDir == "" {
		return
	}
	if failed {
		fmt.Fprintf(GinkgoWriter, "kept %s for its logs\n", workDir)
		return
	}
	_ = os.RemoveAll(workDir)
})

// expectReleasedInOrder waits for a pruned object and its pruned credentials
// Secret to be gone, failing at once if the Secret goes first (its
// finalizer must hold it until the object's instance is deleted), and then
// checks that the instance is gone at Cloud Elements.
func expectReleasedInOrder(obj *elementsv1alpha1.HubSpotInstance, credentials client.ObjectKey, id int64) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		secretErr := k8s.Get(ctx, credentials, &corev1.Secret{})
		objErr := k8s.Get(ctx, client.ObjectKeyFromObject(obj), &elementsv1alpha1.HubSpotInstance{})
		if apierrors.IsNotFound(secretErr) && !apierrors.IsNotFound(objErr) {
			StopTrying("the credentials Secret was released before the object's finalizer").Now()
		}
		g.Expect(apierrors.IsNotFound(objErr)).To(BeTrue(), "object: %v", objErr)
		g.Expect(apierrors.IsNotFound(secretErr)).To(BeTrue(), "credentials Secret: %v", secretErr)
	}).Should(Succeed())
	_, exists := sim.Instance(id)
	Expect(exists).To(BeFalse(), "the instance is deleted at Cloud Elements")
}
