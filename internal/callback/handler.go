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

// Package callback serves the operator's OAuth 2 redirect endpoint,
// GET /oauth/callback, where HubSpot sends a person's browser after consent.
//
// The handler trusts nothing in the request. The `state` must carry the
// operator's own signature (internal/oauthstate), must not have expired, and
// must name an object that still exists with the same UID and still waits for
// exactly that state (its status.authorizationNonce). Only then is the answer
// — an authorization code, or the provider's refusal — handed to the
// reconciler, in a Secret the object controls (HubSpotInstance.CallbackSecretName).
// The nonce is then cleared, so the same link cannot be used twice.
//
// Every request is counted in hubspot_operator_oauth_callbacks_total{result},
// with result one of: code_accepted, denied_recorded, bad_method, bad_request,
// missing_state, invalid_state, expired_state, replayed_state,
// unknown_object, not_oauth2, secret_conflict, internal_error; and throttled
// (429) or overloaded (503) for a request the handler's rate or concurrency
// limit turned away before looking further than the state's signature.
package callback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/callback/authresponse"
	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
)

// Path is where the handler answers; spec.auth.oauth2.callbackURL must
// end in it when it points at the operator.
const Path = "/oauth/callback"

// defaultRequestTimeout bounds the API calls of one callback, so a slow API
// server cannot pile up requests.
const defaultRequestTimeout = 20 * time.Second

// maxEventNoteBytes keeps a provider's long error text within the 1 kB an
// events.k8s.io Event note may hold.
const maxEventNoteBytes = 512

// StateVerifier checks a signed state; *oauthstate.Signer is one.
type StateVerifier interface {
	Verify(state string) (oauthstate.Claims, error)
}

// Handler answers OAuth 2 authorization responses. It is safe for concurrent
// use; see the package documentation for what it checks.
type Handler struct {
	// reader must not be a cache: the nonce and the UID are checked against
	// the API server's latest word, and Secrets are not cached at all.
	reader   client.Reader
	writer   client.Client
	verifier StateVerifier
	recorder events.EventRecorder
	log      logr.Logger
	timeout  time.Duration

	maxInFlight     int
	verifiedLimit   rateLimit
	unverifiedLimit rateLimit
	admission       *admission
}

// Option configures a Handler.
type Option func(*Handler)

// WithEventRecorder records Events on the HubSpotInstance (a refusal of
// consent as a Warning). Without it no Events are recorded.
func WithEventRecorder(recorder events.EventRecorder) Option {
	return func(h *Handler) { h.recorder = recorder }
}

// WithLogger replaces the default logger (controller-runtime's, named "oauth-callback").
func WithLogger(logger logr.Logger) Option {
	return func(h *Handler) { h.log = logger }
}

// WithRequestTimeout bounds the API calls one callback may make.
func WithRequestTimeout(timeout time.Duration) Option {
	return func(h *Handler) {
		if timeout > 0 {
			h.timeout = timeout
		}
	}
}

// NewHandler returns the callback handler. reader should be uncached
// (mgr.GetAPIReader()); writer writes the callback Secret and the status.
func NewHandler(reader client.Reader, writer client.Client, verifier StateVerifier, opts ...Option) *Handler {
	h := &Handler{reader: reader, writer: writer, verifier: verifier,
		log: log.Log.WithName("oauth-callback"), timeout: defaultRequestTimeout,
		maxInFlight:     DefaultMaxInFlight,
		verifiedLimit:   rateLimit{perSecond: DefaultRate},
		unverifiedLimit: rateLimit{perSecond: DefaultUnverifiedRate, burst: DefaultUnverifiedBurst}}
	for _, opt := range opts {
		opt(h)
	}
	h.admission = newAdmission(h.maxInFlight, h.verifiedLimit, h.unverifiedLimit)
	return h
}

// answer is the conclusion of one request.
type answer struct {
	page page
	// result labels the metric; empty for a HEAD that passed every check,
	// since nothing was accepted.
	result string
	// err is logged for the operator's administrators, never shown.
	err error
}

