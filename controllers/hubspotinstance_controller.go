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

package controllers

import (
	"context"
	"crypto/rand"
	"time"

	"golang.org/x/sync/singleflight"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/tokentemplate"
)

// ElementAPI is what the reconciler needs from Cloud Elements. The client in
// internal/cloudelements implements it; it knows nothing of Kubernetes.
type ElementAPI interface {
	OAuthURL(ctx context.Context, req cloudelements.OAuthURLRequest) (*cloudelements.OAuthURLResponse, error)
	CreateInstance(ctx context.Context, req cloudelements.InstanceRequest) (*cloudelements.Instance, error)
	GetInstance(ctx context.Context, id int64) (*cloudelements.Instance, error)
	FindInstancesByTag(ctx context.Context, tag string) ([]cloudelements.Instance, error)
	VisitInstancesByTag(ctx context.Context, tag string, visit func(cloudelements.Instance)) error
	UpdateInstance(ctx context.Context, id int64, req cloudelements.InstanceRequest) (*cloudelements.Instance, error)
	ReauthorizeInstance(ctx context.Context, id int64, req cloudelements.InstanceRequest) (*cloudelements.Instance, error)
	PatchInstance(ctx context.Context, id int64, patch cloudelements.InstancePatch) (*cloudelements.Instance, error)
	InstanceConfiguration(ctx context.Context, id int64) ([]cloudelements.ConfigurationEntry, error)
	SetConfigurationValue(ctx context.Context, id int64, entry cloudelements.ConfigurationEntry) (*cloudelements.ConfigurationEntry, error)
	DeleteInstance(ctx context.Context, id int64) error
}

// ElementAPIFactory connects to one Cloud Elements endpoint and account.
type ElementAPIFactory func(endpoint, userSecret, organizationSecret string) (ElementAPI, error)

// HubSpotInstanceReconciler provisions a Cloud Elements element instance for
// each HubSpotInstance and keeps its element token in a Secret. Build it with
// New.
type HubSpotInstanceReconciler struct {
	client.Client
	// apiReader reads what the cache must not hold: Secret data, and objects
	// whose cached copy is older than our own last write.
	apiReader     client.Reader
	recorder      events.EventRecorder
	newElementAPI ElementAPIFactory
	// states signs the OAuth `state` of consent links.
	states StateIssuer
	// endpoints says where credentials may be sent.
	endpoints   EndpointPolicy
	now         func() time.Time
	mem         *memory
	createGrace time.Duration
	// holder names this process in the create markers it writes.
	holder string
	// hashKey keys the hashes published in status.
	hashKey []byte
	// reconcileTimeout bounds one reconcile, whatever an endpoint does.
	reconcileTimeout time.Duration
	// drift lists each account's instances to find the objects that need a
	// look; nil falls back to a GET per object per poll interval.
	drift *driftPoller
	// selector is this shard's share of the objects; nil means all.
	selector labels.Selector
	// inputs holds referenced Secrets by resourceVersion.
	inputs *inputSecrets
	// protectionWrites marks our own finalizer writes on credentials Secrets.
	protectionWrites *protectionWrites
	// protecting shares one protection write of a Secret version among the
	// reconciles that find it unprotected at once.
	protecting singleflight.Group
	// clusterName is this cluster's part of every object's identity
	// (cluster, namespace, name); "" leaves instances without identity tags,
	// so nothing is adopted by identity.
	clusterName string
	// retries bounds, per account, the calls of objects whose last attempt
	// failed.
	retries *retryBudgets
}

// WithoutAccountListing turns drift detection by account listing off: each
// object then polls its own instance every poll interval, as the benchmark's
// contrast row measures.
func WithoutAccountListing() Option {
	return func(r *HubSpotInstanceReconciler) { r.drift = nil }
}

// WithWatchSelector makes the reconciler a shard: it acts only on objects
// whose labels match selector, which must be the selector the manager's
// cache of HubSpotInstances was built with. nil means every object.
func WithWatchSelector(selector labels.Selector) Option {
	return func(r *HubSpotInstanceReconciler) { r.selector = selector }
}

// WithHashKey sets the key of the configuration and authorization hashes in
// status. It must outlive restarts (else every object is updated once after
// one); the manager derives it from its OAuth state signing key.
func WithHashKey(key []byte) Option {
	return func(r *HubSpotInstanceReconciler) { r.hashKey = key }
}

// WithClusterName sets this cluster's name in the identity of every object
// (cluster, namespace, name): an object adopts an instance tagged with its
// identity that no live object records, which is what makes a cluster
// rebuilt from Git, or an object re-applied after deletionPolicy Orphan,
// get its instance back. Two live clusters sharing an account must never
// share a name.
func WithClusterName(name string) Option {
	return func(r *HubSpotInstanceReconciler) { r.clusterName = name }
}

