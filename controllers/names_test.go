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
)

func TestNameIndexUnseen(t *testing.T) {
	listing := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	const fresh = 10 * time.Minute
	listed := func(tags ...string) map[uint64]struct{} {
		m := map[uint64]struct{}{}
		for _, tag := range tags {
			m[nameHash(tag)] = struct{}{}
		}
		return m
	}
	cases := map[string]struct {
		index func() *nameIndex
		now   time.Time
		want  bool
	}{
		"no listing yet: look it up": {func() *nameIndex { return &nameIndex{} }, listing, false},
		"a fresh listing without the name: no lookup": {func() *nameIndex {
			x := &nameIndex{}
			x.replace(listed("k8s:ns/other"), listing)
			return x
		}, listing.Add(time.Minute), true},
		"a fresh listing with the name (an orphan): look it up": {func() *nameIndex {
			x := &nameIndex{}
			x.replace(listed("k8s:ns/app"), listing)
			return x
		}, listing.Add(time.Minute), false},
		"a listing too old to trust: look it up": {func() *nameIndex {
			x := &nameIndex{}
			x.replace(listed(), listing)
			return x
		}, listing.Add(fresh + time.Second), false},
		"let go by this process after the listing began: look it up": {func() *nameIndex {
			x := &nameIndex{}
			x.replace(listed(), listing)
			x.release("k8s:ns/app", listing.Add(time.Second))
			return x
		}, listing.Add(time.Minute), false},
		"let go while the next listing ran: still looked up after it": {func() *nameIndex {
			x := &nameIndex{}
			x.release("k8s:ns/app", listing.Add(time.Second))
			x.replace(listed(), listing) // began before the release
			return x
		}, listing.Add(time.Minute), false},
		"let go before a listing that began later, which did not show it (deleted since): no lookup": {func() *nameIndex {
			x := &nameIndex{}
			x.release("k8s:ns/app", listing.Add(-time.Second))
			x.replace(listed(), listing)
			return x
		}, listing.Add(time.Minute), true},
	}
	for desc, tc := range cases {
		t.Run(desc, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.index().unseen("k8s:ns/app", tc.now, fresh)); diff != "" {
				t.Errorf("unseen (-want +got):\n%s", diff)
			}
		})
	}
}
