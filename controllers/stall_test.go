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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

func TestStallRetry(t *testing.T) {
	cases := map[string]struct {
		interval *metav1.Duration
		min, max time.Duration
	}{
		"poll interval 1m":        {&metav1.Duration{Duration: time.Minute}, time.Minute, time.Minute * 105 / 100},
		"default 10m":             {nil, 10 * time.Minute, 10 * time.Minute * 105 / 100},
		"poll interval 1h capped": {&metav1.Duration{Duration: time.Hour}, maxStallRetry, maxStallRetry * 105 / 100},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := &elementsv1alpha1.HubSpotInstance{ObjectMeta: metav1.ObjectMeta{UID: "u-1"},
				Spec: elementsv1alpha1.HubSpotInstanceSpec{PollInterval: tc.interval}}
			if got := stallRetry(obj); got < tc.min || got >= tc.max {
				t.Errorf("stallRetry = %v, want in [%v, %v)", got, tc.min, tc.max)
			}
		})
	}
}

func TestUntilStallRetry(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	type result struct {
		Wait time.Duration
		Held bool
	}
	cases := map[string]struct {
		stalled string
		until   time.Time
		attempt string
		want    result
	}{
		"nothing refused":                    {"", time.Time{}, "a", result{0, false}},
		"the same attempt, before its retry": {"a", now.Add(time.Minute), "a", result{time.Minute, true}},
		"the same attempt, its retry is due": {"a", now, "a", result{0, false}},
		"something it was made from changed": {"a", now.Add(time.Minute), "b", result{0, false}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			wait, held := untilStallRetry(tc.stalled, tc.until, tc.attempt, now)
			if diff := cmp.Diff(tc.want, result{wait, held}); diff != "" {
				t.Errorf("untilStallRetry (-want +got):\n%s", diff)
			}
		})
	}
}
