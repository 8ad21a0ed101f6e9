"""Crashes: kill -9 at random instants and at the failpoints (daemon/failpoint.h) under mixed load.

Each round starts the real daemon on the same state directory, runs intake (creates with a
unique external_id), events (comments with a unique note, acknowledgements, resolutions),
escalations (second-scale targets, a repeating step) and deliveries to a loopback webhook
receiver, then kills it: with SIGKILL at a random instant, or by the failpoint named in
SLAD_FAILPOINT=name:N (the process raises SIGKILL there). After each kill, with the daemon
dead, the database is checked (Daemon.sql, on either backend):

- PRAGMA integrity_check is "ok" (SQLite's file);
- every change answered 2xx is there (the ticket with its id, the event with its note);
- no escalation step is in the history twice for one (ticket, clock, step, repeat).

At the end the daemon runs once more until every notification is delivered, and then:
every step due on a ticket nobody touched fired exactly once, every sent row was received,
and no idempotency key reached the receiver after its 2xx was recorded (sent_ms).

Rounds: 20 per test in `make test`, 200 with SLAD_SOAK=1 (`make soak`), or SLAD_CRASH_ROUNDS;
SLAD_CRASH_SEED replays the random choices of a printed run. The failpoint test
skips only when `slad --version` does not end in " failpoints" (a build without
-Dfailpoints=true).
"""

import collections
import http.server
import json
import os
import random
import signal
import subprocess
import threading
import time
import uuid

import pytest

import history_db
from conftest import BACKEND, Client, slad_bin, wait_for

ROUNDS = 200 if os.environ.get("SLAD_SOAK") == "1" else 20
ROUNDS = int(os.environ.get("SLAD_CRASH_ROUNDS", ROUNDS))
FAILPOINTS = ("after-commit-before-reply", "mid-batch", "after-2xx-before-record",
              "sync-on-thread")
# How long a failpoint round waits for its point before killing the daemon itself.
FAILPOINT_WAIT_S = 4.0

CONF = """
daemon = {
  socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
  synchronous = "full"; log_level = "info"; language = "en";
  # PostgreSQL: the killed instance's lease holds this long (the least allowed), and the
  # restarted one is a standby until then, firing and delivering nothing.
  failover_timeout = "2s";
};
contacts = (
  { name = "sup"; phone = "+8613800000001"; via = ["log"]; },
  { name = "mgr"; phone = "+8613800000002"; via = ["log"]; }
);
teams = ( { name = "north"; channel = "hook"; roles = { supervisor = ["sup"]; manager = ["mgr"]; }; } );
channels = (
  { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; },
  { name = "hook"; type = "webhook"; url = "http://127.0.0.1:@PORT@/hook"; timeout = "2s";
    max_attempts = 1000; }
);
policies = (
  { name = "fast"; match = { severity = [1]; }; calendar = "24x7";
    clocks = (
      { name = "response"; target = "1s"; stop = ["acknowledge", "resolve"];
        escalate = ( { at = "50%"; notify = ["supervisor"]; },
                     { at = "100%"; notify = ["manager"]; repeat = "3s"; } ); },
      { name = "resolution"; target = "2s"; stop = ["resolve"];
        escalate = ( { at = "100%"; notify = ["manager"]; } ); }
    ); },
  { name = "slow"; match = { }; calendar = "24x7";
    clocks = ( { name = "response"; target = "1h"; stop = ["acknowledge", "resolve"];
                 escalate = ( { at = "100%"; notify = ["supervisor"]; } ); } ); }
);
"""


def built_with_failpoints():
    out = subprocess.run([slad_bin(), "--version"], capture_output=True, text=True,
                         timeout=10).stdout
    return out.strip().endswith(" failpoints")


class Receiver:
    """Loopback webhook receiver: answers 200 and notes each key with the instant it came."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received = []  # (idempotency key, time.time() when its connection came)
        self.accepted = {}  # fd -> time.time() of the accept
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                with outer.lock:
                    arrived = outer.accepted[self.connection.fileno()]
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.received.append((self.headers.get("webhook-id"), arrived))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            def get_request(self):
                # Stamp the connection when accepted, in the server's thread: a handler
                # thread may start late, after the daemon recorded a later attempt.
                sock, addr = super().get_request()
                with outer.lock:
                    outer.accepted[sock.fileno()] = time.time()
                return sock, addr

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A daemon killed mid-request resets its connections: expected, not worth a trace.
        self.server.handle_error = lambda request, address: None
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self):
        with self.lock:
            return list(self.received)


class Ledger:
    """What the daemon acknowledged (2xx) and what the load touched."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tickets = {}  # external_id -> id, for every 201/200 create
        self.severity = {}  # id -> severity
        self.events = []  # (ticket id, type, note) answered 200
        self.touched = set()  # ids an event was sent to, whatever the answer
        self.attempts = 0
        self.acked = 0
        self.round = 0
        self.born = {}  # id -> round it was created in

    def ids(self):
        with self.lock:
            return list(self.severity)


