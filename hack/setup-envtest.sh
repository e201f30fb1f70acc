#!/usr/bin/env bash
# Provides kube-apiserver, etcd, kubectl and kube-controller-manager for
# controller-runtime's envtest and the test harnesses (test/harness starts
# kube-controller-manager with the namespace and garbage collector
# controllers, which envtest alone lacks).
#
#   export KUBEBUILDER_ASSETS="$(hack/setup-envtest.sh)"
#
# The only thing written to stdout is the binaries' folder (one line), so the
# command substitution above works; progress goes to stderr and any failure
# exits non-zero.
#
# How the binaries are obtained, in order:
#   1. Already installed in the cache (setup-envtest store layout,
#      $ENVTEST_CACHE_DIR/k8s/<version>-<os>-<arch>/): printed immediately.
#      A folder with kube-apiserver, etcd and kubectl but no
#      kube-controller-manager (installed before it was added here, or by the
#      official download) only gets kube-controller-manager built and added.
#   2. The official envtest download via `go tool setup-envtest` (pinned in
#      go.mod), with a short timeout so offline machines fail fast. Skipped
#      with ENVTEST_SKIP_DOWNLOAD=1. It ships no kube-controller-manager, so
#      that one is still built from source (step 3) and added to the folder.
#   3. Built from source through the Go module proxy, in one throw-away
#      wrapper module and one `go build` (hack/lib.sh, which also says how
#      they share the Go build cache with the repository's own builds):
#      kube-apiserver, kubectl and kube-controller-manager from
#      k8s.io/kubernetes, and etcd from a main package calling etcdmain.Main.
#      First run, from an empty Go build cache on 2 cores: about 5 minutes
#      on a quiet machine (peak ~2.4 GB RSS for kube-apiserver), mostly
#      kube-apiserver; less after `make demo`'s own build has filled the
#      cache with what they share. With a warm Go build cache, seconds.
#
# The binaries are built into a temporary folder inside the cache dir and
# moved into place in one step (a whole folder, or the one added
# kube-controller-manager file), so a half-built folder never looks installed;
# concurrent runs are serialised with flock. Once installed, offline
# `go tool setup-envtest use <version> -i -p path --bin-dir $ENVTEST_CACHE_DIR`
# finds them too.
#
# Environment:
#   ENVTEST_K8S_VERSION         Kubernetes version (default 1.37.2)
#   ENVTEST_K8S_MODULE_VERSION  version of the k8s.io/* staging modules
#                               (default derived: 1.37.2 -> v0.37.2)
#   ENVTEST_ETCD_VERSION        etcd version (default 3.7.3)
#   ENVTEST_CACHE_DIR           where binaries live
#                               (default ${XDG_CACHE_HOME:-$HOME/.cache}/hubspot-operator/envtest)
#   ENVTEST_SKIP_DOWNLOAD=1     don't try the official download
#   ENVTEST_DOWNLOAD_TIMEOUT    seconds allowed for the download attempt (default 20)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd -P)"
# shellcheck source=hack/lib.sh
source "${SCRIPT_DIR}/lib.sh"
setup_begin setup-envtest go flock timeout mktemp

