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
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements/simulator"
)

func TestDriftOf(t *testing.T) {
	tokenHash := func(uid types.UID, token string) string { return string(uid) + "/" + token }
	seen := member{id: 7, valid: true, uid: "u", tokenDigest: tokenHash("u", "tok")}
	same := cloudelements.Instance{ID: 7, Valid: true, Token: "tok", Name: "n", Tags: []string{"a", "b"},
		Configuration: map[string]string{"filter.response.nulls": "true"}}
	observed := seen
	observed.observeOnly, observed.shape = true, shapeDigest(same)
	owned := seen
	owned.owner = "k8s:ns/app/u"
	with := func(change func(*cloudelements.Instance)) cloudelements.Instance {
		inst := same
		change(&inst)
		return inst
	}
	cases := map[string]struct {
		m      member
		inst   cloudelements.Instance
		listed bool
		want   drift
	}{
		"as last seen":                  {seen, same, true, noDrift},
		"not in the listing":            {seen, cloudelements.Instance{}, false, driftMissing},
		"turned invalid":                {seen, with(func(i *cloudelements.Instance) { i.Valid = false }), true, driftValidity},
		"valid again":                   {member{id: 7, uid: "u", tokenDigest: tokenHash("u", "tok")}, same, true, driftValidity},
		"disabled":                      {seen, with(func(i *cloudelements.Instance) { i.Disabled = true }), true, driftDisabled},
		"new token":                     {seen, with(func(i *cloudelements.Instance) { i.Token = "other" }), true, driftToken},
		"token unknown since a restart": {member{id: 7, valid: true}, same, true, driftUnknown},
		"token as status recorded it":   {member{id: 7, valid: true, uid: "u", tokenDigest: tokenHash("u", "tok"), inherited: true}, same, true, noDrift},
		"token other than status says":  {member{id: 7, valid: true, uid: "u", tokenDigest: tokenHash("u", "old"), inherited: true}, same, true, driftToken},
		"name, tags and configuration are the fingerprint's business": {seen, with(func(i *cloudelements.Instance) { i.Name, i.Tags = "renamed", nil }), true, noDrift},
		"observed only: renamed":        {observed, with(func(i *cloudelements.Instance) { i.Name = "renamed" }), true, driftShape},
		"observed only: tags reordered": {observed, with(func(i *cloudelements.Instance) { i.Tags = []string{"b", "a"} }), true, noDrift},
		"observed only: a configuration value changed": {observed, with(func(i *cloudelements.Instance) {
			i.Configuration = map[string]string{"filter.response.nulls": "false"}
		}), true, driftShape},
		"observed only, as last seen": {observed, same, true, noDrift},
		"its own owner tag":           {owned, with(func(i *cloudelements.Instance) { i.Tags = []string{"a", "k8s:ns/app/u"} }), true, noDrift},
		"claimed by another object": {owned, with(func(i *cloudelements.Instance) {
			i.Tags = []string{"a", "k8s:managed-by-hubspot-operator", "k8s:other/app/v"}
		}), true, driftClaimed},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, driftOf(tc.m, tc.inst, tc.listed, tokenHash)); diff != "" {
				t.Errorf("driftOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListBackoff(t *testing.T) {
	cases := map[string]struct {
		failures int
		interval time.Duration
		want     time.Duration
	}{
		"first failure":              {1, 10 * time.Minute, 5 * time.Second},
		"doubles":                    {3, 10 * time.Minute, 20 * time.Second},
		"never beyond the interval":  {20, 10 * time.Minute, 10 * time.Minute},
		"a short interval bounds it": {1, 2 * time.Second, 2 * time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, listBackoff(tc.failures, tc.interval)); diff != "" {
				t.Errorf("listBackoff (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyByRecent(t *testing.T) {
	tokenHash := func(uid types.UID, token string) string { return string(uid) + "/" + token }
	listedAt := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	restarted := member{id: 7, valid: true, uid: "u", tokenDigest: tokenHash("u", "tok"), inherited: true}
	observed := restarted
	observed.observeOnly = true
	listing := map[int64]listedInstance{7: {valid: true, token: "tok"}}
	type want struct {
		Settled, Verified, Enqueued bool
	}
	cases := map[string]struct {
		m      member
		recent map[int64]listedInstance
		now    time.Time
		want   want
	}{
		"as status recorded it":           {restarted, listing, listedAt.Add(time.Second), want{Settled: true, Verified: true}},
		"its token changed":               {restarted, map[int64]listedInstance{7: {valid: true, token: "new"}}, listedAt.Add(time.Second), want{Settled: true, Enqueued: true}},
		"invalid since":                   {restarted, map[int64]listedInstance{7: {token: "tok"}}, listedAt.Add(time.Second), want{Settled: true, Enqueued: true}},
		"not in the listing":              {restarted, map[int64]listedInstance{}, listedAt.Add(time.Second), want{Settled: true, Enqueued: true}},
		"the listing is too old":          {restarted, listing, listedAt.Add(recentFor + time.Second), want{}},
		"no listing kept":                 {restarted, nil, listedAt.Add(time.Second), want{}},
		"observed only: compared by more": {observed, listing, listedAt.Add(time.Second), want{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			mem := newMemory()
			p := newDriftPoller(func() time.Time { return tc.now }, mem, tokenHash)
			a := &account{members: map[types.NamespacedName]member{}, recent: tc.recent, recentAt: listedAt}
			key := types.NamespacedName{Namespace: "ns", Name: "obj"}
			var got want
			got.Settled = p.verifyByRecent(a, key, tc.m, tc.now)
			r := mem.objects[key]
			got.Verified = r != nil && !r.verifiedAt.IsZero() && r.tokenDigest == tc.m.tokenDigest
			got.Enqueued = len(p.events) == 1
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("verifyByRecent (-want +got):\n%s", diff)
			}
		})
	}
}

// A listing past its deadline is a failing listing like any other: the
// account backs off, and no object is looked at one by one.
func TestAListingPastItsDeadlineBacksOffWithoutACallPerObject(t *testing.T) {
	const user, org = "listing-user-secret", "listing-org-secret"
	sim := simulator.New(simulator.Options{UserSecret: user, OrganizationSecret: org, Seed: 7})
	// Slower than the listing may take, well within the per-request timeout.
	sim.SetFault(simulator.OpList, simulator.Fault{Latency: 2 * time.Second})
	server := httptest.NewServer(sim)
	t.Cleanup(server.Close)
	api, err := cloudelements.New(cloudelements.Options{Endpoint: server.URL + simulator.APIPrefix,
		UserSecret: user, OrganizationSecret: org, ListTimeout: 100 * time.Millisecond,
		Limiter: rate.NewLimiter(rate.Inf, 1)})
	if err != nil {
		t.Fatal(err)
	}

	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	tokenHash := func(uid types.UID, token string) string { return string(uid) + "/" + token }
	p := newDriftPoller(func() time.Time { return now }, newMemory(), tokenHash)
	for i, name := range []string{"slow-1", "slow-2"} {
		p.watch(types.NamespacedName{Namespace: "ns", Name: name}, "account", api,
			member{id: int64(i + 1), valid: true, uid: types.UID(name), interval: 2 * time.Minute})
	}
	for key, a := range p.dueAccounts() {
		p.list(context.Background(), key, a)
	}

	a := p.accounts["account"]
	type outcome struct {
		Failures     int
		RetryIn      time.Duration
		Gets, Queued int
	}
	got := outcome{Failures: a.failures, RetryIn: a.nextList.Sub(now), Gets: sim.Total(simulator.OpGet), Queued: len(p.events)}
	want := outcome{Failures: 1, RetryIn: listBackoff(1, 2*time.Minute)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after a listing past its deadline (-want +got):\n%s", diff)
	}
}

func TestListingVerdict(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tokenHash := func(uid types.UID, token string) string { return string(uid) + "/" + token }
	full := member{id: 7, valid: true, tokenDigest: tokenHash("u", "tok"), interval: 10 * time.Minute, uid: "u"}
	observing := full
	observing.observeOnly, observing.shape = true, shapeDigest(cloudelements.Instance{ID: 7, Name: "n", Valid: true, Token: "tok"})
	invalid := &cloudelements.Instance{ID: 7, Token: "tok"}
	type result struct {
		Drift    drift
		Verified bool
	}
	cases := map[string]struct {
		m          member
		inst       *cloudelements.Instance // as listed, when it drifted
		seen       bool
		verifiedAt time.Time
		want       result
	}{
		"listed as last seen":                            {full, nil, true, now.Add(-time.Hour), result{noDrift, true}},
		"listed, drifted":                                {full, invalid, true, now.Add(-time.Hour), result{driftValidity, false}},
		"not listed: deleted, look now":                  {full, nil, false, now.Add(-time.Second), result{driftMissing, false}},
		"observed, listed as last seen":                  {observing, nil, true, now.Add(-time.Hour), result{noDrift, true}},
		"observed, listed, drifted":                      {observing, invalid, true, now.Add(-time.Second), result{driftValidity, false}},
		"observed and untagged: not yet due":             {observing, nil, false, now.Add(-time.Minute), result{noDrift, false}},
		"observed and untagged: due at its own interval": {observing, nil, false, now.Add(-time.Hour), result{driftMissing, false}},
		"observed, never seen by this process":           {observing, nil, false, time.Time{}, result{driftMissing, false}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, verified := listingVerdict(tc.m, tc.inst, tc.seen, tc.verifiedAt, now, tokenHash)
			if diff := cmp.Diff(tc.want, result{d, verified}); diff != "" {
				t.Errorf("listingVerdict (-want +got):\n%s", diff)
			}
		})
	}
}
