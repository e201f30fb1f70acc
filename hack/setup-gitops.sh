#!/usr/bin/env bash
# Provides the GitOps controllers the GitOps suite (test/gitops) runs as
# processes: Flux's source-controller and kustomize-controller, and Argo CD's
# one binary (argocd) with the names it runs under
# (argocd-application-controller, argocd-repo-server, argocd-server).
#
#   export GITOPS_ASSETS="$(hack/setup-gitops.sh)"
#
# The only thing written to stdout is the binaries' folder (one line), so the
# command substitution above works; progress goes to stderr and any failure
# exits non-zero. The folder also holds the controllers' CRDs, Flux's in crd/
# (from their modules' config/crd/bases) and Argo CD's Application and
# AppProject in argocd-crd/ (from its manifests/crds), so a suite installs
# exactly what the binaries serve.
#
# Everything is built from the Go module proxy. None of these commands can be
# `go install`ed: each module's go.mod has replace directives, which only
# apply in the main module. So each is built from a throw-away wrapper module
# that requires it and carries its go.mod's replace directives, except the
# ones pointing into its own tree (the `./api` of the Flux controllers, whose
# published api module at the same version is required instead).
#
# Cold builds, measured on 2 cores shared with other builds and tests (load
# 10-26) under nice -n 19, the Go build cache warm only for what the
# operator shares: source-controller 1038 s, then kustomize-controller 565 s
# (most of its dependencies were compiled by then), argocd about 1000 s (beside
# the kustomize-controller build). A rebuild with a warm Go build cache is
# the link, 30-40 s each. Once installed, a run prints the folder at once.
#
# Environment:
#   GITOPS_COMPONENTS      what to provide: "flux", "argocd" or both
#                          (default "flux argocd")
#   FLUX_SOURCE_VERSION    source-controller version (default v1.9.0)
#   FLUX_KUSTOMIZE_VERSION kustomize-controller version (default v1.9.0)
#   ARGOCD_VERSION         Argo CD version (default v3.1.0)
#   GITOPS_CACHE_DIR       where binaries live
#                          (default ${XDG_CACHE_HOME:-$HOME/.cache}/hubspot-operator/gitops)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd -P)"
# shellcheck source=hack/lib.sh
source "${SCRIPT_DIR}/lib.sh"
setup_begin setup-gitops go flock mktemp

GITOPS_COMPONENTS="${GITOPS_COMPONENTS:-flux argocd}"
FLUX_SOURCE_VERSION="${FLUX_SOURCE_VERSION:-v1.9.0}"
FLUX_KUSTOMIZE_VERSION="${FLUX_KUSTOMIZE_VERSION:-v1.9.0}"
ARGOCD_VERSION="${ARGOCD_VERSION:-v3.1.0}"

GITOPS_CACHE_DIR="${GITOPS_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/hubspot-operator/gitops}"
mkdir -p "${GITOPS_CACHE_DIR}"
GITOPS_CACHE_DIR="$(cd "${GITOPS_CACHE_DIR}" && pwd -P)"

HOST_OS="$(go env GOOS)"
HOST_ARCH="$(go env GOARCH)"
# One folder per platform; each binary's name carries no version, so the
# versions are in the folder's name and a version change builds a new folder.
DEST="${GITOPS_CACHE_DIR}/source-controller-${FLUX_SOURCE_VERSION}_kustomize-controller-${FLUX_KUSTOMIZE_VERSION}_argocd-${ARGOCD_VERSION}-${HOST_OS}-${HOST_ARCH}"

# The names Argo CD's binary dispatches on (cmd/main.go reads os.Args[0]).
ARGOCD_NAMES=(argocd-application-controller argocd-repo-server argocd-server)

wants() { [[ " ${GITOPS_COMPONENTS} " == *" $1 "* ]]; }

installed() {
  local b
  if wants flux; then
    for b in source-controller kustomize-controller; do
      [[ -x "${DEST}/${b}" && -f "${DEST}/crd/${b}.done" ]] || return 1
    done
  fi
  if wants argocd; then
    [[ -x "${DEST}/argocd" ]] || return 1
    for b in "${ARGOCD_NAMES[@]}"; do
      [[ -L "${DEST}/${b}" ]] || return 1
    done
    [[ -f "${DEST}/argocd-crd/.done" ]] || return 1
  fi
}

finish() {
  printf '%s\n' "${DEST}" >&3
  exit 0
}

# --- serialise concurrent runs ------------------------------------------------
lock_cache "${GITOPS_CACHE_DIR}"

if installed; then
  finish
fi

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/hubspot-operator-gitops.XXXXXX")"
STAGE_DIR="$(mktemp -d "${GITOPS_CACHE_DIR}/.staging.XXXXXX")"
mkdir -p "${DEST}/crd"

# Flux's and Argo CD's own module versions, static and path-trimmed: their
# Kubernetes libraries are releases apart from this repository's, so there is
# no build cache to share (hack/lib.sh's wrapper_go is for those that do).
gitops_go() {
  GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 go "$@"
}

# download_module <module@version>: sets MODULE_GOMOD to the module's go.mod
# and MODULE_DIR to its extracted source.
MODULE_GOMOD=""
MODULE_DIR=""
download_module() {
  local json
  if ! json="$(gitops_go mod download -json "$1")"; then
    printf '%s\n' "${json}" >&2
    die "couldn't download $1 from the module proxy"
  fi
  MODULE_GOMOD="$(printf '%s\n' "${json}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  MODULE_DIR="$(printf '%s\n' "${json}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -f "${MODULE_GOMOD}" && -d "${MODULE_DIR}" ]] || die "no go.mod or folder in 'go mod download' output: ${json}"
}

