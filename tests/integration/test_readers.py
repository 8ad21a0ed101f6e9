"""Long reads off the event loop (daemon/reader.c, issue 16 goal 3): SLA reports, as JSON and
as CSV, are computed on reader threads with a read-only connection each, and the loop goes on
answering meanwhile.

- The same answers as on the loop: one database, read by a daemon with readers and by one
  with SLAD_READS_ON_LOOP=1 (the old behaviour), every `by`, JSON and CSV, byte for byte.
- /healthz, a listing and a write answer while a report is held on its reader; held by the
  failpoint build's hold point (SLAD_FAILPOINT_HOLD=reader-run:PATH keeps a reader waiting
  while PATH exists), so no test guesses how long a report takes.
- Durability: the commit thread held before its fdatasync, a report that read the commit
  made meanwhile is not answered before that commit is durable.
- Queue full: two readers held and six reads waiting, the next ones get 503 too_busy with
  Retry-After at once; the others are all answered once the readers go on.
- Stop: SIGTERM while reads run waits for their answers; at the stop deadline, reads that
  are still held are answered 503 (or their connection closed) and slad exits cleanly.

The failpoint tests skip on a build without -Dfailpoints=true (the ASan build has them)."""

import os
import signal
import sqlite3
import subprocess
import threading
import urllib.parse

import pytest

from conftest import Daemon, slad_bin, wait_for

READERS = 2       # daemon/loop.c LOOP_READERS
READS_QUEUED = 8  # daemon/loop.c LOOP_READS_QUEUED

BYS = ("policy", "team", "region", "assignee", "month")


def built_with_failpoints():
    out = subprocess.run([slad_bin(), "--version"], capture_output=True, text=True,
                         timeout=10).stdout
    return out.strip().endswith(" failpoints")


needs_failpoints = pytest.mark.skipif(not built_with_failpoints(),
                                      reason="slad built without -Dfailpoints=true")


def fill(d, n=40):
    """n tickets over a few teams, regions and assignees, some acknowledged."""
    for i in range(n):
        t = d.create(severity=1 + i % 3, team=("north", "south")[i % 2],
                     region=("city", "county", "remote")[i % 3], assignee=f"a{i % 5}")
        if i % 4 == 0:
            assert d.event(t["id"], "acknowledge").status == 200


def report_path(**params):
    params.setdefault("from", "2000-01-01T00:00:00Z")
    return "/v1/reports/sla?" + urllib.parse.urlencode(params)


def all_answers(d):
    """Every report form of the database, as (status, content type, body) by query."""
    out = {}
    for by in BYS:
        for fmt in ("json", "csv"):
            r = d.client.get(report_path(by=by, format=fmt))
            assert r.status == 200, r
            out[(by, fmt)] = (r.status, r.headers.get("Content-Type"), r.body)
    return out


def test_same_answers_as_on_the_loop(make_daemon):
    d = make_daemon()
    d.start()
    fill(d)
    # `to` fixed: both daemons count what is open at the same instant.
    off_loop = all_answers(d)
    assert "reports run on the event loop" not in d.log()
    d.stop()
    d.start(env={"SLAD_READS_ON_LOOP": "1"})
    assert "SLAD_READS_ON_LOOP is set" in d.log(since_start=True)
    on_loop = all_answers(d)
    assert on_loop == off_loop


def threads_of(d):
    return len(os.listdir(f"/proc/{d.proc.pid}/task"))


def test_reader_threads_start_with_the_reads_that_need_them(make_daemon):
    """A daemon that runs no report has no reader thread (nothing for its stop to join: a
    reader runs at nice 19 and waited for a core on a busy machine); the first report
    starts one, and reports one at a time keep that one. The daemon on the loop alone
    counts the other threads."""
    on_loop = make_daemon().start(env={"SLAD_READS_ON_LOOP": "1"})
    d = make_daemon().start()
    others = threads_of(on_loop)
    assert threads_of(d) == others
    fill(d, 3)
    for by in BYS:
        assert d.client.get(report_path(by=by)).status == 200
        assert threads_of(d) == others + 1
    on_loop.stop()
    d.stop()


class Held:
    """A hold point (the readers' by default): the threads reaching it wait while the file
    exists; armed at once unless told otherwise."""

    def __init__(self, directory, point="reader-run", armed=True):
        self.point = point
        self.path = os.path.join(directory, "hold-" + point)
        if armed:
            self.arm()

    def arm(self):
        open(self.path, "w").close()

    @property
    def env(self):
        return {"SLAD_FAILPOINT_HOLD": self.point + ":" + self.path}

    def held(self):
        try:
            with open(self.path + ".held") as f:
                return f.read().count("\n")
        except FileNotFoundError:
            return 0

    def release(self):
        if os.path.exists(self.path):
            os.unlink(self.path)


class Background:
    """A request on a thread of its own: its answer, or the error that ended it."""

    def __init__(self, d, path):
        self.result = None
        self.thread = threading.Thread(target=self.run, args=(d, path), daemon=True)
        self.thread.start()

    def run(self, d, path):
        try:
            self.result = d.client.get(path)
        except OSError as e:
            self.result = e

    def done(self):
        return not self.thread.is_alive()

    def wait(self, timeout=15):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "no answer"
        return self.result


def held_daemon(make_daemon, tickets=5):
    """A daemon whose readers hold every read they take, with a few tickets."""
    d = make_daemon()
    hold = Held(d.dir)
    d.start(env=hold.env)
    fill(d, tickets)
    return d, hold