// ServeHTTP never lets a panic escape: a bug here must cost one error page,
// not the connection or, worse, the process. Only the checks that cost no
// API call (path, method, query, the state's signature) come before the
// limits, so a flood costs neither the API server nor the logs much, and a
// forged flood spends a budget that genuine callbacks do not share.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := &trackingWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			callbacksTotal.WithLabelValues(resultInternalError).Inc()
			h.log.Error(fmt.Errorf("panic: %v", v), "OAuth callback handler panicked", "stack", string(debug.Stack()))
			if !tw.wroteHeader {
				writePage(tw, page{Status: http.StatusInternalServerError, Title: "Something went wrong",
					Message: "The operator failed while handling this authorization response. Its logs say more."})
			}
		}
	}()
	if r.URL.Path != Path {
		if h.admission.admitUnverified(tw) {
			writePage(tw, page{Status: http.StatusNotFound, Title: "Not found",
				Message: "This server only answers OAuth callbacks, at " + Path + "."})
		}
		return
	}
	query, claims, refusal := h.check(r)
	var a answer
	if refusal != nil {
		if !h.admission.admitUnverified(tw) {
			return
		}
		a = *refusal
	} else {
		done, admitted := h.admission.admitVerified(tw)
		if !admitted {
			return
		}
		defer done()
		a = h.serve(r, query, claims)
	}
	if a.result != "" {
		callbacksTotal.WithLabelValues(a.result).Inc()
	}
	h.logAnswer(a)
	writePage(tw, a.page)
}

func (h *Handler) logAnswer(a answer) {
	// Only what identifies the object: the query holds the code, and the
	// state is a bearer credential until it is used.
	kv := []any{"result", a.result, "status", a.page.Status}
	if a.page.Object != nil {
		kv = append(kv, "namespace", a.page.Object.Namespace, "name", a.page.Object.Name)
	}
	switch {
	case a.page.Status >= http.StatusInternalServerError:
		h.log.Error(a.err, "OAuth callback failed", kv...)
	case a.err != nil && a.page.Status < http.StatusMultipleChoices:
		h.log.Error(a.err, "OAuth callback accepted, but a follow-up step failed", kv...)
	case a.err != nil:
		h.log.Info("OAuth callback refused", append(kv, "cause", a.err.Error())...)
	default:
		h.log.Info("OAuth callback answered", kv...)
	}
}

// check runs the checks that need no API call: it returns the query and
// the claims of a genuine, unexpired state, or the answer to anything else.
func (h *Handler) check(r *http.Request) (authresponse.Response, oauthstate.Claims, *answer) {
	refuse := func(a answer) (authresponse.Response, oauthstate.Claims, *answer) {
		return authresponse.Response{}, oauthstate.Claims{}, &a
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return refuse(refused(&refusal{status: http.StatusMethodNotAllowed, result: resultBadMethod,
			reason: "Only GET is accepted here: this address is where HubSpot redirects your browser after consent."}, nil))
	}
	query, ref := parseCallbackQuery(r.URL.RawQuery)
	if ref != nil {
		return refuse(refused(ref, nil))
	}
	claims, err := h.verifier.Verify(query.State)
	switch {
	case errors.Is(err, oauthstate.ErrExpired):
		// The signature was good, so the object it names is authentic.
		a := refused(&refusal{status: http.StatusBadRequest, result: resultExpiredState,
			reason: "This authorization link has expired. The operator puts a fresh one in Secret " + consentSecretName(claims) + " shortly before the old one expires."},
			objectOf(claims))
		a.page.OfferRetry = true
		return refuse(a)
	case errors.Is(err, oauthstate.ErrBadSignature):
		return refuse(refused(&refusal{status: http.StatusForbidden, result: resultInvalidState,
			reason: "The state in this address was not issued by this operator, or was altered."}, nil))
	case err != nil:
		return refuse(refused(&refusal{status: http.StatusBadRequest, result: resultInvalidState,
			reason: "The state in this address is not one this operator issues."}, nil))
	}
	return query, claims, nil
}