// WithReconcileTimeout bounds one reconcile (default 2 minutes).
func WithReconcileTimeout(d time.Duration) Option {
	return func(r *HubSpotInstanceReconciler) { r.reconcileTimeout = d }
}

// Option configures a HubSpotInstanceReconciler.
type Option func(*HubSpotInstanceReconciler)

// WithClock replaces the wall clock, so tests can make a poll due at once.
func WithClock(now func() time.Time) Option {
	return func(r *HubSpotInstanceReconciler) { r.now = now }
}

// WithEndpointPolicy sets where credentials may be sent; the default is
// DefaultEndpointPolicy.
func WithEndpointPolicy(p EndpointPolicy) Option {
	return func(r *HubSpotInstanceReconciler) { r.endpoints = p }
}

// WithCreateGracePeriod is how long a create whose outcome is unknown (a
// timeout, a 5xx) may take to show up at the platform: until it has passed,
// nobody creates again; then the owner-tag lookup decides.
func WithCreateGracePeriod(d time.Duration) Option {
	return func(r *HubSpotInstanceReconciler) { r.createGrace = d }
}

// New builds the reconciler. c reads from the cache and writes; apiReader
// reads past the cache; recorder may be nil.
func New(c client.Client, apiReader client.Reader, recorder events.EventRecorder,
	newElementAPI ElementAPIFactory, states StateIssuer, opts ...Option) *HubSpotInstanceReconciler {
	r := &HubSpotInstanceReconciler{Client: c, apiReader: apiReader, recorder: recorder,
		newElementAPI: newElementAPI, states: states, now: time.Now, mem: newMemory(),
		createGrace: defaultCreateGrace, holder: processIdentity(), endpoints: DefaultEndpointPolicy(),
		hashKey: randomKey(), reconcileTimeout: defaultReconcileTimeout}
	r.drift = newDriftPoller(func() time.Time { return r.now() }, r.mem, r.tokenHash)
	r.inputs = newInputSecrets()
	r.protectionWrites = newProtectionWrites()
	r.retries = newRetryBudgets(DefaultRetryQPS, DefaultRetryBurst)
	for _, opt := range opts {
		opt(r)
	}
	r.retries.now = func() time.Time { return r.now() }
	return r
}

// +kubebuilder:rbac:groups=elements.cloud-elements.io,resources=hubspotinstances,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=elements.cloud-elements.io,resources=hubspotinstances/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=elements.cloud-elements.io,resources=hubspotinstances/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// conflictRetry is how soon a reconcile that lost an optimistic-lock race
// runs again, with the fresh object.
const conflictRetry = 250 * time.Millisecond

// session carries what one reconcile has learnt so far, from step to step.
type session struct {
	obj     *elementsv1alpha1.HubSpotInstance
	in      *inputs
	api     ElementAPI
	desired cloudelements.InstanceRequest
	hash    string
	// authHash fingerprints the authorization at hand; see authorization.
	authHash string
	// template renders the token Secret's data; nil for the default keys.
	template *tokentemplate.Template

	// instance is the element instance as Cloud Elements returned it during
	// this reconcile; nil when no call was due.
	instance *cloudelements.Instance
	// imported is the instance verifyImport read before an import.
	imported *cloudelements.Instance
	// adopted is the instance adoptOwnInstance found by its tags and
	// recorded.
	adopted *cloudelements.Instance
	// elsewhere are instances of this namespace and name under another
	// cluster name, which a create tells about.
	elsewhere []cloudelements.Instance
	// note is added to the Ready message of this reconcile.
	note string
	// tokenSecret is what the cache says about the token Secret.
	tokenSecret tokenSecretState
	// out, once a step sets it, is the conclusion of the reconcile: the
	// steps after it do not run.
	out outcome
	// requeueAfter asks for the next reconcile sooner than the drift poll.
	requeueAfter time.Duration
	// gone is set once the finalizer is removed: the object may not exist any more.
	gone bool
	// announced: an Event already told what this reconcile did, so becoming
	// Ready needs no second one.
	announced bool
	// stallRepeated: the reconcile repeated a refused attempt's verdict
	// without trying again.
	stallRepeated bool
	// awaitingCreate: the reconcile only waited for a create in doubt to
	// show up; it asked Cloud Elements nothing.
	awaitingCreate bool

	// mem is what the reconciler remembered of the object when this
	// reconcile began, with what its steps have learnt since. Steps read it
	// here and record on it with remember; the reconcile writes what they
	// recorded back to memory once, when it ends (see memory.writeBack).
	mem remembered
	// learnt are the changes recorded with remember, in order.
	learnt []func(*remembered)
	// forgotten: the reconcile forgot the object (see forgetDuring).
	forgotten bool
}

