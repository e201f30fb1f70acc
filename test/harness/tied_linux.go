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

package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// endsWithParent has the kernel SIGKILL a child process when the thread that
// started it ends. A Go program's threads live as long as the program (the
// runtime ends only threads locked by a goroutine that exits locked), so the
// child goes when this process does, however it ends: a SIGKILL or the
// kernel's out-of-memory killer included, which no deferred Stop survives.
func endsWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// envtest starts kube-apiserver and etcd itself, with no say in how: it can
// only be given the path of each binary. So the path given is a link to this
// very program, which, started under one of those names, sets its own
// parent-death signal and then executes the real binary in its place (the
// signal survives execve). RunTiedBinary does that part; it must be the first
// thing main does.
const (
	tiedAssetsEnv = "HUBSPOT_OPERATOR_TIED_ASSETS"
	tiedParentEnv = "HUBSPOT_OPERATOR_TIED_PARENT"
)

// TiedBinaries are the binaries TieBinaries can tie.
var TiedBinaries = []string{"kube-apiserver", "etcd"}

// TieBinaries makes dir a folder of TiedBinaries that end with this process
// and run the real ones from assets, and returns the path of each by name.
// The program must call RunTiedBinary at the start of main.
func TieBinaries(dir, assets string) (map[string]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	paths := map[string]string{}
	for _, name := range TiedBinaries {
		link := filepath.Join(dir, name)
		_ = os.Remove(link)
		if err := os.Symlink(self, link); err != nil {
			return nil, err
		}
		paths[name] = link
	}
	// Inherited by every child; only one started under a tied name acts on it.
	if err := os.Setenv(tiedAssetsEnv, assets); err != nil {
		return nil, err
	}
	return paths, os.Setenv(tiedParentEnv, strconv.Itoa(os.Getpid()))
}

// RunTiedBinary returns at once unless this program was started by
// TieBinaries' caller under a tied name; then it never returns: it executes
// the real binary with the same arguments, dying with the process that
// started it.
func RunTiedBinary() {
	assets := os.Getenv(tiedAssetsEnv)
	name := filepath.Base(os.Args[0])
	if assets == "" || !slices.Contains(TiedBinaries, name) {
		return
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0); errno != 0 {
		fail(name, fmt.Errorf("prctl(PR_SET_PDEATHSIG): %w", errno))
	}
	// The parent may have died before the signal was set: then nobody would
	// send it.
	if strconv.Itoa(os.Getppid()) != os.Getenv(tiedParentEnv) {
		fail(name, fmt.Errorf("the process that started it (pid %s) is gone", os.Getenv(tiedParentEnv)))
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, tiedAssetsEnv+"=") || strings.HasPrefix(kv, tiedParentEnv+"=")
	})
	bin := filepath.Join(assets, name)
	fail(name, syscall.Exec(bin, append([]string{bin}, os.Args[1:]...), env))
}

func fail(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(1)
}
