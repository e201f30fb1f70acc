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
	"errors"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// finish is deferred by Reconcile: it computes the conditions in one place,
// writes status only when it changed, and turns the outcome into a requeue.
func (r *HubSpotInstanceReconciler) finish(ctx context.Context, before *elementsv1alpha1.HubSpotInstance, s *session, err error) (ctrl.Result, error) {
	logger := log.FromContext(ctx)
	if s.gone {
		return ctrl.Result{}, err
	}
	if apierrors.IsConflict(err) {
		// Our copy was stale (the callback server or a person wrote the
		// object meanwhile): nothing went wrong, so nothing is reported.
		logger.V(1).Info("object changed during reconcile; retrying", "error", err.Error())
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	}
	if errors.Is(err, errRetryBudget) {
		// Nothing was tried, so nothing new is known: status stays as the
		// failed attempt left it, and the work queue's backoff grows.
		return ctrl.Result{}, err
	}
	obj := s.obj
	err = r.recordAttempt(s, err)
	out := s.out
	switch {
	case err != nil:
		out = outcomeFromError(err)
	case out.reason == "":
		out = outcome{ready: true, reason: elementsv1alpha1.ReasonAvailable,
			message: "element instance " + formatID(obj.Status.InstanceID) + " is valid and its token is in Secret " + obj.Status.TokenSecretName}
		out.message = withNote(out.message, s.note, meta.FindStatusCondition(before.Status.Conditions, elementsv1alpha1.ConditionReady))
	}
	if requested := obj.Annotations[elementsv1alpha1.ReconcileRequestAnnotation]; requested != "" {
		obj.Status.LastHandledReconcileAt = requested
	}
	summarize(obj, out)
	readyStatus := strconv.FormatBool(out.ready)
	s.remember(func(m *remembered) { m.readyStatus, m.readyReason, m.stalled = readyStatus, out.reason, out.stalled })

	if !equality.Semantic.DeepEqual(before.Status, obj.Status) {
		if perr := r.Status().Patch(ctx, obj, statusPatch(before, obj)); perr != nil {
			if apierrors.IsNotFound(perr) {
				return ctrl.Result{}, nil
			}
			if apierrors.IsConflict(perr) {
				// Another writer (a second manager) recorded something since
				// our read: our verdict may be out of date, and is not
				// written; the next reconcile concludes again.
				logger.V(1).Info("status changed during reconcile; retrying", "error", perr.Error())
				res, rerr := requeue(err, conflictRetry, stallRetry(obj))
				if rerr == nil && res.RequeueAfter == 0 {
					res.RequeueAfter = conflictRetry
				}
				return res, rerr
			}
			if apierrors.IsInvalid(perr) {
				// A bug of ours, never the user's: said where a person looks,
				// once per change of the refusal, and retried with backoff.
				logger.Error(perr, "the API server refused the status write")
				r.event(obj, corev1.EventTypeWarning, elementsv1alpha1.EventReasonStatusRefused, "Reconcile",
					"the API server refused the status write: "+perr.Error())
			}
			return ctrl.Result{}, errors.Join(err, perr)
		}
		r.rememberWrite(s)
		if !(out.ready && s.announced) {
			r.recordTransition(before, obj, out)
		}
	}

	var rerr *reconcileError
	switch {
	case errors.As(err, &rerr) && rerr.retryAfter > 0:
		logger.Info("Cloud Elements asked us to wait", "retryAfter", rerr.retryAfter)
	case errors.As(err, &rerr) && rerr.stalled:
		logger.Info("stalled; a person should look", "reason", rerr.reason, "message", rerr.Error(), "retriedByItself", rerr.fromPlatform)
	}
	return requeue(err, r.nextWakeUp(s), stallRetry(obj))
}

// statusPatch is the status write of a reconcile. It carries status only:
// a diff from before would also carry the metadata our own writes changed
// during the reconcile (a create marker, a finalizer), resourceVersion
// included, which the API server takes as a lock — and then the record of a
// new instance loses to whatever another writer wrote since our marker.
//
// A write that records an instance says the most there is to say and goes
// through whatever came between. One that records none was concluded
// without one (waiting for a create, or failing before any) and another
// writer may have recorded it meanwhile: as a merge patch it would put that
// conclusion over the record, and, status changes waking nobody, leave it
// there. So it holds only if the object is still as read, or as our own
// writes since left it.
func statusPatch(before, obj *elementsv1alpha1.HubSpotInstance) client.Patch {
	base := &elementsv1alpha1.HubSpotInstance{TypeMeta: obj.TypeMeta, ObjectMeta: obj.ObjectMeta, Spec: obj.Spec, Status: before.Status}
	if obj.Status.InstanceID != 0 {
		return client.MergeFrom(base)
	}
	return client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})
}

