"""Disk and lock faults on the real daemon: a full disk (a small tmpfs, as root), a
read-only database, another process holding SQLite's write lock, and a backup running.

For each: writes the daemon cannot commit get 503 with a JSON error that says why, every
change answered 2xx is in the database afterwards, PRAGMA integrity_check stays "ok", the
daemon recovers by itself when space returns or the lock goes, and /healthz keeps answering
within 50 ms throughout (a probe thread measures every answer). And steady writes, which
must not grow the WAL without bound.
"""

import os
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import UnixHTTPConnection, fill_file_system, slad_bin, wait_for

HEALTH_GOAL_S = 0.050


def sanitized_build():
    with open(slad_bin(), "rb") as f:
        return b"__asan_init" in f.read()


# The ASan/UBSan build is several times slower; the goal is for the release build.
HEALTH_BOUND_S = HEALTH_GOAL_S * (4 if sanitized_build() else 1)
# The slowest single probe allowed: shorter than any stall the tests look for (Probe.finish).
STALL_BOUND_S = 10 * HEALTH_GOAL_S * (2 if sanitized_build() else 1)


class Probe:
    """Asks /healthz every 10 ms in a thread; keeps the slowest answer and any failure."""

    def __init__(self, d):
        self.d = d
        self.stop = threading.Event()
        self.times = []
        self.failures = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.wait(0.01):
            t0 = time.monotonic()
            try:
                r = self.d.client.get("/healthz")
                if r.status != 200:
                    self.failures.append(r)
            except OSError as e:
                self.failures.append(e)
            self.times.append(time.monotonic() - t0)

    def finish(self, bounded=True):
        """bounded=False: only failures count (PostgreSQL, where the loop waits for each
        commit's round trip and the server's fsync: doc/POSTGRESQL.md, "What the next
        session does", 3)."""
        self.stop.set()
        self.thread.join(10)
        assert self.times, "the probe never ran"
        assert not self.failures, f"/healthz failed: {self.failures[:3]}"
        times = sorted(self.times)
        worst, p99 = times[-1], times[int(len(times) * 0.99)]
        if not bounded:
            return worst
        # The goal for 99 % of the probes. The rest may wait behind a commit's fdatasync
        # (synchronous = full: a held /healthz is answered with its batch), which took
        # 181 ms once in make test with a PostgreSQL test syncing the same disk; what this
        # bound catches is a stall (a receiver's timeout, a lock wait: seconds).
        assert p99 < HEALTH_BOUND_S and worst < STALL_BOUND_S, \
            f"/healthz p99 {p99 * 1e3:.1f} ms, max {worst * 1e3:.1f} ms ({len(times)} probes)"
        return worst


def integrity_ok(path):
    db = sqlite3.connect(path, timeout=5)
    try:
        return db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        db.close()


def assert_kept(d, acked):
    for tid, title in acked.items():
        assert d.ticket(tid)["title"] == title


def try_create(d, title):
    """(status, json) of a create; 503 must carry a clear database error."""
    r = d.client.post("/v1/tickets", {"title": title, "severity": 2})
    if r.status == 503:
        assert r.error_code() == "database_unavailable", r
        assert r.error_message(), r
    else:
        assert r.status == 201, r
    return r


