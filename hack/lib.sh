# shellcheck shell=bash
# Sourced by the setup scripts (hack/setup-envtest.sh, hack/setup-node.sh,
# hack/setup-gitops.sh): how each begins, serialises itself and cleans up,
# and how the first two build commands of other projects (kube-apiserver,
# kubelet, etcd, CoreDNS…) in throw-away wrapper modules through the Go
# module proxy. The scripts set REPO_ROOT before sourcing it.
#
# A wrapper module requires, besides the commands' own modules, every module
# this repository's go.mod requires, at the repository's version, and builds
# as the repository's own builds do (no -trimpath, the CGO setting left to
# `go env`). So the packages they share (k8s.io/api, apimachinery,
# client-go, grpc, protobuf…) are the same packages to the Go build cache and
# are compiled once, whichever build comes first: `make demo` compiles most
# of what kube-apiserver needs, kube-apiserver most of what the kubelet
# needs. Should a command not build with those versions (a module newer
# than it was written against), it is built once more with its own, which
# only shares less.

# setup_begin <name> <tool>…: the script's one line of output (a folder)
# goes to fd 3, everything else (its progress, go's output) to stderr, its
# own lines prefixed by log with <name>, the time and the seconds since it
# started. It fails at once when a tool is missing, and never lets a go.work
# leak into its builds.
SETUP_NAME=setup
setup_begin() {
  SETUP_NAME="$1"
  shift
  exec 3>&1 1>&2
  export GOWORK=off
  local tool
  for tool in "$@"; do
    command -v "${tool}" >/dev/null 2>&1 || die "'${tool}' not found in PATH"
  done
}
log() {
  printf '[%s %s +%ds] %s\n' "${SETUP_NAME}" "$(date +%H:%M:%S)" "${SECONDS}" "$*" >&2
}
die() {
  log "ERROR: $*"
  exit 1
}

# remove_dir <dir>: rm -rf that also copes with read-only (0555) folders,
# as setup-envtest's are.
remove_dir() {
  [[ -e "$1" ]] || return 0
  chmod -R u+w "$1" 2>/dev/null || true
  rm -rf "$1"
}

# WORK_DIR (wrapper modules, outside the repository) and STAGE_DIR (the
# build output, inside the cache so that moving it into place is one
# rename) are removed however the script ends.
WORK_DIR=""
STAGE_DIR=""
# shellcheck disable=SC2317 # invoked via trap
remove_work_dirs() {
  [[ -n "${WORK_DIR}" ]] && remove_dir "${WORK_DIR}"
  [[ -n "${STAGE_DIR}" ]] && remove_dir "${STAGE_DIR}"
  return 0
}
trap remove_work_dirs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# lock_cache <dir>: one run at a time on <dir>, through <dir>/.lock (fd 9,
# held until the script ends). Any staging folder there is then from a
# killed run, since nobody else can be using it, and is removed.
lock_cache() {
  local stale
  exec 9>"$1/.lock"
  if ! flock -n 9; then
    log "another ${SETUP_NAME}.sh run holds $1/.lock; waiting…"
    flock 9
    log "lock acquired"
  fi
  for stale in "$1"/.staging-*; do
    [[ -e "${stale}" ]] && remove_dir "${stale}"
  done
  return 0
}

# wrapper_go runs go in a wrapper module. -mod=mod: its go.mod is ours to
# edit; -buildvcs=false: no VCS there.
wrapper_go() {
  GOFLAGS="-mod=mod -buildvcs=false" go "$@"
}

