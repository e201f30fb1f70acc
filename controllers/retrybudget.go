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
	"time"

	"golang.org/x/time/rate"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/keyedrate"
)

// errRetryBudget stops a retry before it reaches Cloud Elements. Nothing was
// sent, so the object is simply retried later, with the work queue's backoff.
var errRetryBudget = errors.New("the account's budget for retrying failed objects is spent for now, so that failing objects cannot crowd out creates and edits; retried with backoff")

// Default retry budget per account: a quarter of the client's default limit
// (10/s, burst 20), so failures never take more than that share of it.
const (
	DefaultRetryQPS   = 2.5
	DefaultRetryBurst = 5
)

// retryBudgets give each (endpoint, account) a token bucket that only the
// reconciles of objects whose last attempt failed draw from, one token per
// attempt. The client's own limit is shared by everything; this one bounds
// the failures' share of it, so that a burst of failing objects (a bad batch,
// an incident) cannot spend the account's calls and hold up the work people
// asked for.
//
// The account key changes whenever a credentials Secret does: the budget of
// an account no longer used is forgotten once it is full again (see
// keyedrate), so credentials rotated in a loop leave nothing behind.
type retryBudgets struct {
	qps       rate.Limit
	burst     int
	now       func() time.Time
	byAccount *keyedrate.Limiters
}

func newRetryBudgets(qps float64, burst int, opts ...keyedrate.Option) *retryBudgets {
	b := &retryBudgets{qps: rate.Limit(qps), burst: max(burst, 1), now: time.Now}
	b.byAccount = keyedrate.New(append([]keyedrate.Option{keyedrate.WithClock(func() time.Time { return b.now() })}, opts...)...)
	return b
}

// allow takes a token from the account's budget, if one is left.
func (b *retryBudgets) allow(account string) bool {
	return b.byAccount.Get(account, b.qps, b.burst).AllowN(b.now(), 1)
}

// WithRetryBudget sets how many attempts per second (and in a burst) the
// objects whose last attempt failed may make against one account.
func WithRetryBudget(qps float64, burst int) Option {
	return func(r *HubSpotInstanceReconciler) { r.retries = newRetryBudgets(qps, burst) }
}

// spendRetry lets a failing object try again now, or stops it without a
// call when its account's retry budget is spent.
func (r *HubSpotInstanceReconciler) spendRetry(s *session) error {
	if !s.mem.failing || r.retries.allow(accountKey(r.hashKey, s.in)) {
		return nil
	}
	return transientError(elementsv1alpha1.ReasonAPIUnavailable, errRetryBudget)
}
