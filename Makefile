# Televisit: the two commands a newcomer runs are `make dev` and `make test`.

GO       ?= go
FUZZTIME ?= 10s
BIN      ?= bin/televisit
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: dev test deps vet build fuzz

## dev: run Televisit locally with PostgreSQL, a dev OpenID provider, local
## object storage (MinIO, built once into ~/.cache/televisit/bin) and demo data
dev:
	@bash .ci/deps.d/minio.sh
	$(GO) run ./cmd/televisit dev

## test: install what the tests need (idempotently), vet, run every test with -race
## (one package at a time: the browser and media tests need the two cores to
## themselves to meet their real-time assertions)
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m -p 1 ./...

## deps: install what the tests need, only when missing: system packages
## (.ci/install-deps), then each .ci/deps.d/*.sh (npm packages, MinIO, ...)
deps:
	@bash .ci/install-deps
	@for s in .ci/deps.d/*.sh; do [ -e "$$s" ] || continue; bash "$$s" || exit 1; done

## build: build the binary into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/televisit

## fuzz: run each fuzz target for FUZZTIME (default 10s)
fuzz:
	@bash .ci/fuzz "$(FUZZTIME)"
