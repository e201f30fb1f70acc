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

func TestCommit(t *testing.T) {
	repo := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(repo, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("init", "-q")
	write("main.go", "package main\n")
	write("docs/report.md", "old figures\n")
	run("add", ".")
	run("commit", "-q", "-m", "first")
	head := run("rev-parse", "HEAD")

	steps := []struct {
		name, file, text, want string
	}{
		{name: "clean tree", want: head},
		{name: "only the report rewritten", file: "docs/report.md", text: "new figures\n", want: head},
		{name: "a source changed", file: "main.go", text: "package main // changed\n", want: head + "-dirty"},
		{name: "an untracked file", file: "extra.go", text: "package main\n", want: head + "-dirty"},
	}
	for _, step := range steps {
		if step.file != "" {
			write(step.file, step.text)
		}
		if got := harness.Commit(repo, "docs/report.md"); got != step.want {
			t.Errorf("%s: Commit = %q, want %q", step.name, got, step.want)
		}
		if step.file == "main.go" {
			run("checkout", "--", "main.go")
		}
	}
	if got := harness.Commit(t.TempDir()); !strings.HasPrefix(got, "unknown") {
		t.Errorf("outside a checkout: Commit = %q, want unknown", got)
	}
}
