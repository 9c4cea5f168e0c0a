# Sluice: `make run` and `make test` are all a fresh machine needs (Go, gcc and npm installed).
# Tools (ocb, mdatagen) are Go tool dependencies in go.mod; ClickHouse comes from
# internal/chlocal, cached under $HOME/.cache/sluice. Nothing is written outside _build/ here.

GO          ?= go
DIST_DIR    := _build/otelcol-sluice
DIST_BIN    := $(DIST_DIR)/otelcol-sluice
RUN_CONFIG  ?= testdata/gateway.yaml
COMPONENTS  := ./receiver/sluicereceiver ./exporter/clickhouselanesexporter
GO_SOURCES  := $(shell find receiver exporter internal -name '*.go' -not -name '*_test.go' 2>/dev/null)

.PHONY: all build run test vet unit integration generate check-generated distribution-test clean fetch

## fetch: put ClickHouse into the cache (downloaded once per machine; nothing when CLICKHOUSE_ENDPOINT is set).
## Every target that starts ClickHouse depends on it: tests never download, they fail saying to run this.
fetch:
	$(GO) run ./cmd/chlocal fetch

all: build

## build: the otelcol-sluice distribution with ocb (only when sources changed)
build: $(DIST_BIN)

$(DIST_BIN): builder-config.yaml go.mod go.sum $(GO_SOURCES)
	@mkdir -p $(DIST_DIR)
	$(GO) tool builder --config builder-config.yaml
	@touch $@

## run: build, start the embedded ClickHouse (unless CLICKHOUSE_ENDPOINT is set) and run the collector
run: fetch $(DIST_BIN)
	$(GO) run ./cmd/chlocal -- ./scripts/run-collector.sh $(DIST_BIN) $(RUN_CONFIG)

## generate: regenerate internal/metadata for both components with mdatagen
generate:
	$(GO) generate $(COMPONENTS)

## check-generated: fail when generated code differs from metadata.yaml
check-generated: generate
	@git diff --exit-code -- receiver exporter || (echo "generated code is stale: run 'make generate' and commit" >&2; exit 1)
	@test -z "$$(git status --porcelain --untracked-files=all -- receiver exporter)" || \
		(git status --porcelain -- receiver exporter; echo "make generate created untracked files: commit them" >&2; exit 1)

vet:
	$(GO) vet ./...

## unit + integration: everything runs with -race; tests needing ClickHouse start the embedded one
unit: fetch
	$(GO) test -race -count=1 -timeout 20m ./...

## distribution-test: build otelcol-sluice, list its components, validate every testdata config, run end to end
## (and two gateways in front of a two-shard cluster, which needs the exporter's cluster schema)
distribution-test: fetch $(DIST_BIN)
	SLUICE_COLLECTOR_BIN=$(CURDIR)/$(DIST_BIN) $(GO) test -race -count=1 -timeout 20m ./test/distribution/...
	SLUICE_COLLECTOR_BIN=$(CURDIR)/$(DIST_BIN) $(GO) test -race -count=1 -timeout 5m -run '^TestTwoGateways' ./exporter/clickhouselanesexporter

## test: everything CI runs
test: vet check-generated unit distribution-test

clean:
	rm -rf _build

# --- load: small-scale correctness under load (part of `make test`) and `make bench` ---
UPSTREAM_DIR := _build/otelcol-upstream
UPSTREAM_BIN := $(UPSTREAM_DIR)/otelcol-upstream
BENCH_OUT    ?= _build/bench
# e.g. BENCH_FLAGS='-scale 0.5 -iterations 2 -scenarios steady_traces,stall'; -upstream '' runs sluice only
BENCH_FLAGS  ?=

.PHONY: load-test bench bench-upstream bench-pprof

## load-test: overload, outage and chain correctness against the built distribution (small scale)
load-test: fetch $(DIST_BIN)
	SLUICE_COLLECTOR_BIN=$(CURDIR)/$(DIST_BIN) $(GO) test -race -count=1 -timeout 15m ./test/load/...

test: load-test

## bench-upstream: the upstream baseline (core otlp + batch + contrib clickhouse v0.161.0) with ocb
bench-upstream: $(UPSTREAM_BIN)

$(UPSTREAM_BIN): bench/upstream/builder-config.yaml
	@mkdir -p $(UPSTREAM_DIR)
	$(GO) tool builder --config bench/upstream/builder-config.yaml
	@touch $@

## bench-pprof: the profiling build, otelcol-sluice plus contrib's pprof extension (bench/README.md, "Profiling")
PPROF_DIR := _build/otelcol-sluice-pprof
bench-pprof: $(PPROF_DIR)/otelcol-sluice-pprof

$(PPROF_DIR)/otelcol-sluice-pprof: bench/profiling/builder-config.yaml $(GO_SOURCES)
	@mkdir -p $(PPROF_DIR)
	$(GO) tool builder --config bench/profiling/builder-config.yaml
	@touch $@

## bench: every scenario against otelcol-sluice and the upstream pipeline; results in $(BENCH_OUT)
bench: fetch $(DIST_BIN) $(UPSTREAM_BIN)
	$(GO) run ./cmd/sluiceload bench -sluice $(DIST_BIN) -upstream $(UPSTREAM_BIN) -out $(BENCH_OUT) $(BENCH_FLAGS)
	@echo "results: $(BENCH_OUT)/summary.md, $(BENCH_OUT)/*.json, $(BENCH_OUT)/*.svg"
