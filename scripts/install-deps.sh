#!/bin/sh
# Install slad's build and test dependencies from Debian 12 packages.
# Idempotent: installs only what is missing; runs apt-get as root or through sudo.
set -eu

# postgresql-15 (the server, started by the tests themselves: scripts/with-postgres.sh,
# tests/integration/pg.py) and libpq-dev for the PostgreSQL driver (doc/POSTGRESQL.md).
PACKAGES="build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
libev-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev libconfig-dev libmicrohttpd-dev
libjansson-dev libsystemd-dev libical-dev libssl-dev libcrypt-dev libcmocka-dev
python3 python3-pytest python3-yaml python3-jsonschema tzdata scdoc systemd openssl clang-format
prometheus-alertmanager postgresql-15 libpq-dev
chromium chromium-driver python3-selenium fonts-noto-cjk"
# prometheus-alertmanager: the intake's integration test runs the real one (test_intake.py).
# chromium, chromium-driver, python3-selenium: the console's browser tests (test_console.py)
# and the board benchmark; fonts-noto-cjk so that Chinese renders in their screenshots.
# `install-deps.sh --bench` (make bench) adds the load generator, strace (bench-pg-round-trips)
# and the peer baselines;
# `--deb` (make deb) what building and checking the Debian package needs beyond the build
# dependencies above (debian/control's Build-Depends).
case "${1:-}" in
--bench) PACKAGES="$PACKAGES wrk strace" ;;
--deb) PACKAGES="$PACKAGES dpkg-dev debhelper bash-completion lintian" ;;
esac

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "install-deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: missing packages:$missing; run this script as root or install sudo" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || echo "install-deps: apt-get update failed; trying the cached package lists" >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
