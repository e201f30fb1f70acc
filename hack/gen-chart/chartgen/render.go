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

package chartgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"
)

// RepoRoot is the folder holding go.mod, found from the working directory
// upwards (tests run in their package's folder).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Kustomize builds the kustomization in root/dir (e.g. "config/default")
// with the kustomize API, as `go tool kustomize build` does: both use
// sigs.k8s.io/kustomize/api at the version go.mod pins.
func Kustomize(root, dir string) ([]byte, error) {
	return kustomize(root, dir, nil)
}

// KustomizeWithComponents builds root/dir as if its kustomization also listed
// the given components (paths relative to dir, e.g. "../prometheus").
func KustomizeWithComponents(root, dir string, components ...string) ([]byte, error) {
	return kustomize(root, dir, nil, components...)
}

// kustomize builds root/dir from a copy of config/ in memory, in which the
// files named in overrides (paths relative to root) have the given content
// and dir's kustomization.yaml also lists components. The files on disk are
// never touched.
func kustomize(root, dir string, overrides map[string][]byte, components ...string) ([]byte, error) {
	mem := filesys.MakeFsInMemory()
	configDir := filepath.Join(root, "config")
	err := filepath.WalkDir(configDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return mem.WriteFile("/"+filepath.ToSlash(rel), data)
	})
	if err != nil {
		return nil, fmt.Errorf("copying %s: %w", configDir, err)
	}
	for p, data := range overrides {
		if err := mem.WriteFile("/"+filepath.ToSlash(p), data); err != nil {
			return nil, err
		}
	}
	target := "/" + path.Clean(filepath.ToSlash(dir))
	if len(components) > 0 {
		kfile := target + "/kustomization.yaml"
		raw, err := mem.ReadFile(kfile)
		if err != nil {
			return nil, err
		}
		var k types.Kustomization
		if err := sigsyaml.UnmarshalStrict(raw, &k); err != nil {
			return nil, fmt.Errorf("reading %s: %w", kfile, err)
		}
		k.Components = append(k.Components, components...)
		out, err := sigsyaml.Marshal(&k)
		if err != nil {
			return nil, err
		}
		if err := mem.WriteFile(kfile, out); err != nil {
			return nil, err
		}
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(mem, target)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return m.AsYaml()
}

// GoTool runs `go tool <args>` in root and returns its standard output. The
// Go toolchain builds the tool on first use and caches the binary.
func GoTool(root string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", append([]string{"tool"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("go tool %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes(), nil
}

// HelmTemplate renders the chart with `go tool helm template <release>
// charts/hubspot-operator --namespace <namespace> <args...>`.
func HelmTemplate(root, release, namespace string, args ...string) ([]byte, error) {
	all := append([]string{"helm", "template", release, ChartDir, "--namespace", namespace}, args...)
	return GoTool(root, all...)
}

// Decode splits multi-document YAML into objects, skipping empty documents.
// Numbers decode as Kubernetes decodes them (int64 where integral).
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		js, err := sigsyaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%w in\n%s", err, doc)
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || bytes.Equal(t, []byte("null")) {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			return nil, fmt.Errorf("%w in\n%s", err, doc)
		}
		objs = append(objs, u)
	}
}
