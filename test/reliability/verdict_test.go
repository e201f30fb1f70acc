//go:build reliability

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

package reliability

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/onsi/ginkgo/v2/types"
)

// A point's verdict is what the final reports of all its specs say: a report
// that fails after others passed (an AfterAll finding the operator crashed
// fails the last spec of its container) or a spec that did not run keeps the
// point from PASS.
func TestPointVerdict(t *testing.T) {
	passed := types.SpecReport{State: types.SpecStatePassed}
	failed := types.SpecReport{State: types.SpecStateFailed}
	skipped := types.SpecReport{State: types.SpecStateSkipped}
	tests := []struct {
		name  string
		specs []types.SpecReport
		want  string
	}{
		{name: "every spec passed", specs: []types.SpecReport{passed, passed}, want: "PASS"},
		{name: "the last spec failed in its AfterAll", specs: []types.SpecReport{passed, failed}, want: "**FAIL**"},
		{name: "a failed spec before passed ones", specs: []types.SpecReport{failed, passed}, want: "**FAIL**"},
		{name: "a spec did not run", specs: []types.SpecReport{passed, skipped}, want: "**INCOMPLETE** (1 check(s) did not run)"},
		{name: "no spec ran", specs: []types.SpecReport{skipped}, want: "not run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &report{points: map[int]*pointReport{}}
			for _, spec := range tt.specs {
				r.record(1, spec)
			}
			got := "not run"
			if p := r.points[1]; p.ran {
				got = p.result()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
		})
	}
}

// Only a run in which every spec of every point ran rewrites the report in
// docs, and a point with a spec that did not run is no overall PASS.
func TestIncompleteRun(t *testing.T) {
	r := &report{points: map[int]*pointReport{}, commit: "0123abc-dirty"}
	for n := 1; n <= points; n++ {
		r.record(n, types.SpecReport{State: types.SpecStatePassed})
	}
	if !r.ranAll() {
		t.Fatal("ranAll = false after every point passed")
	}
	r.record(3, types.SpecReport{State: types.SpecStateSkipped})
	if r.ranAll() {
		t.Error("ranAll = true with a skipped spec")
	}
	md := r.markdown()
	for _, want := range []string{"| Result | **INCOMPLETE** |", "| Commit | 0123abc-dirty |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