ENVTEST_K8S_VERSION="${ENVTEST_K8S_VERSION:-1.37.2}"
ENVTEST_K8S_VERSION="${ENVTEST_K8S_VERSION#v}"
if [[ ! "${ENVTEST_K8S_VERSION}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  die "ENVTEST_K8S_VERSION must look like 1.37.2, got '${ENVTEST_K8S_VERSION}'"
fi
ENVTEST_ETCD_VERSION="${ENVTEST_ETCD_VERSION:-3.7.3}"
ENVTEST_ETCD_VERSION="${ENVTEST_ETCD_VERSION#v}"
ENVTEST_DOWNLOAD_TIMEOUT="${ENVTEST_DOWNLOAD_TIMEOUT:-20}"

ENVTEST_CACHE_DIR="${ENVTEST_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/hubspot-operator/envtest}"
mkdir -p "${ENVTEST_CACHE_DIR}"
ENVTEST_CACHE_DIR="$(cd "${ENVTEST_CACHE_DIR}" && pwd -P)"

HOST_OS="$(go env GOOS)"
HOST_ARCH="$(go env GOARCH)"
DEST="${ENVTEST_CACHE_DIR}/k8s/${ENVTEST_K8S_VERSION}-${HOST_OS}-${HOST_ARCH}"
# What envtest itself runs (and what the official download ships), and what
# the harnesses add on top.
BASE_BINARIES=(kube-apiserver etcd kubectl)
CONTROLLER_MANAGER=kube-controller-manager
BINARIES=("${BASE_BINARIES[@]}" "${CONTROLLER_MANAGER}")

has_binaries() {
  local dir="$1" b
  shift
  [[ -n "${dir}" && -d "${dir}" ]] || return 1
  for b in "$@"; do
    [[ -f "${dir}/${b}" && -x "${dir}/${b}" ]] || return 1
  done
}
installed() { has_binaries "$1" "${BINARIES[@]}"; }
base_installed() { has_binaries "$1" "${BASE_BINARIES[@]}"; }

finish() {
  printf '%s\n' "$1" >&3
  exit 0
}

# --- serialise concurrent runs ------------------------------------------------
lock_cache "${ENVTEST_CACHE_DIR}"

# --- 1. already installed -----------------------------------------------------
if installed "${DEST}"; then
  finish "${DEST}"
fi

# setup-envtest is pinned as a go tool in the repo's go.mod. Build it (no
# timeout: a cold compile takes ~20 s) and remember the binary's path in
# SETUP_ENVTEST. -mod=readonly: never touch the repo's go.mod/go.sum.
SETUP_ENVTEST=""
ensure_setup_envtest() {
  [[ -n "${SETUP_ENVTEST}" ]] && return 0
  SETUP_ENVTEST="$(cd "${REPO_ROOT}" && GOFLAGS=-mod=readonly go tool -n setup-envtest)" || SETUP_ENVTEST=""
  [[ -n "${SETUP_ENVTEST}" && -x "${SETUP_ENVTEST}" ]] && return 0
  SETUP_ENVTEST=""
  return 1
}

# Prints the path setup-envtest reports for the installed version (that's
# what it finds offline), falling back to DEST.
installed_path() {
  local path=""
  if ensure_setup_envtest; then
    path="$("${SETUP_ENVTEST}" use "${ENVTEST_K8S_VERSION}" -i -p path \
      --bin-dir "${ENVTEST_CACHE_DIR}" --os "${HOST_OS}" --arch "${HOST_ARCH}" 2>/dev/null)" || path=""
  fi
  if installed "${path}"; then
    [[ "${path}" == "${DEST}" ]] || log "note: setup-envtest reports ${path} (expected ${DEST})"
    printf '%s\n' "${path}"
  else
    log "note: setup-envtest doesn't list the install; using ${DEST} directly"
    printf '%s\n' "${DEST}"
  fi
}

# Wrapper modules and logs live outside the repo; the build output is staged
# inside the cache dir so the final mv is a same-filesystem rename.
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/hubspot-operator-envtest.XXXXXX")"
STAGE_DIR="$(mktemp -d "${ENVTEST_CACHE_DIR}/.staging-${ENVTEST_K8S_VERSION}.XXXXXX")"

# prepare_wrapper aligned|own: the wrapper module for the k8s.io/kubernetes
# commands and etcd (hack/lib.sh).
prepare_wrapper() {
  wrapper_module "${WORK_DIR}/kubernetes" hubspot-operator.local/envtest-kubernetes "$1"
  require_kubernetes "${ENVTEST_K8S_VERSION}" "${ENVTEST_K8S_MODULE_VERSION:-}"
  wrapper_go mod edit "-require=go.etcd.io/etcd/server/v3@v${ENVTEST_ETCD_VERSION}"
  cat >tools.go <<'EOF'
//go:build tools

// Package tools pins the commands built by hack/setup-envtest.sh.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
  mkdir -p etcd
  cat >etcd/main.go <<'EOF'
// Command etcd runs etcd's server main, like the upstream etcd binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
EOF
  log "go mod tidy for k8s.io/kubernetes and etcd v${ENVTEST_ETCD_VERSION} (downloads dependencies on first run)…"
  wrapper_go mod tidy
}

# build_commands <package>…: builds them into STAGE_DIR (hack/lib.sh).
build_commands() {
  build_aligned prepare_wrapper "$(kube_ldflags "${ENVTEST_K8S_VERSION}")" "${STAGE_DIR}" "$@"
}

# check_kube_version <name>: the staged binary runs and reports the version.
check_kube_version() {
  local name="$1" out
  out="$("${STAGE_DIR}/${name}" --version 2>&1)" || die "${name} --version failed: ${out}"
  [[ "${out}" == *"v${ENVTEST_K8S_VERSION}"* ]] ||
    log "WARNING: ${name} reports '${out}', expected v${ENVTEST_K8S_VERSION} (version ldflags not applied?)"
}

# add_controller_manager <dir>: builds kube-controller-manager and moves it
# into <dir>, which already holds the other binaries, in one rename. <dir>
# may be one of setup-envtest's read-only folders: it is made writable for
# the move, then its mode is restored.
add_controller_manager() {
  local dir="$1" mode
  build_commands "k8s.io/kubernetes/cmd/${CONTROLLER_MANAGER}"
  check_kube_version "${CONTROLLER_MANAGER}"
  mode="$(stat -c '%a' "${dir}")"
  chmod u+w "${dir}"
  mv -f "${STAGE_DIR}/${CONTROLLER_MANAGER}" "${dir}/${CONTROLLER_MANAGER}"
  chmod "${mode}" "${dir}"
  log "added ${CONTROLLER_MANAGER} to ${dir} (total ${SECONDS}s)"
}

# kube-apiserver, etcd and kubectl are there, kube-controller-manager isn't:
# add just that one.
if base_installed "${DEST}"; then
  log "${DEST} lacks ${CONTROLLER_MANAGER}; building it from the Go module proxy…"
  add_controller_manager "${DEST}"
  finish "$(installed_path)"
fi

# Anything else left at DEST is incomplete (e.g. an interrupted download).
remove_dir "${DEST}"

# --- 2. official download -----------------------------------------------------
if [[ "${ENVTEST_SKIP_DOWNLOAD:-0}" != "1" ]]; then
  if ensure_setup_envtest; then
    log "trying the official envtest ${ENVTEST_K8S_VERSION} download (timeout ${ENVTEST_DOWNLOAD_TIMEOUT}s)…"
    dl_log="${WORK_DIR}/download.log"
    rc=0
    path="$(timeout -k 5 "${ENVTEST_DOWNLOAD_TIMEOUT}" "${SETUP_ENVTEST}" use "${ENVTEST_K8S_VERSION}" -p path \
      --bin-dir "${ENVTEST_CACHE_DIR}" --os "${HOST_OS}" --arch "${HOST_ARCH}" 2>"${dl_log}")" || rc=$?
    if ((rc == 0)) && base_installed "${path}"; then
      log "downloaded to ${path}"
      if ! installed "${path}"; then
        log "the download has no ${CONTROLLER_MANAGER}; building it from the Go module proxy…"
        add_controller_manager "${path}"
      fi
      finish "${path}"
    fi
    if ((rc == 124 || rc == 137)); then
      reason="timed out after ${ENVTEST_DOWNLOAD_TIMEOUT}s"
    elif ((rc == 0)); then
      reason="setup-envtest returned '${path}', which lacks ${BASE_BINARIES[*]}"
    else
      reason="$(tail -n 1 "${dl_log}" | cut -c1-240)"
    fi
    log "download unavailable (${reason}); building from the Go module proxy instead"
    remove_dir "${DEST}" # a timed-out download may leave a partial folder
  else
    log "couldn't build 'go tool setup-envtest' in ${REPO_ROOT}; skipping the download attempt"
  fi
fi

# --- 3. build from source -----------------------------------------------------
# One build for all four: the Go command shares their common packages and
# keeps both cores busy to the last link. (The version flags name packages
# etcd does not link, which the linker ignores.)
build_commands k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl \
  "k8s.io/kubernetes/cmd/${CONTROLLER_MANAGER}" ./etcd

# Sanity-check the binaries before installing them.
installed "${STAGE_DIR}" || die "build finished but binaries are missing in ${STAGE_DIR}"
check_kube_version kube-apiserver
check_kube_version "${CONTROLLER_MANAGER}"
etcd_version="$("${STAGE_DIR}/etcd" --version 2>&1)" || die "etcd --version failed: ${etcd_version}"
[[ "${etcd_version}" == *"${ENVTEST_ETCD_VERSION}"* ]] ||
  log "WARNING: etcd reports '${etcd_version}', expected ${ENVTEST_ETCD_VERSION}"

# Install in one step.
chmod 0755 "${STAGE_DIR}"
mkdir -p "$(dirname "${DEST}")"
remove_dir "${DEST}"
mv "${STAGE_DIR}" "${DEST}"
STAGE_DIR=""
log "installed ${DEST} (total ${SECONDS}s)"

finish "$(installed_path)"