# go_mod_requirements <go.mod>: its requirements, one path@version a line.
go_mod_requirements() {
  go mod edit -json "$1" | awk '
    /^[[:space:]]*"Require": \[/ { inreq = 1; next }
    inreq && /^[[:space:]]*\],?$/ { inreq = 0 }
    inreq && /"Path":/ { p = $2; gsub(/[",]/, "", p) }
    inreq && /"Version":/ { v = $2; gsub(/[",]/, "", v); print p "@" v }'
}

# wrapper_module <dir> <module path> aligned|own: a fresh module in <dir>,
# which becomes the current directory and WRAPPER_DIR; "aligned" requires
# the repository's modules at the repository's versions.
WRAPPER_DIR=""
wrapper_module() {
  local dir="$1" path="$2" versions="$3" out m
  remove_dir "${dir}"
  mkdir -p "${dir}"
  cd "${dir}"
  WRAPPER_DIR="${dir}"
  out="$(wrapper_go mod init "${path}" 2>&1)" || die "go mod init ${path} failed: ${out}"
  [[ "${versions}" == aligned ]] || return 0
  local args=()
  while IFS= read -r m; do
    [[ -n "${m}" ]] && args+=("-require=${m}")
  done < <(go_mod_requirements "${REPO_ROOT}/go.mod")
  ((${#args[@]} > 0)) || die "found no requirements in ${REPO_ROOT}/go.mod"
  log "requiring the ${#args[@]} modules ${REPO_ROOT}/go.mod requires, at its versions"
  wrapper_go mod edit "${args[@]}"
}

# require_kubernetes <version> [<staging version>]: k8s.io/kubernetes at
# v<version> in the current wrapper module. That module can't be `go
# install`ed: its go.mod requires its k8s.io/* staging modules at v0.0.0 and
# replaces them with folders its module zip lacks. They are published at
# v0.<minor>.<patch>, so those are required instead (only the ones it
# requires: some replace targets, e.g. sample-controller, aren't published).
# After wrapper_module, so that these pins win over the repository's for the
# k8s.io/* modules.
require_kubernetes() {
  local version="$1" staging="${2:-}" dl_json kube_gomod m
  [[ "${version}" =~ ^[0-9]+\.([0-9]+)\.([0-9]+)$ ]] || die "a Kubernetes version looks like 1.37.2, not '${version}'"
  staging="${staging:-v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}}"
  log "resolving k8s.io/kubernetes v${version} from the module proxy…"
  if ! dl_json="$(wrapper_go mod download -json "k8s.io/kubernetes@v${version}")"; then
    printf '%s\n' "${dl_json}" >&2
    die "couldn't download k8s.io/kubernetes@v${version}"
  fi
  kube_gomod="$(printf '%s\n' "${dl_json}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -f "${kube_gomod}" ]] || die "no go.mod path in 'go mod download' output: ${dl_json}"
  local args=("-require=k8s.io/kubernetes@v${version}")
  while IFS= read -r m; do
    [[ "${m}" == k8s.io/*@v0.0.0 ]] && args+=("-require=${m%@v0.0.0}@${staging}")
  done < <(go_mod_requirements "${kube_gomod}")
  ((${#args[@]} > 1)) || die "found no k8s.io/* v0.0.0 requirements in ${kube_gomod}"
  log "pinning $((${#args[@]} - 1)) k8s.io staging modules to ${staging}"
  wrapper_go mod edit "${args[@]}"
}

# kube_ldflags <version>: the version variables, as kubernetes'
# hack/lib/version.sh sets them.
kube_ldflags() {
  local version="$1" pkg flags=""
  [[ "${version}" =~ ^([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || die "a Kubernetes version looks like 1.37.2, not '${version}'"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X ${pkg}.gitVersion=v${version} -X ${pkg}.gitMajor=${BASH_REMATCH[1]}"
    flags+=" -X ${pkg}.gitMinor=${BASH_REMATCH[2]} -X ${pkg}.gitTreeState=clean"
  done
  printf '%s\n' "${flags# }"
}

# build_aligned <prepare> <ldflags> <out dir> <package>…: `<prepare>
# aligned` makes the wrapper module (with wrapper_module, then tidied), and
# one go build writes the packages' commands into <out dir>, sharing their
# common packages and keeping every core busy to the last link. Should that
# fail, `<prepare> own` and once more.
build_aligned() {
  local prepare="$1" ldflags="$2" out="$3" start=${SECONDS}
  shift 3
  "${prepare}" aligned
  log "building $* (first run: minutes on 2 cores, seconds once the Go build cache is warm)…"
  if ! (cd "${WRAPPER_DIR}" && wrapper_go build -ldflags "${ldflags}" -o "${out}/" "$@"); then
    log "that build failed with the repository's module versions (above); building with the commands' own instead…"
    "${prepare}" own
    (cd "${WRAPPER_DIR}" && wrapper_go build -ldflags "${ldflags}" -o "${out}/" "$@") || die "couldn't build $*"
  fi
  log "built them in $((SECONDS - start))s"
  cd /
}
