#!/bin/sh
# Run one libFuzzer target for a number of seconds, starting from a copy of its corpus.
# Usage: run-fuzzer.sh TARGET CORPUS_DIR SECONDS
set -eu
target=$1 corpus=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work"/ 2>/dev/null || true
# libFuzzer's own exit code for a finding is 77, which meson reads as "skipped": a crash
# must fail the test.
exec "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
    -print_final_stats=1 "$work"