func (s *session) concluded() bool { return s.out.reason != "" }

// remember records what the reconcile learnt about the object: on its copy
// at once, and in memory when the reconcile ends. change runs twice (on the
// copy now, on memory then), so what it sets must not depend on what the
// drift poller writes meanwhile (verifiedAt, tokenDigest, pollNow, listed).
func (s *session) remember(change func(*remembered)) {
	change(&s.mem)
	s.learnt = append(s.learnt, change)
}

// conclude ends the reconcile with out; the remaining steps are skipped.
func (s *session) conclude(out outcome) { s.out = out }

// A step does one part of the lifecycle. It returns an error, or concludes
// the session, or leaves the rest to the steps after it; it never calls
// another step.
type step func(context.Context, *session) error

// defaultReconcileTimeout bounds a reconcile: a handful of calls, each
// bounded by the client timeout.
const defaultReconcileTimeout = 2 * time.Minute

// finishTimeout bounds the status write that ends every reconcile.
const finishTimeout = 30 * time.Second

// Reconcile reads as the lifecycle of a HubSpotInstance.
func (r *HubSpotInstanceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	s, err := r.fetch(ctx, req.NamespacedName)
	if s == nil || err != nil {
		return ctrl.Result{}, err
	}
	obj := s.obj
	before := obj.DeepCopy()
	// Deferred first, so it runs last, after finish has recorded how the
	// reconcile ended, and on every way out, a panic included.
	defer r.writeBack(s)
	// finish writes status with a context of its own: a reconcile that ran
	// out of time still reports why.
	defer func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
		defer cancel()
		result, retErr = r.finish(fctx, before, s, retErr)
	}()
	ctx, cancel := context.WithTimeout(ctx, r.reconcileTimeout)
	defer cancel()

	if !obj.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, s)
	}
	if obj.Spec.Suspend {
		r.drift.unwatch(req.NamespacedName) // stops watching; what is remembered stays, for the gauges
		s.conclude(outcome{reason: elementsv1alpha1.ReasonSuspended,
			message: "spec.suspend is true: no calls are made to Cloud Elements"})
		return ctrl.Result{}, nil
	}
	steps := []step{
		r.resolve,              // every referenced Secret, all problems at once
		r.waitOutStall,         // a refused attempt waits for its retry, or for a change
		r.inspectTokenSecret,   // refuse to go on if its name belongs to somebody else
		r.verifyImport,         // never take over another object's instance
		r.adoptOwnInstance,     // an interrupted create's, or this identity's
		r.syncInstance,         // re-authorize, update, or detect drift when a poll is due
		r.createInstance,       // exactly once; OAuth 2 waits for consent first
		r.retireConsentLink,    // consent given: the link is dead weight
		r.protectCredentials,   // keep the account Secret until the instance is deleted
		r.reconcileTokenSecret, // write or repair the token Secret
		r.reportHealth,         // valid / disabled
	}
	if obj.Spec.ObserveOnly() {
		steps = []step{
			r.resolve,
			r.inspectTokenSecret,
			r.verifyImport,
			r.observeInstance, // read it; never a write call to Cloud Elements
			r.retireConsentLink,
			r.reconcileTokenSecret,
			r.reportObservation, // drift, disabled, invalid: reported, not repaired
		}
	} else {
		obj.Status.Drift = nil // Full repairs drift rather than reporting it
	}
	for _, step := range steps {
		if err := step(ctx, s); err != nil || s.concluded() {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// fetch reads the object from the cache, unless the cache has not yet seen
// our own last write to it: acting on a stale copy could repeat an update.
// It starts the reconcile's session with what memory holds of the object;
// nil when there is nothing to reconcile.
func (r *HubSpotInstanceReconciler) fetch(ctx context.Context, key client.ObjectKey) (*session, error) {
	obj := &elementsv1alpha1.HubSpotInstance{}
	if err := r.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(key, "")
			return nil, nil
		}
		return nil, err
	}
	reread := false
	if written := r.mem.get(obj).objectVersion; written != "" && written != obj.ResourceVersion {
		if err := r.apiReader.Get(ctx, key, obj); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, nil
			}
			return nil, err
		}
		if !r.owns(obj) {
			// Relabelled to another shard since the cache last saw it:
			// that shard reconciles it now, and the cache will catch up.
			r.forget(key, "")
			return nil, nil
		}
		reread = true
	}
	s := &session{obj: obj, mem: r.mem.begin(obj)}
	if reread {
		version := obj.ResourceVersion
		s.remember(func(m *remembered) { m.objectVersion = version })
	}
	return s, nil
}

