# The chart's appVersion: the image tag that config/manager and the chart
# default to (hack/gen-chart checks that they agree).
APP_VERSION := $(shell sed -n 's/^appVersion: *"*\([^"]*\)"*$$/\1/p' charts/hubspot-operator/Chart.yaml)
# Image URL to use all building/pushing image targets
IMG ?= hubspot-operator:$(APP_VERSION)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# The Go toolchain runs every tool pinned in go.mod (`go tool …`): nothing is
# downloaded from anywhere but the Go module proxy.
GO ?= go
export GOWORK = off
CONTROLLER_GEN ?= $(GO) tool controller-gen
KUSTOMIZE ?= $(GO) tool kustomize
GOLANGCI_LINT ?= $(GO) tool golangci-lint
# kubectl for install/deploy; the one built by hack/setup-envtest.sh works too.
KUBECTL ?= kubectl
CONTAINER_TOOL ?= docker

# Fuzz targets run briefly on every `make test`: a number of executions, not
# a duration. With a duration, Go 1.26's fuzzing coordinator can end a run
# with a spurious "context deadline exceeded" and no failing input when its
# deadline races a busy worker (fixed in Go 1.27); a count has no deadline.
FUZZTIME ?= 5000x
# Flags for `make demo`, e.g. DEMO_ARGS=--exit or DEMO_ARGS="--instances 20".
DEMO_ARGS ?=
# Flags for `make cluster`, e.g. CLUSTER_ARGS=--exit.
CLUSTER_ARGS ?=

# Setting SHELL to bash allows bash commands to be executed by recipes.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate the CRD and RBAC manifests from the kubebuilder markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt against code.
	$(GO) fmt ./...

.PHONY: vet
vet: ## Run go vet against code.
	$(GO) vet ./...

# Two runs: the reliability and GitOps suites are behind build tags, and the benchcontrast
# build swaps a file of internal/operator for another, so no one build has
# every file.
.PHONY: lint
lint: ## Run golangci-lint (.golangci.yml), including the files behind build tags (reliability, e2e, gitops, benchcontrast).
	$(GOLANGCI_LINT) run --build-tags reliability,e2e,gitops ./...
	$(GOLANGCI_LINT) run --build-tags benchcontrast ./internal/operator/...

.PHONY: lint-fix
lint-fix: ## Run golangci-lint and apply the fixes it can make.
	$(GOLANGCI_LINT) run --build-tags reliability,e2e,gitops --fix ./...

# What the generators write is committed, so a change that forgets to run
# them must fail here rather than be regenerated quietly by make test.
.PHONY: verify
verify: manifests generate chart fmt ## Regenerate everything generated (CRD, RBAC, deepcopy, chart, argocd-cm.yaml) and fail if the tree then differs from what is committed.
	$(GO) test ./hack/argocd -run '^TestArgoCDConfigMap$$' -count=1 -update >/dev/null
	@changed="$$(git status --porcelain --untracked-files=all)"; \
	if [ -n "$$changed" ]; then \
		echo "generated files are not what the sources generate (run make manifests generate chart fmt and go test ./hack/argocd -update, then commit):"; \
		echo "$$changed"; git --no-pager diff --stat; exit 1; \
	fi; echo "generated files are up to date"

.PHONY: envtest
envtest: ## Build (or reuse) kube-apiserver, etcd and kubectl for envtest; prints their folder.
	hack/setup-envtest.sh

# The controllers suite runs under Ginkgo's parallel runner, in
# CONTROLLERS_PROCS processes each with a control plane, manager and simulator
# of its own: its specs mostly wait on the API server, the simulator and the
# reconciler's requeues, not on the CPU, so the processes share that waiting
# (116 specs: about 290 s one after another, 80 s in 4 processes, for 15% more
# CPU). Every other package runs under `go test` meanwhile. Its output is kept
# apart and printed once it ends, so that the two runs do not interleave.
CONTROLLERS_PROCS ?= 4

