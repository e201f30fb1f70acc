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

package harness_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// A clone over HTTP sees each commit, and a removed file is gone from the
// next one: what Flux and Argo CD fetch is what the test committed.
func TestGitServerServesCommits(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	gs, err := harness.StartGitServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Close()
	repo, err := gs.NewRepo("platform", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	for _, files := range []map[string]string{
		{"crm/a.yaml": "a: 1\n", "crm/b.yaml": "b: 1\n"},
		{"crm/a.yaml": "a: 2\n"},
	} {
		head, err := repo.Commit("update", files)
		if err != nil {
			t.Fatal(err)
		}
		clone := filepath.Join(t.TempDir(), "clone")
		out, err := exec.Command("git", "clone", "--quiet", "--branch", repo.Branch, repo.URL, clone).CombinedOutput()
		if err != nil {
			t.Fatalf("git clone %s: %v\n%s", repo.URL, err, out)
		}
		got, err := exec.Command("git", "-C", clone, "rev-parse", "HEAD").Output()
		if err != nil || strings.TrimSpace(string(got)) != head {
			t.Fatalf("clone is at %q (%v), want %s", got, err, head)
		}
		entries, err := os.ReadDir(filepath.Join(clone, "crm"))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != len(files) {
			t.Errorf("clone holds %d files in crm/, want %d", len(entries), len(files))
		}
		for path, want := range files {
			b, err := os.ReadFile(filepath.Join(clone, path))
			if err != nil || string(b) != want {
				t.Errorf("%s = %q (%v), want %q", path, b, err, want)
			}
		}
	}
}