@pytest.mark.sqlite_only("another process holds the SQLite file's write lock")
def test_external_write_lock(daemon):
    d = daemon
    acked = {d.create(title=f"before lock {i}")["id"]: f"before lock {i}" for i in range(3)}
    locker = sqlite3.connect(d.db_path, timeout=5, isolation_level=None)
    probe = Probe(d)
    refused = 0
    try:
        locker.execute("BEGIN IMMEDIATE")  # what a sqlite3 shell writing, or a migration, holds
        t_end = time.monotonic() + 1.5
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            r = try_create(d, "during lock")
            took = time.monotonic() - t0
            assert r.status == 503, r  # nobody can commit while the lock is held
            message = r.error_message()
            assert took < 1.0, f"a refused write took {took:.3f} s"
            refused += 1
            # Reads need no write lock: WAL readers go on.
            assert d.ticket(next(iter(acked)))["title"].startswith("before lock")
            assert d.client.request("HEAD", f"/v1/tickets/{next(iter(acked))}").status == 200
            time.sleep(0.05)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    # The lock is gone: the next write commits without any restart.
    t = d.create(title="after lock")
    acked[t["id"]] = "after lock"
    worst = probe.finish()
    assert refused > 5
    assert_kept(d, acked)
    d.stop()
    assert integrity_ok(d.db_path)
    print(f"\nlock: {refused} writes refused with 503 ('{message}'), "
          f"/healthz worst {worst * 1e3:.1f} ms")


# A backup in its own process (no GIL shared with the probe): the sqlite3 online backup
# API in small steps, again and again for the given seconds; prints how many it made.
BACKUP_SCRIPT = r"""
import sqlite3, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
end, n = time.monotonic() + seconds, 0
while time.monotonic() < end:
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    dst = sqlite3.connect(":memory:")
    src.backup(dst, pages=1, sleep=0.001)
    dst.execute("SELECT count(*) FROM tickets").fetchone()
    n += 1
    dst.close()
    src.close()
print(n)
"""


