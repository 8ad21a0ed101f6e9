"""The scheduler lease on the loop (doc/POSTGRESQL.md, daemon/scheduler.c) with SQLite, its
trivial single holder: the daemon is the scheduler from its start, under a fencing number
that grows with each start (a kill -9 included: the row is the database's, not the
process's, so no failover_timeout is waited for); it never renews the row (the file's lock
makes it the only writer, and an idle daemon commits nothing); /healthz, /metrics and
slactl status show the role and the number."""

import json
import os
import sqlite3
import subprocess
import time

from conftest import wait_for


def lease_row(d):
    con = sqlite3.connect(d.db_path)
    try:
        return con.execute("SELECT holder, fencing, expires_at_ms FROM leases"
                           " WHERE name = 'scheduler'").fetchone()
    finally:
        con.close()


def shows(d, fencing):
    h = d.client.get("/healthz")
    assert h.status == 200, h
    assert (h.json["role"], h.json["fencing"]) == ("scheduler", fencing), h.json
    m = d.client.get("/metrics").text
    assert "\nslad_scheduler 1\n" in m
    assert f"\nslad_lease_fencing {fencing}\n" in m
    p = subprocess.run([os.environ["SLACTL_BIN"], "--socket", d.socket_path, "status"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    lines = [line.split() for line in p.stdout.splitlines()]
    assert ["role", "scheduler"] in lines, p.stdout
    assert ["fencing", str(fencing)] in lines, p.stdout


def test_single_holder_role_fencing_and_renewal(make_daemon):
    d = make_daemon(daemon_extra='failover_timeout = "5s";').start()
    shows(d, 1)
    holder, fencing, expires = lease_row(d)
    assert (holder, fencing) == ("sqlite", 1)
    # Never renewed: the row stays as the start wrote it.
    time.sleep(2.5)  # two renewal periods of the PostgreSQL backend
    assert lease_row(d)[2] == expires

    d.restart()
    shows(d, 2)
    # Killed, and started again at once (before the row expired): the scheduler again.
    d.kill9()
    d.start()
    shows(d, 3)
    assert "this instance is the scheduler (fencing number 3)" in d.log()


def set_lease(d, sql):
    con = sqlite3.connect(d.db_path, timeout=10)
    try:
        con.execute(sql)
        con.commit()
    finally:
        con.close()


def notifications(d):
    path = os.path.join(d.dir, "notifications.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def role(d):
    h = d.client.get("/healthz")
    assert h.status == 200, h
    return h.json["role"], h.json["fencing"]


def test_no_fencing_check_on_sqlite_the_start_takes_the_row(make_daemon):
    """On SQLite the file's lock already makes this process the only writer, and its lease
    lasts a century: no batch carries the fencing check (daemon/scheduler.c sets none), so a
    row rewritten behind its back changes nothing while it runs (its steps fire and are
    sent on time). The row is read at the next start: held by another holder, the daemon
    is a standby that fires nothing until the row is free, then it gains the lease under
    the next number and fires what fell due meanwhile, once, marked late. (PostgreSQL's
    fencing check: test_failover.py's split brain.)"""
    d = make_daemon().start()
    assert role(d) == ("scheduler", 1)
    # Another holder, as a take-over by another instance would leave the row.
    set_lease(d, "UPDATE leases SET holder = 'other:1:1', fencing = 2,"
                 " expires_at_ms = 9000000000000 WHERE name = 'scheduler'")
    t = d.create(severity=1, team="north")  # steps at 1.5 s and 3 s
    wait_for(lambda: len(notifications(d)) >= 2, 10, "the two steps' notifications")
    assert role(d) == ("scheduler", 1)
    assert "refused this instance's scheduler writes" not in d.log()
    steps = [h for h in d.ticket(t["id"])["history"] if h["kind"] == "step"]
    assert len(steps) == 2 and not any(h["late"] for h in steps), steps

    # The next start finds the row another's: a standby that fires nothing.
    d.stop()
    d.start()
    assert role(d) == ("standby", 0)
    created = time.monotonic()
    t2 = d.create(severity=1, team="north")
    time.sleep(max(0.0, created + 4.5 - time.monotonic()))  # both steps fall due
    assert len(notifications(d)) == 2
    assert not [h for h in d.ticket(t2["id"])["history"] if h["kind"] == "step"]

    set_lease(d, "UPDATE leases SET expires_at_ms = 0 WHERE name = 'scheduler'")
    wait_for(lambda: role(d) == ("scheduler", 3), 10, "the lease gained under number 3")
    wait_for(lambda: len(notifications(d)) >= 4, 10, "the second ticket's two notifications")
    time.sleep(1.0)  # nothing more comes
    sent = notifications(d)[2:]
    assert sorted(n["idempotency_key"] for n in sent) == [
        f"t{t2['id']}/response/step1/r0/supervisor/sup",
        f"t{t2['id']}/response/step2/r0/manager/mgr"]
    steps = [h for h in d.ticket(t2["id"])["history"] if h["kind"] == "step"]
    assert len(steps) == 2 and all(h["late"] for h in steps), steps
    assert "this instance is the scheduler (fencing number 3)" in d.log()