// withNote adds this reconcile's note to the Ready message or, without one,
// keeps the note an earlier reconcile added while the rest still holds: a
// note is said once, and stays until something else changes.
func withNote(message, note string, ready *metav1.Condition) string {
	switch {
	case note != "":
		return message + "; " + note
	case ready != nil && strings.HasPrefix(ready.Message, message+"; "):
		return ready.Message
	}
	return message
}

// recordAttempt remembers, in one memory write, how a reconcile ended:
// whether it failed (the next one is then a retry, on the account's retry
// budget), how many reconciles in a row Cloud Elements answered 429 for
// this generation, and which attempt it refused, held until its retry. It
// returns err, a 429 streak past its bound turned into a stall.
func (r *HubSpotInstanceReconciler) recordAttempt(s *session, err error) error {
	obj := s.obj
	failing := err != nil
	limited := cloudelements.IsRateLimited(err)
	streak, generation := s.mem.rateLimited, s.mem.rateLimitedGeneration
	switch {
	case !limited && s.awaitingCreate:
		// Waiting out a 429'd create is no answer: the streak stands,
		// so a 429 that never lifts still ends in a refusal.
	case !limited:
		streak = 0
	case generation != obj.Generation:
		streak, generation = 1, obj.Generation
	default:
		streak++
	}
	err = boundRateLimit(err, streak)
	// A repeated stall stands as recorded.
	stalledAttempt, stalledUntil := s.mem.stalledAttempt, s.mem.stalledUntil
	if !s.stallRepeated {
		stalledAttempt, stalledUntil = "", time.Time{}
		var rerr *reconcileError
		if errors.As(err, &rerr) && rerr.stalled && rerr.fromPlatform {
			stalledAttempt, stalledUntil = r.attemptFingerprint(s), r.now().Add(stallRetry(obj))
		}
	}
	s.remember(func(m *remembered) {
		m.failing, m.rateLimited, m.rateLimitedGeneration = failing, streak, generation
		m.stalledAttempt, m.stalledUntil = stalledAttempt, stalledUntil
	})
	return err
}

// requeue decides how the next reconcile comes after one that ended with err:
// when Cloud Elements said; for a stall Cloud Elements caused, after
// stallRetry; never by itself for a stall on our side (retrying cannot help;
// the watches on the spec and its Secrets bring the next attempt, so there is
// no hot loop); with the workqueue's backoff for other failures; else at the
// next wake-up.
func requeue(err error, wake, stallRetry time.Duration) (ctrl.Result, error) {
	var rerr *reconcileError
	switch {
	case errors.As(err, &rerr) && rerr.retryAfter > 0:
		// An endpoint's Retry-After of a day would park the object: never
		// longer than a stall waits.
		return ctrl.Result{RequeueAfter: min(rerr.retryAfter, stallRetry)}, nil
	case errors.As(err, &rerr) && rerr.stalled && rerr.fromPlatform:
		return ctrl.Result{RequeueAfter: stallRetry}, nil
	case errors.As(err, &rerr) && rerr.stalled:
		return ctrl.Result{}, nil
	case err != nil:
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: wake}, nil
}

// nextWakeUp is when the object next needs attention without any event:
// the drift poll, or sooner if a step asked for it.
func (r *HubSpotInstanceReconciler) nextWakeUp(s *session) time.Duration {
	obj := s.obj
	if obj.Spec.Suspend || !obj.DeletionTimestamp.IsZero() {
		return 0
	}
	wake := s.requeueAfter
	if instanceIDOf(obj) != 0 && !r.drift.covers(client.ObjectKeyFromObject(obj)) {
		poll := r.untilPollDue(s)
		if wake == 0 || poll < wake {
			wake = poll
		}
	}
	return wake
}

// recordTransition emits an Event when the Ready reason changes, so a
// retrying failure is announced once rather than on every attempt. An object
// Ready at its first attempt gets none: its status says all there is, and
// at thousands of objects an Event each would double the writes of a create.
func (r *HubSpotInstanceReconciler) recordTransition(before, after *elementsv1alpha1.HubSpotInstance, out outcome) {
	old := meta.FindStatusCondition(before.Status.Conditions, elementsv1alpha1.ConditionReady)
	if (old != nil && old.Reason == out.reason) || (old == nil && out.ready) {
		return
	}
	eventType := corev1.EventTypeWarning
	switch out.reason {
	case elementsv1alpha1.ReasonAvailable, elementsv1alpha1.ReasonSuspended, elementsv1alpha1.ReasonAwaitingAuthorization, elementsv1alpha1.ReasonProgressing:
		eventType = corev1.EventTypeNormal
	}
	r.event(after, eventType, out.reason, "Reconcile", out.message)
}

// writeBack ends every reconcile whose object is still there: what its
// steps and its finish recorded on the session goes to memory, in one write.
func (r *HubSpotInstanceReconciler) writeBack(s *session) {
	if s.gone || len(s.learnt) == 0 {
		return
	}
	r.mem.writeBack(s.obj, s.forgotten, s.mem, s.learnt...)
}
