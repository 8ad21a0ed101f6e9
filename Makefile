# A thin wrapper over meson for the two Quick start commands and the long-running checks.
#   make run    install missing build dependencies, build, run slad in the foreground on
#               conf/slad.conf with a local state directory (./run)
#   make test   same set-up, then the whole suite on a release and an ASan/UBSan build,
#               plus 30 s of each fuzz target when clang is available, and the Debian
#               package built, installed and purged (tests/package/test-deb.sh; root only)
#   make check  the inner loop, under a minute: release build, style, unit tests, corpus
#               replays and the smoke integration test
#   make bench  benchmarks (tests/bench)      make fuzz   long fuzz runs (FUZZ_SECONDS)
#   make deb    the Debian package in build-deb/ (DEB_OUT), lintian-clean, from a copy of the tree
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
RUN_DIR    ?= $(CURDIR)/run
DEB_OUT    ?= build-deb
MESON_TEST_ARGS ?= --print-errorlogs

.PHONY: all deps build build-asan run check test test-release test-asan test-fuzz test-valgrind fuzz \
        bench soak check-style clean deb test-deb

all: build

deps:
	@scripts/install-deps.sh

# Warnings are errors in every build made here (and so in CI); meson's default is not, for
# packagers building with another compiler.
$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release -Dwerror=true

# The ASan build also compiles the crash failpoints (daemon/failpoint.h; tests only).
$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
	    -Dfailpoints=true -Dwerror=true

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) --buildtype=debug -Dfuzzing=true -Dwerror=true \
	    -Dfuzz_seconds=$(FUZZ_SECONDS) -Db_sanitize=address,undefined -Db_lundef=false

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

# The shipped config with its paths moved under ./run, so no root is needed; its relative
# .ics (relative to the config's folder) now names conf/'s.
$(RUN_DIR)/slad.conf: conf/slad.conf
	mkdir -p $(RUN_DIR)
	sed -e 's|/run/slad/|$(RUN_DIR)/|g' -e 's|/var/lib/slad/|$(RUN_DIR)/|g' \
	    -e 's|/etc/slad/|$(CURDIR)/conf/|g' \
	    -e 's|^\( *ics = "\)\([^/"]\)|\1$(CURDIR)/conf/\2|' conf/slad.conf > $@

# The README's examples run slactl from the PATH, on this daemon: the line says how.
run: build $(RUN_DIR)/slad.conf
	@echo 'make: for slactl in another terminal here:'
	@echo '  export PATH="$(abspath $(BUILD))/slactl:$$PATH" SLACTL_SOCKET="$(RUN_DIR)/slad.sock"'
	$(BUILD)/daemon/slad --config $(RUN_DIR)/slad.conf

check: build
	meson test -C $(BUILD) --suite style --suite unit --suite fuzz-replay --suite smoke \
	    $(MESON_TEST_ARGS)

test: deps test-release test-asan test-fuzz test-deb

test-release: build
	meson test -C $(BUILD) $(MESON_TEST_ARGS)

test-asan: build-asan
	meson test -C $(ASAN_BUILD) $(MESON_TEST_ARGS)

# Each libFuzzer target for FUZZ_SECONDS from its seed corpus (clang only).
test-fuzz: deps
	@if command -v clang >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory $(FUZZ_BUILD)/build.ninja && \
	    meson configure $(FUZZ_BUILD) -Dfuzz_seconds=$(FUZZ_SECONDS) && \
	    ninja -C $(FUZZ_BUILD) && \
	    meson test -C $(FUZZ_BUILD) --suite fuzz $(MESON_TEST_ARGS); \
	else echo "make: clang not found; skipping the fuzz runs"; fi

# Build, lintian, install, reinstall over a changed conffile, remove, purge (root only:
# skips otherwise, with a message).
test-deb:
	@tests/package/test-deb.sh

fuzz:
	$(MAKE) test-fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-600}

# The unit tests and corpus replays under valgrind's memcheck (slow; not part of make test).
test-valgrind: build
	meson test -C $(BUILD) --setup valgrind --suite unit --suite fuzz-replay $(MESON_TEST_ARGS)

bench: build
	@scripts/install-deps.sh --bench
	meson test -C $(BUILD) --suite bench --verbose --timeout-multiplier 0

# 200 kill -9 rounds of tests/integration/test_crash.py (20 in make test), random and at
# each failpoint, on the ASan build (the one with failpoints); then the fail-over and
# split-brain tests of several instances on PostgreSQL 20 times in a row
# (tests/integration/test_failover.py).
soak: build-asan
	SLAD_SOAK=1 SLAD_BIN=$(CURDIR)/$(ASAN_BUILD)/daemon/slad \
	    SLACTL_BIN=$(CURDIR)/$(ASAN_BUILD)/slactl/slactl TZ=UTC \
	    PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -q -p no:cacheprovider -rfEs \
	    tests/integration/test_crash.py
	SLAD_FAILOVER_ROUNDS=20 SLAD_PG_TEMPLATE=$(CURDIR)/$(ASAN_BUILD)/pg-template \
	    SLAD_BIN=$(CURDIR)/$(ASAN_BUILD)/daemon/slad \
	    SLACTL_BIN=$(CURDIR)/$(ASAN_BUILD)/slactl/slactl TZ=UTC \
	    PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -q -p no:cacheprovider -rfEs \
	    -x tests/integration/test_failover.py -k "kill_9 or split_brain"

deb:
	@scripts/install-deps.sh --deb
	@scripts/build-deb.sh $(DEB_OUT)

check-style:
	@scripts/check-style.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(RUN_DIR) $(DEB_OUT)
