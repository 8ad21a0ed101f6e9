#!/bin/sh
# The Debian package end to end (make test-deb, part of make test; needs root): build it
# with `make deb` into a temporary folder (lintian: no error, no warning), install it,
# check what it installed and that it runs, keep a changed conffile across a reinstall,
# remove it (the state stays) and purge it (the state goes). The source tree must be
# left as it was, and the machine as it was: the test purges what it installed, even
# when a check fails.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
start=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
    echo "test-deb: SKIP: installing a package needs root (CI runs as root);" \
         "run 'sudo make test-deb' to check the package"
    exit 0
fi
if dpkg-query -W -f='${Status}' slad 2>/dev/null | grep -qv "not-installed"; then
    echo "test-deb: FAIL: a package slad is already on this machine" \
         "($(dpkg-query -W -f='${Status}' slad)); this test would replace it:" \
         "remove it with 'dpkg -P slad' first" >&2
    exit 1
fi

fail() {
    echo "test-deb: FAIL: $*" >&2
    exit 1
}
step() { echo "test-deb: $*"; }

out=$(mktemp -d /tmp/slad-test-deb.XXXXXX)
user_existed=no
getent passwd slad >/dev/null && user_existed=yes
state_existed=no
[ -e /var/lib/slad ] && state_existed=yes
installed=no
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    status=$?
    if [ "$installed" = yes ]; then
        dpkg -P slad >/dev/null 2>&1 || echo "test-deb: could not purge slad" >&2
    fi
    # The package keeps its system user on purge (debian/slad.postrm says why); the test
    # removes the one it made, and the state a failed purge left, so that each run starts
    # from a machine that never had slad.
    if [ "$user_existed" = no ] && getent passwd slad >/dev/null; then
        userdel slad 2>/dev/null || true
        if getent group slad >/dev/null; then groupdel slad 2>/dev/null || true; fi
    fi
    [ "$state_existed" = yes ] || rm -rf /var/lib/slad
    rm -rf "$out"
    verdict=FAIL
    [ "$status" -ne 0 ] || verdict=PASS
    echo "test-deb: $verdict in $(($(date +%s) - start)) s"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tree_state() { git -C "$root" status --porcelain=v1 --untracked-files=all; }
tree_before=$(tree_state)

# --- build (make deb runs lintian with --fail-on error,warning) ---------------------------
step "make deb into $out"
make -C "$root" --no-print-directory deb DEB_OUT="$out" || fail "make deb"
[ "$(tree_state)" = "$tree_before" ] ||
    fail "make deb changed the source tree: $(tree_state | head -5)"

meson_version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" "$root/meson.build" | head -n 1)
deb=$(ls "$out"/slad_*_"$(dpkg-architecture -q DEB_HOST_ARCH)".deb)
deb_version=$(dpkg-deb -f "$deb" Version)
[ "$deb_version" = "$meson_version" ] ||
    fail "the package is $deb_version but meson.build says $meson_version:" \
         "add a debian/changelog entry (dch -v $meson_version)"

# --- install -------------------------------------------------------------------------------
step "dpkg -i $(basename "$deb")"
installed=yes
dpkg -i "$deb" </dev/null || fail "dpkg -i"

for f in /usr/sbin/slad /usr/bin/slactl /lib/systemd/system/slad.service \
    /lib/systemd/system/slad.socket /usr/lib/sysusers.d/slad.conf \
    /usr/lib/tmpfiles.d/slad.conf /usr/share/man/man8/slad.8.gz \
    /usr/share/man/man5/slad.conf.5.gz /usr/share/man/man1/slactl.1.gz \
    /usr/share/bash-completion/completions/slactl /etc/slad/slad.conf \
    /etc/slad/holidays-cn-2026.ics; do
    [ -f "$f" ] || fail "$f is not installed"
done
conffiles=$(dpkg-query -W -f='${Conffiles}' slad)
for f in /etc/slad/slad.conf /etc/slad/holidays-cn-2026.ics; do
    echo "$conffiles" | grep -q "^ $f " || fail "$f is not a conffile: $conffiles"
done

getent passwd slad >/dev/null || fail "postinst did not create the user slad"
[ "$(stat -c '%U:%G %a' /var/lib/slad)" = "slad:slad 750" ] ||
    fail "/var/lib/slad is $(stat -c '%U:%G %a' /var/lib/slad 2>&1), not slad:slad 750"
for unit in slad.socket slad.service; do
    [ "$(systemctl is-enabled "$unit" 2>&1)" = enabled ] ||
        fail "$unit is not enabled: $(systemctl is-enabled "$unit" 2>&1)"
done

/usr/sbin/slad --check-config /etc/slad/slad.conf >/dev/null ||
    fail "slad --check-config /etc/slad/slad.conf"
[ "$(/usr/bin/slactl --version)" = "slactl $meson_version" ] ||
    fail "slactl --version says '$(/usr/bin/slactl --version)'"

# --- a changed conffile survives a reinstall -----------------------------------------------
step "change /etc/slad/slad.conf, reinstall"
marker="# changed by test-deb $$"
echo "$marker" >>/etc/slad/slad.conf
dpkg -i "$deb" </dev/null || fail "dpkg -i (reinstall)"
grep -qx "$marker" /etc/slad/slad.conf || fail "the reinstall overwrote /etc/slad/slad.conf"
/usr/sbin/slad --check-config /etc/slad/slad.conf >/dev/null ||
    fail "slad --check-config after the reinstall"

# --- remove keeps config and state, purge removes them ------------------------------------
echo "a database" >/var/lib/slad/slad.db
step "dpkg -r slad"
dpkg -r slad </dev/null || fail "dpkg -r"
for f in /usr/sbin/slad /usr/bin/slactl; do
    [ ! -e "$f" ] || fail "dpkg -r left $f"
done
[ -f /var/lib/slad/slad.db ] || fail "dpkg -r removed the state in /var/lib/slad"
grep -qx "$marker" /etc/slad/slad.conf || fail "dpkg -r removed the changed config"

step "dpkg -P slad"
dpkg -P slad </dev/null || fail "dpkg -P"
installed=no
[ ! -e /var/lib/slad ] || fail "dpkg -P left /var/lib/slad"
[ ! -e /etc/slad ] || fail "dpkg -P left /etc/slad: $(ls -A /etc/slad)"
for link in /etc/systemd/system/sockets.target.wants/slad.socket \
    /etc/systemd/system/multi-user.target.wants/slad.service; do
    if [ -e "$link" ] || [ -L "$link" ]; then fail "dpkg -P left $link"; fi
done
dpkg-query -W -f='${Status}' slad 2>/dev/null | grep -qv "not-installed" &&
    fail "dpkg still knows slad: $(dpkg-query -W -f='${Status}' slad)"
[ "$(tree_state)" = "$tree_before" ] || fail "the source tree changed: $(tree_state | head -5)"
exit 0
