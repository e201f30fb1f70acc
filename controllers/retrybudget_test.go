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

	"github.com/google/go-cmp/cmp"
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