# make test does not regenerate anything (make verify does, and fails on a
# difference): a generated file that is stale must fail its up-to-date test
# here rather than be rewritten quietly before it.
#
# go vet ./... runs first, with every analyzer; the tests then build with
# -vet=off, as go test's own vet pass (a subset of those analyzers, under
# other flags) would analyse every dependency again for its facts: a minute
# of CPU on a cold cache, and seconds on every run.
.PHONY: test
test: vet ## Run unit tests, the envtest suites and brief fuzzing.
	@assets="$$(hack/setup-envtest.sh)"; export KUBEBUILDER_ASSETS="$$assets"; echo "KUBEBUILDER_ASSETS=$$assets"; \
	mkdir -p bin; rm -f bin/cover-controllers.out; \
	$(GO) tool ginkgo --procs=$(CONTROLLERS_PROCS) --timeout=20m --vet=off --cover --coverprofile=cover-controllers.out --output-dir=bin \
		./controllers >bin/controllers-test.log 2>&1 & controllers=$$!; \
	rc=0; $(GO) test $$($(GO) list ./... | grep -v '/controllers$$') -vet=off -timeout 20m -coverprofile cover.out || rc=$$?; \
	wait $$controllers || rc=$$?; \
	echo "--- controllers (go tool ginkgo --procs=$(CONTROLLERS_PROCS) ./controllers):"; cat bin/controllers-test.log; \
	if [ -f bin/cover-controllers.out ] && [ -f cover.out ]; then tail -n +2 bin/cover-controllers.out >>cover.out; fi; \
	exit $$rc
	$(MAKE) --no-print-directory fuzz

.PHONY: test-browser
test-browser: manifests ## Run only the OAuth 2 consent in headless Chromium (test/browser, part of `make test`); screenshots in test/browser/artifacts.
	@assets="$$(hack/setup-envtest.sh)" && \
		KUBEBUILDER_ASSETS="$$assets" $(GO) test ./test/browser/ -count=1 -v -ginkgo.v

# As root, like make cluster, whose node the suite starts (bin/cluster) and
# stops; E2E_KUBECONFIG=<file> runs it on a make cluster already running.
.PHONY: test-e2e
test-e2e: image ## Run the end-to-end specs (test/e2e) on the node of make cluster: the operator as Pods from its image, installed by its chart.
	$(GO) build -o bin/cluster ./hack/cluster
	$(GO) test -tags e2e ./test/e2e -count=1 -timeout 45m -v -ginkgo.v

# The targets are found in the sources: listing them with `go test -list`
# would build and link a test binary for every package first. Fuzzing builds
# the target's package and everything it imports with coverage
# instrumentation, so the fuzzed packages import nothing of Kubernetes (the
# Cloud Elements client and simulator, the callback's query parser): a
# package that did would rebuild the whole client stack for each target.
.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each.
	@for file in $$(grep -rl --include='*_test.go' --exclude-dir=bin --exclude-dir=.git '^func Fuzz' . | sort); do \
		pkg="$$(dirname "$$file")"; \
		if $(GO) list -deps -test "$$pkg" | grep -Eq '^(k8s\.io|sigs\.k8s\.io)/'; then \
			echo "$$pkg imports Kubernetes packages (go list -deps -test $$pkg): fuzzing would instrument and rebuild all of them; move the fuzzed code to a package free of them"; exit 1; \
		fi; \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$file"); do \
			echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
			$(GO) test -vet=off -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) "$$pkg" || exit 1; \
		done; \
	done

.PHONY: gitops
gitops: ## Build (or reuse) Flux's source-controller and kustomize-controller and Argo CD for test/gitops; prints their folder.
	hack/setup-gitops.sh

# Flux's controllers and Argo CD are built from the Go module proxy on first use
# (hack/setup-gitops.sh), minutes on a cold build cache, so this suite is not
# part of make test.
.PHONY: test-gitops
test-gitops: manifests ## Run the GitOps suite: real Flux and Argo CD controllers apply, wait on, re-sync and prune HubSpotInstances from a Git server on loopback (test/gitops; needs git and redis-server).
	@assets="$$(hack/setup-envtest.sh)" && gitops="$$(hack/setup-gitops.sh)" && \
		echo "KUBEBUILDER_ASSETS=$$assets GITOPS_ASSETS=$$gitops" && \
		KUBEBUILDER_ASSETS="$$assets" GITOPS_ASSETS="$$gitops" $(GO) test -tags gitops ./test/gitops/ -count=1 -timeout 20m -v -ginkgo.v

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary.
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/manager .

.PHONY: run
run: manifests generate fmt vet ## Run the manager from your host against the current kubeconfig.
	$(GO) run . --leader-elect=false

