"""bench-reload: how long a config reload holds the loop with 200 and with 2,000 open
tickets, on SQLite and on PostgreSQL (doc/POSTGRESQL.md, "Reload").

A reload re-chooses the policy of every open ticket and rewrites its clocks in one
savepoint; on PostgreSQL each statement is a round trip unless it is batched
(service_set_conf: 256 tickets read in three statements and written back in one pipeline).
Each backend's daemon (bench-intake's config, durable: SQLite synchronous = "full",
PostgreSQL a throwaway cluster over its Unix socket) gets 200 tickets, then BENCH_RELOADS
reloads alternating the response target (4h, 5h: every clock changes) are timed
(POST /v1/reload, answered once the reload is committed); then 1,800 more tickets and the
same again; the backends' daemons run side by side and their reloads are interleaved.
Medians printed, with the ratio to the build before when SLAD_BIN_BEFORE names
one (main's build: "sqlite-before", "postgres-before", measured in the same run).

Environment: SLAD_BIN, SLACTL_BIN, INTAKE_CLIENT (set by meson; bench_postgres imports
them), SLAD_BIN_BEFORE, BENCH_RELOADS (7).
Run by `make bench` only."""

import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from bench_postgres import slad_on  # noqa: E402
from conftest import Client  # noqa: E402
import pg  # noqa: E402

RELOADS = int(os.environ.get("BENCH_RELOADS", "7"))
BEFORE = os.environ.get("SLAD_BIN_BEFORE")
BACKENDS = ("sqlite", "postgres") + (("sqlite-before", "postgres-before") if BEFORE else ())
SIZES = (200, 2000)


def create_tickets(client, first, last):
    for i in range(first, last):
        r = client.post("/v1/tickets", {"title": "bench reload", "severity": 3,
                                        "source": "bench", "external_id": f"r{i}",
                                        "team": "north"})
        if r.status not in (200, 201):
            raise RuntimeError(f"creating ticket {i}: {r.status} {r.body[:200]!r}")


class Instance:
    """One backend's daemon, its config's text and its client."""

    def __init__(self, cluster, backend):
        self.tmp = tempfile.mkdtemp(prefix=f"bench-reload-{backend}-")
        if backend.startswith("postgres"):
            name = "reload" + ("_before" if backend.endswith("before") else "")
            cluster.psql(f"CREATE DATABASE {name}")
            database = cluster.conninfo_of(name)
        else:
            database = os.path.join(self.tmp, "slad.db")
        self.d = slad_on(database, self.tmp, BEFORE if backend.endswith("before") else None)
        self.client = Client(unix_path=self.d.socket_path)
        with open(self.d.conf_path, encoding="utf-8") as f:
            self.text = f.read()

    def reload(self, target):
        """The seconds of one reload with the response target changed to target."""
        with open(self.d.conf_path, "w", encoding="utf-8") as f:
            f.write(self.text.replace('target = "4h"', f'target = "{target}"'))
        start = time.monotonic()
        r = self.client.post("/v1/reload")
        elapsed = time.monotonic() - start
        if r.status != 200:
            raise RuntimeError(f"reload: {r.status} {r.body[:300]!r}")
        return elapsed

    def close(self):
        self.d.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def measure(cluster):
    """{backend: {size: [seconds of each reload]}}: every backend's daemon up at once, the
    reloads interleaved (one of each backend in turn, the order alternating), so that the
    machine's load falls on all alike."""
    out = {b: {} for b in BACKENDS}
    instances = {}
    try:
        for b in BACKENDS:
            instances[b] = Instance(cluster, b)
        made = 0
        for size in SIZES:
            for inst in instances.values():
                create_tickets(inst.client, made, size)
            made = size
            for b in BACKENDS:
                out[b][size] = []
            for i in range(RELOADS):
                order = BACKENDS if i % 2 == 0 else BACKENDS[::-1]
                for b in order:
                    out[b][size].append(instances[b].reload("5h" if i % 2 == 0 else "4h"))
    finally:
        for inst in instances.values():
            inst.close()
    return out


def main():
    folder = tempfile.mkdtemp(prefix="bench-reload-cluster-")
    try:
        with pg.Cluster(folder) as cluster:
            results = measure(cluster)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\nreload (POST /v1/reload, every open ticket re-chosen), median of {RELOADS}:")
    for backend in BACKENDS:
        for size in SIZES:
            t = results[backend][size]
            each = ", ".join(f"{x * 1000:.0f}" for x in t)
            print(f"  {backend:15} {size:5} tickets {statistics.median(t) * 1000:7.1f} ms ({each})")
    for a, b in (("postgres", "postgres-before"), ("sqlite", "sqlite-before"),
                 ("postgres", "sqlite"), ("postgres-before", "sqlite-before")):
        if a in BACKENDS and b in BACKENDS:
            for size in SIZES:
                ratio = statistics.median(results[a][size]) / statistics.median(results[b][size])
                print(f"  {a} / {b}, {size} tickets: {ratio:.2f}")


if __name__ == "__main__":
    main()
