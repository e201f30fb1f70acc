//go:build linux

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

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hubspot-operator/hubspot-operator/test/harness"
)

// Linux only: the test reads /proc, and only Linux has the parent-death
// signal that ties the control plane to the demo.

// controlPlaneHelperEnv makes the test binary the demo's control-plane
// launcher (startControlPlane, as the demo calls it) in a process of its own,
// which the test can then SIGKILL.
const controlPlaneHelperEnv = "DEMO_TEST_CONTROL_PLANE_HELPER"

func TestMain(m *testing.M) {
	harness.RunTiedBinary()
	if os.Getenv(controlPlaneHelperEnv) != "" {
		controlPlaneHelper()
	}
	os.Exit(m.Run())
}

// controlPlaneHelper starts the demo's control plane, says "ready" and its
// temporary folder (a killed demo cannot remove it), and waits to be killed. It never returns.
func controlPlaneHelper() {
	d := &demo{p: newPrinter(io.Discard)}
	var err error
	if d.root, err = findRepoRoot(); err == nil {
		d.tmp, err = os.MkdirTemp("", "hubspot-operator-demo-test-")
	}
	if err == nil {
		_, err = d.startControlPlane(os.Getenv("KUBEBUILDER_ASSETS"))
	}
	if err != nil {
		fmt.Println(err)
		_ = d.cleanup()
		os.Exit(1)
	}
	fmt.Println("ready", d.tmp)
	select {}
}

// A demo killed without a chance to stop its control plane (SIGKILL, the
// out-of-memory killer) takes kube-apiserver, etcd and kube-controller-manager
// with it.
func TestControlPlaneEndsWithTheDemo(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test` (hack/setup-envtest.sh provides the binaries)")
	}
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), controlPlaneHelperEnv+"=1")
	helper.Stderr = os.Stderr
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	tmp, ok := strings.CutPrefix(strings.TrimSpace(line), "ready ")
	if !ok {
		t.Fatalf("the control plane did not start: %q", line)
	}

	children := childrenOf(helper.Process.Pid)
	var names []string
	for _, c := range children {
		names = append(names, c.name)
	}
	slices.Sort(names)
	if want := []string{"etcd", "kube-apiserver", "kube-controller-manager"}; !slices.Equal(names, want) {
		t.Fatalf("the launcher's children are %v, want %v", names, want)
	}
	// Whatever this test concludes, it leaves none of them running.
	t.Cleanup(func() {
		for _, c := range children {
			if c.running() {
				_ = syscall.Kill(c.pid, syscall.SIGKILL)
			}
		}
		_ = os.RemoveAll(tmp)
	})

	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()

	deadline := time.Now().Add(30 * time.Second)
	for {
		var left []string
		for _, c := range children {
			if c.running() {
				left = append(left, fmt.Sprintf("%s (pid %d)", c.name, c.pid))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still running 30s after the launcher was SIGKILLed: %s", strings.Join(left, ", "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type process struct {
	pid       int
	name      string
	startTime string
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(pid int) []process {
	var found []process
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		p, ppid, _, ok := readStat(path)
		if !ok || ppid != pid {
			continue
		}
		// The name in stat is cut at 15 characters (kube-controller).
		if argv, err := os.ReadFile(filepath.Join(filepath.Dir(path), "cmdline")); err == nil {
			argv0, _, _ := strings.Cut(string(argv), "\x00")
			p.name = filepath.Base(argv0)
		}
		found = append(found, p)
	}
	return found
}

// running is false once the process is gone, a zombie (dead, not yet
// reaped) or its pid reused by another process.
func (p process) running() bool {
	now, _, state, ok := readStat(fmt.Sprintf("/proc/%d/stat", p.pid))
	return ok && now.startTime == p.startTime && state != "Z" && state != "X"
}

// readStat reads a process's name, parent, state and start time (clock
// ticks since boot) from /proc/<pid>/stat: "pid (name) state ppid … ".
func readStat(path string) (p process, ppid int, state string, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return p, 0, "", false
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return p, 0, "", false
	}
	fields := strings.Fields(s[closing+1:])
	if len(fields) < 20 {
		return p, 0, "", false
	}
	p.pid, _ = strconv.Atoi(strings.TrimSpace(s[:open]))
	p.name = s[open+1 : closing]
	ppid, _ = strconv.Atoi(fields[1])
	p.startTime = fields[19]
	return p, ppid, fields[0], true
}
