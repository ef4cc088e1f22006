# Developer and CI entry points. Standard library tooling only.

GO ?= go
GOFMT ?= gofmt
# COVERPROFILE is where `make cover` writes its profile (*.out is ignored by git).
COVERPROFILE ?= cover.out

.PHONY: test test-cmd test-otel test-bench test-hatchet services fmt-check vet cover bench soak chaos

## test: start the services, gofmt check, go vet, then every test with the
## race detector; then the flow-level suite again on Redis and on a local
## Redis Cluster and on a local Redis without Redis 7's commands, and the
## Hatchet backend's module on a local engine.
test: services fmt-check
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	MAGEFLOW_TEST_STORE=redis $(GO) test -race -count=1 ./flow/...
	MAGEFLOW_TEST_STORE=redis-cluster $(GO) test -race -count=1 ./flow/...
	MAGEFLOW_TEST_STORE=redis-legacy $(GO) test -race -count=1 ./flow/...
	$(MAKE) test-cmd
	$(MAKE) test-otel
	$(MAKE) test-bench
	$(MAKE) test-hatchet

## test-cmd: the command's module (cmd/mageflow, with its browser test).
test-cmd:
	cd cmd/mageflow && $(GO) vet ./...
	cd cmd/mageflow && $(GO) test -race -count=1 ./...

## test-otel: the OpenTelemetry module (otel: traces and metrics of
## flows, and its Prometheus example).
test-otel:
	cd otel && $(GO) vet ./...
	cd otel && $(GO) test -race -count=1 ./...

## test-bench: the benchmark module's vet and tests (the benchmarks
## themselves run with `go run ./bench/cmd/report`, see BENCHMARKS.md).
test-bench:
	cd bench && $(GO) vet ./...
	cd bench && $(GO) test -count=1 ./...

## test-hatchet: the Hatchet backend's module, against a local engine it
## starts on PostgreSQL (the first build of the engine takes minutes).
test-hatchet:
	cd backend/hatchet && $(GO) vet ./...
	cd backend/hatchet && $(GO) test -race -count=1 -timeout 30m ./...

## services: find or start what the tests use (see scripts/services.sh).
services:
	bash scripts/services.sh

## fmt-check: fail, listing them, if some files are not gofmt-formatted.
fmt-check:
	@files="$$($(GOFMT) -l .)"; \
	if [ -n "$$files" ]; then \
		echo "these files need gofmt:"; \
		echo "$$files"; \
		exit 1; \
	fi

## vet: go vet every package.
vet:
	$(GO) vet ./...

## cover: run the tests with coverage and print the total.
cover:
	$(GO) test -count=1 -covermode=atomic -coverprofile=$(COVERPROFILE) ./...
	$(GO) tool cover -func=$(COVERPROFILE) | tail -n 1

## bench: run the benchmarks only.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# SOAK_CHECKS is how many graphs `make soak` runs per property, on the
# memory store and again on Redis.
SOAK_CHECKS ?= 5000

## soak: the property-based tests of internal/proptest on many more random
## flow graphs (SOAK_CHECKS per property, without -race), on the memory
## store and on Redis when it is reachable.
soak:
	$(GO) test -count=1 -timeout 60m ./internal/proptest/ -rapid.checks=$(SOAK_CHECKS)

## chaos: the chaos suite at full size (RELIABILITY.md): CHAOS_RUNS (20)
## randomized runs of each scenario with real worker processes, a local
## Hatchet engine and a Redis server of its own; figures in CHAOS_REPORT
## (chaos-report.md). `make test` runs each scenario once, smaller.
chaos: services
	bash scripts/chaos.sh
