"""The scheduler lease on the loop (doc/POSTGRESQL.md, daemon/scheduler.c) with SQLite, its
trivial single holder: the daemon is the scheduler from its start, under a fencing number
that grows with each start (a kill -9 included: the row is the database's, not the
process's, so no failover_timeout is waited for); it never renews the row (the file's lock
makes it the only writer, and an idle daemon commits nothing); /healthz, /metrics and
slactl status show the role and the number."""

import os
import sqlite3
import subprocess
import time


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
