# augur — see README.md. Every target works on a fresh clone with Go 1.26.
GO       ?= go
BIN      ?= bin/augur
PKGS     ?= ./...
BENCH    ?= .
COUNT    ?= 6
# What `augur version` reports (internal/version): the tag and commit of a git checkout; empty
# values fall back to the binary's build info ("(devel)", "unknown").
AUGUR_VERSION ?= $(shell git describe --tags --dirty 2>/dev/null)
AUGUR_COMMIT  ?= $(shell git rev-parse HEAD >/dev/null 2>&1 && { git rev-parse HEAD | tr -d '\n'; git diff --quiet HEAD || printf -- -dirty; })
AUGUR_LDFLAGS ?= -X github.com/augurproj/augur/internal/version.version=$(AUGUR_VERSION) -X github.com/augurproj/augur/internal/version.commit=$(AUGUR_COMMIT)

.PHONY: all build test unit integration kube-test lint golden bench fuzz demo clean image compat calibrate compat-providers

all: build test

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(AUGUR_LDFLAGS)' -o $(BIN) ./cmd/augur

## test: everything CI runs — unit tests with -race, then the real-Prometheus and real-kube-apiserver
## integration tests.
test: unit integration

unit:
	$(GO) test -race -count=1 $(PKGS)

integration: build kube-test
	./scripts/integration.sh

## kube-test: package kube's integration tests against a real kube-apiserver + etcd on 127.0.0.1.
## scripts/kube-testenv.sh builds both from Go modules once (cold: ~5-16 min on 2 cores, measured
## 6 min; cached in $KUBE_TESTENV_CACHE, default ~/.cache/kube-testenv), then starts a fresh
## server (~3 s) for the run. Fails when a test is skipped: these tests must run.
## KUBE_LOG: the test log (default: a fresh temporary file per run, removed when the tests pass).
KUBE_LOG ?=
kube-test: build
	@echo "kube-test: kube-apiserver + etcd (built from Go modules on the first run: 5-16 minutes, ~3 GiB of build cache)"
	./scripts/kube-testenv.sh build >/dev/null
	@log="$(KUBE_LOG)"; keep=1; if [ -z "$$log" ]; then log=$$(mktemp -t augur-kube-test.XXXXXX); keep=0; fi; \
	rc=0; AUGUR_BIN="$(CURDIR)/$(BIN)" KUBE_TESTENV_AUTHZ=RBAC ./scripts/kube-testenv.sh run -- \
	  $(GO) test -race -count=1 -v -run '^TestIntegration' ./kube/... >"$$log" 2>&1 || rc=$$?; \
	grep -E '^ *(=== RUN|--- (PASS|FAIL|SKIP)|PASS$$|FAIL|ok |panic)|kube-testenv:' "$$log"; \
	if [ $$rc -ne 0 ]; then cat "$$log"; echo "log: $$log"; exit $$rc; fi; \
	if grep -q -- '--- SKIP' "$$log"; then echo "kube integration tests were skipped: they must run (log: $$log)" >&2; exit 1; fi; \
	grep -cE '^ *--- PASS' "$$log" | sed 's/^/kube integration tests passed: /'; \
	if [ $$keep -eq 0 ]; then rm -f "$$log"; fi

## image: augur's OCI image, built offline with umoci from bin/augur (scripts/image.sh; the same
## layout as the Dockerfile): $(IMAGE_DIR)/oci (OCI layout) and $(IMAGE_DIR)/augur-oci.tar.
IMAGE_DIR ?= bin/image
image: build
	./scripts/image.sh $(BIN) $(IMAGE_DIR)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## calibrate: the judges' full calibration table of docs/judges.md (1,000 rollouts per model, scenario and judge; ~4 min of CPU)
calibrate:
	$(GO) run ./internal/calibrate -rollouts 1000

## compat-providers: vendor metrics providers against Flagger v1.44.0's own provider code (own Go module).
compat-providers:
	./scripts/ci-providers.sh

## golden: rewrite golden files; CI checks that this leaves no diff.
golden:
	@dirs=$$(grep -rl --include='*_test.go' 'flag.Bool("update"' . | xargs -n1 dirname | sort -u); \
	  echo "updating goldens in:" $$dirs; \
	  $(GO) test -count=1 $$dirs -update >/dev/null
	git diff --stat --exit-code -- '*testdata*'

## compat: the differential suite against Flagger v1.44.0's own code (compat/flagger, its own Go
## module; cold build of Flagger's packages: minutes, cached in the Go build cache).
compat:
	./scripts/ci-compat.sh

bench:
	$(GO) test -run='^$$' -bench='$(BENCH)' -benchmem -count=$(COUNT) $(PKGS) | tee bench.txt

fuzz:
	./scripts/fuzz.sh 20s

## demo: the README's main command.
demo:
	$(GO) run ./cmd/augur replay -f testdata/podinfo/ --data testdata/podinfo/healthy.om

clean:
	rm -rf bin bench.txt