@pytest.mark.sqlite_only("SQLite's online backup of the file")
def test_backup_running(daemon):
    d = daemon
    acked = {}
    probe = Probe(d)
    backup = subprocess.Popen(["/usr/bin/python3", "-c", BACKUP_SCRIPT, d.db_path, "2.0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        while backup.poll() is None:
            title = f"during backup {len(acked)}"
            t = d.create(title=title)  # a WAL reader never blocks the writer: all 201
            acked[t["id"]] = title
            time.sleep(0.002)
    finally:
        out, _ = backup.communicate(timeout=30)
    worst = probe.finish()
    assert backup.returncode == 0 and int(out) > 0, out
    assert_kept(d, acked)
    d.stop()
    assert integrity_ok(d.db_path)
    print(f"\nbackup: {int(out)} backups beside {len(acked)} writes, all 201; "
          f"/healthz worst {worst * 1e3:.1f} ms")


def root_only():
    return pytest.mark.skipif(os.geteuid() != 0,
                              reason="needs root to mount a small tmpfs / a read-only bind mount")


def mount(*args):
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True, timeout=30)


def daemon_on(make_daemon, state_dir_name):
    """A daemon whose database lives in a subdirectory (mounted over by the test)."""
    d = make_daemon()
    state = os.path.join(d.dir, state_dir_name)
    os.mkdir(state)
    return d, state


def point_db(d, state):
    with open(d.conf_path, encoding="utf-8") as f:
        text = f.read()
    new_db = os.path.join(state, "slad.db")
    text = text.replace(f'database = "{d.db_path}"', f'database = "{new_db}"')
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(text)
    d.db_path = new_db


@root_only()
@pytest.mark.sqlite_only("the SQLite file's disk full (a small tmpfs)")
def test_disk_full(make_daemon):
    d, state = daemon_on(make_daemon, "state")
    mount("-t", "tmpfs", "-o", "size=3m", "tmpfs", state)
    try:
        point_db(d, state)
        d.start()
        acked = {d.create(title=f"before full {i}")["id"]: f"before full {i}" for i in range(5)}
        probe = Probe(d)
        # Fill the file system to the last block.
        filler = os.path.join(state, "filler")
        fill_file_system(filler)
        statuses = {}
        t_end = time.monotonic() + 1.5
        messages = set()
        while time.monotonic() < t_end:
            title = f"while full {len(statuses)}"
            r = try_create(d, title)
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.status == 201:
                acked[r.json["id"]] = title  # fit in a free page: must be kept
            else:
                messages.add(r.error_message())
            time.sleep(0.02)
        assert statuses.get(503, 0) > 0, statuses
        # Space returns: writes commit again without a restart.
        os.unlink(filler)
        wait_for(lambda: try_create(d, "after full").status == 201, 10, "a write to succeed")
        for i in range(5):
            acked[d.create(title=f"after full {i}")["id"]] = f"after full {i}"
        worst = probe.finish()
        assert_kept(d, acked)
        d.restart()
        assert_kept(d, acked)
        d.stop()
        assert integrity_ok(d.db_path)
        print(f"\ndisk full: {statuses}, messages {sorted(messages)}, "
              f"/healthz worst {worst * 1e3:.1f} ms, {len(acked)} tickets kept")
    finally:
        if d.proc is not None and d.proc.poll() is None:
            d.stop()
        umount(state)


@root_only()
@pytest.mark.sqlite_only("the SQLite file read-only")
def test_read_only_database(make_daemon):
    d, state = daemon_on(make_daemon, "state")
    point_db(d, state)
    d.start()
    acked = {d.create(title=f"before ro {i}")["id"]: f"before ro {i}" for i in range(3)}
    d.stop()
    ro = os.path.join(d.dir, "ro")
    os.mkdir(ro)
    mount("--bind", state, ro)
    try:
        mount("-o", "remount,ro,bind", ro)
        point_db(d, ro)
        d.spawn()
        # Either it refuses to start with a clear reason, or it serves reads and refuses
        # writes with 503; never a crash, never a changed database.
        def up_or_exited():
            if d.proc.poll() is not None:
                return True
            try:
                return d.client.get("/healthz").status in (200, 503)
            except OSError:
                return False
        wait_for(up_or_exited, 20, "slad to serve or to exit")
        if d.proc.poll() is not None:
            d.log_file.close()
            assert d.proc.returncode == 1, d.log_tail()
            assert "cannot open the database" in d.log(since_start=True), d.log_tail()
            outcome = "refused to start: " + d.log(since_start=True).strip().splitlines()[-1]
        else:
            r = d.client.post("/v1/tickets", {"title": "on ro", "severity": 2})
            assert r.status == 503, r
            assert r.error_code() == "database_unavailable"
            outcome = f"served reads, write refused: {r.error_message()}"
            d.stop()
        d.check_sanitizers()
        point_db(d, state)
        d.start()  # the writable database again: everything there, writes work
        assert_kept(d, acked)
        d.create(title="after ro")
        d.stop()
        assert integrity_ok(d.db_path)
        print(f"\nread-only: {outcome}")
    finally:
        if d.proc is not None and d.proc.poll() is None:
            d.stop()
        umount(ro)


# --- receivers that hang, reset or answer slowly --------------------------------------

RECEIVERS_CONF = """
daemon = {
  socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
  synchronous = "full"; log_level = "info"; language = "en";
};
contacts = ( { name = "sup"; phone = "+8613800000001"; via = ["log"]; } );
teams = (
  { name = "hang"; channel = "hang"; roles = { supervisor = ["sup"]; }; },
  { name = "reset"; channel = "reset"; roles = { supervisor = ["sup"]; }; },
  { name = "slow"; channel = "slow"; roles = { supervisor = ["sup"]; }; }
);
channels = (
  { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; },
  { name = "hang"; type = "webhook"; url = "http://127.0.0.1:@HANG@/"; timeout = "1s"; },
  { name = "reset"; type = "webhook"; url = "http://127.0.0.1:@RESET@/"; timeout = "1s"; },
  { name = "slow"; type = "webhook"; url = "http://127.0.0.1:@SLOW@/"; timeout = "5s"; }
);
policies = (
  { name = "fast"; match = { }; calendar = "24x7";
    clocks = ( { name = "response"; target = "1s"; stop = ["resolve"];
                 escalate = ( { at = "50%"; notify = ["supervisor"]; },
                              { at = "100%"; notify = ["supervisor"]; } ); } ); }
);
"""


class RawReceiver:
    """A TCP listener that reads each request and then hangs, resets, or answers 200 late."""

    def __init__(self, mode):
        import socket as socketlib
        self.mode = mode
        self.sock = socketlib.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.count = 0
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        import socket as socketlib
        import struct
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.count += 1
            c.settimeout(2)
            try:
                c.recv(65536)
            except OSError:
                pass
            if self.mode == "hang":
                self.conns.append(c)  # never answered, never closed
            elif self.mode == "reset":
                c.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()
            else:
                threading.Thread(target=self.late, args=(c,), daemon=True).start()

    def late(self, c):
        time.sleep(1.5)
        try:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except OSError:
            pass
        c.close()

    def close(self):
        self.stop.set()
        for c in self.conns:
            c.close()
        self.sock.close()


def test_hanging_resetting_slow_receivers(make_daemon):
    rx = {m: RawReceiver(m) for m in ("hang", "reset", "slow")}
    try:
        d = make_daemon()
        text = RECEIVERS_CONF.replace("@DIR@", d.dir)
        for m, r in rx.items():
            text = text.replace(f"@{m.upper()}@", str(r.port))
        with open(d.conf_path, "w", encoding="utf-8") as f:
            f.write(text)
        d.start()
        probe = Probe(d)
        created = 0
        t_end = time.monotonic() + 4.0
        while time.monotonic() < t_end:
            for team in rx:
                d.create(title=f"to {team}", severity=1, team=team)  # 201 throughout
                created += 1
            time.sleep(0.1)
        worst = probe.finish(bounded=not d.database)
        assert all(r.count > 0 for r in rx.values()), {m: r.count for m, r in rx.items()}
        states = [(r["channel"], r["state"], r["n"]) for r in d.sql(
            "SELECT channel, state, count(*) AS n FROM outbox"
            " WHERE channel != 'log' GROUP BY channel, state")]
        sent = {c: n for c, s, n in states if s == "sent"}
        assert sent.get("slow", 0) > 0 and "hang" not in sent and "reset" not in sent, states
        d.stop()  # in-flight transfers abandoned, rows stay `sending` for the next start
        if not d.database:
            assert integrity_ok(d.db_path)
        print(f"\nreceivers: {created} tickets, requests {({m: r.count for m, r in rx.items()})}, "
              f"outbox {states}, /healthz worst {worst * 1e3:.1f} ms")
    finally:
        for r in rx.values():
            r.close()


@pytest.mark.sqlite_only("the SQLite file's write-ahead log (PostgreSQL keeps its own WAL)")
def test_wal_stays_bounded(daemon):
    """Tickets posted one at a time, steadily: the checkpoint thread restarts the WAL, so
    slad.db-wal stays under 32 MB (it reached 51-93 MB after 4,000 tickets when only
    PASSIVE checkpoints ran, and kept growing); every ticket answered, /healthz still
    answering within its goal while the loop waits for the restarts."""
    wal = daemon.db_path + "-wal"
    probe = Probe(daemon)
    conn = UnixHTTPConnection(daemon.client.unix_path)
    largest = 0
    try:
        for i in range(4000):
            conn.request("POST", "/v1/tickets",
                         body=f'{{"title":"steady {i}","severity":3}}'.encode(),
                         headers={"Content-Type": "application/json",
                                  "Prefer": "return=minimal"})
            r = conn.getresponse()
            r.read()
            assert r.status == 201, (i, r.status)
            if i % 50 == 0:
                largest = max(largest, os.stat(wal).st_size)
    finally:
        conn.close()
    largest = max(largest, os.stat(wal).st_size)
    probe.finish()
    assert largest < 32 << 20, f"the WAL reached {largest} bytes"
    assert integrity_ok(daemon.db_path)