def load(client, ledger, rng, stop):
    """One load thread until stop is set (the daemon may die under it at any instant)."""
    while not stop.wait(rng.uniform(0.005, 0.03)):  # about 50 requests/s per thread
        ids = ledger.ids()
        try:
            if not ids or rng.random() < 0.5:
                ext = uuid.uuid4().hex
                sev = 1 if rng.random() < 0.25 else 3
                with ledger.lock:
                    ledger.attempts += 1
                r = client.post("/v1/tickets", {"title": "crash test", "severity": sev,
                                                "team": "north", "source": "crash",
                                                "external_id": ext})
                if r.status in (200, 201):
                    with ledger.lock:
                        ledger.acked += 1
                        ledger.tickets[ext] = r.json["id"]
                        ledger.severity[r.json["id"]] = sev
                        ledger.born[r.json["id"]] = ledger.round
            else:
                tid = rng.choice(ids)
                typ = rng.choice(("comment", "acknowledge", "resolve", "resolve"))
                note = uuid.uuid4().hex
                with ledger.lock:
                    ledger.attempts += 1
                    ledger.touched.add(tid)
                r = client.post(f"/v1/tickets/{tid}/events",
                                {"type": typ, "by": "crash", "note": note})
                if r.status == 200:
                    with ledger.lock:
                        ledger.acked += 1
                        ledger.events.append((tid, typ, note))
        except (OSError, ValueError, AttributeError):
            # The daemon died mid-request (reset, refused, a half answer): not acknowledged.
            time.sleep(0.005)


def step_key(entry):
    """(ticket, clock, step, repeat) of a step's history entry: one firing."""
    data = json.loads(entry["data"])
    return entry["ticket_id"], data.get("clock"), data.get("step"), data.get("repeat")


def integrity_ok(d):
    """SQLite's PRAGMA integrity_check of the file (PostgreSQL's server checks its own)."""
    return bool(d.database) or d.sql("PRAGMA integrity_check") == [{"integrity_check": "ok"}]


def history(d):
    return history_db.entries_of_rows(d.sql(
        "SELECT id, ticket_id, at_ms, created_ms, kind, data, late, more_entries"
        " FROM history ORDER BY id"))


def check_database(d, ledger, round_no):
    """The daemon is dead: integrity, acknowledged changes, steps at most once."""
    assert integrity_ok(d), f"round {round_no}: integrity_check failed"
    rows = {r["external_id"]: r["id"] for r in d.sql(
        "SELECT external_id, id FROM tickets WHERE source = 'crash'")}
    with ledger.lock:
        tickets = dict(ledger.tickets)
        events = list(ledger.events)
    lost = {e: i for e, i in tickets.items() if rows.get(e) != i}
    assert not lost, f"round {round_no}: acknowledged tickets lost or renumbered: {lost}"
    entries = history(d)
    notes = {(e["ticket_id"], json.loads(e["data"]).get("event"),
              json.loads(e["data"]).get("note"))
             for e in entries if e["kind"] == "event"}
    missing = [e for e in events if e not in notes]
    assert not missing, f"round {round_no}: acknowledged events lost: {missing[:5]}"
    fired = collections.Counter(step_key(e) for e in entries if e["kind"] == "step")
    twice = [k for k, n in fired.items() if n > 1]
    assert not twice, f"round {round_no}: steps fired more than once: {twice[:5]}"
    return len(rows)


# Fast tickets nobody touched repeat a step every 3 s for ever: after this many rounds
# they are resolved (an acknowledged event like the others), so that a 200-round soak does
# not drown its receiver. The ones of the last rounds are checked at the end.
RETIRE_AFTER_ROUNDS = 5


def retire(d, ledger, round_no):
    with ledger.lock:
        old = [t for t, sev in ledger.severity.items() if sev == 1 and t not in ledger.touched
               and ledger.born[t] <= round_no - RETIRE_AFTER_ROUNDS]
    for tid in old:
        note = uuid.uuid4().hex
        with ledger.lock:
            ledger.touched.add(tid)  # before sending: it may commit and then die
        try:
            r = d.event(tid, "resolve", by="crash", note=note)
        except (OSError, ValueError, AttributeError):
            return  # died at a failpoint: the next round retires the rest
        with ledger.lock:
            if r.status == 200:
                ledger.events.append((tid, "resolve", note))


