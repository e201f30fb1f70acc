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
	"strconv"
	"time"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"

	"k8s.io/apimachinery/pkg/api/meta"
)

// maxStallRetry caps how long a platform-side stall waits for its retry.
const maxStallRetry = 10 * time.Minute

// stallRetry is when a stall that Cloud Elements caused is tried again: at
// the poll interval, capped, with the object's jitter.
func stallRetry(obj *elementsv1alpha1.HubSpotInstance) time.Duration {
	interval := min(obj.Spec.GetPollInterval(), maxStallRetry)
	return interval + pollJitter(obj.UID, interval)
}

// attemptFingerprint names what an attempt was made from: the desired
// configuration and authorization, the account, the generation and any
// reconcile request. Credentials rotated, a spec edited or a person asking
// for a retry all change it.
func (r *HubSpotInstanceReconciler) attemptFingerprint(s *session) string {
	if s.in == nil {
		return ""
	}
	return keyedHash(r.hashKey, "attempt", s.hash, s.authHash, accountKey(r.hashKey, s.in),
		strconv.FormatInt(s.obj.Generation, 10), s.obj.Annotations[elementsv1alpha1.ReconcileRequestAnnotation])
}

// waitOutStall: when Cloud Elements refused the very same attempt and its
// retry time has not come, the reconcile — woken by an unrelated event, say
// a Secret's labels or the cache meeting a Secret late — says the same again
// instead of repeating the refused call.
func (r *HubSpotInstanceReconciler) waitOutStall(_ context.Context, s *session) error {
	wait, held := untilStallRetry(s.mem.stalledAttempt, s.mem.stalledUntil, r.attemptFingerprint(s), r.now())
	ready := meta.FindStatusCondition(s.obj.Status.Conditions, elementsv1alpha1.ConditionReady)
	if !held || ready == nil || !meta.IsStatusConditionTrue(s.obj.Status.Conditions, elementsv1alpha1.ConditionStalled) {
		return nil
	}
	s.stallRepeated, s.requeueAfter = true, wait
	s.conclude(outcome{reason: ready.Reason, message: ready.Message, stalled: true})
	return nil
}

// untilStallRetry is how long the stall recorded for an attempt still holds
// for the attempt at hand; false when it does not hold (another attempt, or
// its retry is due).
func untilStallRetry(stalled string, until time.Time, attempt string, now time.Time) (time.Duration, bool) {
	if stalled == "" || stalled != attempt || !now.Before(until) {
		return 0, false
	}
	return until.Sub(now), true
}
