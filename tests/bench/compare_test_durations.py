#!/usr/bin/python3
"""Compare the durations of meson tests between two builds (issue 16: "no test slower than
before").

Reads meson's testlog.json (one JSON object per line, as `meson test` writes it in
<build>/meson-logs/) of the build before and the build after, takes for each test the
shortest duration of its passing runs (give several logs of each side, from runs
interleaved on a shared machine: the minimum is the figure the machine's load moves least),
and prints, for every test present on both sides, both durations and their ratio, slowest
first. A test is flagged when it is slower than --ratio times before AND more than
--min-slower seconds slower (both, so that neither a 0.01 s test doubling nor a 600 s test
taking 2 s more counts). Exits 1 when a test is flagged, 0 when none is, 2 when a log
cannot be read.

    compare_test_durations.py BEFORE.json AFTER.json
    compare_test_durations.py --before b1.json --before b2.json --after a1.json --after a2.json
    compare_test_durations.py --markdown --top 15 BEFORE.json AFTER.json

A test is named by what follows "project:suites / " in meson's name, so that a test that
changed suites between the builds (say, gained 'postgres') is still the same test. Runs
that did not pass (FAIL, TIMEOUT, SKIP, ...) are left out of the minimum; a test with no
passing run on one side is listed apart, as are tests present on one side only.

Beside each test, how many cases it ran on each side, read from its output (pytest's "N
passed", cmocka's "[==========] N test(s) run."): a flagged test that runs more cases than
before does more, which is not the same test getting slower; its SLOWER line says so.
"""

import argparse
import json
import re
import sys

PASSED = ("OK", "EXPECTEDFAIL")
PYTEST_SUMMARY = re.compile(r"^=*\s*(\d+) passed\b.* in [\d.]+s", re.M)
CMOCKA_SUMMARY = re.compile(r"^\[==========\] (\d+) test\(s\) run\.", re.M)


class LogError(Exception):
    """A testlog that cannot be read: missing, not JSON, or a line without name/duration."""


def short_name(name):
    """'slad:integration+smoke / integration-smoke' -> 'integration-smoke'."""
    _, sep, rest = name.partition(" / ")
    return rest if sep else name


def cases(stdout):
    """How many cases a run passed (pytest) or ran (cmocka, every group), None if unknown."""
    found = PYTEST_SUMMARY.findall(stdout) or CMOCKA_SUMMARY.findall(stdout)
    return sum(int(n) for n in found) if found else None


def read_log(path):
    """Every run in one testlog.json: a list of (name, result, duration in seconds, cases)."""
    runs = []
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    entry = json.loads(line)
                    runs.append((short_name(str(entry["name"])), str(entry.get("result", "")),
                                 float(entry["duration"]), cases(str(entry.get("stdout") or ""))))
                except (ValueError, KeyError, TypeError) as e:
                    raise LogError(f"{path}:{number}: not a meson test entry ({e})") from None
    except OSError as e:
        raise LogError(f"{path}: {e.strerror}") from None
    return runs


def summarize(paths):
    """For several logs of one side: {test: (minimum passing duration or None, results that
    were not a pass, cases of the shortest passing run)}."""
    tests = {}
    for path in paths:
        for name, result, duration, count in read_log(path):
            best, failed, best_cases = tests.get(name, (None, [], None))
            if result in PASSED:
                if best is None or duration < best:
                    best, best_cases = duration, count
            else:
                failed = failed + [result]
            tests[name] = (best, failed, best_cases)
    return tests


def compare(before, after, ratio, min_slower):
    """Rows for the tests passing on both sides, slowest after first: (name, before, after,
    ratio, flagged, cases before, cases after); then the names on one side only and those
    not passing on a side."""
    rows, not_passing = [], []
    for name in sorted(set(before) & set(after)):
        b, a = before[name][0], after[name][0]
        if b is None or a is None:
            not_passing.append(name)
            continue
        r = a / b if b > 0 else float("inf") if a > 0 else 1.0
        flagged = r > ratio and a - b > min_slower
        rows.append((name, b, a, r, flagged, before[name][2], after[name][2]))
    rows.sort(key=lambda row: (-row[2], row[0]))
    only_before = sorted(set(before) - set(after))
    only_after = sorted(set(after) - set(before))
    return rows, only_before, only_after, not_passing


