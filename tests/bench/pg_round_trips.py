"""bench-pg-round-trips: how many times slad's loop waits for PostgreSQL per ticket taken in
(doc/POSTGRESQL.md, "Queued writes"), for this build and, with SLAD_BIN_BEFORE, another
one in the same run.

A wait is a poll(2) by libpq (PQgetResult, PQexec... on an answer not yet there: a round
trip to the server). The loop's own waits are epoll, so a COMMIT's answer read by its
ev_io is not counted: what is counted is the synchronous round trips of the store's
reads and writes. strace -c is attached to slad for BENCH_TICKETS tickets (intake_client,
16 connections, each ticket new), and the waits are divided by the tickets the database
holds after. strace slows slad: this counts, it does not time.

Environment: SLAD_BIN, INTAKE_CLIENT (set by meson), SLAD_BIN_BEFORE, BENCH_TICKETS (2000),
SLAD_PG_TEMPLATE. Run by `make bench` only."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from bench_intake import intake_client  # noqa: E402
from bench_postgres import slad_on  # noqa: E402
import pg  # noqa: E402

TICKETS = int(os.environ.get("BENCH_TICKETS", "2000"))
BEFORE = os.environ.get("SLAD_BIN_BEFORE")


def waits_per_ticket(cluster, name, binary):
    """(polls, tickets) of one slad on a new database."""
    tmp = tempfile.mkdtemp(prefix=f"bench-rt-{name}-")
    cluster.psql(f"CREATE DATABASE {name}")
    d = slad_on(cluster.conninfo_of(name), tmp, binary)
    out = os.path.join(tmp, "strace.txt")
    try:
        tracer = subprocess.Popen(["strace", "-c", "-f", "-e", "trace=poll", "-o", out,
                                   "-p", str(d.proc.pid)], stderr=subprocess.DEVNULL)
        time.sleep(1)  # attached
        intake_client(["--unix", d.socket_path], name, requests=TICKETS)
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=60)
        with open(out, encoding="utf-8") as f:
            m = re.search(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)(?:\s+\d+)?\s+poll$", f.read(),
                          re.M)
        polls = int(m.group(1)) if m else 0
        tickets = int(cluster.psql("SELECT count(*) FROM tickets", name))
        return polls, tickets
    finally:
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    builds = [("after", None)] + ([("before", BEFORE)] if BEFORE else [])
    folder = tempfile.mkdtemp(prefix="bench-rt-cluster-")
    try:
        with pg.Cluster(folder) as cluster:
            for label, binary in builds:
                polls, tickets = waits_per_ticket(cluster, f"rt_{label}", binary)
                print(f"  {label:7} {polls} waits for {tickets} tickets:"
                      f" {polls / max(tickets, 1):.1f} round trips per ticket")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
