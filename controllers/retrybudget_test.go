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

	"github.com/google/go-cmp/cmp"

	"github.com/hubspot-operator/hubspot-operator/internal/keyedrate"
)

func TestRetryBudgets(t *testing.T) {
	budgets := newRetryBudgets(0.001, 2) // refills far slower than the test runs
	var got []bool
	for range 3 {
		got = append(got, budgets.allow("account-a"))
	}
	got = append(got, budgets.allow("account-b"))
	want := []bool{true, true, false, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("allow (-want +got):\n%s\nthe burst is spent per account, and accounts do not share it", diff)
	}
}

// The account key changes with the credentials: a tenant rotating them in a
// loop must not leave a budget behind per rotation.
func TestRetryBudgetsForgetAccountsNoLongerUsed(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	budgets := newRetryBudgets(DefaultRetryQPS, DefaultRetryBurst, keyedrate.WithIdle(time.Minute))
	budgets.now = clock
	largest := 0
	for i := range 1000 {
		for budgets.allow(fmt.Sprintf("account-%d", i)) {
		}
		largest = max(largest, budgets.byAccount.Len())
		now = now.Add(5 * time.Second)
	}
	if largest > 25 {
		t.Errorf("after 1,000 rotations of the credentials, %d retry budgets were held at once; want at most 25 (two idle minutes of them)", largest)
	}
}