// serve acts on a callback whose state this operator signed: only such a
// callback reaches the API server.
func (h *Handler) serve(r *http.Request, query authresponse.Response, claims oauthstate.Claims) answer {

	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	obj, ref := h.objectAwaitingConsent(ctx, claims)
	if ref != nil {
		a := refused(ref, objectOf(claims))
		a.err = ref.cause
		return a
	}
	if r.Method == http.MethodHead {
		// HEAD is safe by definition: link checkers and previews may send
		// it, so it reports what a GET would find and changes nothing.
		return answer{page: page{Status: http.StatusOK, OK: true, Title: "Authorization link is valid",
			Message: "A GET of this address would hand the answer to the operator.", Object: objectOf(claims)}}
	}

	data := map[string][]byte{elementsv1alpha1.CallbackCodeKey: []byte(query.Code)}
	if query.Code == "" {
		data = map[string][]byte{elementsv1alpha1.CallbackErrorKey: []byte(query.Error)}
		if query.ErrorDescription != "" {
			data[elementsv1alpha1.CallbackErrorDescriptionKey] = []byte(query.ErrorDescription)
		}
	}
	if ref := h.deliver(ctx, obj, claims.Nonce, data); ref != nil {
		a := refused(ref, objectOf(claims))
		a.err = ref.cause
		return a
	}
	// The Secret is written: from here on the answer reaches the reconciler
	// whatever happens, so a failure to clear the nonce is logged and the
	// person still told that it worked. A replay meanwhile is still refused,
	// by the nonce recorded on the Secret.
	consumeErr := h.consumeNonce(ctx, obj, claims.Nonce)
	if consumeErr != nil {
		consumeErr = fmt.Errorf("clearing the used authorization nonce: %w", consumeErr)
	}

	if query.Code != "" {
		h.event(obj, corev1.EventTypeNormal, elementsv1alpha1.EventReasonAuthorizationReceived,
			"consent received through the OAuth callback; the authorization code is handed to the reconciler")
		return answer{result: resultCodeAccepted, err: consumeErr, page: page{Status: http.StatusOK, OK: true,
			Title:   "Authorization received",
			Message: "Thank you: HubSpot's consent reached the operator, which now completes the connection through Cloud Elements. This takes a few seconds; you can close this page.",
			Object:  objectOf(claims),
			Hint:    "When it is done, the Ready condition is True and the element token is in Secret " + obj.TokenSecretName() + "."}}
	}
	detail := query.Error
	if query.ErrorDescription != "" {
		detail += ": " + query.ErrorDescription
	}
	h.event(obj, corev1.EventTypeWarning, elementsv1alpha1.EventReasonAuthorizationDenied, "HubSpot consent was declined: "+authresponse.Truncate(detail, maxEventNoteBytes))
	return answer{result: resultDeniedRecorded, err: consumeErr, page: page{Status: http.StatusOK,
		Title:      "Consent was not given",
		Message:    "HubSpot reports that access was not granted. The operator has recorded this on the HubSpotInstance, which shows Ready=False with reason AuthorizationDenied in a moment.",
		Detail:     "HubSpot said: " + detail,
		Object:     objectOf(claims),
		OfferRetry: true}}
}

