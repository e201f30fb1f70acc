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

	elementsv1alpha1 "github.com/hubspot-operator/hubspot-operator/api/v1alpha1"
)

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