def run_round(d, ledger, rng, round_no, failpoint=None):
    """Start, load, die (by the failpoint or a random SIGKILL); returns how it died."""
    env = {"SLAD_FAILPOINT": failpoint} if failpoint else {}
    d.spawn(env=env)

    def up_or_dead():
        if d.proc.poll() is not None:
            return True  # a failpoint of the start-up (steps that fell due while down)
        try:
            return d.client.get("/healthz").status == 200
        except OSError:
            return False
    wait_for(up_or_dead, 20, "/healthz to answer or the failpoint to kill slad")
    ledger.round = round_no
    retire(d, ledger, round_no)
    stop = threading.Event()
    threads = [threading.Thread(target=load, args=(d.client, ledger, random.Random(rng.random()),
                                                   stop)) for _ in range(3)]
    for t in threads:
        t.start()
    how = "random"
    try:
        if failpoint:
            try:
                d.proc.wait(FAILPOINT_WAIT_S)
                how = "failpoint"
            except subprocess.TimeoutExpired:
                how = "not reached"
        else:
            time.sleep(rng.uniform(0.05, 1.2))
    finally:
        if d.proc.poll() is None:
            d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        d.log_file.close()
        stop.set()
        for t in threads:
            t.join(30)
    assert d.proc.returncode == -signal.SIGKILL, \
        f"round {round_no}: slad exited with {d.proc.returncode}:\n{d.log_tail()}"
    if how == "failpoint":
        assert "failpoint reached" in d.log(since_start=True), d.log_tail()
    d.check_sanitizers()
    check_database(d, ledger, round_no)
    return how


def final_checks(d, ledger, receiver):
    """One clean run: everything delivered, steps exactly once, no key after its record."""
    d.start()
    # On PostgreSQL the killed instance's lease holds until it expires (failover_timeout):
    # a step due meanwhile fires when this one takes over, and must before the resolves.
    wait_for(lambda: d.client.get("/healthz").json["role"] == "scheduler", 30,
             "the scheduler's lease")
    # Stop the repeating steps, then let every due step fire and every row be delivered.
    time.sleep(2.5)  # the longest clock (2 s) of the last tickets runs out
    for tid in ledger.ids():
        r = d.event(tid, "resolve", by="crash")
        assert r.status in (200, 409, 400), r

    def settled():
        return d.sql("SELECT count(*) AS n FROM outbox WHERE state IN ('pending', 'sending')"
                     ) == [{"n": 0}]
    wait_for(settled, 60 + len(ledger.tickets) / 50, "every notification delivered")
    d.stop()
    assert integrity_ok(d)
    steps = collections.Counter(step_key(e) for e in history(d) if e["kind"] == "step")
    assert all(n == 1 for n in steps.values()), [k for k, n in steps.items() if n > 1][:5]
    # A fast ticket nobody sent an event to: both response steps and the resolution
    # step came due before the final resolve, each exactly once, whatever the kills. On
    # PostgreSQL the repeating one may have fired first as a later repeat: a restarted
    # instance gains the lease only after failover_timeout (10 s, past the 3 s repeat), and
    # then fires what fell due once, as its latest repeat.
    with ledger.lock:
        untouched = [t for t, sev in ledger.severity.items()
                     if sev == 1 and t not in ledger.touched]
    for t in untouched:
        got = {(c, s) for (tt, c, s, rep) in steps if tt == t and (rep == 0 or d.database)}
        assert {("response", 1), ("response", 2), ("resolution", 1)} <= got, (t, got)
    sent = [(r["idempotency_key"], r["sent_ms"]) for r in d.sql(
        "SELECT idempotency_key, sent_ms FROM outbox WHERE channel = 'hook' AND state = 'sent'")]
    states = {r["state"]: r["n"] for r in d.sql(
        "SELECT state, count(*) AS n FROM outbox GROUP BY state")}
    received = receiver.snapshot()
    by_key = {}
    for key, at in received:
        by_key.setdefault(key, []).append(at)
    never = [k for k, _ in sent if k not in by_key]
    assert not never, f"rows marked sent the receiver never got: {never[:5]}"
    # sent_ms is the loop's clock when the 2xx was recorded; a request that arrived after
    # it is a key sent twice after its recorded 2xx (the slack covers clock rounding).
    after = [(k, ms, by_key[k]) for k, ms in sent if any(at * 1000 > ms + 5 for at in by_key[k])]
    assert not after, f"keys received again after their 2xx was recorded: {after[:5]}"
    dup = sum(len(v) - 1 for v in by_key.values())
    return {"steps": len(steps), "untouched": len(untouched), "sent": len(sent),
            "received": len(received), "repeats_before_record": dup, "outbox": states}


