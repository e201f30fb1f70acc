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

// Package operator wires the manager: caches, the controller, the OAuth
// callback server, health probes and metrics. main.go and the demo both use
// it, so the demo runs exactly what is deployed.
package operator

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/controllers"
	"github.com/hubspot-operator/hubspot-operator/internal/callback"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
)

// Scheme knows the built-in types and the HubSpotInstance API.
var Scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(Scheme))
	utilruntime.Must(elementsv1alpha1.AddToScheme(Scheme))
}

// Options are the manager's settings; BindFlags exposes each as a flag.
type Options struct {
	MetricsAddr          string
	SecureMetrics        bool
	EnableHTTP2          bool
	ProbeAddr            string
	PprofAddr            string
	LeaderElection       bool
	LeaderElectionID     string
	LeaseDuration        time.Duration
	RenewDeadline        time.Duration
	RetryPeriod          time.Duration
	MaxConcurrent        int
	CloudElementsQPS     float64
	CloudElementsBurst   int
	CloudElementsTimeout time.Duration
	// CloudElementsListTimeout bounds one whole listing of an account, every
	// page of it.
	CloudElementsListTimeout time.Duration
	// CreateGracePeriod is how long an unconfirmed create may take to show
	// up at the platform; 0 means twice CloudElementsTimeout.
	CreateGracePeriod time.Duration
	// ClusterName is this cluster's part of every object's identity; empty
	// means the kube-system Namespace's UID (see resolveClusterName).
	ClusterName string
	// AccountListing detects drift with one listing per account and poll
	// interval rather than a GET per object.
	AccountListing  bool
	WatchNamespaces string
	// WatchLabelSelector limits the HubSpotInstances this manager caches
	// and reconciles (a shard's share); empty means all of them.
	WatchLabelSelector string
	AllowInsecure      bool
	// AllowLoopback permits endpoints on loopback hosts (a local stand-in
	// for the platform); AllowedHosts are where credentials may go.
	AllowLoopback bool
	AllowedHosts  []string
	CallbackAddr  string
	// CallbackMaxInFlight and CallbackRate limit the callback server; 0
	// means callback.DefaultMaxInFlight and callback.DefaultRate.
	CallbackMaxInFlight int
	CallbackRate        float64
	OperatorNamespace   string
	StateKeySecret      string
	StateTTL            time.Duration
	// GCPercent and MemoryLimitRatio are the garbage collector's settings,
	// which TuneRuntime applies: New leaves the process's runtime alone.
	GCPercent        int
	MemoryLimitRatio float64
}

