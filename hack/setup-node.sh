#!/usr/bin/env bash
# Provides what `make cluster` runs on its node besides the control plane of
# hack/setup-envtest.sh: kubelet, kube-scheduler, kube-proxy and CoreDNS,
# built through the Go module proxy, and the pause image (the sandbox every
# Pod starts from), built without a container engine.
#
#   NODE_ASSETS="$(hack/setup-node.sh)"
#
# The only thing written to stdout is the folder (one line); progress goes to
# stderr and any failure exits non-zero. The folder holds:
#
#   kubelet, kube-scheduler, kube-proxy   k8s.io/kubernetes, the version of
#                                         the envtest control plane
#   coredns                               github.com/coredns/coredns, with
#                                         only the plugins a cluster DNS uses
#   pause.tar                             an OCI image tarball of hack/pause
#
# Built as hack/setup-envtest.sh builds the control plane, in throw-away
# wrapper modules aligned with this repository's go.mod (hack/lib.sh). With
# the Go build cache warm from the envtest binaries, the three take about a
# minute; cold, several. CoreDNS, in a wrapper module of its own, takes 1-3
# minutes cold. The binaries are staged in the cache
# and moved into place in one rename; concurrent runs wait on a flock.
#
# The pause image is the one part built from this repository: it is rebuilt
# when hack/pause changes (its source hash names the file).
#
# Environment:
#   NODE_K8S_VERSION         Kubernetes version (default: ENVTEST_K8S_VERSION, else 1.37.2)
#   NODE_COREDNS_VERSION     CoreDNS version (default 1.15.0)
#   NODE_CACHE_DIR           where the folder lives
#                            (default ${XDG_CACHE_HOME:-$HOME/.cache}/hubspot-operator/node)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd -P)"
# shellcheck source=hack/lib.sh
source "${SCRIPT_DIR}/lib.sh"
setup_begin setup-node go flock mktemp sha256sum