def case_counts(before, after):
    """'12 -> 20' (cases before -> after), '?' for a side whose output did not say."""
    return f"{'?' if before is None else before} -> {'?' if after is None else after}"


def does_more(before, after):
    return before is not None and after is not None and after > before


def print_rows(rows, markdown, out):
    if markdown:
        print("| test | before (s) | after (s) | ratio | cases before -> after | flagged |",
              file=out)
        print("|---|---|---|---|---|---|", file=out)
        for name, b, a, r, flagged, cb, ca in rows:
            print(f"| {name} | {b:.2f} | {a:.2f} | {r:.2f} | {case_counts(cb, ca)} | "
                  f"{'**yes**' if flagged else ''} |", file=out)
        return
    width = max([len("test")] + [len(row[0]) for row in rows])
    print(f"{'test':<{width}}  {'before s':>9}  {'after s':>9}  {'ratio':>6}  {'cases':>10}",
          file=out)
    for name, b, a, r, flagged, cb, ca in rows:
        print(f"{name:<{width}}  {b:9.2f}  {a:9.2f}  {r:6.2f}  {case_counts(cb, ca):>10}"
              f"{'  SLOWER' if flagged else ''}", file=out)


def main(argv=None, out=sys.stdout):
    parser = argparse.ArgumentParser(
        description="Durations of the meson tests of two builds side by side; exits 1 when a "
                    "test is slower than the thresholds.")
    parser.add_argument("logs", nargs="*", metavar="LOG",
                        help="BEFORE AFTER (one testlog.json each), when --before/--after are "
                             "not given")
    parser.add_argument("--before", action="append", default=[], metavar="LOG",
                        help="a testlog.json of the build before (repeat: the minimum is taken)")
    parser.add_argument("--after", action="append", default=[], metavar="LOG",
                        help="a testlog.json of the build after (repeat: the minimum is taken)")
    parser.add_argument("--ratio", type=float, default=1.25,
                        help="flag a test slower than this many times before (default 1.25)")
    parser.add_argument("--min-slower", type=float, default=1.0, metavar="SECONDS",
                        help="... and more than this many seconds slower (default 1.0)")
    parser.add_argument("--top", type=int, default=0, metavar="N",
                        help="print the N slowest tests (after) and every flagged one; 0: all")
    parser.add_argument("--markdown", action="store_true", help="the table in Markdown")
    args = parser.parse_args(argv)

    before_logs, after_logs = list(args.before), list(args.after)
    if args.logs:
        if before_logs or after_logs or len(args.logs) != 2:
            parser.error("give BEFORE AFTER, or --before and --after, not both")
        before_logs, after_logs = [args.logs[0]], [args.logs[1]]
    if not before_logs or not after_logs:
        parser.error("a testlog.json of each build is needed (BEFORE AFTER)")

    try:
        before, after = summarize(before_logs), summarize(after_logs)
    except LogError as e:
        print(f"compare_test_durations: {e}", file=sys.stderr)
        return 2

    rows, only_before, only_after, not_passing = compare(before, after, args.ratio,
                                                         args.min_slower)
    shown = rows
    if args.top > 0:
        shown = rows[:args.top] + [row for row in rows[args.top:] if row[4]]
    print_rows(shown, args.markdown, out)

    flagged = [row for row in rows if row[4]]
    print(file=out)
    print(f"{len(rows)} tests in both builds (minimum of {len(before_logs)} run(s) before, "
          f"{len(after_logs)} after); flagged when > {args.ratio:g}x and > "
          f"{args.min_slower:g} s slower: {len(flagged)}", file=out)
    for name, b, a, r, _, cb, ca in flagged:
        more = f"; does more: {case_counts(cb, ca)} cases" if does_more(cb, ca) else ""
        print(f"SLOWER: {name}: {b:.2f} s -> {a:.2f} s ({r:.2f}x){more}", file=out)
    if only_after:
        print(f"only after (new): {', '.join(only_after)}", file=out)
    if only_before:
        print(f"only before (gone): {', '.join(only_before)}", file=out)
    for name in not_passing:
        results = before[name][1] + after[name][1]
        side = " and ".join(label for label, tests in (("before", before), ("after", after))
                            if tests[name][0] is None)
        print(f"not compared: {name}: no passing run {side} ({', '.join(results)})", file=out)
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