// BindFlags registers the operator's flags with their defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to. "+
		"Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable the metrics service.")
	fs.BoolVar(&o.SecureMetrics, "metrics-secure", true, "Serve metrics over HTTPS with authentication and authorization.")
	fs.BoolVar(&o.EnableHTTP2, "enable-http2", false, "Enable HTTP/2 for the metrics server (off: HTTP/2 rapid-reset and stream-cancellation CVEs).")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", "", "The address the pprof endpoint binds to; empty disables it.")
	fs.BoolVar(&o.LeaderElection, "leader-elect", false, "Enable leader election, so only one replica reconciles at a time.")
	fs.StringVar(&o.LeaderElectionID, "leader-election-id", "hubspot-operator.cloud-elements.io", "Name of the leader election Lease.")
	fs.DurationVar(&o.LeaseDuration, "leader-election-lease-duration", 15*time.Second, "How long a leader's lease lasts without renewal.")
	fs.DurationVar(&o.RenewDeadline, "leader-election-renew-deadline", 10*time.Second, "How long the leader keeps trying to renew before giving up.")
	fs.DurationVar(&o.RetryPeriod, "leader-election-retry-period", 2*time.Second, "How often candidates try to acquire the lease.")
	fs.IntVar(&o.MaxConcurrent, "max-concurrent-reconciles", 10, "How many HubSpotInstances are reconciled at once.")
	fs.Float64Var(&o.CloudElementsQPS, "cloud-elements-qps", 10, "Client-side rate limit of Cloud Elements calls per endpoint and account, per second.")
	fs.IntVar(&o.CloudElementsBurst, "cloud-elements-burst", 20, "Burst of the Cloud Elements client-side rate limit.")
	fs.DurationVar(&o.CloudElementsTimeout, "cloud-elements-timeout", 30*time.Second, "Timeout of one Cloud Elements request.")
	fs.DurationVar(&o.CloudElementsListTimeout, "cloud-elements-list-timeout", cloudelements.DefaultListTimeout,
		"Deadline of one whole listing of an account's instances, every page of it; past it the listing fails and the account backs off.")
	fs.BoolVar(&o.AccountListing, "drift-by-account-listing", true, "Detect drift with one listing per Cloud Elements account and poll interval (pages of 200) instead of a GET per object; false restores the per-object poll.")
	fs.DurationVar(&o.CreateGracePeriod, "create-grace-period", 0, "How long a create whose answer was lost (timeout, 5xx) may take to show up at Cloud Elements before it is looked up by owner tag and, if absent, sent again; 0 means twice --cloud-elements-timeout.")
	fs.StringVar(&o.ClusterName, "cluster-name", "", "This cluster's name (a lowercase DNS label) in the identity of every HubSpotInstance, (cluster, namespace, name): "+
		"an object re-created under the same identity, after deletionPolicy Orphan or a rebuild of the cluster, adopts the Cloud Elements instance tagged with it. "+
		"It must be unique among the live clusters sharing a Cloud Elements account. "+
		"Empty: the UID of the kube-system Namespace, unique per cluster but new after a rebuild; it needs get on that Namespace.")
	fs.StringVar(&o.WatchNamespaces, "watch-namespaces", "", "Comma-separated namespaces to watch; empty watches all.")
	fs.StringVar(&o.WatchLabelSelector, "watch-label-selector", "", "Label selector of the HubSpotInstances this process caches and reconciles, "+
		"e.g. sharding.fluxcd.io/key=shard1 for a shard or !sharding.fluxcd.io/key for the main one; empty reconciles all. "+
		"Each shard needs its own --leader-election-id.")
	fs.BoolVar(&o.AllowInsecure, "allow-insecure-endpoints", false, "Allow plain-http Cloud Elements endpoints on allowed non-loopback hosts (credentials travel in clear text).")
	fs.BoolVar(&o.AllowLoopback, "allow-loopback-endpoints", false, "Allow Cloud Elements endpoints on loopback hosts, any port (a local stand-in for the platform).")
	o.AllowedHosts = slices.Clone(controllers.DefaultAllowedEndpointHosts)
	fs.Func("allowed-endpoint-hosts", "Comma-separated host names the operator may send account credentials to (default "+
		strings.Join(controllers.DefaultAllowedEndpointHosts, ",")+"). Objects naming another endpoint are refused before any Secret is read.",
		func(v string) error {
			o.AllowedHosts = nil
			for _, h := range strings.Split(v, ",") {
				if h = strings.TrimSpace(h); h != "" {
					o.AllowedHosts = append(o.AllowedHosts, h)
				}
			}
			return nil
		})
	fs.StringVar(&o.CallbackAddr, "oauth-callback-bind-address", ":8082", "The address the OAuth callback endpoint (/oauth/callback) binds to; 0 disables it.")
	fs.IntVar(&o.CallbackMaxInFlight, "oauth-callback-max-inflight", callback.DefaultMaxInFlight, "How many OAuth callbacks with a genuine state are served at once; more are answered 503 with Retry-After.")
	fs.Float64Var(&o.CallbackRate, "oauth-callback-rate", callback.DefaultRate, "How many OAuth callbacks with a genuine state per second are admitted over all clients (burst: twice as many); more are answered 429 with Retry-After. Requests without one (forged, expired, malformed) have a separate budget of the same default, so a flood of them cannot lock consent out.")
	fs.StringVar(&o.OperatorNamespace, "operator-namespace", defaultOperatorNamespace(), "Namespace holding the operator's own Secrets (the OAuth state signing key).")
	fs.StringVar(&o.StateKeySecret, "oauth-state-key-secret", "hubspot-operator-oauth-state", "Secret holding the OAuth state signing key; created if absent.")
	fs.DurationVar(&o.StateTTL, "oauth-state-ttl", oauthstate.DefaultTTL, fmt.Sprintf("How long an authorization URL stays usable, between %v and %v.", oauthstate.MinTTL, oauthstate.MaxTTL))
	fs.IntVar(&o.GCPercent, "gc-percent", DefaultGCPercent, "The Go garbage collector's GOGC: the heap may grow by this percentage of what is live before it is collected. "+
		"Lower holds less memory per object for more CPU; the GOGC environment variable, when set, replaces this default.")
	fs.Float64Var(&o.MemoryLimitRatio, "memory-limit-ratio", DefaultMemoryLimitRatio, "Share of the container's memory limit (cgroup) the Go runtime tries to stay under (its soft limit, GOMEMLIMIT), "+
		"collecting harder as it comes near rather than being killed; 0 sets none. The GOMEMLIMIT environment variable, when set, replaces this default.")
}

// defaultOperatorNamespace is the pod's namespace when running in-cluster.
func defaultOperatorNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	if b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil {
		return strings.TrimSpace(string(b))
	}
	return "hubspot-operator-system"
}