NODE_K8S_VERSION="${NODE_K8S_VERSION:-${ENVTEST_K8S_VERSION:-1.37.2}}"
NODE_K8S_VERSION="${NODE_K8S_VERSION#v}"
if [[ ! "${NODE_K8S_VERSION}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  die "NODE_K8S_VERSION must look like 1.37.2, got '${NODE_K8S_VERSION}'"
fi
NODE_COREDNS_VERSION="${NODE_COREDNS_VERSION:-1.15.0}"
NODE_COREDNS_VERSION="${NODE_COREDNS_VERSION#v}"

NODE_CACHE_DIR="${NODE_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/hubspot-operator/node}"
mkdir -p "${NODE_CACHE_DIR}"
NODE_CACHE_DIR="$(cd "${NODE_CACHE_DIR}" && pwd -P)"
HOST_OS="$(go env GOOS)"
HOST_ARCH="$(go env GOARCH)"
DEST="${NODE_CACHE_DIR}/${NODE_K8S_VERSION}-coredns-${NODE_COREDNS_VERSION}-${HOST_OS}-${HOST_ARCH}"
KUBE_BINARIES=(kubelet kube-scheduler kube-proxy)

# CoreDNS's main package: only the plugins a cluster DNS needs, since the
# full plugin set pulls in every cloud provider's SDK, minutes of compiling
# for nothing. The directive order (which plugin runs first) stays CoreDNS's
# own, filtered to what is linked in. A change here rebuilds coredns (its
# hash marks the binary).
COREDNS_MAIN="$(cat <<'EOF'
// Command coredns is CoreDNS with the plugins of a cluster's DNS.
package main

import (
	"strings"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func init() {
	// Listed as "dns.<name>" among the "others".
	registered := map[string]bool{}
	for _, name := range caddy.ListPlugins()["others"] {
		registered[strings.TrimPrefix(name, "dns.")] = true
	}
	var linked []string
	for _, d := range dnsserver.Directives {
		if registered[d] {
			linked = append(linked, d)
		}
	}
	dnsserver.Directives = linked
}

func main() {
	coremain.Run()
}
EOF
)"
COREDNS_RECIPE="$(printf '%s' "${COREDNS_MAIN}" | sha256sum | cut -c1-12)"
BINARIES=("${KUBE_BINARIES[@]}" coredns)

installed() {
  local b
  [[ -d "${DEST}" ]] || return 1
  for b in "${BINARIES[@]}"; do
    [[ -x "${DEST}/${b}" ]] || return 1
  done
  [[ -f "${DEST}/.coredns-${COREDNS_RECIPE}" ]]
}

lock_cache "${NODE_CACHE_DIR}"

build_binaries() {
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/hubspot-operator-node.XXXXXX")"
  STAGE_DIR="$(mktemp -d "${NODE_CACHE_DIR}/.staging-${NODE_K8S_VERSION}.XXXXXX")"

  # --- k8s.io/kubernetes commands ---------------------------------------------
  # Kept when only CoreDNS is missing (a CoreDNS version change).
  local name have_kube=1
  for name in "${KUBE_BINARIES[@]}"; do
    [[ -x "${DEST}/${name}" ]] || have_kube=0
  done
  if ((have_kube)); then
    for name in "${KUBE_BINARIES[@]}"; do
      cp -p "${DEST}/${name}" "${STAGE_DIR}/${name}"
    done
  else
    build_kube_binaries
  fi
  build_coredns
}

# prepare_kube_wrapper aligned|own: the wrapper module for the kubelet,
# kube-scheduler and kube-proxy (hack/lib.sh).
prepare_kube_wrapper() {
  wrapper_module "${WORK_DIR}/kubernetes" hubspot-operator.local/node-kubernetes "$1"
  require_kubernetes "${NODE_K8S_VERSION}"
  cat >tools.go <<'EOF'
//go:build tools

// Package tools pins the commands built by hack/setup-node.sh.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
EOF
  log "go mod tidy for k8s.io/kubernetes…"
  wrapper_go mod tidy
}

build_kube_binaries() {
  local name packages=()
  for name in "${KUBE_BINARIES[@]}"; do
    packages+=("k8s.io/kubernetes/cmd/${name}")
  done
  build_aligned prepare_kube_wrapper "$(kube_ldflags "${NODE_K8S_VERSION}")" "${STAGE_DIR}" "${packages[@]}"
}

# prepare_coredns_wrapper aligned|own: the wrapper module for CoreDNS, whose
# kubernetes plugin shares client-go with the rest.
prepare_coredns_wrapper() {
  wrapper_module "${WORK_DIR}/coredns" hubspot-operator.local/node-coredns "$1"
  wrapper_go mod edit "-require=github.com/coredns/coredns@v${NODE_COREDNS_VERSION}"
  mkdir -p coredns
  printf '%s' "${COREDNS_MAIN}" >coredns/main.go
  log "go mod tidy for CoreDNS v${NODE_COREDNS_VERSION}…"
  wrapper_go mod tidy
}

build_coredns() {
  build_aligned prepare_coredns_wrapper "" "${STAGE_DIR}" ./coredns
  touch "${STAGE_DIR}/.coredns-${COREDNS_RECIPE}"
}

install_binaries() {

  "${STAGE_DIR}/kubelet" --version >/dev/null 2>&1 || die "the built kubelet does not run"
  chmod 0755 "${STAGE_DIR}"
  rm -rf "${DEST}"
  mv "${STAGE_DIR}" "${DEST}"
  STAGE_DIR=""
  log "installed ${DEST} (total ${SECONDS}s)"
}

if ! installed; then
  build_binaries
  install_binaries
fi

# --- the pause image ------------------------------------------------------------
pause_hash="$(cd "${REPO_ROOT}" && cat hack/pause/*.go hack/build-image/main.go | sha256sum | cut -c1-12)"
pause_tar="${DEST}/pause-${pause_hash}.tar"
if [[ ! -f "${pause_tar}" ]]; then
  log "building the pause image…"
  tmp_tar="$(mktemp "${DEST}/.pause.XXXXXX")"
  tmp_layout="$(mktemp -d "${TMPDIR:-/tmp}/hubspot-operator-pause.XXXXXX")"
  (cd "${REPO_ROOT}" && go run ./hack/build-image -pkg ./hack/pause -entrypoint /pause -title pause \
    -tag hubspot-operator.local/pause:"${pause_hash}" -o "${tmp_layout}" -tar "${tmp_tar}") >&2 ||
    { rm -rf "${tmp_tar}" "${tmp_layout}"; die "building the pause image failed"; }
  rm -rf "${tmp_layout}"
  rm -f "${DEST}"/pause-*.tar
  mv "${tmp_tar}" "${pause_tar}"
  chmod 0644 "${pause_tar}"
fi
ln -sfn "$(basename "${pause_tar}")" "${DEST}/pause.tar"
printf '%s\n' "${DEST}" >&3
