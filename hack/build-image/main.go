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

// Command build-image builds the operator's container image without a
// container engine: `make image` runs it. It compiles main.go as the
// Dockerfile does (CGO_ENABLED=0, -trimpath, -ldflags "-s -w -X
// main.version=…") and assembles, with go-containerregistry, an OCI image
// FROM scratch:
//
//   - layer 1: /etc/ssl/certs/ca-certificates.crt (the CA bundle, copied from
//     -ca-bundle: by default the build machine's, which on Debian is the
//     ca-certificates package, the same source distroless/static takes
//     its bundle from) and an empty /tmp (mode 1777);
//   - layer 2: /manager;
//   - config: Entrypoint ["/manager"], User 65532:65532 (distroless's
//     nonroot; the image has no /etc/passwd, and needs none: the operator
//     never looks its user up), SSL_CERT_FILE, and the OCI labels.
//
// It writes an OCI image layout directory (-o), and, with -tar, a tarball
// that `docker load`, `podman load` or `crane push` take. Nothing is fetched
// but Go modules. Every timestamp is -created, so the same sources, Go
// toolchain and CA bundle give the same digest.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// User is distroless's nonroot user and group.
	User = "65532:65532"
	// Entrypoint is where the binary lives, as in the Dockerfile.
	Entrypoint = "/manager"
	// CABundlePath is where the image holds the CA bundle (Debian's path,
	// which Go's crypto/x509 reads on Linux; SSL_CERT_FILE names it too).
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
	// DefaultSource is the org.opencontainers.image.source label.
	DefaultSource = "https://github.com/hubspot-operator/hubspot-operator"
	// Title is the org.opencontainers.image.title label.
	Title = "hubspot-operator"
)

// Options say what to build.
type Options struct {
	Root     string    // the repository root (holds go.mod and main.go)
	Version  string    // main.version and org.opencontainers.image.version
	Revision string    // org.opencontainers.image.revision (a commit), optional
	Source   string    // org.opencontainers.image.source
	Created  time.Time // every timestamp in the image
	OS, Arch string    // the platform
	CABundle string    // the CA bundle to copy into the image
	// Package is the main package to build, relative to Root ("." is the
	// operator); Entrypoint is where its binary goes and Title names the
	// image. The other commands `make cluster` runs as Pods (the simulator,
	// the pause container, a workload) are packed the same way.
	Package    string
	Entrypoint string
	Title      string
}

func (o Options) entrypoint() string {
	if o.Entrypoint == "" {
		return Entrypoint
	}
	return o.Entrypoint
}

func (o Options) title() string {
	if o.Title == "" {
		return Title
	}
	return o.Title
}

// Result is a built image and where its parts came from.
type Result struct {
	Image        v1.Image
	CABundleHash string // sha256 of the CA bundle copied in
}

func main() {
	opts := Options{OS: "linux", Arch: runtime.GOARCH}
	var out, tarPath, tag, created, platform string
	flag.StringVar(&opts.Root, "root", ".", "the repository root")
	flag.StringVar(&opts.Version, "version", "dev", "the operator's version (main.version and the version label)")
	flag.StringVar(&opts.Revision, "revision", "", "the commit the image is built from (org.opencontainers.image.revision)")
	flag.StringVar(&opts.Source, "source", DefaultSource, "org.opencontainers.image.source")
	flag.StringVar(&opts.CABundle, "ca-bundle", CABundlePath, "the CA bundle (PEM) to copy into the image")
	flag.StringVar(&opts.Package, "pkg", ".", "the main package to build, relative to -root")
	flag.StringVar(&opts.Entrypoint, "entrypoint", Entrypoint, "where the binary goes in the image, its entrypoint")
	flag.StringVar(&opts.Title, "title", Title, "org.opencontainers.image.title")
	flag.StringVar(&created, "created", "", "RFC 3339 time of every timestamp in the image (default: $SOURCE_DATE_EPOCH, else the Unix epoch)")
	flag.StringVar(&platform, "platform", "linux/"+runtime.GOARCH, "the image's os/arch")
	flag.StringVar(&out, "o", "bin/image", "the OCI image layout directory to write (replaced)")
	flag.StringVar(&tarPath, "tar", "", "also write a tarball for docker load / podman load / crane push")
	flag.StringVar(&tag, "tag", "hubspot-operator:dev", "the image's name in the layout's index and the tarball")
	flag.Parse()

	if err := run(opts, out, tarPath, tag, created, platform); err != nil {
		fmt.Fprintln(os.Stderr, "build-image:", err)
		os.Exit(1)
	}
}

func run(opts Options, out, tarPath, tag, created, platform string) error {
	var ok bool
	if opts.OS, opts.Arch, ok = strings.Cut(platform, "/"); !ok {
		return fmt.Errorf("-platform %q is not os/arch", platform)
	}
	var err error
	if opts.Created, err = createdTime(created); err != nil {
		return err
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	res, err := Build(opts)
	if err != nil {
		return err
	}
	if err := WriteLayout(out, res.Image, ref); err != nil {
		return err
	}
	if tarPath != "" {
		if err := tarball.WriteToFile(tarPath, ref, res.Image); err != nil {
			return err
		}
	}
	digest, err := res.Image.Digest()
	if err != nil {
		return err
	}
	size, err := Size(res.Image)
	if err != nil {
		return err
	}
	fmt.Printf("%s %s/%s %s, %d bytes compressed (CA bundle sha256:%s)\n", ref, opts.OS, opts.Arch, digest, size, res.CABundleHash)
	fmt.Printf("OCI layout: %s\n", out)
	if tarPath != "" {
		fmt.Printf("tarball: %s\n", tarPath)
	}
	return nil
}

func createdTime(flagValue string) (time.Time, error) {
	if flagValue != "" {
		return time.Parse(time.RFC3339, flagValue)
	}
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		var sec int64
		if _, err := fmt.Sscan(epoch, &sec); err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", epoch, err)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	return time.Unix(0, 0).UTC(), nil
}

// Build compiles the manager and assembles the image.
func Build(opts Options) (*Result, error) {
	ca, err := os.ReadFile(opts.CABundle)
	if err != nil {
		return nil, fmt.Errorf("the CA bundle: %w (install Debian's ca-certificates, or pass -ca-bundle)", err)
	}
	if !bytes.Contains(ca, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("%s holds no PEM certificate", opts.CABundle)
	}
	tmp, err := os.MkdirTemp("", "build-image-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "manager")
	if err := compile(opts, bin); err != nil {
		return nil, err
	}
	manager, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(ca)
	caHash := hex.EncodeToString(sum[:])

	base, err := layer(opts.Created, []file{
		{name: "etc/", dir: true, mode: 0o755},
		{name: "etc/ssl/", dir: true, mode: 0o755},
		{name: "etc/ssl/certs/", dir: true, mode: 0o755},
		{name: strings.TrimPrefix(CABundlePath, "/"), mode: 0o644, data: ca},
		{name: "tmp/", dir: true, mode: 0o1777},
	})
	if err != nil {
		return nil, err
	}
	app, err := layer(opts.Created, []file{{name: strings.TrimPrefix(opts.entrypoint(), "/"), mode: 0o755, data: manager}})
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: opts.Created}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: created,
			CreatedBy: "COPY " + opts.CABundle + " " + CABundlePath + " # sha256:" + caHash + "; mkdir -m 1777 /tmp", Comment: "hack/build-image"}},
		mutate.Addendum{Layer: app, History: v1.History{Created: created,
			CreatedBy: "COPY " + filepath.Base(opts.entrypoint()) + " " + opts.entrypoint() +
				" # go build -trimpath -ldflags \"-s -w -X main.version=" + opts.Version + "\", CGO_ENABLED=0", Comment: "hack/build-image"}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = opts.OS, opts.Arch
	cf.Created = created
	cf.Author = ""
	cf.Config = v1.Config{
		User:       User,
		Entrypoint: []string{opts.entrypoint()},
		WorkingDir: "/",
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"SSL_CERT_FILE=" + CABundlePath,
		},
		Labels: Labels(opts),
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return &Result{Image: img, CABundleHash: caHash}, nil
}

// Labels are the image's OCI annotations-as-labels, the Dockerfile's too.
func Labels(opts Options) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":    opts.title(),
		"org.opencontainers.image.source":   opts.Source,
		"org.opencontainers.image.version":  opts.Version,
		"org.opencontainers.image.licenses": "Apache-2.0",
		"org.opencontainers.image.created":  opts.Created.UTC().Format(time.RFC3339),
	}
	if opts.title() == Title {
		l["org.opencontainers.image.description"] = "Provisions Cloud Elements HubSpot CRM element instances from HubSpotInstance resources"
	}
	if opts.Revision != "" {
		l["org.opencontainers.image.revision"] = opts.Revision
	}
	return l
}

// compile builds main.go as the Dockerfile's builder stage does. VCS
// stamping is off, as in the Dockerfile (which copies no .git): the
// revision is a label instead, and a dirty tree does not change the binary.
func compile(opts Options, out string) error {
	pkg := opts.Package
	if pkg == "" {
		pkg = "."
	}
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X main.version="+opts.Version, "-o", out, pkg)
	cmd.Dir = opts.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+opts.OS, "GOARCH="+opts.Arch, "GOWORK=off")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	return nil
}

type file struct {
	name string
	dir  bool
	mode int64
	data []byte
}

// layer is a gzip-compressed OCI layer holding files, owned by root, with
// every timestamp at created.
func layer(created time.Time, files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: created, Format: tar.FormatPAX,
			Uid: 0, Gid: 0, Uname: "root", Gname: "root"}
		if f.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	raw := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// WriteLayout replaces dir with an OCI image layout holding img, named ref.
func WriteLayout(dir string, img v1.Image, ref name.Tag) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	// containerd (`ctr image import`) names the image by this annotation,
	// spelling Docker Hub docker.io.
	full := ref.Name()
	if ref.RegistryStr() == name.DefaultRegistry {
		full = "docker.io/" + ref.RepositoryStr() + ":" + ref.TagStr()
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref.TagStr(),
		"io.containerd.image.name":          full,
	})); err != nil {
		return err
	}
	// go-containerregistry writes the layer blobs 0600; a layout is read by
	// other tools, maybe as other users, like the rest of the tree.
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chmod(path, 0o644)
	})
}

// Size is what a registry stores: the manifest, the config and the
// compressed layers.
func Size(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	total := int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		total += l.Size
	}
	if total <= 0 {
		return 0, errors.New("an empty image")
	}
	return total, nil
}