// New builds a manager with the HubSpotInstance controller registered.
func New(ctx context.Context, cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if err := oauthstate.ValidateTTL(o.StateTTL); err != nil {
		return nil, err
	}
	selector, err := o.watchSelector()
	if err != nil {
		return nil, err
	}
	var tlsOpts []func(*tls.Config)
	if !o.EnableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{BindAddress: o.MetricsAddr, SecureServing: o.SecureMetrics, TLSOpts: tlsOpts}
	if o.SecureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	cacheOpts := cache.Options{DefaultTransform: SlimCachedObjects}
	if namespaces := splitList(o.WatchNamespaces); len(namespaces) > 0 {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			cacheOpts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	if selector != nil {
		// Only the HubSpotInstances are split between shards: Secrets are
		// shared by objects of any shard, so every shard caches their
		// metadata and maps them to its own objects through this cache.
		cacheOpts.ByObject = map[client.Object]cache.ByObject{
			&elementsv1alpha1.HubSpotInstance{}: {Label: selector},
		}
		ctrl.Log.WithName("setup").Info("reconciling only the HubSpotInstances matching --watch-label-selector",
			"selector", selector.String(), "leaderElectionID", o.LeaderElectionID)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        Scheme,
		Metrics:                       metricsOpts,
		WebhookServer:                 webhook.NewServer(webhook.Options{TLSOpts: tlsOpts}),
		HealthProbeBindAddress:        o.ProbeAddr,
		PprofBindAddress:              o.PprofAddr,
		LeaderElection:                o.LeaderElection,
		LeaderElectionID:              o.LeaderElectionID,
		LeaderElectionNamespace:       o.OperatorNamespace,
		LeaseDuration:                 &o.LeaseDuration,
		RenewDeadline:                 &o.RenewDeadline,
		RetryPeriod:                   &o.RetryPeriod,
		LeaderElectionReleaseOnCancel: true, // a graceful stop hands over at once
		Cache:                         cacheOpts,
		Controller:                    config.Controller{SkipNameValidation: ptr(true)},
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}

	clusterName, source, err := resolveClusterName(o.ClusterName, func() (string, error) {
		return kubeSystemUID(ctx, mgr.GetAPIReader())
	})
	if err != nil {
		return nil, err
	}
	ctrl.Log.WithName("setup").Info("cluster name in use", "clusterName", clusterName, "source", source)

	signer, stateKey, err := loadStateSigner(ctx, mgr.GetAPIReader(), mgr.GetClient(), o)
	if err != nil {
		return nil, err
	}
	options := []controllers.Option{controllers.WithCreateGracePeriod(o.createGrace()), controllers.WithHashKey(statusHashKey(stateKey)),
		controllers.WithEndpointPolicy(controllers.EndpointPolicy{AllowedHosts: o.AllowedHosts, AllowLoopback: o.AllowLoopback, AllowInsecure: o.AllowInsecure}),
		controllers.WithWatchSelector(selector), controllers.WithClusterName(clusterName),
		// Failing objects may retry at a quarter of the account's limit.
		controllers.WithRetryBudget(o.CloudElementsQPS/4, max(o.CloudElementsBurst/4, 1))}
	if !o.AccountListing {
		options = append(options, controllers.WithoutAccountListing())
	}
	reconciler := controllers.New(mgr.GetClient(), uncachedReader(mgr), mgr.GetEventRecorder(elementsv1alpha1.FieldManager),
		controllers.ClientFactory(&http.Client{Timeout: o.CloudElementsTimeout}, o.CloudElementsQPS, o.CloudElementsBurst, o.CloudElementsListTimeout),
		signer, options...)
	if err := reconciler.SetupWithManager(ctx, mgr, controller.Options{
		MaxConcurrentReconciles: o.MaxConcurrent,
		RateLimiter:             controllers.DefaultRateLimiter(),
	}); err != nil {
		return nil, fmt.Errorf("setting up the HubSpotInstance controller: %w", err)
	}
	// --- OAuth callback server (internal/callback) ---
	// Every replica serves callbacks (the server needs no leader election):
	// the browser reaches whichever one the Service picks, and each verifies
	// states with the same key the reconciler signs them with. That holds
	// across shards too: the handler reads the HubSpotInstance through the
	// API reader, not the shard's cache, so one callback Service in front of
	// every shard answers for any object; the callback's writes (its Secret,
	// the status) then wake the shard that owns the object.
	if o.CallbackAddr != "" && o.CallbackAddr != "0" {
		handler := callback.NewHandler(mgr.GetAPIReader(), mgr.GetClient(), signer,
			callback.WithEventRecorder(mgr.GetEventRecorder(elementsv1alpha1.FieldManager)),
			callback.WithMaxInFlight(o.CallbackMaxInFlight), callback.WithRateLimit(o.CallbackRate, 0))
		if err := mgr.Add(callback.NewServer(o.CallbackAddr, handler)); err != nil {
			return nil, fmt.Errorf("adding the OAuth callback server: %w", err)
		}
	}
	// --- end OAuth callback server ---
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}

// watchSelector parses --watch-label-selector; nil means every object.
func (o Options) watchSelector() (labels.Selector, error) {
	if strings.TrimSpace(o.WatchLabelSelector) == "" {
		return nil, nil
	}
	selector, err := labels.Parse(o.WatchLabelSelector)
	if err != nil {
		return nil, fmt.Errorf("invalid --watch-label-selector %q: %w", o.WatchLabelSelector, err)
	}
	return selector, nil
}

// Where the cluster name came from, for the start-up log.
const (
	clusterNameFromFlag       = "--cluster-name"
	clusterNameFromKubeSystem = "the kube-system Namespace's UID"
)

// resolveClusterName is --cluster-name when set, else the kube-system
// Namespace's UID: distinct for every live cluster, so that two clusters
// sharing an account never adopt each other's instances, but new after a
// rebuild, which only a name set by hand survives. A UID is checked like
// the flag, so that whatever the reconciler gets is a DNS-1123 label.
func resolveClusterName(flagValue string, kubeSystemUID func() (string, error)) (name, source string, err error) {
	if flagValue != "" {
		if errs := validation.IsDNS1123Label(flagValue); len(errs) > 0 {
			return "", "", fmt.Errorf("invalid --cluster-name %q: %s", flagValue, strings.Join(errs, "; "))
		}
		return flagValue, clusterNameFromFlag, nil
	}
	uid, err := kubeSystemUID()
	if err != nil {
		return "", "", fmt.Errorf("--cluster-name is not set and its default, the UID of the kube-system Namespace, "+
			"could not be read (set --cluster-name to a name unique among the clusters sharing a Cloud Elements account): %w", err)
	}
	if errs := validation.IsDNS1123Label(uid); len(errs) > 0 {
		return "", "", fmt.Errorf("the kube-system Namespace's UID %q is no DNS label (set --cluster-name): %s", uid, strings.Join(errs, "; "))
	}
	return uid, clusterNameFromKubeSystem, nil
}

// kubeSystemUID reads past the cache, which New has not started yet.
func kubeSystemUID(ctx context.Context, reader client.Reader) (string, error) {
	ns := &corev1.Namespace{}
	if err := reader.Get(ctx, client.ObjectKey{Name: metav1.NamespaceSystem}, ns); err != nil {
		return "", err
	}
	return string(ns.UID), nil
}

func (o Options) createGrace() time.Duration {
	if o.CreateGracePeriod > 0 {
		return o.CreateGracePeriod
	}
	return 2 * o.CloudElementsTimeout
}

// statusHashKey keys the hashes the reconciler publishes in status. It is
// derived from the OAuth state key, which every replica reads and which
// survives restarts, so hashes stay comparable (and the operator quiet).
func statusHashKey(stateKey []byte) []byte {
	mac := hmac.New(sha256.New, stateKey)
	mac.Write([]byte("hubspot-operator status hashes"))
	return mac.Sum(nil)
}

// loadStateSigner reads the OAuth state signing key, creating it on first
// start. Every replica reads the same Secret, so any of them can verify a
// state another issued.
func loadStateSigner(ctx context.Context, reader client.Reader, writer client.Client, o Options) (*oauthstate.Signer, []byte, error) {
	key := client.ObjectKey{Namespace: o.OperatorNamespace, Name: o.StateKeySecret}
	const dataKey = "key"
	for attempt := 0; attempt < 3; attempt++ {
		sec := &corev1.Secret{}
		err := reader.Get(ctx, key, sec)
		if err == nil {
			signer, err := oauthstate.NewSigner(sec.Data[dataKey], o.StateTTL)
			return signer, sec.Data[dataKey], err
		}
		if !apierrors.IsNotFound(err) {
			return nil, nil, fmt.Errorf("reading OAuth state key Secret %s: %w", key, err)
		}
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, nil, err
		}
		sec = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
				Labels: map[string]string{elementsv1alpha1.ManagedByLabel: elementsv1alpha1.FieldManager}},
			Data: map[string][]byte{dataKey: raw},
		}
		err = writer.Create(ctx, sec)
		if err == nil {
			signer, err := oauthstate.NewSigner(raw, o.StateTTL)
			return signer, raw, err
		}
		if !apierrors.IsAlreadyExists(err) { // another replica won the race: read theirs
			return nil, nil, fmt.Errorf("creating OAuth state key Secret %s: %w", key, err)
		}
	}
	return nil, nil, errors.New("could not read or create the OAuth state key Secret")
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }
