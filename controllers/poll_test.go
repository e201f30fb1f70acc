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
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

func TestUntilPollDue(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	const uid = types.UID("0b5e6a1c-5c4f-4f0e-9d1a-7f3c2b1a0e9d")
	interval := 10 * time.Minute
	jitter := pollJitter(uid, interval)
	cases := map[string]struct {
		verifiedAt time.Time
		want       time.Duration
	}{
		"never verified: due now":        {time.Time{}, 0},
		"just verified: a full interval": {now, interval + jitter},
		"half way":                       {now.Add(-interval / 2), interval/2 + jitter},
		"exactly due":                    {now.Add(-interval - jitter), 0},
		"overdue":                        {now.Add(-2 * interval), -interval + jitter},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := untilPollDue(tc.verifiedAt, now, interval, uid); got != tc.want {
				t.Errorf("untilPollDue = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPollJitter(t *testing.T) {
	interval := 10 * time.Minute
	seen := map[time.Duration]bool{}
	for i := range 200 {
		uid := types.UID(fmt.Sprintf("uid-%d", i))
		j := pollJitter(uid, interval)
		if j < 0 || j >= time.Duration(float64(interval)*pollJitterFraction) {
			t.Fatalf("jitter %v for %s outside [0, %v)", j, uid, time.Duration(float64(interval)*pollJitterFraction))
		}
		if again := pollJitter(uid, interval); again != j {
			t.Fatalf("jitter for %s not stable: %v then %v", uid, j, again)
		}
		seen[j] = true
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct jitters for 200 objects: polls would bunch up", len(seen))
	}
}

func TestPollIntervalDefaults(t *testing.T) {
	cases := map[string]struct {
		spec *metav1.Duration
		want time.Duration
	}{
		"unset":              {nil, elementsv1alpha1.DefaultPollInterval},
		"set":                {&metav1.Duration{Duration: time.Hour}, time.Hour},
		"at the floor":       {&metav1.Duration{Duration: 30 * time.Second}, 30 * time.Second},
		"below the floor":    {&metav1.Duration{Duration: time.Second}, elementsv1alpha1.DefaultPollInterval},
		"zero (old objects)": {&metav1.Duration{}, elementsv1alpha1.DefaultPollInterval},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := elementsv1alpha1.HubSpotInstanceSpec{PollInterval: tc.spec}
			if got := spec.GetPollInterval(); got != tc.want {
				t.Errorf("GetPollInterval = %v, want %v", got, tc.want)
			}
		})
	}
}
