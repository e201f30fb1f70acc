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

package browser_test

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/hubspot-operator/hubspot-operator/internal/callback"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
	"github.com/hubspot-operator/hubspot-operator/internal/operator"
	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

const (
	// requireBrowserEnv makes a missing browser a failure instead of a
	// skip; .ci/run sets it, so that CI cannot pass without the test.
	requireBrowserEnv = "REQUIRE_BROWSER"
	// browserPathEnv names the browser binary, overriding the search.
	browserPathEnv = "CHROMIUM_PATH"
	// artifactsEnv is the folder the screenshots go to.
	artifactsEnv = "BROWSER_ARTIFACTS_DIR"

	operatorNamespace  = "hubspot-operator-system"
	userSecret         = "user-secret-for-the-browser-test"
	organizationSecret = "organization-secret-for-the-browser-test"
)

// browserNames are tried on PATH in this order: Debian's and Ubuntu's
// Chromium, Google Chrome, then chrome-headless-shell.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
	"chrome", "headless_shell", "headless-shell", "chrome-headless-shell"}

var (
	ctx    context.Context
	cancel context.CancelFunc

	browserPath  string
	artifactsDir string

	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	sim       *harness.Simulator
	// callbackURL is the operator's OAuth callback, as a HubSpotInstance's
	// spec.auth.oauth2.callbackURL names it.
	callbackURL string

	stopManager    context.CancelFunc
	managerStopped chan struct{}
)

func TestBrowser(t *testing.T) {
	var err error
	if browserPath, err = findBrowser(); err != nil {
		if os.Getenv(browserPathEnv) != "" {
			t.Fatal(err) // a browser was named: not finding it is an error
		}
		msg := "no browser for the OAuth consent test: " + err.Error() +
			"; install one (Debian: apt-get install -y chromium) or point " + browserPathEnv + " at it"
		if os.Getenv(requireBrowserEnv) == "1" {
			t.Fatal(msg + " (" + requireBrowserEnv + "=1: a missing browser is a failure)")
		}
		t.Skip(msg)
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "OAuth 2 consent in a browser suite (headless Chromium, envtest, operator, simulator)")
}

// findBrowser is $CHROMIUM_PATH, else the first of browserNames on PATH.
func findBrowser() (string, error) {
	if path := os.Getenv(browserPathEnv); path != "" {
		found, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", browserPathEnv, path, err)
		}
		return found, nil
	}
	for _, name := range browserNames {
		if found, err := exec.LookPath(name); err == nil {
			return found, nil
		}
	}
	return "", fmt.Errorf("none of %v is on PATH and %s is not set", browserNames, browserPathEnv)
}

var _ = BeforeSuite(func() {
	var err error
	fmt.Fprintf(GinkgoWriter, "browser: %s; chromedp %s\n", browserPath, moduleVersion("github.com/chromedp/chromedp"))

	artifactsDir = os.Getenv(artifactsEnv)
	if artifactsDir == "" {
		artifactsDir = "artifacts"
	}
	artifactsDir, err = filepath.Abs(artifactsDir)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.MkdirAll(artifactsDir, 0o755)).To(Succeed())

	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	ctx, cancel = context.WithCancel(context.Background())

	By("starting kube-apiserver and etcd (envtest) with the CRD")
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                operator.Scheme,
	}
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "start envtest: is KUBEBUILDER_ASSETS set? run `export KUBEBUILDER_ASSETS=$(hack/setup-envtest.sh)`")
	k8sClient, err = client.New(cfg, client.Options{Scheme: operator.Scheme})
	Expect(err).NotTo(HaveOccurred())
	Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}})).To(Succeed())

	By("serving the Cloud Elements simulator on loopback")
	sim, err = harness.StartSimulator(simulator.Options{UserSecret: userSecret, OrganizationSecret: organizationSecret})
	Expect(err).NotTo(HaveOccurred())

	By("starting the manager as main.go builds it, with its OAuth callback server on loopback")
	startOperator()
})

// startOperator runs operator.New's manager from the operator's flag
// defaults with the local overrides hack/demo uses: no metrics or probes, no
// leader election, the callback server on a free loopback port, and
// endpoints on loopback allowed (the simulator).
func startOperator() {
	GinkgoHelper()
	addr := freeLoopbackAddress()
	var o operator.Options
	o.BindFlags(flag.NewFlagSet("operator", flag.ContinueOnError)) // the defaults
	o.MetricsAddr = "0"
	o.ProbeAddr = "0"
	o.LeaderElection = false
	o.OperatorNamespace = operatorNamespace
	o.CallbackAddr = addr
	o.AllowLoopback = true
	mgr, err := operator.New(ctx, cfg, o)
	Expect(err).NotTo(HaveOccurred())

	var managerCtx context.Context
	managerCtx, stopManager = context.WithCancel(ctx)
	managerStopped = make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(managerStopped)
		Expect(mgr.Start(managerCtx)).To(Succeed())
	}()
	callbackURL = "http://" + addr + callback.Path
	Eventually(func() error {
		resp, err := http.Get(callbackURL)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}).Should(Succeed(), "the OAuth callback server should listen on %s", addr)
}

var _ = AfterSuite(func() {
	if stopManager != nil {
		stopManager()
		Eventually(managerStopped).WithTimeout(time.Minute).Should(BeClosed())
	}
	if sim != nil {
		sim.Close()
	}
	if cancel != nil {
		cancel()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// freeLoopbackAddress picks a port for a server that wants an address, not
// a listener. Another process could take it in between; on loopback, in a
// test, that is unlikely enough.
func freeLoopbackAddress() string {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()
	Expect(l.Close()).To(Succeed())
	return addr
}

// moduleVersion is the version of a module in go.mod (a test binary
// records no dependencies in its build info).
func moduleVersion(path string) string {
	root, err := harness.RepoRoot()
	if err != nil {
		return "unknown"
	}
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(goMod), "\n") {
		if fields := strings.Fields(line); len(fields) >= 2 && fields[0] == path {
			return fields[1]
		}
	}
	return "unknown"
}
