# Developer and CI entry points. Standard library tooling only.

GO ?= go
GOFMT ?= gofmt
# COVERPROFILE is where `make cover` writes its profile (*.out is ignored by git).
COVERPROFILE ?= cover.out

.PHONY: test fmt-check vet cover bench

## test: gofmt check, go vet, then every test with the race detector.
test: fmt-check
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

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