// objectAwaitingConsent reads the object the state names and checks that it
// is the very object the state was issued for, and that it still waits for
// this state and no other.
func (h *Handler) objectAwaitingConsent(ctx context.Context, claims oauthstate.Claims) (*elementsv1alpha1.HubSpotInstance, *refusal) {
	obj := &elementsv1alpha1.HubSpotInstance{}
	err := h.reader.Get(ctx, types.NamespacedName{Namespace: claims.Namespace, Name: claims.Name}, obj)
	switch {
	case apierrors.IsNotFound(err):
		return nil, &refusal{status: http.StatusNotFound, result: resultUnknownObject,
			reason: "The HubSpotInstance this link was issued for no longer exists."}
	case err != nil:
		return nil, apiFailure(fmt.Errorf("reading HubSpotInstance %s/%s: %w", claims.Namespace, claims.Name, err))
	case string(obj.UID) != claims.UID:
		return nil, &refusal{status: http.StatusNotFound, result: resultUnknownObject,
			reason: "The HubSpotInstance this link was issued for was deleted; an object of the same name has since been created, and it has its own link in Secret " + obj.AuthorizationSecretName() + "."}
	case !obj.DeletionTimestamp.IsZero():
		return nil, &refusal{status: http.StatusNotFound, result: resultUnknownObject,
			reason: "The HubSpotInstance this link was issued for is being deleted."}
	case obj.Spec.Auth.Type != elementsv1alpha1.AuthTypeOAuth2 || obj.Spec.Auth.OAuth2 == nil:
		return nil, &refusal{status: http.StatusConflict, result: resultNotOAuth2,
			reason: "The HubSpotInstance this link was issued for no longer uses OAuth2 (spec.auth.type), so it does not wait for consent."}
	case obj.Status.AuthorizationNonce != claims.Nonce:
		return nil, &refusal{status: http.StatusConflict, result: resultReplayedState,
			reason: "This authorization link was already used, or a newer link replaced it. Each link works once; the current one, if consent is still needed, is in Secret " + obj.AuthorizationSecretName() + "."}
	}
	return obj, nil
}

func (h *Handler) event(obj *elementsv1alpha1.HubSpotInstance, eventType, reason, note string) {
	if h.recorder != nil {
		h.recorder.Eventf(obj, nil, eventType, reason, "Callback", "%s", note)
	}
}

// refused turns a refusal into an error page. object is set only when the
// state was authentic, so a forged state makes the page name nothing.
func refused(ref *refusal, object *types.NamespacedName) answer {
	title := "Authorization link refused"
	switch {
	case ref.status == http.StatusMethodNotAllowed:
		title = "Method not allowed"
	case ref.status == http.StatusServiceUnavailable:
		title = "Temporarily unavailable"
	case ref.status >= http.StatusInternalServerError:
		title = "Something went wrong"
	}
	return answer{result: ref.result, page: page{Status: ref.status, Title: title, Message: ref.reason, Object: object}}
}

// apiFailure is a failed API call. Nothing was used up when it happens, so
// after a passing failure the same address works again: the person is told
// to reload. Anything else (RBAC, validation) needs the administrators.
func apiFailure(cause error) *refusal {
	if isTransient(cause) {
		return retryLater(cause)
	}
	return &refusal{status: http.StatusInternalServerError, result: resultInternalError, cause: cause,
		reason: "The operator could not record this answer. Its administrators will find why in its logs; reloading this page will not help until then."}
}

func retryLater(cause error) *refusal {
	return &refusal{status: http.StatusServiceUnavailable, result: resultInternalError, cause: cause,
		reason: "The operator could not record this answer just now. Nothing was used up: reload this page in a moment."}
}

func isTransient(err error) bool {
	var netErr net.Error
	return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) || apierrors.IsConflict(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr)
}

func objectOf(claims oauthstate.Claims) *types.NamespacedName {
	if claims.Namespace == "" || claims.Name == "" {
		return nil
	}
	return &types.NamespacedName{Namespace: claims.Namespace, Name: claims.Name}
}

// consentSecretName is the consent-link Secret of the object a state names.
func consentSecretName(claims oauthstate.Claims) string {
	obj := &elementsv1alpha1.HubSpotInstance{}
	obj.Name = claims.Name
	return obj.AuthorizationSecretName()
}

// trackingWriter remembers whether the status line went out, so that the
// panic handler knows whether it can still send an error page.
type trackingWriter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *trackingWriter) WriteHeader(status int) {
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}