def hold_both_readers(d, hold, by):
    reads = [Background(d, report_path(by=by)) for _ in range(READERS)]
    wait_for(lambda: hold.held() == READERS, 10, "both readers to take a report")
    return reads


@needs_failpoints
def test_healthz_and_writes_answer_while_a_report_is_held(make_daemon):
    d = make_daemon()
    d.start()
    fill(d, 10)
    expected = d.client.get(report_path(by="team", to="2100-01-01T00:00:00Z"))
    assert expected.status == 200
    d.stop()
    hold = Held(d.dir)
    d.start(env=hold.env)
    slow = Background(d, report_path(by="team", to="2100-01-01T00:00:00Z"))
    wait_for(lambda: hold.held() == 1, 10, "a reader to take the report")
    # The loop is free: the health check, a listing, a change and a report's bad query.
    for _ in range(5):
        assert d.client.get("/healthz").status == 200
    assert d.client.get("/v1/tickets?limit=5").status == 200
    assert d.client.post("/v1/tickets", {"title": "meanwhile", "severity": 3,
                                         "team": "north"}).status == 201
    assert d.client.get("/v1/reports/sla?by=colour").status == 400
    assert not slow.done()
    hold.release()
    got = slow.wait()
    assert got.status == 200, got
    # The snapshot is taken when the reader starts: after the ticket made meanwhile.
    def totals(r):
        return {(row["group"], row["clock"]): row["total"] for row in r.json["rows"]}
    now, before = totals(got), totals(expected)
    assert sum(now.values()) > sum(before.values())
    assert {k: v for k, v in now.items() if k[0] != "north"} == \
        {k: v for k, v in before.items() if k[0] != "north"}


@needs_failpoints
def test_a_report_waits_until_what_it_read_is_durable(make_daemon):
    """The commit thread held before its fdatasync: a ticket's commit is in the WAL, not on
    disk. A report read meanwhile sees it (its snapshot starts after the COMMIT), so its
    answer must not leave before that commit is durable, like the ticket's own 201."""
    d = make_daemon()
    sync = Held(d.dir, point="sync-on-thread", armed=False)
    d.start(env=sync.env)
    fill(d, 5)
    path = report_path(by="team", to="2100-01-01T00:00:00Z")
    before = sum(r["total"] for r in d.client.get(path).json["rows"])
    sync.arm()
    create = threading.Thread(target=lambda: d.client.post(
        "/v1/tickets", {"title": "not yet durable", "severity": 3, "team": "north"}),
        daemon=True)
    create.start()
    def in_the_wal():
        db = sqlite3.connect(f"file:{d.db_path}?mode=ro", uri=True)
        try:
            return db.execute("SELECT count(*) FROM tickets WHERE title = 'not yet durable'"
                              ).fetchone()[0] == 1
        finally:
            db.close()
    # Committed (visible to another connection) while the commit thread holds its sync.
    wait_for(in_the_wal, 10, "the ticket's commit in the WAL")
    assert sync.held() >= 1
    slow = Background(d, path)
    try:
        slow.thread.join(1.0)  # the reader needs milliseconds; the answer must still wait
        assert not slow.done(), "a report showing an undurable commit was answered"
        assert create.is_alive()
    finally:
        sync.release()  # else slad cannot stop
    got = slow.wait()
    assert got.status == 200, got
    assert sum(r["total"] for r in got.json["rows"]) > before  # it did read that commit
    create.join(15)


@needs_failpoints
def test_a_full_queue_answers_503_with_retry_after(make_daemon):
    d, hold = held_daemon(make_daemon)
    extra = 2
    reads = [Background(d, report_path(by=BYS[i % len(BYS)], format=("json", "csv")[i % 2]))
             for i in range(READS_QUEUED + extra)]
    # Held readers answer nothing: the answers that come are the refusals, at once.
    wait_for(lambda: sum(r.done() for r in reads) == extra, 10, "the refusals")
    refused = [r.result for r in reads if r.done()]
    for r in refused:
        assert r.status == 503, r
        assert r.error_code() == "too_busy"
        assert r.headers.get("Retry-After") == "1"
    assert hold.held() == READERS
    assert d.client.get("/healthz").status == 200
    hold.release()
    for r in reads:
        got = r.wait()
        if got not in refused:
            assert got.status == 200, got
    assert "every reader is busy and the queue is full" in d.log()


@needs_failpoints
def test_sigterm_waits_for_the_reads_in_flight(make_daemon):
    d, hold = held_daemon(make_daemon)
    reads = hold_both_readers(d, hold, "policy")
    d.send_signal(signal.SIGTERM)
    d.wait_log("stopping (")
    assert d.proc.poll() is None  # held: slad waits for their answers
    hold.release()
    for r in reads:
        got = r.wait()
        assert got.status == 200, got
    assert d.wait_exit() == 0
    d.check_sanitizers()


@needs_failpoints
def test_stop_deadline_with_reads_held_and_queued(make_daemon):
    d, hold = held_daemon(make_daemon)
    reads = hold_both_readers(d, hold, "region")
    queued = Background(d, report_path(by="team"))  # waits, if it is in before the signal
    d.send_signal(signal.SIGTERM)
    d.wait_log("stopping anyway", timeout=10)
    # The readers are joined after the deadline: let them go on, cut short by the stop.
    hold.release()
    assert d.wait_exit(10) == 0
    d.check_sanitizers()
    for r in reads + [queued]:
        got = r.wait()
        if not isinstance(got, OSError) and got.status != 200:
            assert got.status == 503, got
            assert got.error_code() == "shutting_down"
