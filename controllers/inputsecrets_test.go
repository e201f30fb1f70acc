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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// secretStore answers Gets for one Secret, as the API server (full) or the
// metadata cache (resourceVersion only) would, and counts them.
type secretStore struct {
	secret *corev1.Secret // nil: not found
	gets   int
}

func (s *secretStore) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	s.gets++
	if s.secret == nil {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, key.Name)
	}
	switch o := obj.(type) {
	case *corev1.Secret:
		s.secret.DeepCopyInto(o)
	case *metav1.PartialObjectMetadata:
		o.ObjectMeta = *s.secret.ObjectMeta.DeepCopy()
	}
	return nil
}

func (s *secretStore) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return nil
}

func TestInputReader(t *testing.T) {
	key := client.ObjectKey{Namespace: "ns", Name: "cloud-elements"}
	at := func(version, value string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cloud-elements", ResourceVersion: version},
			Data: map[string][]byte{"user-secret": []byte(value)}}
	}
	cases := map[string]struct {
		held      *corev1.Secret // read before, at this version
		cached    *corev1.Secret // what the metadata cache shows now
		live      *corev1.Secret // what the API server holds now
		wantValue string
		wantReads int // reads from the API server
	}{
		"unchanged since read: no request":          {held: at("1", "a"), cached: at("1", "a"), live: at("1", "a"), wantValue: "a", wantReads: 0},
		"changed: read again":                       {held: at("1", "a"), cached: at("2", "b"), live: at("2", "b"), wantValue: "b", wantReads: 1},
		"never read: read":                          {cached: at("1", "a"), live: at("1", "a"), wantValue: "a", wantReads: 1},
		"not yet in the cache: the API server says": {held: at("1", "a"), live: at("2", "b"), wantValue: "b", wantReads: 1},
		"too big to hold: read every time":          {held: at("1", strings.Repeat("x", maxHeldSecretBytes+1)), cached: at("1", "a"), live: at("1", "a"), wantValue: "a", wantReads: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			held := newInputSecrets()
			if tc.held != nil {
				held.store(key, tc.held)
			}
			cache, api := &secretStore{secret: tc.cached}, &secretStore{secret: tc.live}
			got := &corev1.Secret{}
			if err := (inputReader{cache: cache, api: api, secret: held}).Get(context.Background(), key, got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantValue, string(got.Data["user-secret"])); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			if api.gets != tc.wantReads {
				t.Errorf("API server reads = %d, want %d", api.gets, tc.wantReads)
			}
		})
	}
}

func TestInputReaderMissingSecret(t *testing.T) {
	held := newInputSecrets()
	err := (inputReader{cache: &secretStore{}, api: &secretStore{}, secret: held}).Get(context.Background(),
		client.ObjectKey{Namespace: "ns", Name: "gone"}, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("want NotFound from the API server, got %v", err)
	}
}

// gatedStore is an API server whose first read answers with the Secret as
// it was, and only once released: a read in flight while the Secret rotates.
type gatedStore struct {
	first, after *corev1.Secret
	started      chan struct{}
	release      chan struct{}
	calls        atomic.Int32
}

func (s *gatedStore) Get(_ context.Context, _ client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	if s.calls.Add(1) == 1 {
		close(s.started)
		<-s.release
		s.first.DeepCopyInto(obj.(*corev1.Secret))
		return nil
	}
	s.after.DeepCopyInto(obj.(*corev1.Secret))
	return nil
}

func (s *gatedStore) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

// A reconcile woken by a rotation must read the rotated Secret, even while
// a read that began before the rotation is still in flight.
func TestInputReaderNeverSharesAnOlderRead(t *testing.T) {
	key := client.ObjectKey{Namespace: "ns", Name: "cloud-elements"}
	at := func(version, value string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cloud-elements", ResourceVersion: version},
			Data: map[string][]byte{"user-secret": []byte(value)}}
	}
	api := &gatedStore{first: at("1", "old"), after: at("2", "new"), started: make(chan struct{}), release: make(chan struct{})}
	held := newInputSecrets()
	before := inputReader{cache: &secretStore{secret: at("1", "")}, api: api, secret: held}
	rotated := inputReader{cache: &secretStore{secret: at("2", "")}, api: api, secret: held}

	early := make(chan string)
	go func() {
		got := &corev1.Secret{}
		_ = before.Get(context.Background(), key, got)
		early <- string(got.Data["user-secret"])
	}()
	<-api.started
	late := make(chan string)
	go func() {
		got := &corev1.Secret{}
		_ = rotated.Get(context.Background(), key, got)
		late <- string(got.Data["user-secret"])
	}()
	// The late caller must not wait on the early read: it gets its own.
	select {
	case got := <-late:
		if got != "new" {
			t.Errorf("the caller that saw version 2 got %q, want %q", got, "new")
		}
	case <-time.After(10 * time.Second): // a liveness guard, not a timing goal
		close(api.release)
		t.Fatalf("the caller that saw version 2 joined the read begun at version 1 (got %q)", <-late)
	}
	close(api.release)
	if got := <-early; got != "old" {
		t.Errorf("the caller that saw version 1 got %q, want %q", got, "old")
	}
}
