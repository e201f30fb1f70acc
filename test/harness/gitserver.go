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
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi" //nolint:gosec // G504 is about Go before 1.6.3 (httpoxy); git http-backend reads no HTTP_PROXY
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// GitServer serves Git repositories over smart HTTP on loopback, as a Git
// host does for Flux and Argo CD: git's own http-backend behind net/http/cgi,
// so the wire protocol is git's, not a reimplementation. Serving is
// read-only; a test changes a repository through its working copy
// (GitRepo.Commit), which pushes to the served bare repository on disk.
type GitServer struct {
	// URL is the server's base URL; a repository is at URL + "/" + name + ".git".
	URL  string
	root string
	git  string
	srv  *http.Server
}

// StartGitServer serves the bare repositories under root (created if
// missing) on 127.0.0.1 and a free port.
func StartGitServer(root string) (*GitServer, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, errors.New("git not found in PATH (Debian: apt-get install git): the Git server runs git http-backend")
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	handler := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Dir:  root,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			// The repositories are created by the tests under their own
			// user; git would otherwise refuse a folder owned by another.
			"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=safe.directory", "GIT_CONFIG_VALUE_0=*",
		},
	}
	gs := &GitServer{URL: "http://" + ln.Addr().String(), root: root, git: git,
		srv: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := gs.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return gs, nil
}

// Close stops serving.
func (gs *GitServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := gs.srv.Shutdown(ctx); err != nil {
		_ = gs.srv.Close()
	}
}

// GitRepo is one served repository and the working copy tests commit in.
type GitRepo struct {
	// URL is what a GitRepository or an Application points at.
	URL, Branch string
	// WorkDir is the working copy.
	WorkDir string
	git     string
}

// NewRepo creates an empty served repository name.git with one branch, and
// its working copy under workRoot.
func (gs *GitServer) NewRepo(name, workRoot string) (*GitRepo, error) {
	bare := filepath.Join(gs.root, name+".git")
	r := &GitRepo{URL: gs.URL + "/" + name + ".git", Branch: "main", WorkDir: filepath.Join(workRoot, name), git: gs.git}
	if _, err := r.run(gs.root, "init", "--quiet", "--bare", "--initial-branch="+r.Branch, bare); err != nil {
		return nil, err
	}
	if _, err := r.run(workRoot, "clone", "--quiet", bare, r.WorkDir); err != nil {
		return nil, err
	}
	for _, kv := range [][2]string{{"user.name", "gitops-test"}, {"user.email", "gitops-test@example.invalid"}, {"commit.gpgsign", "false"}} {
		if _, err := r.run(r.WorkDir, "config", kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	if _, err := r.run(r.WorkDir, "checkout", "--quiet", "-B", r.Branch); err != nil {
		return nil, err
	}
	return r, nil
}

// Commit makes the working copy hold exactly files (path → content; every
// other file is removed), commits and pushes; it returns the commit's hash.
func (r *GitRepo) Commit(message string, files map[string]string) (string, error) {
	tracked, err := r.run(r.WorkDir, "ls-files")
	if err != nil {
		return "", err
	}
	for _, path := range strings.Fields(tracked) {
		if _, keep := files[path]; !keep {
			if _, err := r.run(r.WorkDir, "rm", "--quiet", "--", path); err != nil {
				return "", err
			}
		}
	}
	for path, content := range files {
		full := filepath.Join(r.WorkDir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			return "", err
		}
		if _, err := r.run(r.WorkDir, "add", "--", path); err != nil {
			return "", err
		}
	}
	if _, err := r.run(r.WorkDir, "commit", "--quiet", "--allow-empty", "-m", message); err != nil {
		return "", err
	}
	if _, err := r.run(r.WorkDir, "push", "--quiet", "origin", r.Branch); err != nil {
		return "", err
	}
	head, err := r.run(r.WorkDir, "rev-parse", "HEAD")
	return strings.TrimSpace(head), err
}

func (r *GitRepo) run(dir string, args ...string) (string, error) {
	cmd := exec.Command(r.git, args...)
	cmd.Dir = dir
	// Nothing from the user's or the machine's git configuration.
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
