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

package controllers_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/controllers"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
	"github.com/hubspot-operator/hubspot-operator/internal/testclock"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// The suite runs the real reconciler in a real manager against a real
// kube-apiserver and etcd (envtest) and the Cloud Elements simulator over
// real HTTP. Only two things are test doubles: the clock (so a 30s drift poll
// can be made due without waiting) and a client wrapper that can fail one
// write (to simulate a crash at the worst moment).
// createGrace is how long an uncertain create may take to show up at the
// platform before it is looked up; tests commit late within it.
const createGrace = 6 * time.Second

// clusterName is the suite's part of every object's identity.
const clusterName = "envtest"

const (
	userSecret = "sim-user-secret-3f9a"
	orgSecret  = "sim-org-secret-81c2"
)

var (
	testEnv    *envtest.Environment
	cfg        *rest.Config
	k8sClient  client.Client
	ctx        context.Context
	cancel     context.CancelFunc
	sim        *simulator.Simulator
	simServer  *httptest.Server
	endpoint   string
	reconciler *controllers.HubSpotInstanceReconciler
	clock      = &testclock.Clock{}
	writes     = &faultyClient{}
	// apiReads counts the reconciler's reads past the cache: requests to the
	// API server, which at rest must not happen.
	apiReads = &countingReader{}
	// kcm runs the real namespace controller and garbage collector.
	kcm *harness.ControllerManager
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "HubSpotInstance controller suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	var err error
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "start envtest: is KUBEBUILDER_ASSETS set? run `make test`")

	k8sClient, err = client.New(cfg, client.Options{Scheme: operator.Scheme})
	Expect(err).NotTo(HaveOccurred())

	kcm, err = harness.StartControllerManager(ctx, testEnv, os.Getenv("KUBEBUILDER_ASSETS"), GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred(), "start kube-controller-manager: run `make test` (hack/setup-envtest.sh builds it)")

	sim = simulator.New(simulator.Options{UserSecret: userSecret, OrganizationSecret: orgSecret, Seed: 42})
	simServer = httptest.NewServer(sim)
	endpoint = simServer.URL + "/elements/api-v2"

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 operator.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// The manager's cache as in production: what it strips, the
		// reconciler must not rely on.
		Cache: cache.Options{DefaultTransform: operator.SlimCachedObjects},
	})
	Expect(err).NotTo(HaveOccurred())

	signingKey := []byte("0123456789abcdef0123456789abcdef")
	signer, err := oauthstate.NewSigner(signingKey, 0)
	Expect(err).NotTo(HaveOccurred())
	// States expire by the same clock the reconciler reads: the specs move
	// it forward, and a link must not look expired only because they did.
	signer = signer.WithClock(clock.Now)
	writes.Client = mgr.GetClient()
	apiReads.Reader = mgr.GetAPIReader()
	reconciler = controllers.New(writes, apiReads, mgr.GetEventRecorder(elementsv1alpha1.FieldManager),
		controllers.ClientFactory(&http.Client{Timeout: 2 * time.Second}, 1000, 1000, 0), signer,
		controllers.WithClock(clock.Now), controllers.WithCreateGracePeriod(createGrace), controllers.WithClusterName(clusterName),
		controllers.WithEndpointPolicy(controllers.EndpointPolicy{AllowLoopback: true, AllowedHosts: []string{"cloud-elements.example.com"}}),
		controllers.WithHashKey([]byte("suite-hash-key-0123456789abcdef")))
	Expect(reconciler.SetupWithManager(ctx, mgr, controller.Options{
		MaxConcurrentReconciles: 4,
		RateLimiter:             controllers.DefaultRateLimiter(),
	})).To(Succeed())

	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

// specNamespaces are the namespaces the running spec created.
var specNamespaces []string

var _ = AfterEach(quiesceNamespaces)

