# ocipromote: make build | make test | make demo
GO      ?= go
BIN     ?= bin
PKGS    := ./...

.PHONY: all build test unit deps vet demo fuzz reliability e2e e2e-flux e2e-flux-capture bench release-archives clean

all: build

build:
	$(GO) build -trimpath -o $(BIN)/ ./cmd/...

# deps installs the real registry the end-to-end tests run against (Debian's docker-registry), as
# root; anyone else is told what to install (it never runs sudo).
deps:
	./scripts/deps.sh

vet:
	$(GO) vet $(PKGS)
	cd bench && $(GO) vet ./...
	cd test/flux && $(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed on:"; gofmt -l .; exit 1; }

# test runs every test: unit and integration tests on the in-memory registry, end-to-end tests of
# the built binaries on a real distribution registry, a short run of every fuzz target, Flux's own
# client pulling our artifact, the examples decoded into Flux's API types with the actions checked
# against the binaries, the example workflows under act, and the examples against real Flux.
test: deps vet
	$(GO) test -count=1 $(PKGS)
	@$(MAKE) --no-print-directory fuzz FUZZTIME=2000x
	cd test/fluxcompat && $(GO) test -count=1 ./...
	cd test/examples && $(GO) test -count=1 ./...
	cd test/act && $(GO) test -count=1 -timeout 15m ./...
	@$(MAKE) --no-print-directory e2e-flux

# e2e-flux runs the examples against real Flux on loopback (test/flux, docs/flux.md): etcd,
# kube-apiserver v1.37.2, source- and kustomize-controller v1.9.6 and notification-controller
# v1.9.3 reconcile and deliver, a stand-in GitHub API receives the deliveries, and the example
# workflows' steps answer them. The first run builds the components into the user cache (about
# 20 minutes on 2 idle cores, before the test and outside its timeout); later runs reuse them.
e2e-flux: deps
	GO=$(GO) ./test/flux/components/build.sh all >/dev/null
	cd test/flux && $(GO) test -count=1 -timeout 30m ./...

# e2e-flux-capture is e2e-flux writing the payloads real Flux sent into testdata/events (with the
# fixtures' placeholder sha, digest, version and uids), to refresh the captured fixtures.
e2e-flux-capture: deps
	GO=$(GO) ./test/flux/components/build.sh all >/dev/null
	cd test/flux && OCIPROMOTE_FLUX_CAPTURE=$(CURDIR)/testdata/events $(GO) test -count=1 -timeout 30m ./...

# e2e runs the example workflows (examples/github/workflows, as README.md links them) with
# nektos/act on this host against a real distribution registry: builds, the three promotion
# routes, ignored events and a rollback, checking tags and step outputs after each run. The first
# run installs act v0.2.89 into the user cache with go install (about 40 s).
e2e: deps
	cd test/act && $(GO) test -count=1 -timeout 15m ./...

unit:
	$(GO) test -short $(PKGS)

# demo runs the built binaries, as a user types them, against an in-memory registry on loopback.
demo: build
	$(GO) run ./examples/demo -bin $(BIN)

# reliability prints the figures of the fault, crash and race tests (they also run, and assert
# every must-be-zero figure, in make test).
reliability:
	@$(GO) test -count=1 -run 'Reliability|Crash' -v ./pkg/pipeline > .reliability.log || { cat .reliability.log; rm -f .reliability.log; exit 1; }
	@grep -o 'reliability: .*' .reliability.log | sed 's/^reliability: //' | sort | awk -F' [|] ' 'BEGIN { printf "%-80s | %s\n", "scenario", "figures" } { printf "%-80s | ", $$1; for (i = 2; i <= NF; i++) printf "%s%s", $$i, (i < NF ? ", " : "\n") }'
	@rm -f .reliability.log

# fuzz runs each fuzz target for FUZZTIME, one at a time (go test -fuzz takes one target); make test
# runs them for 2000 inputs each (a count, not a time, so a loaded machine does not cut a run short),
# after their committed seed corpora (testdata/fuzz/<FuzzName> in each package). A failing input
# found is written there too: keep it as a seed once the bug is fixed.
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run=NONE -fuzz='^FuzzParseRevision$$' -fuzztime=$(FUZZTIME) ./pkg/ref
	$(GO) test -run=NONE -fuzz='^FuzzParseOrigin$$' -fuzztime=$(FUZZTIME) ./pkg/ref
	$(GO) test -run=NONE -fuzz='^FuzzNewOrigin$$' -fuzztime=$(FUZZTIME) ./pkg/ref
	$(GO) test -run=NONE -fuzz='^FuzzSourceURL$$' -fuzztime=$(FUZZTIME) ./pkg/ref
	$(GO) test -run=NONE -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./pkg/version
	$(GO) test -run=NONE -fuzz='^FuzzParseLine$$' -fuzztime=$(FUZZTIME) ./pkg/version
	$(GO) test -run=NONE -fuzz='^FuzzParsePrefix$$' -fuzztime=$(FUZZTIME) ./pkg/version
	$(GO) test -run=NONE -fuzz='^FuzzParseBump$$' -fuzztime=$(FUZZTIME) ./pkg/version
	$(GO) test -run=NONE -fuzz='^FuzzParseInitial$$' -fuzztime=$(FUZZTIME) ./pkg/version
	$(GO) test -run=NONE -fuzz='^FuzzDecide$$' -fuzztime=$(FUZZTIME) ./pkg/event
	$(GO) test -run=NONE -fuzz='^FuzzCriteria$$' -fuzztime=$(FUZZTIME) ./pkg/event
	$(GO) test -run=NONE -fuzz='^FuzzParseRepository$$' -fuzztime=$(FUZZTIME) ./pkg/oci
	$(GO) test -run=NONE -fuzz='^FuzzCheckRepository$$' -fuzztime=$(FUZZTIME) ./pkg/step
	$(GO) test -run=NONE -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./pkg/actionio
	$(GO) test -run=NONE -fuzz='^FuzzStageTags$$' -fuzztime=$(FUZZTIME) ./pkg/stage

# bench measures build-rc and tag-validated against the same steps scripted with Flux's OCI client
# and with crane, on Debian's docker-registry on 127.0.0.1 behind a request-counting front, and
# prints the tables of docs/performance.md (about 1.5 minutes; 3 from a cold cache),
# then the peak memory of packing a 1 GiB sparse file and a 256 MiB incompressible one (30 s)
# and of pushing a 1 GiB layer (20 s).
bench: deps
	cd bench && $(GO) run . $(BENCH_FLAGS)
	@echo "packing memory (peak heap growth; must not follow the file size):"
	@$(GO) test -run=NONE -bench=PackLargeFile -benchtime=1x ./pkg/artifact | grep -o 'PackLargeFile/[^ ]*\|[0-9.]* peak-heap-MiB' | paste - -
	@echo "upload memory (peak heap growth; must not follow the layer size):"
	@$(GO) test -run=NONE -bench=PushLargeFile -benchtime=1x ./pkg/oci | grep -o 'PushLargeFile[^ ]*\|[0-9.]* peak-heap-MiB' | paste - -

# release-archives builds the release archives into dist/ as release.yml does, with the Go on PATH
# (OCIPROMOTE_TARGETS=host: for this platform only).
release-archives:
	./scripts/release-archives.sh build dist

clean:
	rm -rf $(BIN) dist
