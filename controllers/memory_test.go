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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
	"github.com/hubspot-operator/hubspot-operator/internal/cloudelements"
)

// update and updateKey seed memory in tests, as a write-back or a verdict
// does.
func (m *memory) update(obj client.Object, change func(*remembered)) {
	m.updateKey(client.ObjectKeyFromObject(obj), obj.GetUID(), change)
}

func (m *memory) updateKey(key types.NamespacedName, uid types.UID, change func(*remembered)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.apply(key, uid, change)
}

// The seldom-needed part of what is remembered reads and writes like the
// rest, is kept only while some of it is set, and is never shared between
// what get hands out and what updates change.
func TestMemorySeldom(t *testing.T) {
	obj := &elementsv1alpha1.HubSpotInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "a", UID: "uid-a"}}
	key := types.NamespacedName{Namespace: "team", Name: "a"}
	type seen struct {
		ObjectVersion, LinkNonce, RefusedMarker string
		Kept                                    bool
	}
	// The steps run in order on one memory: each row is the state after
	// all before it.
	mem := newMemory()
	for _, tc := range []struct {
		name   string
		change func(*remembered)
		want   seen
	}{
		{name: "common fields only", change: func(m *remembered) { m.objectVersion = "7" },
			want: seen{ObjectVersion: "7"}},
		{name: "a seldom field set", change: func(m *remembered) { m.linkNonce = "n1" },
			want: seen{ObjectVersion: "7", LinkNonce: "n1", Kept: true}},
		{name: "another one added", change: func(m *remembered) { m.refusedMarker = "marker" },
			want: seen{ObjectVersion: "7", LinkNonce: "n1", RefusedMarker: "marker", Kept: true}},
		{name: "one of them cleared", change: func(m *remembered) { m.linkNonce = "" },
			want: seen{ObjectVersion: "7", RefusedMarker: "marker", Kept: true}},
		{name: "all of them cleared", change: func(m *remembered) { m.refusedMarker = "" },
			want: seen{ObjectVersion: "7"}},
		{name: "set again", change: func(m *remembered) { m.linkNonce = "n2" },
			want: seen{ObjectVersion: "7", LinkNonce: "n2", Kept: true}},
	} {
		mem.update(obj, tc.change)
		got := mem.get(obj)
		stored := mem.objects[key]
		if diff := cmp.Diff(tc.want, seen{ObjectVersion: got.objectVersion, LinkNonce: got.linkNonce,
			RefusedMarker: got.refusedMarker, Kept: stored.seldom != nil}); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
		got.linkNonce = "changed by a reader"
		if again := mem.get(obj); again.linkNonce != tc.want.LinkNonce {
			t.Errorf("%s: a reader's copy changed what is remembered: %q", tc.name, again.linkNonce)
		}
	}

	// Another object, or a new one of the same name, starts from nothing.
	other := newMemory()
	if got := other.get(obj); got.linkNonce != "" || got.seldom == nil {
		t.Errorf("unknown object: %+v", got)
	}
	recreated := obj.DeepCopy()
	recreated.UID = "uid-a2"
	if got := mem.get(recreated); got.linkNonce != "" || got.objectVersion != "" {
		t.Errorf("recreated object sees its predecessor's memory: %+v", got)
	}
}