// forget clears the object from everything this process holds of it: its
// memory, and its place in its account's listing. releasedNameTag, if not
// "", is the name tag of an instance the object lets go of (see
// driftPoller.unwatchReleasing). A reconcile that forgets the object and
// then keeps it (a deletion that has to wait) writes its memory back when
// it ends.
func (r *HubSpotInstanceReconciler) forget(key client.ObjectKey, releasedNameTag string) {
	r.mem.forget(key)
	r.drift.unwatchReleasing(key, releasedNameTag)
}

// forgetDuring is forget from within the object's own reconcile, which then
// writes back only if it keeps the object after all.
func (r *HubSpotInstanceReconciler) forgetDuring(s *session, releasedNameTag string) {
	r.forget(client.ObjectKeyFromObject(s.obj), releasedNameTag)
	s.forgotten = true
}

// inputReader reads the Secrets an object references.
func (r *HubSpotInstanceReconciler) inputReader() client.Reader {
	return inputReader{cache: r.Client, api: r.apiReader, secret: r.inputs}
}

// owns says whether obj belongs to this shard.
func (r *HubSpotInstanceReconciler) owns(obj *elementsv1alpha1.HubSpotInstance) bool {
	return r.selector == nil || r.selector.Matches(labels.Set(obj.Labels))
}

// resolve reads the inputs and connects to Cloud Elements.
func (r *HubSpotInstanceReconciler) resolve(ctx context.Context, s *session) error {
	if v, ok := s.obj.Annotations[elementsv1alpha1.InstanceIDAnnotation]; ok && !validInstanceID(v) {
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration,
			"annotation %s must be a positive element instance id, got %q", elementsv1alpha1.InstanceIDAnnotation, v)
	}
	// Before any Secret is read: the endpoint is the user's choice.
	if err := checkEndpoint(s.obj.Spec.Platform.GetEndpoint(), r.endpoints); err != nil {
		return err
	}
	if err := checkPlatformUnchanged(s.obj, elementsv1alpha1.ReasonInvalidConfiguration); err != nil {
		return err
	}
	if err := checkTags(s.obj.Spec.Tags); err != nil {
		return err
	}
	in, err := r.resolveInputs(ctx, s.obj)
	if err != nil {
		return err
	}
	api, err := r.newElementAPI(in.endpoint, in.userSecret, in.organizationSecret)
	if err != nil {
		return stalledError(elementsv1alpha1.ReasonInvalidConfiguration, "spec.platform.endpoint: %w", err)
	}
	s.in, s.api = in, api
	if t := s.obj.Spec.TokenSecret.Template; t != nil {
		// Refused before anything is created: a template that cannot
		// render would leave an instance without its Secret. Parse renders
		// it once with stand-in values, so what it accepts renders.
		if s.template, err = tokentemplate.Parse(t.TemplateData()); err != nil {
			return stalledError(elementsv1alpha1.ReasonInvalidConfiguration, "spec.tokenSecret.template.data: %w", err)
		}
	}
	if err := r.spendRetry(s); err != nil {
		return err
	}
	s.desired = desiredInstance(s.obj, in, r.identityOf(s.obj))
	s.hash = configurationHash(r.hashKey, s.obj, s.desired)
	s.authHash = authorizationHash(r.hashKey, s.obj, authorization(s.obj, in))
	if s.obj.Status.AppliedAuthorizationHash == "" && instanceIDOf(s.obj) != 0 && !in.codeIsOurs && !s.obj.Spec.ObserveOnly() {
		// Provisioned before authorizations were fingerprinted, or imported:
		// what is at hand is taken as what the instance was authorized with,
		// so a code that was already spent is never sent again. ObserveOnly
		// may lack some of it, and sends none: Full records it when it takes
		// over.
		s.obj.Status.AppliedAuthorizationHash = s.authHash
	}
	return nil
}

// announce records a Normal Event for something this reconcile did.
func (r *HubSpotInstanceReconciler) announce(s *session, reason, action, note string) {
	s.announced = true
	r.event(s.obj, corev1.EventTypeNormal, reason, action, note)
}

func (r *HubSpotInstanceReconciler) event(obj *elementsv1alpha1.HubSpotInstance, eventType, reason, action, note string) {
	if r.recorder != nil {
		r.recorder.Eventf(obj, nil, eventType, reason, action, "%s", boundedText(note, maxEventNote))
	}
}

// maxEventNote is the API server's bound on an Event's note (1 KiB): a
// longer one would be refused, and the Event lost.
const maxEventNote = 1024

func (r *HubSpotInstanceReconciler) memory() *memory { return r.mem }

func randomKey() []byte {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return key
}
