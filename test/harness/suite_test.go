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

package harness_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// The suite starts the harness's control plane (kube-apiserver + etcd from
// envtest, and the real kube-controller-manager that StartControlPlane adds)
// once for the package, and checks that what envtest alone lacks now works:
// garbage collection of dependents and namespace deletion.

var (
	ctx     context.Context
	cancel  context.CancelFunc
	workDir string
	cp      *harness.ControlPlane
	k8s     client.Client
	// failed keeps the work dir, and with it kube-controller-manager's log.
	failed bool
)

func TestHarness(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Harness suite (envtest + kube-controller-manager)")
}

var _ = BeforeSuite(func() {
	ctx, cancel = context.WithCancel(context.Background())
	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)

	root, err := harness.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	workDir, err = os.MkdirTemp("", "hubspot-harness-")
	Expect(err).NotTo(HaveOccurred())
	fmt.Fprintf(GinkgoWriter, "work dir (kube-controller-manager log): %s\n", workDir)

	cp, err = harness.StartControlPlane(root, workDir)
	Expect(err).NotTo(HaveOccurred(), "start the control plane: `make test` sets KUBEBUILDER_ASSETS from hack/setup-envtest.sh")
	k8s = cp.Client
})

// A failed spec shows the end of kube-controller-manager's log.
var _ = AfterEach(func() {
	if !CurrentSpecReport().Failed() {
		return
	}
	failed = true
	if cp != nil && cp.ControllerManager != nil {
		b, err := os.ReadFile(cp.ControllerManager.LogPath)
		if err == nil {
			if len(b) > 8<<10 {
				b = b[len(b)-8<<10:]
			}
			AddReportEntry("kube-controller-manager log (tail)", string(b))
		}
	}
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if cp != nil {
		Expect(cp.Stop()).To(Succeed())
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
