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

package keyedrate

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"
)

func TestForgettable(t *testing.T) {
	const idle = time.Minute
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	spent := func(limit rate.Limit, burst, n int) *rate.Limiter {
		l := rate.NewLimiter(limit, burst)
		l.AllowN(start, n)
		return l
	}
	tests := map[string]struct {
		limiter *rate.Limiter
		usedAt  time.Time
		now     time.Time
		want    bool
	}{
		"full and idle":                      {spent(1, 5, 0), start, start.Add(idle), true},
		"full, used within the idle period":  {spent(1, 5, 0), start, start.Add(idle - time.Second), false},
		"refilled since its use, and idle":   {spent(1, 5, 5), start, start.Add(idle), true},
		"still refilling long after its use": {spent(0.01, 5, 5), start, start.Add(idle), false},
		"a bucket that never refills":        {spent(0, 5, 1), start, start.Add(24 * time.Hour), false},
		"a bucket that never refills, full":  {spent(0, 5, 0), start, start.Add(idle), true},
		"no limit at all, idle":              {spent(rate.Inf, 1, 1), start, start.Add(idle), true},
		"no limit at all, in use":            {spent(rate.Inf, 1, 1), start, start.Add(time.Second), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := forgettable(tc.limiter, tc.usedAt, tc.now, idle)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("forgettable (-want +got):\n%s", diff)
			}
		})
	}
}

// A tenant rotating their credentials makes a new key each time: the map
// holds the keys of the last idle periods, not every key ever seen.
func TestRotatingKeysStaysBounded(t *testing.T) {
	const idle, every = time.Minute, 5 * time.Second
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	limiters := New(WithIdle(idle), WithClock(func() time.Time { return now }))
	largest := 0
	for i := range 1000 {
		// Each set of credentials spends its whole burst, as a failing
		// object's retries do, and is then never used again.
		limiters.Get(fmt.Sprintf("endpoint\x00credentials-%d", i), 10, 20).AllowN(now, 20)
		largest = max(largest, limiters.Len())
		now = now.Add(every)
	}
	// A key is forgotten at the first sweep after it has been idle for a
	// whole period: at most two periods of keys are ever held.
	if bound := int(2*idle/every) + 1; largest > bound {
		t.Errorf("after 1,000 rotations the map held up to %d keys, want at most %d", largest, bound)
	}
}

func TestAForgottenKeyStartsWithAFullBucket(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	limiters := New(WithIdle(time.Minute), WithClock(func() time.Time { return now }))
	var got []bool
	get := func() *rate.Limiter { return limiters.Get("account", 1, 2) }
	got = append(got, get().AllowN(now, 1), get().AllowN(now, 1), get().AllowN(now, 1))
	now = now.Add(time.Hour)
	limiters.Get("another", 1, 2) // sweeps
	got = append(got, get().AllowN(now, 1), get().AllowN(now, 1), get().AllowN(now, 1))
	if diff := cmp.Diff([]bool{true, true, false, true, true, false}, got); diff != "" {
		t.Errorf("allow (-want +got):\n%s", diff)
	}
}
