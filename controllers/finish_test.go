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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

// TestStatusPatch: a status write carries status only; it holds only on the
// object as read (or as our own writes left it) when it records no
// instance, and never when it records one.
func TestStatusPatch(t *testing.T) {
	read := func(rv string, id int64, reason string) *elementsv1alpha1.HubSpotInstance {
		obj := &elementsv1alpha1.HubSpotInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a", ResourceVersion: rv}}
		obj.Status.InstanceID = id
		obj.Status.InstancePlatform = reason // a status field that changes, standing for the verdict
		return obj
	}
	// afterOurMarker is the object once our own marker write (annotation,
	// finalizer) moved it to resourceVersion 2.
	afterOurMarker := func(id int64, reason string) *elementsv1alpha1.HubSpotInstance {
		obj := read("2", id, reason)
		obj.Annotations = map[string]string{elementsv1alpha1.CreatePendingAnnotation: "marker"}
		obj.Finalizers = []string{elementsv1alpha1.Finalizer}
		return obj
	}
	tests := []struct {
		name          string
		before, after *elementsv1alpha1.HubSpotInstance
		want          string
	}{
		{"the record of the instance our create made goes through whatever came since our marker",
			read("1", 0, ""), afterOurMarker(5, "created"),
			`{"status":{"instanceID":5,"instancePlatform":"created"}}`},
		{"waiting for another writer's create holds only on the object as read",
			read("2", 0, ""), read("2", 0, "waiting"),
			`{"metadata":{"resourceVersion":"2"},"status":{"instancePlatform":"waiting"}}`},
		{"a create that failed holds on the object as our marker left it",
			read("1", 0, ""), afterOurMarker(0, "failed"),
			`{"metadata":{"resourceVersion":"2"},"status":{"instancePlatform":"failed"}}`},
		{"forgetting a vanished instance holds only on the object as read",
			read("3", 5, "seen"), read("3", 0, "seen"),
			`{"metadata":{"resourceVersion":"3"},"status":{"instanceID":null}}`},
		{"a verdict about a recorded instance goes through",
			read("4", 5, "valid"), read("4", 5, "disabled"),
			`{"status":{"instancePlatform":"disabled"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := statusPatch(tt.before, tt.after).Data(tt.after)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(data)); diff != "" {
				t.Errorf("patch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequeue(t *testing.T) {
	wake, stallRetry := 10*time.Minute, 61*time.Second
	plain := errors.New("etcd hiccup")
	cases := map[string]struct {
		err        error
		wantAfter  time.Duration
		wantReturn error
	}{
		"success: at the next wake-up": {nil, wake, nil},
		"rate limited: when told": {&reconcileError{reason: elementsv1alpha1.ReasonRateLimited, retryAfter: 7 * time.Second, err: plain},
			7 * time.Second, nil},
		"a Retry-After of a day: capped at the stall retry": {&reconcileError{reason: elementsv1alpha1.ReasonRateLimited, retryAfter: 24 * time.Hour, err: plain},
			stallRetry, nil},
		"stalled on our side: only when an input changes": {stalledError(elementsv1alpha1.ReasonMissingConfiguration, "gone"), 0, nil},
		"stalled by the platform: at the stall retry":     {classifyAPIError("polling", apiError(403)), stallRetry, nil},
		"transient: workqueue backoff":                    {plain, 0, plain},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := requeue(tc.err, wake, stallRetry)
			if res.RequeueAfter != tc.wantAfter || !errors.Is(err, tc.wantReturn) || (err == nil) != (tc.wantReturn == nil) {
				t.Errorf("requeue = (%v, %v), want (%v, %v)", res.RequeueAfter, err, tc.wantAfter, tc.wantReturn)
			}
		})
	}
}