// What a reconcile writes back keeps what the drift poller concluded while
// it ran, unless the reconcile itself learnt the same thing; a reconcile
// that forgot its object and kept it puts back all it knew; one whose
// memory was cleared under it (a restart, simulated) writes nothing.
func TestMemoryWriteBack(t *testing.T) {
	obj := &elementsv1alpha1.HubSpotInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "a", UID: "uid-a"}}
	key := types.NamespacedName{Namespace: "team", Name: "a"}
	drifted := &cloudelements.Instance{ID: 7}
	type seen struct {
		PollNow, Listed                           bool
		TokenDigest, ObjectVersion, SecretVersion string
		Failing                                   bool
	}
	verdict := func(m *remembered) { m.pollNow, m.listed = true, drifted }
	for _, tc := range []struct {
		name string
		// before is memory when the reconcile reads its snapshot.
		before func(*remembered)
		// meanwhile happens to memory while the reconcile runs.
		meanwhile func(*memory)
		// forgotten: the reconcile forgot the object itself.
		forgotten bool
		learnt    []func(*remembered)
		want      seen
	}{{
		name:   "nothing meanwhile: what the reconcile learnt is added",
		before: func(m *remembered) { m.tokenDigest, m.secretVersion = "t1", "3" },
		learnt: []func(*remembered){func(m *remembered) { m.objectVersion = "8" }, func(m *remembered) { m.failing = true }},
		want:   seen{TokenDigest: "t1", ObjectVersion: "8", SecretVersion: "3", Failing: true},
	}, {
		name:      "a verdict meanwhile the reconcile did not contradict stands",
		before:    func(m *remembered) { m.tokenDigest = "t1" },
		meanwhile: func(mem *memory) { mem.recordVerdict(key, obj.UID, verdict) },
		learnt:    []func(*remembered){func(m *remembered) { m.objectVersion = "8" }},
		want:      seen{PollNow: true, Listed: true, TokenDigest: "t1", ObjectVersion: "8"},
	}, {
		name:      "a verdict meanwhile that the reconcile's own look replaces",
		before:    func(m *remembered) { m.tokenDigest = "t1" },
		meanwhile: func(mem *memory) { mem.recordVerdict(key, obj.UID, verdict) },
		learnt:    []func(*remembered){func(m *remembered) { m.pollNow, m.listed, m.tokenDigest = false, nil, "t2" }},
		want:      seen{TokenDigest: "t2"},
	}, {
		name:      "forgotten by itself (a deletion that waits): all it knew is put back",
		before:    func(m *remembered) { m.tokenDigest, m.secretVersion = "t1", "3" },
		meanwhile: func(mem *memory) { mem.forget(key) },
		forgotten: true,
		learnt:    []func(*remembered){func(m *remembered) { m.objectVersion = "8" }},
		want:      seen{TokenDigest: "t1", ObjectVersion: "8", SecretVersion: "3"},
	}, {
		name:      "cleared under it, as by a restart: nothing is written",
		before:    func(m *remembered) { m.tokenDigest, m.secretVersion = "t1", "3" },
		meanwhile: func(mem *memory) { mem.forget(key) },
		learnt:    []func(*remembered){func(m *remembered) { m.objectVersion = "8" }},
		want:      seen{},
	}, {
		name:      "cleared under its very first reconcile: nothing is written",
		meanwhile: func(mem *memory) { mem.forget(key) },
		learnt:    []func(*remembered){func(m *remembered) { m.failing = true }},
		want:      seen{},
	}, {
		name:   "its very first reconcile: what it learnt is all there is",
		learnt: []func(*remembered){func(m *remembered) { m.failing = true }},
		want:   seen{Failing: true},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMemory()
			if tc.before != nil {
				mem.update(obj, tc.before)
			}
			s := &session{obj: obj, mem: mem.begin(obj), forgotten: tc.forgotten}
			if tc.meanwhile != nil {
				tc.meanwhile(mem)
			}
			for _, change := range tc.learnt {
				s.remember(change)
			}
			mem.writeBack(obj, s.forgotten, s.mem, s.learnt...)
			got := mem.get(obj)
			if diff := cmp.Diff(tc.want, seen{PollNow: got.pollNow, Listed: got.listed != nil, TokenDigest: got.tokenDigest,
				ObjectVersion: got.objectVersion, SecretVersion: got.secretVersion, Failing: got.failing}); diff != "" {
				t.Errorf("after the write-back (-want +got):\n%s", diff)
			}
		})
	}
}
