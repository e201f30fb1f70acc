//go:build image

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

// The image test compiles the operator with CGO_ENABLED=0 and -trimpath,
// which shares nothing with `go test`'s build cache: minutes on a cold
// machine. So it runs in `make test-image` (.ci/run), not `make test`.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const testVersion = "v0.0.0-imagetest"

// entry is one file of a layer as read back.
type entry struct {
	header *tar.Header
	data   []byte
}

func TestImage(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	opts := Options{Root: root, Version: testVersion, Revision: "0123456789abcdef0123456789abcdef01234567",
		Source: DefaultSource, Created: created, OS: "linux", Arch: runtime.GOARCH, CABundle: CABundlePath}
	res, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ref, err := name.NewTag("hubspot-operator:" + testVersion)
	if err != nil {
		t.Fatal(err)
	}
	ociDir, tarPath := filepath.Join(dir, "oci"), filepath.Join(dir, "image.tar")
	if err := WriteLayout(ociDir, res.Image, ref); err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(tarPath, ref, res.Image); err != nil {
		t.Fatal(err)
	}

	// Read both back, as a consumer of each would.
	img := fromLayout(t, ociDir, ref)
	fromTar, err := tarball.ImageFromPath(tarPath, &ref)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	// The tarball (docker save's format) keeps the config and the layers,
	// not the manifest: a loader writes its own.
	if diff := cmp.Diff(blobs(t, img), blobs(t, fromTar)); diff != "" {
		t.Errorf("the tarball's config and layers differ from the layout's (-layout +tarball):\n%s", diff)
	}
	size, err := Size(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image %s, %d bytes compressed", digest, size)

	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types %s, %s: want OCI's", m.MediaType, m.Config.MediaType)
	}
	for _, l := range m.Layers {
		if l.MediaType != types.OCILayer {
			t.Errorf("layer media type %s", l.MediaType)
		}
	}

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("User %q, want 65532:65532", cf.Config.User)
	}
	if diff := cmp.Diff([]string{"/manager"}, cf.Config.Entrypoint); diff != "" || len(cf.Config.Cmd) != 0 {
		t.Errorf("Entrypoint %v, Cmd %v: want [/manager] and none", cf.Config.Entrypoint, cf.Config.Cmd)
	}
	if !slices.Contains(cf.Config.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") {
		t.Errorf("Env %v lacks SSL_CERT_FILE", cf.Config.Env)
	}
	if !cf.Created.Time.Equal(created) {
		t.Errorf("Created %v, want %v", cf.Created, created)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.source":   DefaultSource,
		"org.opencontainers.image.version":  testVersion,
		"org.opencontainers.image.title":    "hubspot-operator",
		"org.opencontainers.image.revision": opts.Revision,
		"org.opencontainers.image.created":  "2026-11-28T10:00:00Z",
		"org.opencontainers.image.licenses": "Apache-2.0",
	} {
		if got := cf.Config.Labels[k]; got != want {
			t.Errorf("label %s=%q, want %q", k, got, want)
		}
	}
	if len(cf.History) != len(m.Layers) {
		t.Errorf("%d history entries for %d layers", len(cf.History), len(m.Layers))
	}

	// The files, over all layers.
	files := map[string]entry{}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		for p, e := range readLayer(t, l) {
			if _, dup := files[p]; dup {
				t.Errorf("%s is in two layers", p)
			}
			files[p] = e
		}
	}
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	if diff := cmp.Diff([]string{"etc/", "etc/ssl/", "etc/ssl/certs/", "etc/ssl/certs/ca-certificates.crt", "manager", "tmp/"}, paths); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	for p, e := range files {
		if e.header.Uid != 0 || e.header.Gid != 0 || !e.header.ModTime.Equal(created) {
			t.Errorf("%s: owner %d:%d, mtime %v", p, e.header.Uid, e.header.Gid, e.header.ModTime)
		}
	}
	if mode := files["tmp/"].header.Mode; mode != 0o1777 {
		t.Errorf("/tmp mode %o, want 1777", mode)
	}

	ca := files["etc/ssl/certs/ca-certificates.crt"]
	want, err := os.ReadFile(CABundlePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca.data, want) {
		t.Error("the image's CA bundle is not the build machine's")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.data) {
		t.Error("the image's CA bundle holds no certificate")
	}

	mgr := files["manager"]
	if mgr.header.Mode != 0o755 {
		t.Errorf("/manager mode %o, want 755", mgr.header.Mode)
	}
	bin := filepath.Join(dir, "manager")
	if err := os.WriteFile(bin, mgr.data, 0o755); err != nil {
		t.Fatal(err)
	}
	checkStatic(t, bin)

	// It runs: --help prints the operator's flags and exits 0.
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("/manager --help: %v\n%s", err, out)
	}
	for _, f := range []string{"-leader-elect", "-metrics-bind-address", "-oauth-callback-bind-address", "-watch-namespaces"} {
		if !strings.Contains(string(out), f) {
			t.Errorf("/manager --help does not mention %s:\n%s", f, out)
		}
	}

	// The same inputs give the same image.
	again, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := again.Image.Digest(); err != nil || d != digest {
		t.Errorf("a second build is %v (%v), the first %v: the build is not reproducible", d, err, digest)
	}
}

func fromLayout(t *testing.T, dir string, ref name.Tag) v1.Image {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("%d manifests in the layout, want 1", len(im.Manifests))
	}
	desc := im.Manifests[0]
	if desc.Annotations["org.opencontainers.image.ref.name"] != ref.TagStr() {
		t.Errorf("ref.name %q, want %q", desc.Annotations["org.opencontainers.image.ref.name"], ref.TagStr())
	}
	if want := "docker.io/library/hubspot-operator:" + testVersion; desc.Annotations["io.containerd.image.name"] != want {
		t.Errorf("io.containerd.image.name %q, want %q", desc.Annotations["io.containerd.image.name"], want)
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func readLayer(t *testing.T, l v1.Layer) map[string]entry {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]entry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = entry{header: h, data: data}
	}
}

// checkStatic: the binary is built as the Dockerfile builds it — static (no
// dynamic loader), without cgo, trimmed, with the version linked in.
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("/manager is dynamically linked")
		}
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" || settings["GOOS"] != "linux" {
		t.Errorf("build settings %v: want CGO_ENABLED=0, -trimpath, GOOS=linux", settings)
	}
	// (-trimpath leaves -ldflags out of the build info.)
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(testVersion)) {
		t.Errorf("the binary does not hold main.version=%s", testVersion)
	}
}

// blobs are an image's config and layer digests.
func blobs(t *testing.T, img v1.Image) []string {
	t.Helper()
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"config " + cfg.String()}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, "layer "+d.String())
	}
	return out
}
