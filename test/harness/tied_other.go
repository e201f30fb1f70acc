//go:build !linux

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
	"path/filepath"
	"syscall"
)

// endsWithParent: only Linux has a parent-death signal.
func endsWithParent() *syscall.SysProcAttr { return nil }

// TiedBinaries are the binaries TieBinaries would tie on Linux.
var TiedBinaries = []string{"kube-apiserver", "etcd"}

// TieBinaries returns the binaries in assets as they are: without a
// parent-death signal nothing ties them to this process.
func TieBinaries(_, assets string) (map[string]string, error) {
	paths := map[string]string{}
	for _, name := range TiedBinaries {
		paths[name] = filepath.Join(assets, name)
	}
	return paths, nil
}

// RunTiedBinary has nothing to do without TieBinaries.
func RunTiedBinary() {}
