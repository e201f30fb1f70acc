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

package harness

import (
	"os/exec"
	"strings"
)

// Commit names the source a report measured: `git rev-parse HEAD`, with
// "-dirty" when the work tree (untracked files included) differs from it.
// The reports a run rewrites are left out of that comparison: an earlier
// run's uncommitted report says nothing about the code measured. Outside a
// Git checkout it is "unknown".
func Commit(root string, reports ...string) string {
	head, err := git(root, "rev-parse", "HEAD")
	if err != nil || head == "" {
		return "unknown (not a Git checkout)"
	}
	args := []string{"status", "--porcelain", "--untracked-files=normal", "--", "."}
	for _, r := range reports {
		args = append(args, ":(exclude)"+r)
	}
	changed, err := git(root, args...)
	switch {
	case err != nil:
		return head + " (work tree not checked)"
	case changed != "":
		return head + "-dirty"
	}
	return head
}

func git(root string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}
