#!/bin/sh
# Build the Debian package (make deb): copy the source tree (files git tracks or would
# track, as they are now) into OUT/src, run `dpkg-buildpackage -us -uc -b` there, and
# check the result with lintian, failing on any error or warning. dpkg-buildpackage
# writes into the parent of the tree it builds, so everything lands in OUT and the
# checkout stays as it was.
#   scripts/build-deb.sh [OUT]     OUT defaults to build-deb
set -eu

cd "$(dirname "$0")/.."
out=${1:-build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "build-deb: run this in a git checkout of slad (it copies the files git knows)" >&2
    exit 1
fi

src="$out/src"
rm -rf "$src"
mkdir -p "$src"
# Tracked and new files, without ignored ones (build folders, run/) or deleted ones.
# shellcheck disable=SC2016 # "$f" is the inner shell's
git ls-files -z --cached --others --exclude-standard |
    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf - | tar -xf - -C "$src"

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
rm -f "$out"/slad_"$version"_*

echo "build-deb: dpkg-buildpackage in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
    tail -n 40 "$out/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
    exit 1
}

changes="$out/slad_${version}_${arch}.changes"
echo "build-deb: lintian $changes"
# Without the notice lintian gives root (CI runs as root; lintian only reads the files).
lintian_status=0
lintian --fail-on error,warning --info "$changes" >"$out/lintian.log" 2>&1 || lintian_status=$?
grep -v '^running with root privileges is not recommended!$' "$out/lintian.log" || true
if [ "$lintian_status" -ne 0 ]; then
    echo "build-deb: lintian found errors or warnings (above; overrides only with a reason," \
         "in debian/slad.lintian-overrides)" >&2
    exit 1
fi

rm -rf "$src"
echo "build-deb: $out/slad_${version}_${arch}.deb"
