#!/bin/sh
# Style gate run by `make test`: clang-format conformance and banned functions
# (as curl's checksrc): no sprintf/strcpy/strcat/gets anywhere, no time() in lib/.
set -u
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find lib daemon tests -name '*.[ch]')

if command -v clang-format >/dev/null 2>&1; then
    for f in $files; do
        if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
            echo "check-style: $f is not clang-formatted; run: clang-format -i $f"
            status=1
        fi
    done
else
    echo "check-style: clang-format not found; skipping the format check"
fi

banned='\b(sprintf|vsprintf|strcpy|strcat|gets|strtok)[[:space:]]*\('
if grep -nE "$banned" $files; then
    echo "check-style: banned function above; use snprintf, memcpy with a length, strtok_r"
    status=1
fi
lib_files=$(echo "$files" | tr ' ' '\n' | grep '^lib/' || true)
if [ -n "$lib_files" ] && grep -nE '(^|[^_a-z.>])time[[:space:]]*\([[:space:]]*(NULL|0|&)' $lib_files; then
    echo "check-style: lib/ must not read the clock; take the time as an argument"
    status=1
fi
exit $status
