"""populate.py - filling a benchmark's database before slad serves it, for bench_report.py,
bench_longreads.py and bench_timers.py:

- bench_daemon(conf): a Daemon (tests/integration/conftest.py) on a config of the bench's;
- prepared(d, total, fill): the schema from slad itself (started once on an empty
  directory, then stopped), then fill(db_path, total) when the file has no ticket yet
  (BENCH_KEEP reuses a database filled by an earlier run);
- populate_year(db_path, total): a year of tickets bulk-inserted in SQL (bench_report's);
- populate_agenda(...): open tickets through the service layer (bench_populate.c);
- now_ms, cpu_seconds, children_cpu_s: the clocks the benches read."""

import os
import random
import resource
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from conftest import Daemon  # noqa: E402

YEAR_MS = 365 * 86400000
FROM_MS = 1735689600000  # 2025-01-01T00:00:00Z
FROM, TO = "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"

TEAMS = ["north", "south", "east", "west", "supervision"]
REGIONS = ["city", "county", "remote"]
POLICIES = ["critical-city", "standard", "complaint", "remote"]
CLOCKS = (("response", 3600000), ("resolution", 86400000))
# Clock outcomes, weighted: most stopped, some open, a few cancelled.
STATES = ["met"] * 70 + ["missed"] * 15 + ["running"] * 5 + ["breached"] * 3 + \
    ["paused"] * 2 + ["pending"] * 3 + ["cancelled"] * 2
BATCH = 50000


def now_ms():
    return int(time.time() * 1000)


def cpu_seconds(pid):
    """User + system CPU time of a running process (all threads) so far: load on the
    machine does not change it."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_s():
    """CPU time of the children this process waited for."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def bench_daemon(conf):
    """A Daemon class whose config is conf, with @DIR@ standing for its directory."""
    class BenchDaemon(Daemon):
        def write_config(self, template=None, daemon_extra=None):
            with open(self.conf_path, "w", encoding="utf-8") as f:
                f.write(conf.replace("@DIR@", self.dir))
    return BenchDaemon


def prepared(d, total, fill):
    """d (not running) with slad's schema and, when it has no ticket, fill(db_path, total)
    done; the time it took printed."""
    if not os.path.exists(d.db_path):
        d.start()
        d.stop()
    db = sqlite3.connect(d.db_path)
    empty = db.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0
    db.close()
    if empty:
        t0 = time.perf_counter()
        fill(d.db_path, total)
        print(f"  populated {total} tickets in {time.perf_counter() - t0:.1f} s", flush=True)
    return d


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


def populate_year(db_path, total):
    """total tickets reported over 2025 (two clocks each, a follow-up for most), inserted
    in big transactions as the service writes them: the clocks with the ticket's policy,
    reported_at, team, region and assignee copied as store.c writes them; the follow-ups'
    reported_at copied by the schema's trigger. Open tickets get no agenda instant (next_ms
    NULL), so that a start-up does not fire a year of overdue steps."""
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


def populate_agenda(tool, conf, db, count, first_ms, spread_ms, target_ms):
    """count open tickets created through the service layer by tool (bench_populate.c, on
    the config conf), their steps due from first_ms over spread_ms, a clock's target
    target_ms. Returns (seconds taken, CPU seconds the tool used)."""
    if count <= 0:
        return 0.0, 0.0
    t0, c0 = time.monotonic(), children_cpu_s()
    subprocess.run([tool, conf, db, str(count), str(first_ms), str(spread_ms), str(target_ms)],
                   check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0, children_cpu_s() - c0