.PHONY: simulator
simulator: ## Run the Cloud Elements API simulator on 127.0.0.1:8090.
	$(GO) run ./hack/cloud-elements-simulator

# Built, then run, rather than `go run ./hack/demo`: `go run` exits 1 whenever
# it is interrupted, so Ctrl-C, the demo's normal ending, would read as a failure.
.PHONY: demo
demo: ## Run the operator end to end on a local control plane and the simulator.
	$(GO) build -o bin/demo ./hack/demo
	bin/demo $(DEMO_ARGS)

# As root: containerd, the kubelet, the bridge and iptables need it. Built,
# then run, for the same reason as the demo.
.PHONY: cluster
cluster: image ## Run a one-node cluster (containerd, kubelet, kube-proxy, CoreDNS) with the operator installed by its Helm chart from make image's image (hack/cluster).
	$(GO) build -o bin/cluster ./hack/cluster
	bin/cluster $(CLUSTER_ARGS)

.PHONY: node
node: ## Build (or reuse) kubelet, kube-scheduler, kube-proxy, CoreDNS and the pause image for make cluster; prints their folder.
	hack/setup-node.sh

.PHONY: docker-build
docker-build: ## Build the container image with a container engine (Dockerfile).
	$(CONTAINER_TOOL) build --build-arg VERSION=$(VERSION) --build-arg REVISION="$$(git rev-parse HEAD 2>/dev/null)" -t $(IMG) .

# The same image without a container engine or registry access: FROM scratch
# plus this machine's CA bundle, assembled with go-containerregistry.
.PHONY: image
image: ## Build the container image without Docker: OCI layout bin/image, tarball bin/image.tar (hack/build-image).
	$(GO) run ./hack/build-image -tag $(IMG) -version $(VERSION) \
		-revision "$$(git rev-parse HEAD 2>/dev/null)" -created "$$(git log -1 --format=%cI 2>/dev/null)" \
		-o bin/image -tar bin/image.tar

.PHONY: test-image
test-image: ## Build the image as make image does, read it back and run its /manager (minutes on a cold build cache).
	$(GO) test -tags image ./hack/build-image -count=1 -v

.PHONY: docker-push
docker-push: ## Push the container image.
	$(CONTAINER_TOOL) push $(IMG)

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests ## Install the CRD into the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: manifests ## Uninstall the CRD. Call with ignore-not-found=true to ignore missing resources.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests ## Deploy the operator, with image IMG, to the cluster of the current kubeconfig.
	@kustomize="$$($(GO) tool -n kustomize)" && tmp="$$(mktemp -d)" && trap 'rm -rf "$$tmp"' EXIT && cp -r config "$$tmp/" && \
		(cd "$$tmp/config/manager" && "$$kustomize" edit set image controller=$(IMG)) && \
		"$$kustomize" build "$$tmp/config/default" | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the operator. Call with ignore-not-found=true to ignore missing resources.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

##@ Helm chart

.PHONY: chart
chart: manifests ## Generate charts/hubspot-operator and config/namespaced's Role from config/ (hack/gen-chart).
	$(GO) run ./hack/gen-chart

##@ Benchmark

# Flags for `make bench`, e.g. BENCH_ARGS="-quick" (small N, writes no file) or BENCH_ARGS="-n-scale 5000".
BENCH_ARGS ?=

.PHONY: bench
bench: ## Benchmark scale, overhead, rest, restart, drift and memory (test/bench, ~20 min); writes docs/benchmarks.md.
	$(GO) run ./test/bench $(BENCH_ARGS)

##@ Reliability

# Every requirement is a gate; RELIABILITY_STRICT= (empty) reports misses instead.
RELIABILITY_STRICT ?= 1

.PHONY: test-reliability
test-reliability: manifests ## Run the reliability suite (crashes, API faults, blips, leader election, bad input, leaks, security, a rebuild from Git); rewrites docs/reliability.md.
	@assets="$$(hack/setup-envtest.sh)" && \
		echo "KUBEBUILDER_ASSETS=$$assets" && \
		KUBEBUILDER_ASSETS="$$assets" RELIABILITY_STRICT=$(RELIABILITY_STRICT) $(GO) test -tags reliability ./test/reliability/ -count=1 -timeout 30m -v -ginkgo.v