# copied_replaces <go.mod>: prints `go mod edit -replace=` arguments for every
# replace directive of <go.mod> that points at another module (not a folder).
copied_replaces() {
  go mod edit -json "$1" | awk '
    /^[[:space:]]*"Replace": \[/ { inrep = 1; next }
    inrep && /^[[:space:]]*\],?$/ { inrep = 0 }
    inrep && /"Old": \{/ { side = "old"; op = ""; ov = ""; np = ""; nv = ""; next }
    inrep && /"New": \{/ { side = "new"; next }
    inrep && /"Path":/ { p = $2; gsub(/[",]/, "", p); if (side == "old") op = p; else np = p }
    inrep && /"Version":/ { v = $2; gsub(/[",]/, "", v); if (side == "old") ov = v; else nv = v }
    inrep && side == "new" && /^[[:space:]]*\}/ {
      side = ""
      if (nv == "") next # a folder: its module is required instead
      printf "-replace=%s%s=%s@%s\n", op, (ov == "" ? "" : "@" ov), np, nv
    }'
}

# build_wrapped <module> <version> <package> <output> <hint>: builds <package>
# of <module>@<version> into STAGE_DIR/<output>, in a wrapper module with the
# module's replace directives.
build_wrapped() {
  local module="$1" version="$2" package="$3" output="$4" hint="$5" start=${SECONDS} wrapper
  wrapper="${WORK_DIR}/${output}"
  mkdir -p "${wrapper}"
  cd "${wrapper}"
  log "resolving ${module}@${version} from the module proxy…"
  download_module "${module}@${version}"
  gitops_go mod init "hubspot-operator.local/gitops-${output}" >/dev/null 2>&1 || die "go mod init failed for ${output}"
  local edit_args=("-require=${module}@${version}") r
  while IFS= read -r r; do
    edit_args+=("${r}")
  done < <(copied_replaces "${MODULE_GOMOD}")
  log "wrapper for ${module}: $((${#edit_args[@]} - 1)) replace directives copied"
  gitops_go mod edit "${edit_args[@]}"
  # No `go mod tidy`: it would also fetch what the module's dependencies'
  # tests import, some of which the module proxy does not serve; the build
  # itself (-mod=mod) records just what the command needs.
  log "building ${output} (${hint})…"
  gitops_go build -trimpath -ldflags "${LDFLAGS:-}" -o "${STAGE_DIR}/${output}" "${package}"
  log "built ${output} in $((SECONDS - start))s"
  cd /
}

# install_file <staged name>: moves a staged file into DEST in one rename, so
# a half-built binary never looks installed.
install_file() {
  chmod 0755 "${STAGE_DIR}/$1"
  mv -f "${STAGE_DIR}/$1" "${DEST}/$1"
}

# install_crds <name>: copies the CRDs of the module last downloaded; the
# marker file says they are complete.
install_crds() {
  local name="$1"
  cp "${MODULE_DIR}"/config/crd/bases/*.yaml "${DEST}/crd/"
  chmod u+w "${DEST}"/crd/*.yaml
  : >"${DEST}/crd/${name}.done"
}

if wants flux; then
  for name in source-controller kustomize-controller; do
    [[ -x "${DEST}/${name}" && -f "${DEST}/crd/${name}.done" ]] && continue
    version="${FLUX_SOURCE_VERSION}"
    [[ "${name}" == kustomize-controller ]] && version="${FLUX_KUSTOMIZE_VERSION}"
    LDFLAGS="" build_wrapped "github.com/fluxcd/${name}" "${version}" "github.com/fluxcd/${name}" "${name}" \
      "first run: minutes on 2 cores, seconds once the Go build cache is warm"
    install_file "${name}"
    install_crds "${name}"
  done
fi

if wants argocd; then
  if [[ ! -x "${DEST}/argocd" ]]; then
    argocd_module="github.com/argoproj/argo-cd/v3"
    LDFLAGS="-X ${argocd_module}/common.version=${ARGOCD_VERSION#v} -X ${argocd_module}/common.gitTreeState=clean" \
      build_wrapped "${argocd_module}" "${ARGOCD_VERSION}" "${argocd_module}/cmd" argocd \
      "first run: the largest of the three, tens of minutes on 2 cores"
    install_file argocd
  fi
  for name in "${ARGOCD_NAMES[@]}"; do
    ln -sfn argocd "${DEST}/${name}"
  done
  # Argo CD's CRDs apart from Flux's: a suite installs the folder of the
  # controllers it runs.
  if [[ ! -f "${DEST}/argocd-crd/.done" ]]; then
    download_module "github.com/argoproj/argo-cd/v3@${ARGOCD_VERSION}"
    mkdir -p "${DEST}/argocd-crd"
    cp "${MODULE_DIR}"/manifests/crds/application-crd.yaml "${MODULE_DIR}"/manifests/crds/appproject-crd.yaml "${DEST}/argocd-crd/"
    chmod u+w "${DEST}"/argocd-crd/*.yaml
    : >"${DEST}/argocd-crd/.done"
  fi
fi

installed || die "build finished but binaries are missing in ${DEST}"
log "installed ${DEST} (total ${SECONDS}s)"
finish