def crash_rounds(make_daemon, rounds, plan):
    receiver = Receiver()
    try:
        d = make_daemon()
        with open(d.conf_path, "w", encoding="utf-8") as f:
            f.write(CONF.replace("@DIR@", d.dir).replace("@PORT@", str(receiver.port)))
        ledger = Ledger()
        seed = int(os.environ.get("SLAD_CRASH_SEED", time.time_ns() % 1000000007))
        rng = random.Random(seed)
        outcomes = {}
        t0 = time.monotonic()
        for i in range(rounds):
            fp = plan(i, rng)
            how = run_round(d, ledger, rng, i, fp)
            key = f"{fp.split(':')[0] if fp else 'random'}: {how}"
            outcomes[key] = outcomes.get(key, 0) + 1
        summary = final_checks(d, ledger, receiver)
        summary.update(rounds=rounds, seed=seed, seconds=round(time.monotonic() - t0, 1),
                       tickets=len(ledger.tickets), events=len(ledger.events),
                       requests=ledger.attempts, acknowledged=ledger.acked, outcomes=outcomes)
        print(f"\ncrash rounds: {json.dumps(summary, sort_keys=True)}")
        return summary, outcomes
    finally:
        receiver.close()


def test_kill9_at_random_instants(make_daemon):
    summary, outcomes = crash_rounds(make_daemon, ROUNDS, lambda i, rng: None)
    assert outcomes == {"random: random": ROUNDS}
    assert summary["tickets"] > 0 and summary["sent"] > 0


@pytest.mark.skipif(not built_with_failpoints(),
                    reason="slad was built without -Dfailpoints=true (slad --version has no "
                           "' failpoints' suffix)")
def test_kill9_at_failpoints(make_daemon):
    # Each point in turn, at a random hit: early hits come in the first iterations of a
    # start, later ones under the load.
    hits = {"after-commit-before-reply": 40, "mid-batch": 80, "after-2xx-before-record": 6,
            "sync-on-thread": 40}
    # PostgreSQL commits on the loop: SQLite's commit thread is not there.
    points = [p for p in FAILPOINTS if BACKEND != "postgres" or p != "sync-on-thread"]

    def plan(i, rng):
        name = points[i % len(points)]
        return f"{name}:{rng.randint(1, hits[name])}"
    summary, outcomes = crash_rounds(make_daemon, ROUNDS, plan)
    reached = {k: n for k, n in outcomes.items() if k.endswith(": failpoint")}
    # Every point must actually be reached in most of its rounds, or the test proves little.
    for name in points:
        assert reached.get(f"{name}: failpoint", 0) * 2 >= ROUNDS // len(points), outcomes


@pytest.mark.skipif(not built_with_failpoints(),
                    reason="slad was built without -Dfailpoints=true (slad --version has no "
                           "' failpoints' suffix)")
@pytest.mark.sqlite_only("SQLite's commit thread (PostgreSQL commits on the loop)")
def test_kill9_during_the_commit_threads_sync(make_daemon):
    """The COMMIT is written to the WAL on the loop, the fdatasync runs on the commit
    thread: killed there (SLAD_FAILPOINT=sync-on-thread), the request that waits for it
    gets no answer, the database is intact, and the retry finds exactly one ticket."""
    d = make_daemon()
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(CONF.replace("@DIR@", d.dir).replace("@PORT@", "9"))
    # The start-up may commit (the scheduler lease): the point's first hits may come before
    # any request. Take the first hit that comes after slad is up and idle.
    for nth in range(1, 6):
        d.spawn(env={"SLAD_FAILPOINT": f"sync-on-thread:{nth}"})

        def up_or_dead():
            if d.proc.poll() is not None:
                return True
            try:
                return d.client.get("/healthz").status == 200
            except OSError:
                return False
        wait_for(up_or_dead, 20, "/healthz to answer or the failpoint to kill slad")
        if d.proc.poll() is None:
            break
        d.log_file.close()
    assert d.proc.poll() is None, "slad synced 5 commits before any request:\n" + d.log_tail()
    body = {"title": "sync", "severity": 3, "source": "crash", "external_id": "on-thread"}
    answer = None
    try:
        answer = d.client.post("/v1/tickets", body)
    except (OSError, ValueError, AttributeError):
        pass  # reset by the kill: no answer, as it must be
    d.proc.wait(20)
    d.log_file.close()
    assert d.proc.returncode == -signal.SIGKILL, d.log_tail()
    assert "failpoint reached" in d.log(since_start=True), d.log_tail()
    assert answer is None, f"answered {answer.status} before the commit thread synced"
    d.check_sanitizers()
    assert integrity_ok(d)
    d.start()
    again = d.client.post("/v1/tickets", body)
    assert again.status in (200, 201), again
    r = d.client.get("/v1/tickets?source=crash&external_id=on-thread")
    assert [t["id"] for t in r.json["tickets"]] == [again.json["id"]], r.json
    d.stop()
