# minik8s developer targets. `make test` is what CI runs (.ci/run).
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all build deps images up down test unit e2e bench fmt vet

DATA_DIR ?= /var/lib/minik8s

all: build

build:
	$(GO) build -o bin/ ./cmd/...

# The example app's images, built from this repository (no internet).
images:
	$(GO) run ./hack/testimages -out $(DATA_DIR)/images

# A working single-machine cluster: install what is missing, build, make
# the example images, and run every component in one process (Ctrl-C stops
# it; the objects are kept).
up: deps build images
	./bin/minik8s up --data-dir $(DATA_DIR) --preload-images $(DATA_DIR)/images

down:
	./bin/minik8s down --data-dir $(DATA_DIR)

deps:
	./hack/install-deps.sh

# The whole test suite: install what is missing, check formatting and vet,
# then every unit, integration and e2e test, with the race detector on the
# concurrent client code.
test: deps
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) test -count=1 -race -timeout 10m ./pkg/client/...

unit:
	$(GO) test -count=1 ./pkg/...

e2e: deps
	$(GO) test -count=1 -v ./test/e2e/

bench:
	$(GO) run ./hack/bench -out docs/benchmarks.md apiserver

fmt:
	gofmt -w $$(git ls-files '*.go')
