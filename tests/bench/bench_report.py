"""bench-report: GET /v1/reports/sla over a year of tickets (10k, 100k, 1M; two clocks
each, a follow-up for most), p50 of several runs for each `by`, beside baselines measured
in the same run on the same file with Debian python's sqlite3:

- scan: `SELECT count(*), sum(length(title)) FROM tickets`, a full scan of the table;
- group: the same figures as by=team in plain SQL (join + GROUP BY + avg), without p90.

The schema comes from slad itself and the rows are bulk-inserted as the service writes
them (populate.py's populate_year). Each report's total count is checked against a count
in SQL.

Environment: SLAD_BIN (set by meson), BENCH_SIZES (10000,100000,1000000), BENCH_RUNS (5),
BENCH_KEEP (a directory to keep the databases in, reused when present). Goal: 1M < 1 s.
Beside each wall time it prints slad's CPU time per request (from /proc), which the load
of a shared machine does not inflate."""

import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from populate import (FROM, FROM_MS, TO, YEAR_MS, bench_daemon, cpu_seconds,  # noqa: E402
                      populate_year, prepared)

SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "10000,100000,1000000").split(",")]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
KEEP = os.environ.get("BENCH_KEEP")
GOAL_S = 1.0
BYS = ["policy", "region", "team", "assignee", "month"]

CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           synchronous = "normal"; log_level = "notice"; language = "en"; };
contacts = ( { name = "sup"; phone = "+8613800000001"; via = ["log"]; } );
teams = ( { name = "north"; roles = { supervisor = ["sup"]; }; } );
channels = ( { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; } );
policies = ( { name = "standard"; match = { }; calendar = "24x7";
  clocks = ( { name = "response"; target = "1h"; stop = ["acknowledge", "resolve"]; },
             { name = "resolution"; target = "24h"; stop = ["resolve"]; } ); } );
"""

BenchDaemon = bench_daemon(CONF)


def timed(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def baselines(db_path):
    db = sqlite3.connect(db_path)
    scan = lambda: db.execute("SELECT count(*), sum(length(title)) FROM tickets").fetchall()
    group = lambda: db.execute(
        "SELECT t.team, c.name, count(*), sum(c.state = 'met'), sum(c.state = 'missed'),"
        " avg(CASE WHEN c.state IN ('met', 'missed') THEN c.elapsed_ms END)"
        " FROM tickets t JOIN clocks c ON c.ticket_id = t.id"
        " WHERE t.reported_at_ms >= ? AND t.reported_at_ms < ? AND c.state != 'cancelled'"
        " GROUP BY 1, 2", (FROM_MS, FROM_MS + YEAR_MS)).fetchall()
    counted = db.execute("SELECT count(*) FROM clocks WHERE state != 'cancelled'").fetchone()[0]
    result = timed(scan, RUNS)[0], timed(group, max(1, RUNS // 2))[0], counted
    db.close()
    return result


def bench_size(root, total):
    directory = os.path.join(root, f"n{total}")
    os.makedirs(directory, exist_ok=True)
    d = prepared(BenchDaemon(directory), total, populate_year)
    scan_s, group_s, counted = baselines(d.db_path)
    d.start()
    results = {}
    try:
        for by in BYS:
            path = f"/v1/reports/sla?from={FROM}&to={TO}&by={by}"
            r = d.client.get(path)  # warm-up: page cache and statement
            assert r.status == 200, r
            got = sum(row["total"] for row in r.json["rows"])
            assert got == counted, f"by={by}: report counts {got} clocks, SQL {counted}"

            def one():
                resp = d.client.get(path)
                assert resp.status == 200, resp
            cpu0 = cpu_seconds(d.proc.pid)
            p50, lo, hi = timed(one, RUNS)
            results[by] = p50, lo, hi, (cpu_seconds(d.proc.pid) - cpu0) / RUNS
        csv_s = timed(lambda: d.client.get(f"/v1/reports/sla?from={FROM}&to={TO}&by=team"
                                           "&format=csv"), RUNS)[0]
    finally:
        d.stop()
    return results, csv_s, scan_s, group_s


def main():
    root = KEEP or tempfile.mkdtemp(prefix="bench-report-")
    worst_1m = None
    print(f"bench-report: year of tickets, p50 of {RUNS} runs (s); baselines in python sqlite3:"
          " scan = full scan of tickets, group = by-team join + GROUP BY without p90")
    for total in SIZES:
        results, csv_s, scan_s, group_s = bench_size(root, total)
        print(f"n={total}: baseline scan {scan_s:.4f} s, group {group_s:.4f} s, "
              f"csv by team {csv_s:.4f} s")
        for by, (p50, lo, hi, cpu) in results.items():
            print(f"  by={by:<8} p50 {p50:.4f} s (min {lo:.4f}, max {hi:.4f}, slad cpu {cpu:.3f} s)"
                  f"  x{p50 / scan_s:.1f} scan  x{p50 / group_s:.2f} group")
        if total >= 1000000:
            worst_1m = max(r[0] for r in results.values())
    if worst_1m is not None:
        verdict = "met" if worst_1m < GOAL_S else "MISSED"
        print(f"goal 1M tickets < {GOAL_S} s: {verdict} (slowest by: {worst_1m:.3f} s)")
    if not KEEP:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
