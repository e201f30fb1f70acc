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
	"hash/fnv"
	"time"

	"k8s.io/apimachinery/pkg/types"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// pollJitterFraction bounds the per-object jitter added to the poll interval.
const pollJitterFraction = 0.05

// pollDue says whether the instance must be looked at now. With account
// listings, only when a listing found it drifted, or missing; and an object
// this process never verified waits for its account's first listing rather
// than costing a GET. Without them, when it was never verified by this
// process, or verified longer than pollInterval ago.
func (r *HubSpotInstanceReconciler) pollDue(s *session) bool {
	if r.drift != nil {
		return s.mem.pollNow
	}
	return r.untilPollDue(s) <= 0
}

func (r *HubSpotInstanceReconciler) untilPollDue(s *session) time.Duration {
	return untilPollDue(s.mem.verifiedAt, r.now(), s.obj.Spec.GetPollInterval(), s.obj.UID)
}

// untilPollDue is how long until an instance last verified at verifiedAt is
// due for its next check; zero or less means now. Never verified means now.
func untilPollDue(verifiedAt, now time.Time, interval time.Duration, uid types.UID) time.Duration {
	if verifiedAt.IsZero() {
		return 0
	}
	return verifiedAt.Add(interval + pollJitter(uid, interval)).Sub(now)
}

// pollJitter is a stable delay of up to 5% of the interval, per object (or,
// keyed by its name, per account): it spreads the polls of many objects
// created together, without ever polling more often than asked.
func pollJitter(uid types.UID, interval time.Duration) time.Duration {
	h := fnv.New32a()
	_, _ = h.Write([]byte(uid))
	return time.Duration(float64(interval) * pollJitterFraction * float64(h.Sum32()%1000) / 1000)
}

// reconcileRequested: a person asked for a full check now, the Flux way.
func reconcileRequested(obj *elementsv1alpha1.HubSpotInstance) bool {
	requested := obj.Annotations[elementsv1alpha1.ReconcileRequestAnnotation]
	return requested != "" && requested != obj.Status.LastHandledReconcileAt
}
