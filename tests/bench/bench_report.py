"""bench-report: GET /v1/reports/sla over a year of tickets (10k, 100k, 1M; two clocks
each, a follow-up for most), p50 of several runs for each `by`, beside baselines measured
in the same run on the same file with Debian python's sqlite3:

- scan: `SELECT count(*), sum(length(title)) FROM tickets`, a full scan of the table;
- group: the same figures as by=team in plain SQL (join + GROUP BY + avg), without p90.

The schema comes from slad itself (started once on an empty directory, then stopped); the
rows are bulk-inserted in big transactions as the service writes them (tickets, their
clocks with the ticket's policy, reported_at, team, region and assignee copied as store.c
writes them, follow-ups, whose reported_at the schema's trigger copies). Open tickets get no agenda instant
(next_ms NULL) so that the start-up does not fire a year of overdue steps: the report does
not read it. Each report's total count is checked against a count in SQL.

Environment: SLAD_BIN (set by meson), BENCH_SIZES (10000,100000,1000000), BENCH_RUNS (5),
BENCH_KEEP (a directory to keep the databases in, reused when present). Goal: 1M < 1 s.
Beside each wall time it prints slad's CPU time per request (from /proc), which the load
of a shared machine does not inflate."""

import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from conftest import Daemon  # noqa: E402

SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "10000,100000,1000000").split(",")]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
KEEP = os.environ.get("BENCH_KEEP")
GOAL_S = 1.0
BYS = ["policy", "region", "team", "assignee", "month"]

YEAR_MS = 365 * 86400000
FROM_MS = 1735689600000  # 2025-01-01T00:00:00Z
FROM, TO = "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"

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

TEAMS = ["north", "south", "east", "west", "supervision"]
REGIONS = ["city", "county", "remote"]
POLICIES = ["critical-city", "standard", "complaint", "remote"]
CLOCKS = (("response", 3600000), ("resolution", 86400000))
# Clock outcomes, weighted: most stopped, some open, a few cancelled.
STATES = ["met"] * 70 + ["missed"] * 15 + ["running"] * 5 + ["breached"] * 3 + \
    ["paused"] * 2 + ["pending"] * 3 + ["cancelled"] * 2
BATCH = 50000


class BenchDaemon(Daemon):
    def write_config(self, template=None, daemon_extra=None):
        with open(self.conf_path, "w", encoding="utf-8") as f:
            f.write(CONF.replace("@DIR@", self.dir))


def ticket_rows(start, n, total, rnd):
    """Rows of tickets start..start+n-1 (ids from 1), their clocks and follow-ups."""
    tickets, clocks, followups = [], [], []
    for i in range(start, start + n):
        rep = FROM_MS + (i - 1) * YEAR_MS // total
        pol, team, region = rnd.choice(POLICIES), rnd.choice(TEAMS), rnd.choice(REGIONS)
        assignee = f"tech{rnd.randint(1, 200)}"
        states = [rnd.choice(STATES) for _ in CLOCKS]
        done = all(s in ("met", "missed", "cancelled") for s in states)
        status = "closed" if done else "dispatched"
        resolve = rep + rnd.randint(60000, 2 * 86400000)
        tickets.append((
            i, "erp", f"E{i}", f"Printer jams on floor {i % 40}",
            f"The printer in room {i} jams every morning", rnd.randint(1, 4), "A",
            region, team, assignee, f"Customer {i}",
            f"+86138{i:08d}", f"{i} Road, District", f"HP-{i % 100}", f"SN{i:08d}",
            f"E{i % 30}", rep, None, rep, resolve, status, "dispatched", pol, 0, 0,
            f"acknowledge={rep + 60000};resolve={resolve}" if done else f"acknowledge={rep + 60000}",
            0, None))
        for pos, ((name, target), state) in enumerate(zip(CLOCKS, states)):
            stopped = state in ("met", "missed")
            elapsed = rnd.randint(0, target) if state == "met" else \
                rnd.randint(target + 1, 3 * target) if state in ("missed", "breached") else \
                rnd.randint(0, target) if state in ("running", "paused") else 0
            clocks.append((
                i, name, pos, pol, state, target, elapsed,
                rep + elapsed if state == "running" else None, rep,
                rep + elapsed if stopped else None,
                rep + target if state in ("missed", "breached") else None,
                rep + target, 0, "resolve" if stopped else None, None, rep, team, region,
                assignee))
        if done and rnd.random() < 0.8:
            fstate = "done" if rnd.random() < 0.9 else "open"
            deadline = resolve + 3 * 86400000
            done_ms = resolve + rnd.randint(0, 4 * 86400000) if fstate == "done" else None
            followups.append((i, "callback", "supervisor", 0, fstate, resolve, resolve,
                              deadline, "satisfied" if done_ms else None, done_ms))
    return tickets, clocks, followups


def populate(db_path, total):
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous = OFF")
    rnd = random.Random(total)
    for start in range(1, total + 1, BATCH):
        t, c, f = ticket_rows(start, min(BATCH, total - start + 1), total, rnd)
        db.execute("BEGIN")
        db.executemany("INSERT INTO tickets (id, source, external_id, title, description,"
                       " severity, grade, region, team, assignee, customer_name, customer_phone,"
                       " customer_address, device_model, device_serial, fault_code,"
                       " reported_at_ms, appointment_at_ms, created_at_ms, updated_at_ms, status,"
                       " held_from, policy, reopen_count, repeat_count, event_last,"
                       f" reminders_fired, next_ms) VALUES ({','.join('?' * 28)})", t)
        db.executemany("INSERT INTO clocks (ticket_id, name, pos, policy, state, target_ms,"
                       " elapsed_ms, since_ms, started_at_ms, stopped_at_ms, breached_at_ms,"
                       " due_at_ms, paused_breached, stop_event, fired, reported_at_ms, team,"
                       f" region, assignee) VALUES ({','.join('?' * 19)})", c)
        db.executemany("INSERT INTO followups (ticket_id, name, owner, generation, state,"
                       " created_ms, due_ms, deadline_ms, outcome, done_ms)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", f)
        db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def cpu_seconds(pid):
    """User + system CPU time of a process so far (load on the machine does not change it)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    d = BenchDaemon(directory)
    if not os.path.exists(d.db_path):
        d.start()
        d.stop()
    db = sqlite3.connect(d.db_path)
    empty = db.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0
    db.close()
    if empty:
        t0 = time.perf_counter()
        populate(d.db_path, total)
        print(f"  populated {total} tickets in {time.perf_counter() - t0:.1f} s", flush=True)
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
