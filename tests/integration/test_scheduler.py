"""The scheduler lease on the loop (doc/POSTGRESQL.md, daemon/scheduler.c) with SQLite, its
trivial single holder: the daemon is the scheduler from its start, under a fencing number
that grows with each start (a kill -9 included: the row is the database's, not the
process's, so no failover_timeout is waited for); it renews the row every second, each
renewal pushing the expiry to about failover_timeout ahead; /healthz, /metrics and
slactl status show the role and the number."""

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
    # Renewed every second: the expiry moves, about failover_timeout ahead of now.
    wait_for(lambda: lease_row(d)[2] > expires, 5, "a renewal of the lease")
    ahead = lease_row(d)[2] - time.time() * 1000
    assert 2000 < ahead <= 5100, ahead  # renewed within the last second or two

    d.restart()
    shows(d, 2)
    # Killed, and started again at once (before the row expired): the scheduler again.
    d.kill9()
    d.start()
    shows(d, 3)
    assert "this instance is the scheduler (fencing number 3)" in d.log()


def test_lost_while_the_database_refuses_and_taken_again(make_daemon):
    """Another process holds SQLite's write lock: the renewal fails, the daemon goes on
    standby at once (its time ran out as far as it can tell), asks every second (one
    warning, then debug lines), and takes the lease again under a new number when the
    lock goes."""
    d = make_daemon(daemon_extra='failover_timeout = "2s";').start()
    shows(d, 1)
    con = sqlite3.connect(d.db_path, isolation_level=None, timeout=5)
    try:
        con.execute("BEGIN IMMEDIATE")
        wait_for(lambda: d.client.get("/healthz").json["role"] == "standby", 10, "standby")
        assert "\nslad_scheduler 0\n" in d.client.get("/metrics").text
        wait_for(lambda: d.log().count("the scheduler lease still fails") >= 2, 10,
                 "asking again every second")
    finally:
        con.execute("ROLLBACK")
        con.close()
    wait_for(lambda: d.client.get("/healthz").json["role"] == "scheduler", 10, "scheduler")
    shows(d, 2)
    log = d.log()
    assert "lost the scheduler lease (fencing number 1): on standby" in log, log
    # One warning per failure, whatever the number of attempts (renew, then ask for).
    assert log.count("could not renew the scheduler lease") == 1, log
    assert log.count("could not ask for the scheduler lease") <= 1, log
    assert "this instance is the scheduler (fencing number 2)" in log
