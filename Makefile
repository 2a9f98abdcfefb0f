# augur — see README.md. Every target works on a fresh clone with Go 1.26.
GO       ?= go
BIN      ?= bin/augur
PKGS     ?= ./...
BENCH    ?= .
COUNT    ?= 6

.PHONY: all build test unit integration lint golden bench fuzz demo clean

all: build test

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/augur

## test: everything CI runs — unit tests with -race, then the real-Prometheus integration tests.
test: unit integration

unit:
	$(GO) test -race -count=1 $(PKGS)

integration: build
	./scripts/integration.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## golden: rewrite golden files; CI checks that this leaves no diff.
golden:
	@dirs=$$(grep -rl --include='*_test.go' 'flag.Bool("update"' . | xargs -n1 dirname | sort -u); \
	  echo "updating goldens in:" $$dirs; \
	  $(GO) test -count=1 $$dirs -update >/dev/null
	git diff --stat --exit-code -- '*testdata*'

bench:
	$(GO) test -run='^$$' -bench='$(BENCH)' -benchmem -count=$(COUNT) $(PKGS) | tee bench.txt

fuzz:
	./scripts/fuzz.sh 20s

## demo: the README's main command.
demo:
	$(GO) run ./cmd/augur replay -f testdata/podinfo/ --data testdata/podinfo/healthy.om

clean:
	rm -rf bin bench.txt
