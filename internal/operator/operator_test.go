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

package operator

import (
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"

	"github.com/hubspot-operator/hubspot-operator/internal/oauthstate"
)

func TestWatchLabelSelector(t *testing.T) {
	for _, tc := range []struct {
		flag    string
		matches []labels.Set
		misses  []labels.Set
	}{
		{flag: "sharding.fluxcd.io/key=shard1",
			matches: []labels.Set{{"sharding.fluxcd.io/key": "shard1"}},
			misses:  []labels.Set{{}, {"sharding.fluxcd.io/key": "shard2"}}},
		{flag: "!sharding.fluxcd.io/key",
			matches: []labels.Set{{}, {"team": "a"}},
			misses:  []labels.Set{{"sharding.fluxcd.io/key": "shard1"}}},
		{flag: "sharding.fluxcd.io/key in (shard1, shard2)",
			matches: []labels.Set{{"sharding.fluxcd.io/key": "shard2"}},
			misses:  []labels.Set{{}}},
	} {
		var o Options
		fs := flag.NewFlagSet("operator", flag.ContinueOnError)
		o.BindFlags(fs)
		if err := fs.Parse([]string{"--watch-label-selector=" + tc.flag}); err != nil {
			t.Fatal(err)
		}
		sel, err := o.watchSelector()
		if err != nil || sel == nil {
			t.Fatalf("%q: selector %v, error %v", tc.flag, sel, err)
		}
		for _, set := range tc.matches {
			if !sel.Matches(set) {
				t.Errorf("%q does not match %v", tc.flag, set)
			}
		}
		for _, set := range tc.misses {
			if sel.Matches(set) {
				t.Errorf("%q matches %v", tc.flag, set)
			}
		}
	}
	for _, unset := range []string{"", "  "} {
		if sel, err := (Options{WatchLabelSelector: unset}).watchSelector(); sel != nil || err != nil {
			t.Errorf("%q: want no selector, got %v, %v", unset, sel, err)
		}
	}
}

// A bad selector stops the start, naming the flag, before anything talks to
// an API server.
func TestNewRefusesABadWatchLabelSelector(t *testing.T) {
	for _, bad := range []string{"sharding.fluxcd.io/key in (", "=shard1", "key==a=b"} {
		_, err := New(context.Background(), &rest.Config{Host: "https://127.0.0.1:1"},
			Options{WatchLabelSelector: bad, StateTTL: oauthstate.DefaultTTL})
		if err == nil || !strings.Contains(err.Error(), "--watch-label-selector") {
			t.Errorf("%q: want an error naming --watch-label-selector, got %v", bad, err)
		}
	}
}

func TestResolveClusterName(t *testing.T) {
	const uid = "6b0e9f43-2c57-4d8a-9a43-0f4c1a7e2b11"
	forbidden := errors.New(`namespaces "kube-system" is forbidden`)
	type result struct {
		Name, Source string
		Err          string // a part of the error; empty: none
		ReadUID      bool
	}
	for _, tc := range []struct {
		name   string
		flag   string
		uid    string
		uidErr error
		want   result
	}{
		{name: "the flag wins, and the UID is not read", flag: "prod-eu-1", uid: uid,
			want: result{Name: "prod-eu-1", Source: "--cluster-name"}},
		{name: "a flag of 63 characters", flag: strings.Repeat("a", 63),
			want: result{Name: strings.Repeat("a", 63), Source: "--cluster-name"}},
		{name: "empty: the kube-system UID", uid: uid,
			want: result{Name: uid, Source: "the kube-system Namespace's UID", ReadUID: true}},
		{name: "empty, and the UID cannot be read", uidErr: forbidden,
			want: result{Err: "set --cluster-name", ReadUID: true}},
		{name: "empty, and a UID that is no label", uid: "",
			want: result{Err: "set --cluster-name", ReadUID: true}},
		{name: "upper case", flag: "Prod", want: result{Err: `invalid --cluster-name "Prod"`}},
		{name: "a dot", flag: "prod.eu", want: result{Err: `invalid --cluster-name "prod.eu"`}},
		{name: "a leading dash", flag: "-prod", want: result{Err: `invalid --cluster-name "-prod"`}},
		{name: "a space", flag: " prod", want: result{Err: `invalid --cluster-name " prod"`}},
		{name: "64 characters", flag: strings.Repeat("a", 64), want: result{Err: "invalid --cluster-name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got result
			name, source, err := resolveClusterName(tc.flag, func() (string, error) {
				got.ReadUID = true
				return tc.uid, tc.uidErr
			})
			got.Name, got.Source = name, source
			if err != nil {
				// Compared by containment: the rest of the message is prose.
				if got.Err = err.Error(); tc.want.Err != "" && strings.Contains(got.Err, tc.want.Err) {
					got.Err = tc.want.Err
				}
				if tc.uidErr != nil && !errors.Is(err, tc.uidErr) {
					t.Errorf("error %q does not wrap %q", err, tc.uidErr)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("resolveClusterName(%q) (-want +got):\n%s", tc.flag, diff)
			}
		})
	}
}

// A bad --cluster-name stops the start, naming the flag, before anything
// talks to an API server.
func TestNewRefusesABadClusterName(t *testing.T) {
	var o Options
	fs := flag.NewFlagSet("operator", flag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse([]string{"--cluster-name=Prod_EU"}); err != nil {
		t.Fatal(err)
	}
	_, err := New(context.Background(), &rest.Config{Host: "https://127.0.0.1:1"}, o)
	if err == nil || !strings.Contains(err.Error(), "--cluster-name") {
		t.Errorf("want an error naming --cluster-name, got %v", err)
	}
}
