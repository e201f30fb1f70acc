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
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// outcome is what one reconcile concluded. Every step reports through it, and
// summarize turns it into conditions in one place.
type outcome struct {
	ready   bool
	reason  string
	message string
	// stalled means retrying cannot help until a person changes the spec or a
	// referenced Secret; watches, not the workqueue, bring the next attempt.
	stalled bool
	// progressing means the operator is still working towards Ready (a
	// retry is scheduled, or it waits for something it asked for).
	progressing bool
}

// reconcileError carries the condition reason a failure should be shown with.
type reconcileError struct {
	reason  string
	stalled bool
	// fromPlatform: Cloud Elements (or something in front of it) refused.
	// A person should look, but the platform may also recover by itself
	// (a WAF rule, an incident, a rotation in flight), so it is retried at
	// the poll interval rather than only on an edit.
	fromPlatform bool
	// retryAfter, when set, schedules the next attempt instead of the
	// workqueue's exponential backoff (Cloud Elements asked us to wait).
	retryAfter time.Duration
	err        error
}

func (e *reconcileError) Error() string { return e.err.Error() }
func (e *reconcileError) Unwrap() error { return e.err }

// stalledError is a failure that only a change of input can fix.
func stalledError(reason, format string, args ...any) error {
	return &reconcileError{reason: reason, stalled: true, err: fmt.Errorf(format, args...)}
}

// platformStall is a refusal by Cloud Elements: stalled, and retried at the
// poll interval.
func platformStall(reason string, err error) error {
	return &reconcileError{reason: reason, stalled: true, fromPlatform: true, err: err}
}

// transientError is a failure worth retrying with backoff.
func transientError(reason string, err error) error {
	return &reconcileError{reason: reason, err: err}
}

// classifyAPIError maps a Cloud Elements failure onto a condition reason and a
// retry policy: bad requests and bad credentials stall, 429 waits as told,
// everything else backs off.
func classifyAPIError(what string, err error) error {
	switch {
	case cloudelements.IsUnauthorized(err):
		return platformStall(elementsv1alpha1.ReasonUnauthorized,
			fmt.Errorf("%s: Cloud Elements refused the account credentials: %w", what, err))
	case cloudelements.IsInvalidRequest(err):
		return platformStall(elementsv1alpha1.ReasonInvalidConfiguration, fmt.Errorf("%s: %w", what, err))
	}
	if wait, ok := cloudelements.RetryAfter(err); ok {
		return &reconcileError{reason: elementsv1alpha1.ReasonRateLimited, retryAfter: wait,
			err: fmt.Errorf("%s: rate limited by Cloud Elements (Retry-After %s; retried then, or at the poll interval if sooner, at most 10m): %w", what, wait, err)}
	}
	return transientError(elementsv1alpha1.ReasonAPIUnavailable, fmt.Errorf("%s: %w", what, err))
}

// maxRateLimitedTries is how many reconciles in a row an object may be
// answered 429 before that is read as a refusal: a rate limit lifts within a
// few Retry-After waits; a size or timeout limit never does.
const maxRateLimitedTries = 10

// boundRateLimit turns the streak-th 429 in a row into a stall retried at
// the poll interval, so that a 429 that is not transient does not hold the
// object in an endless wait.
func boundRateLimit(err error, streak int) error {
	if streak < maxRateLimitedTries || !cloudelements.IsRateLimited(err) {
		return err
	}
	return platformStall(elementsv1alpha1.ReasonRateLimited, fmt.Errorf(
		"Cloud Elements answered 429 to %d attempts in a row, so this is treated as a refusal rather than a rate limit (SAP Open Connectors also answers 429 for payload-size and timeout limits, which waiting does not lift); retried at the poll interval, at most 10m, or on a change of the spec: %w",
		streak, err))
}

// nothingCreated reports whether a failed create certainly created nothing:
// the request never left (our own rate limiter, a refused connection), or
// the platform itself refused it with its JSON error for a status that only
// ever means "this request was not acted on". Everything else may have
// created an instance: a timeout, a dropped connection, any 5xx (a proxy
// answers 503 after forwarding), a 409 ("being created"), a 429 (SAP Open
// Connectors answers 429 for a timeout too), a 408, and any answer that is
// not the platform's own error body. Only the owner-tag lookup, after the
// grace period, can tell then.
func nothingCreated(err error) bool {
	var apiErr *cloudelements.APIError
	if errors.As(err, &apiErr) {
		return apiErr.PlatformError && refusalStatuses[apiErr.StatusCode]
	}
	return errors.Is(err, cloudelements.ErrClientRateLimited) || errors.Is(err, syscall.ECONNREFUSED)
}

// refusalStatuses are the answers the platform gives before acting on a
// request: it is malformed, unauthenticated, forbidden, names nothing, or
// fails validation.
var refusalStatuses = map[int]bool{
	http.StatusBadRequest:          true,
	http.StatusUnauthorized:        true,
	http.StatusForbidden:           true,
	http.StatusNotFound:            true,
	http.StatusUnprocessableEntity: true,
}

// outcomeFromError describes a failed reconcile.
func outcomeFromError(err error) outcome {
	var rerr *reconcileError
	if errors.As(err, &rerr) {
		return outcome{reason: rerr.reason, message: rerr.Error(), stalled: rerr.stalled, progressing: !rerr.stalled}
	}
	return outcome{reason: elementsv1alpha1.ReasonProgressing, message: err.Error(), progressing: true}
}

// summarize is the one place that writes conditions. They follow kstatus:
// Ready is always present; Reconciling and Stalled exist only while True.
func summarize(obj *elementsv1alpha1.HubSpotInstance, out outcome) {
	status := &obj.Status
	gen := obj.Generation
	status.ObservedGeneration = gen
	out.message = boundedText(out.message, maxConditionMessage)

	ready := metav1.Condition{Type: elementsv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: out.reason, Message: out.message, ObservedGeneration: gen}
	if out.ready {
		ready.Status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&status.Conditions, ready)

	setWhileTrue(status, elementsv1alpha1.ConditionStalled, out.stalled, out.reason, out.message, gen)
	setWhileTrue(status, elementsv1alpha1.ConditionReconciling, out.progressing && !out.stalled, out.reason, out.message, gen)
}

func setWhileTrue(status *elementsv1alpha1.HubSpotInstanceStatus, condType string, on bool, reason, message string, gen int64) {
	if !on {
		meta.RemoveStatusCondition(&status.Conditions, condType)
		return
	}
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: condType, Status: metav1.ConditionTrue,
		Reason: reason, Message: message, ObservedGeneration: gen})
}

// maxConditionMessage bounds a condition's message well inside the API's
// 32 KiB: a message built from what an endpoint or an instance says (its
// tags, its errors) must never make the status write itself refused.
const maxConditionMessage = 4096

// boundedText cuts s to at most limit bytes on a rune boundary, saying how
// much was left out.
func boundedText(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	room := min(40, limit/2) // for the note
	cut := limit - room
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d more bytes)", len(s)-cut)
}

// maxListed and maxListedItem bound a list quoted in a message or status.
const (
	maxListed     = 10
	maxListedItem = 128
)

// boundedList joins items for a message: at most maxListed, each at most
// maxListedItem bytes, then how many more there are.
func boundedList(items []string) string {
	shown := items[:min(len(items), maxListed)]
	parts := make([]string, 0, len(shown)+1)
	for _, item := range shown {
		parts = append(parts, boundedText(item, maxListedItem))
	}
	if more := len(items) - len(shown); more > 0 {
		parts = append(parts, fmt.Sprintf("… and %d more", more))
	}
	return strings.Join(parts, ", ")
}
