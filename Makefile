# MiniObserv build, run and test entry points. See README.md.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/kamerrezz/theminidog/internal/buildinfo.Version=$(VERSION) \
           -X github.com/kamerrezz/theminidog/internal/buildinfo.Commit=$(COMMIT)
GO      ?= go

.PHONY: build run test test-deps vet web-test bench cross clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/miniobserv-server ./cmd/miniobserv-server
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/miniobserv-agent ./cmd/miniobserv-agent

## run: the whole system on this host (PostgreSQL, server, agent). Ctrl-C stops it.
run: build
	scripts/run.sh

## test: every test, with the race detector, against real services.
test: test-deps vet web-test
	$(GO) test -race -count=1 -timeout 20m ./...

## web-test: the dashboard's JavaScript unit tests, and a check that the
## committed build in server/dashboard/assets matches its sources.
web-test:
	npm --prefix web ci --no-audit --no-fund
	npm --prefix web test
	npm --prefix web run build
	@git diff --quiet -- server/dashboard/assets && test -z "$$(git status --porcelain -- server/dashboard/assets)" || \
		{ echo "server/dashboard/assets differs from a fresh build of web/: run npm --prefix web run build and commit"; git status --short -- server/dashboard/assets; exit 1; }

test-deps:
	scripts/test-deps.sh

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## bench: Go benchmarks and load scripts; results as ratios against baselines.
bench: build
	scripts/bench.sh

## e2e-jaeger: one ingest trace, agent → server → PostgreSQL, checked in a real
## Jaeger. Not part of test: the first run builds Jaeger (minutes, about 2 GB).
.PHONY: e2e-jaeger
e2e-jaeger:
	scripts/e2e-jaeger.sh

## cross: the agent for Linux, macOS and Windows.
cross:
	GOOS=linux GOARCH=amd64 $(GO) build -o /dev/null ./cmd/miniobserv-agent
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./cmd/miniobserv-agent
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/miniobserv-agent

clean:
	rm -rf bin
