# telegraf-ebpf-latency. Targets that load eBPF programs need root.
GO        ?= go
BIN       := bin/telegraf-ebpf-latency
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
TELEGRAF_VERSION := v1.37.2
# A real telegraf for the end-to-end tests, built with only the plugins they
# need (the directory names the plugin set, so a change rebuilds it).
TELEGRAF  := $(CURDIR)/.cache/telegraf-$(TELEGRAF_VERSION)-execd-file-prometheus-influxdb/telegraf
TELEGRAF_TAGS := custom,inputs.execd,outputs.file,outputs.prometheus_client,outputs.influxdb
# Test runs fail instead of skipping when they cannot load eBPF (CI sets 1).
EBPF_LATENCY_REQUIRE_PRIVILEGED ?= 0

.PHONY: all build generate test test-deps run lint bench telegraf deps clean dashboards test-dashboards

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/telegraf-ebpf-latency

# The .deb and .rpm (dist/), built by nfpm as a library in its own module
# (packaging/go.mod); see docs/install.md.
.PHONY: packages
packages: build
	cd packaging && $(GO) run . -binary $(CURDIR)/$(BIN) -repo $(CURDIR) -out $(CURDIR)/dist

# Rebuild the committed bpf2go objects (Debian: apt-get install clang-19 llvm-19 libbpf-dev bpftool).
generate:
	BPF2GO_CC=clang-19 BPF2GO_STRIP=llvm-strip-19 $(GO) generate ./bpf/...

# Run the plugin on its embedded default config (or CONFIG=file), printing
# line protocol every 10 s.
CONFIG ?=
run: build
	./$(BIN) -poll_interval 10s $(if $(CONFIG),-config $(CONFIG))

# The whole suite takes a few minutes; a hung test fails the run after
# TEST_TIMEOUT instead of blocking it. TEST_FLAGS=-json is how CI counts skips.
TEST_TIMEOUT ?= 30m
TEST_FLAGS ?=
test: test-deps telegraf
	EBPF_LATENCY_TELEGRAF=$(TELEGRAF) EBPF_LATENCY_REQUIRE_PRIVILEGED=$(EBPF_LATENCY_REQUIRE_PRIVILEGED) \
		$(GO) test -count=1 -p 1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./... ./.ci/gotest ./.ci/setup
	$(MAKE) test-dashboards

# Grafana dashboards (dashboards/, its own Go module): regenerate the
# committed JSON; the test fails when it differs from the generator.
dashboards:
	cd dashboards && $(GO) run .

test-dashboards:
	cd dashboards && $(GO) vet ./... && $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./...

telegraf: $(TELEGRAF)
$(TELEGRAF):
	GOBIN=$(dir $(TELEGRAF)) $(GO) install -tags "$(TELEGRAF_TAGS)" github.com/influxdata/telegraf/cmd/telegraf@$(TELEGRAF_VERSION)

# Overhead table (root, BTF, Linux 5.8+; a few minutes on 2 cores): in-kernel
# cost per event from BPF stats against empty-program floors and bpftrace,
# wall clock beside it, plugin RSS; then the Gather benchmarks.
# See docs/benchmarks.md.
bench:
	EBPF_LATENCY_BENCH=full $(GO) test -count=1 -run '^TestOverhead$$' -v -timeout 20m ./plugins/inputs/ebpf_latency/bench/
	$(GO) test -count=1 -run '^$$' -bench '^BenchmarkGather$$' -benchmem -timeout 20m ./plugins/inputs/ebpf_latency/bench/
	EBPF_LATENCY_BENCH=full $(GO) test -count=1 -run '^TestGatherUnderShim$$' -v -timeout 20m ./plugins/inputs/ebpf_latency/bench/

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./... ./.ci/gotest ./.ci/setup
	# vet compiles tests with their package: a non-test file using a test
	# helper passes vet and breaks go build.
	$(GO) build ./...

# Debian packages the tests need: FUSE for the latency-injecting backing file,
# iproute2 for the TCP tests' network namespaces, fio and bpftrace for the
# overhead harness (make test smoke-runs it), prometheus and influxdb for the
# end-to-end tests through them, dmsetup and e2fsprogs for the disk probe's
# devices-by-path test (ext4 on device-mapper on a partitioned loop device).
TEST_DEBS := gcc make pkg-config fuse3 libfuse3-dev iproute2 fio bpftrace prometheus influxdb dmsetup e2fsprogs libcap2-bin rpm
deps:
	apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=120 $(TEST_DEBS)

# make test runs this: as root it installs whichever of TEST_DEBS is missing
# (so `sudo make test` is the whole set-up on Debian); otherwise it names them.
# Without dpkg (not Debian) it does nothing.
test-deps:
	@command -v dpkg-query >/dev/null || exit 0; \
	missing=$$(for p in $(TEST_DEBS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -qx 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	missing=$$(echo $$missing); \
	if [ "$$(id -u)" != 0 ]; then echo "test-deps: missing Debian packages: $$missing (run: sudo make deps)"; exit 0; fi; \
	echo "test-deps: installing $$missing"; \
	{ apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 $$missing >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 $$missing >/dev/null; }; }

clean:
	rm -rf bin .cache dist
