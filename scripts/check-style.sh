#!/bin/sh
# Style gate, a meson test (suite 'style') and `make check-style`: clang-format conformance,
# banned functions anywhere (as curl's checksrc: sprintf, strcpy, strcat, gets, strtok), and
# what the functional core must never do (lib/core: read the clock or the environment, open
# files, print). clang-format is required: a machine without it fails here, it is not
# skipped (scripts/install-deps.sh installs it).
set -u
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find lib daemon slactl tests -name '*.[ch]')

if ! command -v clang-format >/dev/null 2>&1; then
    echo "check-style: clang-format not found; install it (scripts/install-deps.sh does)"
    exit 1
fi
# One process for every file: the names of the files that differ, once each.
bad=$(clang-format --dry-run --Werror $files 2>&1 | sed -n 's/^\([^:]*\.[ch]\):[0-9]*:[0-9]*: error:.*/\1/p' | sort -u)
for f in $bad; do
    echo "check-style: $f is not clang-formatted; run: clang-format -i $f"
    status=1
done

banned='\b(sprintf|vsprintf|strcpy|strcat|gets|strtok)[[:space:]]*\('
if grep -nE "$banned" $files; then
    echo "check-style: banned function above; use snprintf, memcpy with a length, strtok_r"
    status=1
fi
core_files=$(echo "$files" | tr ' ' '\n' | grep '^lib/core/' || true)
core_banned='(^|[^_a-z.>])time[[:space:]]*\([[:space:]]*(NULL|0|&)|\b(clock_gettime|gettimeofday|getenv|secure_getenv|localtime|localtime_r|gmtime|fopen|open|printf|fprintf|puts|fputs)[[:space:]]*\('
# Comment lines (" * ...", "/* ...") may say "open" or "time (": they are not calls.
if [ -n "$core_files" ] && grep -nE "$core_banned" $core_files | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)'; then
    echo "check-style: lib/core is pure: it must not read the clock or the environment, open"
    echo "files or print; take the time and the text as arguments (ARCHITECTURE.md)"
    status=1
fi
exit $status
