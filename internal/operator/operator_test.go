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
	"flag"
	"strings"
	"testing"

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