var _ = AfterSuite(func() {
	cancel()
	if kcm != nil {
		Expect(kcm.Stop()).To(Succeed())
	}
	if simServer != nil {
		simServer.Close()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// faultyClient can fail the write that records a new instance id, which is
// what a crash between "POST /instances" and "remember the id" looks like,
// and counts the writes to each HubSpotInstance.
type faultyClient struct {
	client.Client
	failRecords atomic.Int32
	// crashOnFailedRecord, when set, runs as a failed record write returns:
	// the process losing what it remembers, as a crash would.
	crashOnFailedRecord onceHook
	patches             atomic.Int64
	// byKey counts the patches of each HubSpotInstance and of its status.
	byKey sync.Map // "<namespace>/<name>" or "<namespace>/<name>/status" → *atomic.Int64
	// beforeFinalizerPatch, when set, runs once before the next patch that
	// touches a HubSpotInstance's finalizers: another writer acting between
	// our read and our write.
	beforeFinalizerPatch onceHook
	// beforeTokenApply, when set, runs once before the next write of a
	// token Secret: somebody creating a Secret of that name meanwhile.
	beforeTokenApply onceHook
}

func (c *faultyClient) count(key string) {
	n, _ := c.byKey.LoadOrStore(key, &atomic.Int64{})
	n.(*atomic.Int64).Add(1)
}

// patchesOf counts the patches of one object's metadata and spec, and of its
// status.
func (c *faultyClient) patchesOf(key client.ObjectKey) (object, status int64) {
	if n, ok := c.byKey.Load(key.String()); ok {
		object = n.(*atomic.Int64).Load()
	}
	if n, ok := c.byKey.Load(key.String() + "/status"); ok {
		status = n.(*atomic.Int64).Load()
	}
	return object, status
}

// secretPatchesOf counts the patches of a Secret's metadata.
func (c *faultyClient) secretPatchesOf(key client.ObjectKey) int64 {
	if n, ok := c.byKey.Load("secret:" + key.String()); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

func (c *faultyClient) Status() client.SubResourceWriter {
	return faultyStatus{SubResourceWriter: c.Client.Status(), c: c}
}

type faultyStatus struct {
	client.SubResourceWriter
	c *faultyClient
}

// Patch fails, while failRecords lasts, the status write that would record a
// new instance id.
func (w faultyStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if _, ok := obj.(*elementsv1alpha1.HubSpotInstance); ok {
		if data, err := patch.Data(obj); err == nil && bytes.Contains(data, []byte(`"instanceID":`)) && w.c.failRecords.Load() > 0 {
			w.c.failRecords.Add(-1)
			if f := w.c.crashOnFailedRecord.take(); f != nil {
				f()
			}
			return errSimulatedCrash
		}
		w.c.count(client.ObjectKeyFromObject(obj).String() + "/status")
	}
	return w.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func (c *faultyClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	if sec, ok := obj.(*corev1ac.SecretApplyConfiguration); ok && sec.Name != nil && strings.HasSuffix(*sec.Name, "-element-token") {
		if f := c.beforeTokenApply.take(); f != nil {
			f()
		}
	}
	return c.Client.Apply(ctx, obj, opts...)
}

func (c *faultyClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if _, ok := obj.(*corev1.Secret); ok && strings.HasSuffix(obj.GetName(), "-element-token") {
		if f := c.beforeTokenApply.take(); f != nil {
			f()
		}
	}
	return c.Client.Create(ctx, obj, opts...)
}

type countingReader struct {
	client.Reader
	reads atomic.Int64
	byKey sync.Map // client.ObjectKey → *atomic.Int64
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.reads.Add(1)
	n, _ := c.byKey.LoadOrStore(key, &atomic.Int64{})
	n.(*atomic.Int64).Add(1)
	return c.Reader.Get(ctx, key, obj, opts...)
}

// readsOf counts the reads past the cache of one object.
func (c *countingReader) readsOf(key client.ObjectKey) int64 {
	if n, ok := c.byKey.Load(key); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

func (c *countingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	c.reads.Add(1)
	return c.Reader.List(ctx, list, opts...)
}

type onceHook struct {
	mu sync.Mutex
	f  func()
}

func (h *onceHook) Store(f func()) { h.mu.Lock(); h.f = f; h.mu.Unlock() }

func (h *onceHook) take() func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.f
	h.f = nil
	return f
}

var errSimulatedCrash = errors.New("simulated crash before the instance id was recorded")

func (c *faultyClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if hsi, ok := obj.(*elementsv1alpha1.HubSpotInstance); ok {
		if data, err := patch.Data(obj); err == nil && bytes.Contains(data, []byte(`"finalizers"`)) {
			if f := c.beforeFinalizerPatch.take(); f != nil {
				f()
			}
		}
		c.count(client.ObjectKeyFromObject(hsi).String())
	}
	if m, ok := obj.(*metav1.PartialObjectMetadata); ok && m.Kind == "Secret" {
		c.count("secret:" + client.ObjectKeyFromObject(m).String())
	}
	c.patches.Add(1)
	return c.Client.Patch(ctx, obj, patch, opts...)
}
