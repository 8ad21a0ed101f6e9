"""slad --copy-database FROM TO (doc/POSTGRESQL.md, slad.8): every row of every table of a
database a real daemon wrote (tickets with labels, clocks, history, notifications,
follow-ups, a plan, an on-call override, the gauges' counters; not the scheduler lease,
which is the running instances') goes SQLite -> PostgreSQL
-> SQLite and comes back equal row by row, value types included, and a daemon started on
the copy serves the same tickets. Refused, with a clear message and nothing written: a
target that holds rows, a schema version other than this slad's on either side, a missing
source, the same database twice; a PostgreSQL connection string is never echoed."""

import os
import shutil
import sqlite3
import subprocess
import time

from conftest import slad_bin, wait_for
from pg import postgres  # noqa: F401 (the fixture)

TABLES = ["clocks", "counts", "followups", "history", "outbox", "plans",
          "schedule_overrides", "ticket_labels", "tickets"]


def copy(frm, to):
    return subprocess.run([slad_bin(), "--copy-database", frm, to], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)


def rows(path):
    """Every table's rows in a stable order, with their SQLite types (python's int or
    str), by table name."""
    con = sqlite3.connect(path)
    try:
        # The scheduler lease is the running instances', not the installation's.
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name != 'leases' ORDER BY name")]
        return {n: con.execute(f"SELECT * FROM {n} ORDER BY 1, 2").fetchall() for n in names}
    finally:
        con.close()


def pg_counts(postgres, dbname="postgres"):
    return {t: int(postgres.psql(f"SELECT count(*) FROM {t}", dbname)) for t in TABLES}


def fill(make_daemon):
    """A database written by the daemon: every table holds rows. Returns the daemon
    (stopped) and the JSON of its tickets."""
    d = make_daemon("schedule.conf").start()
    complaint = d.create(title="no hot water", team="north", assignee="tech",
                         labels={"kind": "complaint", "site": "hq"})
    repair = d.create(title="boiler leaks", team="north", assignee="tech",
                      customer={"name": "Li Lei", "phone": "+8613900000000"})
    assert d.event(repair["id"], "acknowledge").status == 200
    assert d.event(repair["id"], "resolve").status == 200
    start = time.time() + 3600
    plan = d.client.post("/v1/plans", {
        "name": "boiler service", "customer": {"name": "Li Lei"}, "team": "north",
        "assignee": "tech", "rrule": "FREQ=DAILY", "start": time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)), "due_within": "1h"})
    assert plan.status == 201, plan
    # The complaint's reply clock breaches after 3 s and notifies the supervisor.
    wait_for(lambda: d.client.get("/v1/notifications?limit=10").json["notifications"], 15,
             "a notification")
    tickets = [d.ticket(t["id"]) for t in (complaint, repair)]
    d.stop()
    con = sqlite3.connect(d.db_path)
    con.execute("INSERT INTO schedule_overrides (schedule, contact, from_ms, to_ms, created_ms)"
                " VALUES ('ops', 'zed', 1772359200000, 1772445600000, 1772359200000)")
    con.commit()
    con.close()
    return d, tickets


def test_round_trip_sqlite_postgresql_sqlite(make_daemon, postgres, tmp_path):
    d, tickets = fill(make_daemon)
    before = rows(d.db_path)
    assert sorted(before) == TABLES, "a table this test does not know: add it to TABLES"
    empty = [t for t in TABLES if not before[t]]
    assert not empty, f"no rows to copy in {empty}"

    r = copy(d.db_path, postgres.conninfo)
    assert r.returncode == 0, r.stderr
    total = sum(len(v) for v in before.values())
    assert f"slad: copied {total} rows in {len(TABLES)} tables" in r.stdout, r.stdout
    assert pg_counts(postgres) == {t: len(before[t]) for t in TABLES}
    # The identities continue after the ids copied.
    top = max(row[0] for row in before["history"])
    assert int(postgres.psql("SELECT nextval(pg_get_serial_sequence('history', 'id'))")) \
        == top + 1

    back = str(tmp_path / "back.db")
    r = copy(postgres.conninfo, back)
    assert r.returncode == 0, r.stderr
    after = rows(back)
    for t in TABLES:
        assert after[t] == before[t], f"table {t} differs after the round trip"
    assert os.stat(back).st_mode & 0o777 == 0o600  # customers' data: private

    # A daemon on the copy serves the same tickets (running clocks move on, and what fell
    # due meanwhile is added to the history: the fields that stay, and the history so far).
    e = make_daemon("schedule.conf")
    shutil.copy(back, e.db_path)
    e.start()
    for t in tickets:
        got = e.ticket(t["id"])
        for k in ("id", "title", "status", "labels", "customer", "team", "assignee"):
            assert got.get(k) == t.get(k), k
        assert got["history"][:len(t["history"])] == t["history"]
    e.stop()


def test_refusals_change_nothing(make_daemon, postgres, tmp_path):
    postgres.psql("CREATE DATABASE refusals")
    d, _ = fill(make_daemon)
    target = postgres.conninfo_of("refusals")
    assert copy(d.db_path, target).returncode == 0
    counts = pg_counts(postgres, "refusals")

    # A target with rows: refused, the password never echoed.
    secret = target + " password=PGSECRET"
    r = copy(d.db_path, secret)
    assert r.returncode == 1
    assert "TO (PostgreSQL) already holds rows (table tickets)" in r.stderr, r.stderr
    assert "nothing was copied" in r.stderr
    assert "PGSECRET" not in r.stdout + r.stderr
    assert pg_counts(postgres, "refusals") == counts

    # A source at another schema version (an older slad's): start this slad on it first.
    old = str(tmp_path / "old.db")
    shutil.copy(d.db_path, old)
    con = sqlite3.connect(old)
    con.execute("PRAGMA user_version = 8")
    con.close()
    fresh = str(tmp_path / "fresh.db")
    r = copy(old, fresh)
    assert r.returncode == 1
    assert f"FROM (SQLite '{old}') has schema version 8" in r.stderr, r.stderr
    assert "start this slad on it once" in r.stderr
    assert not os.path.exists(fresh)

    # A target at another version (a newer slad's): refused before anything is written.
    postgres.psql("CREATE DATABASE newer")
    postgres.psql("CREATE TABLE schema_version (version INTEGER NOT NULL);"
                  " INSERT INTO schema_version VALUES (99)", "newer")
    r = copy(d.db_path, postgres.conninfo_of("newer"))
    assert r.returncode == 1
    assert "TO (PostgreSQL) has schema version 99, newer than this slad's" in r.stderr, r.stderr
    assert postgres.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                         "newer").strip() == "1"

    # No source, the same database twice, a wrong command line.
    r = copy(str(tmp_path / "missing.db"), fresh)
    assert r.returncode == 1 and "No such file or directory" in r.stderr, r.stderr
    assert not os.path.exists(fresh)
    r = copy(d.db_path, d.db_path)
    assert r.returncode == 1 and "FROM and TO are the same database" in r.stderr
    r = subprocess.run([slad_bin(), "--copy-database", d.db_path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    assert r.returncode == 2 and "takes two databases" in r.stderr
