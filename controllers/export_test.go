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

	"k8s.io/apimachinery/pkg/types"
)

// Hooks for the envtest suite (package controllers_test) only.

// ForgetEverything drops what the process remembers about objects and
// which instances the listings watch, as a restart does.
func (r *HubSpotInstanceReconciler) ForgetEverything() {
	r.mem.mu.Lock()
	clear(r.mem.objects)
	r.mem.mu.Unlock()
	if r.drift != nil {
		r.drift.mu.Lock()
		clear(r.drift.accounts)
		clear(r.drift.memberOf)
		r.drift.mu.Unlock()
	}
}

// VerifiedByListing reports whether an object's instance was seen, as last
// recorded, in a listing or a call since the process started.
func (r *HubSpotInstanceReconciler) VerifiedByListing(key types.NamespacedName) bool {
	r.mem.mu.Lock()
	defer r.mem.mu.Unlock()
	m, ok := r.mem.objects[key]
	return ok && !m.verifiedAt.IsZero() && !m.pollNow && m.tokenDigest != ""
}

// DriftState describes the listings' schedule, for a failing spec to print.
func (r *HubSpotInstanceReconciler) DriftState() string {
	if r.drift == nil {
		return "no account listing"
	}
	r.drift.mu.Lock()
	defer r.drift.mu.Unlock()
	now := r.now()
	out := ""
	for key, a := range r.drift.accounts {
		out += fmt.Sprintf("account %.12s: %d members, next listing in %s, listing %t, failures %d, shortest interval %s\n",
			key, len(a.members), a.nextList.Sub(now), a.listing, a.failures, a.shortestInterval())
	}
	return out
}

// HoldsRetryBudget reports whether a retry budget is held for the account
// an endpoint and its secrets name.
func (r *HubSpotInstanceReconciler) HoldsRetryBudget(endpoint, userSecret, organizationSecret string) bool {
	in := &inputs{endpoint: endpoint, userSecret: userSecret, organizationSecret: organizationSecret}
	return r.retries.byAccount.Holds(accountKey(r.hashKey, in))
}
