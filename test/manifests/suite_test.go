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

// Package manifests_test checks what the operator installs — the kustomize
// configurations in config/ and the Helm chart — against a real
// kube-apiserver (envtest): every object must pass a server-side dry-run
// apply, the operator's pod must meet the restricted Pod Security Standard,
// and the namespaced install's RBAC must be enough for the operator to run.
package manifests_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/hubspot-operator/hubspot-operator/hack/gen-chart/chartgen"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
)

const (
	// The namespaces config/ installs into and config/namespaced watches.
	operatorNamespace = "hubspot-operator-system"
	watchedNamespace  = "hubspot-apps"
	// A namespace the namespaced install does not watch.
	otherNamespace = "other-team"

	fieldOwner = client.FieldOwner("manifests-test")
)

var (
	root      string
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	ctx       context.Context
	cancel    context.CancelFunc
	// warnings collects the API server's warnings (e.g. PodSecurity's) on
	// k8sClient's requests.
	warnings = &warningRecorder{}
)

func TestManifests(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Manifests suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	root, err = chartgen.RepoRoot()
	Expect(err).NotTo(HaveOccurred())

	// The CRD is installed for real, so that HubSpotInstances validate
	// against its schema and CEL rules.
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "start envtest: is KUBEBUILDER_ASSETS set? run `make test`")

	withWarnings := rest.CopyConfig(cfg)
	withWarnings.WarningHandler = warnings
	k8sClient, err = client.New(withWarnings, client.Options{Scheme: operator.Scheme})
	Expect(err).NotTo(HaveOccurred())

	// Namespaces are created for real before anything is applied to them.
	// Every one enforces the restricted Pod Security Standard and warns
	// about any workload that would not meet it.
	for _, name := range []string{operatorNamespace, watchedNamespace, otherNamespace} {
		Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				"pod-security.kubernetes.io/enforce": "restricted",
				"pod-security.kubernetes.io/warn":    "restricted",
				"pod-security.kubernetes.io/audit":   "restricted",
			},
		}})).To(Succeed())
	}
	Expect(warnings.take()).To(BeEmpty())
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// warningRecorder is a rest.WarningHandler that keeps what it is told.
type warningRecorder struct {
	mu   sync.Mutex
	list []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

// take returns the warnings so far and forgets them.
func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}
