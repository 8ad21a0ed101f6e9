"""bench-postgres: slad on PostgreSQL beside slad on SQLite, in the same run, and the time
a fail-over takes (doc/PERFORMANCE.md, doc/POSTGRESQL.md).

- Intake: tickets per second (intake_client, 16 keep-alive connections on the Unix
  socket, closed loop), slad's CPU time per ticket in that run (/proc), and the p99
  latency paced at half that rate, durable on both:
  SQLite with synchronous = "full", PostgreSQL (a throwaway cluster, pg.py, fsync and
  synchronous_commit on, over its Unix socket). BENCH_ROUNDS rounds, interleaved, each on
  a fresh database; medians printed.
- Fail-over: tests/integration/test_failover.py's kill -9 test BENCH_FAILOVERS times (two
  instances, failover_timeout "2s", load on both): from the kill to the first step due
  after it delivered at the loopback receiver; median and max printed.

With SLAD_BIN_BEFORE naming another slad binary (an older build), each round also measures
it on both backends ("sqlite-before", "postgres-before"), so that a change is judged against
the build before it in the same run. BENCH_FAILOVERS=0 skips the fail-over figures.

Environment: SLAD_BIN, SLACTL_BIN, INTAKE_CLIENT (set by meson), SLAD_BIN_BEFORE,
BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_FAILOVERS (20), SLAD_PG_TEMPLATE. Run by
`make bench` only."""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from bench_intake import SLAD_CONF, TOKEN, intake_client  # noqa: E402
from conftest import Daemon, free_tcp_port, write_private  # noqa: E402
import pg  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
FAILOVERS = int(os.environ.get("BENCH_FAILOVERS", "20"))
BEFORE = os.environ.get("SLAD_BIN_BEFORE")
BACKENDS = ("sqlite", "postgres") + (("sqlite-before", "postgres-before") if BEFORE else ())

def slad_on(database, tmp, binary=None):
    """bench-intake's slad, durable, on database (binary: SLAD_BIN's by default)."""
    d = Daemon(tmp)
    write_private(os.path.join(tmp, "token"), TOKEN + "\n")
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(SLAD_CONF.replace('"@DIR@/slad.db"', f'"{database}"').replace("@DIR@", tmp)
                .replace("@PORT@", str(free_tcp_port())).replace("@SYNC@", "full"))
    saved = os.environ["SLAD_BIN"]
    os.environ["SLAD_BIN"] = binary or saved
    try:
        return d.start()
    finally:
        os.environ["SLAD_BIN"] = saved


def cpu_seconds(pid):
    """The user and system CPU time process pid has used."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def intake_round(cluster, n):
    """{backend: (rate, p99_us, slad's CPU ms per ticket)} of one round, each on a new
    database."""
    out = {}
    for backend in BACKENDS:
        tmp = tempfile.mkdtemp(prefix=f"bench-pg-{backend}-")
        if backend.startswith("postgres"):
            name = f"intake_{n}" + ("_before" if backend.endswith("before") else "")
            cluster.psql(f"CREATE DATABASE {name}")
            database = cluster.conninfo_of(name)
        else:
            database = os.path.join(tmp, "slad.db")
        d = slad_on(database, tmp, BEFORE if backend.endswith("before") else None)
        try:
            unix = ["--unix", d.socket_path]
            cpu = cpu_seconds(d.proc.pid)
            full = intake_client(unix, f"{backend}{n}")
            cpu = cpu_seconds(d.proc.pid) - cpu
            paced = intake_client(unix, f"{backend}p{n}", rate=full["rate"] / 2)
            out[backend] = (full["rate"], paced["p99_us"],
                            cpu * 1000 / max(full["requests"], 1))
        finally:
            d.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def failovers():
    """The kill -9 test FAILOVERS times: the seconds from each kill to the first late step
    delivered."""
    with tempfile.NamedTemporaryFile("r", prefix="bench-failover-", suffix=".txt") as times:
        env = dict(os.environ, SLAD_FAILOVER_ROUNDS=str(FAILOVERS),
                   SLAD_FAILOVER_TIMES=times.name)
        p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "-x", os.path.join(HERE, "..", "integration", "test_failover.py"),
                            "-k", "kill_9"], env=env, capture_output=True, text=True,
                           timeout=FAILOVERS * 120 + 300)
        if p.returncode != 0:
            raise RuntimeError(f"test_failover.py failed:\n{p.stdout[-3000:]}\n{p.stderr[-2000:]}")
        return [float(line) for line in times.read().split()]


def main():
    folder = tempfile.mkdtemp(prefix="bench-pg-cluster-")
    try:
        with pg.Cluster(folder) as cluster:
            rounds = [intake_round(cluster, n) for n in range(ROUNDS)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\nintake, durable, 16 connections on the Unix socket, median of {ROUNDS} rounds:")
    for backend in BACKENDS:
        rate = statistics.median(r[backend][0] for r in rounds)
        p99 = statistics.median(r[backend][1] for r in rounds)
        cpu = statistics.median(r[backend][2] for r in rounds)
        each = ", ".join(f"{r[backend][0]:.0f}" for r in rounds)
        print(f"  {backend:15} {rate:7.0f} tickets/s ({each});"
              f" p99 at half that rate {p99 / 1000:.1f} ms; slad's CPU {cpu:.3f} ms a ticket")
    for a, b in (("postgres", "sqlite"), ("postgres-before", "sqlite-before"),
                 ("postgres", "postgres-before")):
        if a in BACKENDS and b in BACKENDS:
            ratios = sorted(r[a][0] / r[b][0] for r in rounds)
            cpus = sorted(r[a][2] / r[b][2] for r in rounds)
            print(f"  {a} / {b}: {statistics.median(ratios):.2f}"
                  f" ({ratios[0]:.2f}-{ratios[-1]:.2f} over the rounds);"
                  f" slad's CPU a ticket {statistics.median(cpus):.2f}"
                  f" ({cpus[0]:.2f}-{cpus[-1]:.2f})")
    if FAILOVERS <= 0:
        return
    times = failovers()
    print(f"\nfail-over (failover_timeout 2 s), kill -9 to the first late step delivered,"
          f" {len(times)} runs: median {statistics.median(times):.2f} s,"
          f" max {max(times):.2f} s, min {min(times):.2f} s")


if __name__ == "__main__":
    main()
