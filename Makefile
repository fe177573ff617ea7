# gopmdk: one target per job. `make test` is what CI runs (through .ci/run).
GO      ?= go
ROOT    := github.com/gopmdk/pmdk
MODULES := $(shell $(GO) work edit -json | sed -n 's/.*"DiskPath": "\.\/\(.*\)".*/\1/p')
PKGS    := $(foreach m,$(MODULES),$(ROOT)/$(m)/...)
# Packages where goroutines meet: run under the race detector.
RACE_PKGS := $(filter-out $(ROOT)/tools/...,$(PKGS))
# The C peer (cgo against Debian's PMDK, and memkind for vmem) for interop
# tests and benchmarks, when their headers are installed (.ci/run installs them).
CPEER   := $(shell test -e /usr/include/libpmem.h -a -e /usr/include/libpmemlog.h -a -e /usr/include/libpmemblk.h -a -e /usr/include/libpmemobj.h -a -e /usr/include/memkind.h && echo cpeer)
SHELL   := /bin/bash
FUZZTIME ?= 10s
BENCHTIME ?= 200ms
# Per test binary: go test's default 10m is too short for conformance on a
# loaded 2-core machine.
TESTTIMEOUT ?= 30m

.PHONY: test lint vet unit race purego invariants halalone modules release-dry-run deps fuzz bench demo conformance-full

test: lint vet deps unit race purego invariants halalone modules release-dry-run

lint:
	@bad=$$(git ls-files '*.go' | xargs -r gofmt -l); \
	if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	GOARCH=arm64 $(GO) vet $(PKGS)
	$(GO) vet -tags purego $(PKGS)
	# rpma's verbs transport (cgo), where rdma-core's headers are installed: vet, and its
	# tests under the tag (those needing an RDMA device skip without one).
	if [ -e /usr/include/infiniband/verbs.h -a -e /usr/include/rdma/rdma_cma.h ]; then \
		$(GO) vet -tags verbs $(ROOT)/rpma/... && $(GO) test -count=1 -tags verbs -run Verbs $(ROOT)/rpma; fi

deps:
	@scripts/check-deps

# -v output is filtered to failures, package results and the TestInterop/TestCrash
# verdicts, so the log shows that those ran (or why they skipped).
unit:
	set -o pipefail; $(GO) test -count=1 -timeout $(TESTTIMEOUT) -v -tags "$(CPEER)" $(PKGS) 2>&1 | scripts/test-summary

race:
	$(GO) test -count=1 -timeout $(TESTTIMEOUT) -race -short -tags "$(CPEER)" $(RACE_PKGS)

purego:
	$(GO) test -count=1 -timeout $(TESTTIMEOUT) -short -tags purego $(PKGS)

# The self-checks built with -tags invariants (core/invariants_*.go) on,
# the interop tests with the C peer included (their range checks found a
# persist of a nil slice once).
invariants:
	$(GO) test -count=1 -timeout $(TESTTIMEOUT) -short -tags "invariants $(CPEER)" $(PKGS)

# hal stands alone: it must build and pass outside the workspace.
halalone:
	GOWORK=off $(GO) -C hal test -count=1 -short ./...

# The released shape, offline: a file module proxy of the tree at the set's
# version, a module requiring only log and one vendoring only hal, built
# outside the workspace (scripts/check-modules says how).
modules:
	scripts/check-modules

# The release steps (scripts/release, RELEASING.md) rehearsed in a scratch
# copy at the next minor version: bump, offline tidy, tag order.
release-dry-run:
	set -o pipefail; scripts/release --dry-run next | grep '^release:'

# Short fuzz runs of every Fuzz target, one at a time (go test allows one -fuzz per package).
fuzz:
	@scripts/fuzz-all $(FUZZTIME) $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -tags "$(CPEER)" $(PKGS)
	$(GO) run -tags "$(CPEER)" $(ROOT)/tools/cmd/pmembench -reps 5 -duration $(BENCHTIME)

conformance-full:
	CONFORMANCE_FULL=1 $(GO) test -count=1 -timeout 60m $(ROOT)/conformance/...

demo:
	$(GO) run $(ROOT)/tools/cmd/gopmdk-demo
