# edgewatch — the front door. `make demo` and `make test` are the two commands a new user needs.
#
#   make demo     install what is missing, build Release, run the gateway with the demo pipeline
#   make test     install what is missing, build Debug + ASan/UBSan, run every ctest test
#   make cross    build for aarch64 against a private arm64 sysroot, run unit tests under qemu-user
#   make test-emulated  boot the aarch64 edgewatchd in qemu-system-aarch64 with gpio-sim (docs/hardware.md)
#   make fuzz     build the libFuzzer targets (clang, ASan+UBSan), run each FUZZ_SECONDS (60)
#   make deb      build/deb/edgewatch_<version>_{amd64,arm64}.deb (CPack; lintian) (docs/deploy.md)
#   make format   clang-format every C++ source in place
#   make bench    benchmark matrix vs minimal lws and Node ws peers -> docs/benchmarks.md (~15 min;
#                 not part of make test; see bench/run.sh for REPS, SCENARIOS, ...)
#
# Variables: PORT (demo, default 8080), HOST (demo, default 127.0.0.1), JOBS (build parallelism),
#            SYSROOT (cross, default build/sysroot-arm64; also read from env EDGEWATCH_SYSROOT),
#            FUZZ_SECONDS (fuzz: seconds per target, default 60).

PORT ?= 8080
HOST ?= 127.0.0.1
JOBS ?= $(shell nproc)
CTEST_JOBS ?= $(JOBS)
SYSROOT ?= $(or $(EDGEWATCH_SYSROOT),build/sysroot-arm64)
FUZZ_SECONDS ?= 60

.PHONY: all deps deps-test deps-cross deps-emulated build release demo test cross sysroot \
	test-emulated format clean bench fuzz deps-fuzz deb deps-deb

all: build

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

# The cross build also needs the host's cmake, ninja and pkg-config (group "build").
deps-cross:
	@scripts/deps.sh build cross

build: deps
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)

release: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target edgewatchd edgewatch

demo: release
	@scripts/demo.sh --host $(HOST) --port $(PORT)

test: deps-test
	scripts/js-deps.sh
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(CTEST_JOBS)

# libFuzzer targets (tests/fuzz) built with clang + ASan/UBSan in build/fuzz, each run for
# FUZZ_SECONDS over its seed corpus, JOBS at a time. A crash fails the run and leaves its
# reproducer in build/fuzz/tests/fuzz/.
fuzz: deps-fuzz
	cmake --preset fuzz -DEDGEWATCH_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	cmake --build --preset fuzz -j $(JOBS) --target fuzz_all
	ctest --preset fuzz -j $(JOBS)

deps-fuzz:
	@scripts/deps.sh build fuzz

sysroot: deps-cross
	scripts/make-sysroot.sh $(SYSROOT)

# The toolchain file reads the sysroot location from the environment (see toolchains/).
cross: export EDGEWATCH_SYSROOT := $(abspath $(SYSROOT))
cross: deps-cross sysroot
	cmake --preset aarch64 >/dev/null
	cmake --build --preset aarch64 -j $(JOBS)
	ctest --preset aarch64 -j $(CTEST_JOBS)

# Emulated board: Debian's arm64 kernel + gpio-sim in qemu-system-aarch64, the cross-built daemon.
deps-emulated:
	@scripts/deps.sh build cross emulated

# Then the install test: the arm64 .deb (make deb's arm64 half) installed with dpkg in an arm64
# Debian userland booted the same way, demo events read from the host (docs/deploy.md).
test-emulated: export EDGEWATCH_SYSROOT := $(abspath $(SYSROOT))
test-emulated: deps-emulated deps-deb sysroot
	cmake --preset aarch64 >/dev/null
	cmake --build --preset aarch64 -j $(JOBS) --target edgewatchd edgewatch
	scripts/test-emulated.sh build/aarch64
	LINTIAN=0 JOBS=$(JOBS) scripts/make-deb.sh arm64
	scripts/test-emulated-install.sh

# .deb packages (CPack, cmake/Packaging.cmake): amd64 from a host Release build, arm64 from the
# cross build; Depends from dpkg-shlibdeps; lintian must report no errors. STATIC_LWS=1 links
# libwebsockets statically (Jetson / Ubuntu 22.04) into build/deb/static-lws/.
deps-deb:
	@scripts/deps.sh build cross deb

deb: export EDGEWATCH_SYSROOT := $(abspath $(SYSROOT))
deb: deps-deb sysroot
	JOBS=$(JOBS) scripts/make-deb.sh amd64 arm64

# Long (several minutes) and machine-sensitive: never run by make test or CI.
bench:
	bench/run.sh

# make bench-peers: edgewatchd beside Mosquitto (MQTT over WebSocket), Node ws, FastAPI + uvicorn,
# Flask-SocketIO and a minimal lws server, plus callgrind and footprint -> docs/benchmarks.md
# (~25 min; installs the peers; see bench/peers.sh). BENCH_BUILD_DIR: a Release build holding
# edgewatchd, edgewatch and lws_broadcast (built there when missing); BENCH_ARM_DIR: aarch64 build
# for the footprint (skipped when absent).
BENCH_BUILD_DIR ?= build/release
BENCH_ARM_DIR ?= build/aarch64
.PHONY: bench-peers
bench-peers:
	BUILD_DIR=$(BENCH_BUILD_DIR) ARM_DIR=$(BENCH_ARM_DIR) bench/peers.sh

format:
	find firmware hal app tests bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf build
