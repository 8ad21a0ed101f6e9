"""Bad input over the socket, black box: the real daemon (fast.conf: max_body 8192,
max_header 8192, max_connections 64, idle_timeout 3 s) gets garbage bytes, broken HTTP,
huge headers, deep JSON, invalid UTF-8, absurd numbers and dates, half-sent requests and a
flood of idle connections beyond its connection limit. Throughout it must keep serving
(/healthz within a bound), answer 4xx with a JSON error where it answers at all (never 5xx),
keep every ticket created before and among the garbage, and stop cleanly (exit 0, no
sanitizer report; the fixture checks) with those tickets still there after a restart.
"""

import json
import os
import random
import socket
import time

import pytest

from conftest import parse_answer, parse_status, raw_exchange, wait_for
from contract import CONTRACT

# /healthz on a quiet daemon; generous for the ASan build on a loaded machine.
HEALTH_BOUND_S = 1.0
IDLE_TIMEOUT_S = 3.0  # fast.conf
MAX_CONNECTIONS = 64  # fast.conf
# A connection's memory pool is max_header (8192) plus 8192 bytes of slack (daemon/http.c):
# a header block up to about that size is accepted, past it refused.
POOL_BYTES = 8192 + 8192


class Checker:
    """Sends garbage and judges each answer; keeps the tickets that must survive."""

    def __init__(self, daemon):
        self.d = daemon
        self.kept = {}  # id -> title
        self.counts = {"sent": 0, "answered_4xx": 0, "closed_silently": 0, "accepted_2xx": 0}
        self.health_max_s = 0.0

    def health(self, bound=HEALTH_BOUND_S):
        t0 = time.monotonic()
        r = self.d.client.get("/healthz")
        dt = time.monotonic() - t0
        assert r.status == 200, r
        assert dt < bound, f"/healthz took {dt:.3f} s"
        self.health_max_s = max(self.health_max_s, dt)

    def good_ticket(self, tag):
        title = f"kept {tag} {len(self.kept)}"
        t = self.d.create(title=title)
        self.kept[t["id"]] = title

    def judge(self, what, buf, allow_2xx=False):
        """A 4xx with a JSON error naming a code and a message, or a close; never 5xx."""
        self.counts["sent"] += 1
        status, body = parse_status(buf)
        if status is None:
            self.counts["closed_silently"] += 1
            return None
        # 505 is the standard answer to an unknown HTTP version (libmicrohttpd's).
        assert status < 500 or status == 505, f"{what}: {status} {body[:300]!r}"
        if 200 <= status < 300:
            assert allow_2xx, f"{what}: accepted with {status}: {body[:300]!r}"
            self.counts["accepted_2xx"] += 1
            return status
        assert 400 <= status < 500 or status == 505, f"{what}: {status}"
        self.counts["answered_4xx"] += 1
        if body and b"{" in body[:1]:
            err = json.loads(body)["error"]
            assert err["code"] and err["message"], f"{what}: {body!r}"
        return status

    def send(self, what, data, **kw):
        allow_2xx = kw.pop("allow_2xx", False)
        status = self.judge(what, raw_exchange(self.d.socket_path, data, **kw), allow_2xx)
        return status

    def post_json(self, what, body_bytes, path="/v1/tickets", allow_2xx=False):
        req = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body_bytes)}\r\nConnection: close\r\n\r\n").encode()
        buf = raw_exchange(self.d.socket_path, req + body_bytes)
        status = self.judge(what, buf, allow_2xx)
        if status is not None:
            got, headers, body = parse_answer(buf)
            CONTRACT.check("POST", path, body_bytes, got, headers, body)
        if status in (200, 201) and path == "/v1/tickets":
            t = json.loads(parse_status(buf)[1])
            self.kept[t["id"]] = t["title"]
        return status

    def check_kept(self):
        for tid, title in self.kept.items():
            t = self.d.ticket(tid)
            assert t["title"] == title, (tid, t["title"], title)


@pytest.fixture
def checker(daemon):
    c = Checker(daemon)
    for i in range(5):
        c.good_ticket("before")
    yield c
    print(f"\ngarbage: {c.counts}, {len(c.kept)} tickets kept, "
          f"/healthz worst {c.health_max_s * 1e3:.1f} ms", end="")


def test_garbage_bytes(checker):
    rng = random.Random(7)
    # Bytes that never complete a request get no answer: each waits out the 1 s read.
    for i in range(24):
        data = bytes(rng.getrandbits(8) for _ in range(rng.choice((1, 17, 300, 4000))))
        checker.send(f"random bytes #{i}", data, timeout=1.0)
        if i % 6 == 0:
            checker.good_ticket("among random bytes")
            checker.health()
    for data in (b"\x00" * 1000, b"\r\n" * 2000, b"\xff\xfe" * 500, b"GET" + b" " * 5000):
        checker.send(f"filler {data[:4]!r}", data, timeout=1.0)
    checker.health()
    checker.check_kept()


BROKEN_HTTP = [
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /healthz\r\n\r\n",
    b"GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    b"BREW /v1/tickets HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
    b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
    b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n{}",
    b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\n{}",
    b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"ffffffffffffffff\r\n{}\r\n0\r\n\r\n",
    b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n folded continuation\r\n\r\n",
    b"GET /v1/tickets/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/tickets/%zz%ff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/tickets/99999999999999999999999999 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/tickets/-1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/tickets?limit=-1&after=abc&status=\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/tickets?limit=99999999999999999999 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET http://evil/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /v1/tickets/1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{\"ty",
]


def test_broken_http(checker):
    for i, data in enumerate(BROKEN_HTTP):
        # libmicrohttpd is lenient with some header faults: a harmless GET may be served.
        checker.send(f"broken HTTP #{i}: {data[:60]!r}", data, timeout=2.0,
                     allow_2xx=data.startswith(b"GET /healthz"))
        checker.health()
    # A pipelined good request after a bad one on the same connection: no confusion.
    buf = raw_exchange(checker.d.socket_path,
                       b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 50, timeout=2.0)
    assert parse_status(buf)[0] == 200
    checker.good_ticket("after broken HTTP")
    checker.check_kept()


def test_huge_headers(checker):
    for size in (8000, 9000, 20000, 100000, 1000000):
        big = b"X-Big: " + b"a" * size + b"\r\n"
        checker.send(f"one {size}-byte header", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + big +
                     b"\r\n", timeout=3.0, allow_2xx=size < POOL_BYTES)
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(size // 10))
        checker.send(f"{size // 10} headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many +
                     b"\r\n", timeout=3.0, allow_2xx=size < POOL_BYTES)
        longpath = b"GET /" + b"p" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        checker.send(f"{size}-byte path", longpath, timeout=3.0)
        checker.health()
    checker.good_ticket("after huge headers")
    checker.check_kept()


def test_bad_bodies(checker):
    bodies = [
        ("deep array", b"[" * 4000 + b"]" * 4000),
        ("deep object", b'{"a":' * 1500 + b"1" + b"}" * 1500),
        ("deep in a field", b'{"title":"x","severity":2,"labels":' + b"[" * 3000 +
         b"]" * 3000 + b"}"),
        ("unclosed", b'{"title":"x","severity":2'),
        ("bare value", b"42"),
        ("empty", b""),
        ("NaN", b'{"title":"x","severity":NaN}'),
        ("invalid UTF-8 title", b'{"title":"\xff\xfe bad","severity":2}'),
        ("overlong UTF-8", b'{"title":"\xc0\xaf","severity":2}'),
        ("lone surrogate escape", b'{"title":"\\ud800","severity":2}'),
        ("NUL escape", b'{"title":"a\\u0000b","severity":2}'),
        ("invalid UTF-8 key", b'{"\xff":1,"title":"x","severity":2}'),
        ("duplicate keys", b'{"title":"x","title":"y","severity":2}'),
        ("huge severity", b'{"title":"x","severity":99999999999999999999999999}'),
        ("float severity", b'{"title":"x","severity":1.5}'),
        ("exp severity", b'{"title":"x","severity":1e308}'),
        ("negative severity", b'{"title":"x","severity":-9223372036854775808}'),
        ("string severity", b'{"title":"x","severity":"1"}'),
        ("title number", b'{"title":1e999,"severity":2}'),
        ("unknown field", b'{"title":"x","severity":2,"zzz":1}'),
        ("date year 0", b'{"title":"x","severity":2,"reported_at":"0000-01-01T00:00:00Z"}'),
        ("date month 13", b'{"title":"x","severity":2,"reported_at":"2026-13-01T00:00:00Z"}'),
        ("date 30 Feb", b'{"title":"x","severity":2,"reported_at":"2026-02-30T00:00:00Z"}'),
        ("date hour 25", b'{"title":"x","severity":2,"reported_at":"2026-01-01T25:00:00Z"}'),
        ("date offset +99", b'{"title":"x","severity":2,"reported_at":"2026-01-01T00:00:00+99:00"}'),
        ("date huge year", b'{"title":"x","severity":2,"reported_at":"99999999-01-01T00:00:00Z"}'),
        ("date negative", b'{"title":"x","severity":2,"reported_at":"-2026-01-01T00:00:00Z"}'),
        ("date words", b'{"title":"x","severity":2,"reported_at":"yesterday"}'),
        ("date number", b'{"title":"x","severity":2,"reported_at":1e300}'),
        ("date many digits", b'{"title":"x","severity":2,"reported_at":"2026-01-01T00:00:00.'
         + b"9" * 500 + b'Z"}'),
        ("appointment year 9999", b'{"title":"x","severity":2,'
         b'"appointment_at":"9999-12-31T23:59:59Z"}'),
        ("appointment 1970", b'{"title":"x","severity":2,"appointment_at":"1970-01-01T00:00:00Z"}'),
        ("labels of numbers", b'{"title":"x","severity":2,"labels":[1e999,-0,true,null]}'),
    ]
    accepted = []
    for i, (what, body) in enumerate(bodies):
        status = checker.post_json(what, body, allow_2xx=what.startswith("appointment"))
        if status and status < 300:
            accepted.append(what)
        if i % 5 == 0:
            checker.good_ticket(f"among bodies {i}")
            checker.health()
    tid = next(iter(checker.kept))
    events = [
        b'{"type":"nope"}', b'{"type":"comment","at":"9999-99-99T99:99:99Z"}',
        b'{"type":"comment","at":"2999-01-01T00:00:00Z"}', b'{"type":"comment","by":"\xff"}',
        b'{"type":"comment","note":' + b"[" * 3000 + b"]" * 3000 + b"}", b'{"type":7}',
        b'{"type":"acknowledge","at":-1e300}',
    ]
    for body in events:
        checker.post_json(f"event {body[:40]!r}", body, path=f"/v1/tickets/{tid}/events")
        checker.post_json(f"patch {body[:40]!r}", body, path=f"/v1/tickets/{tid}")
    checker.post_json("simulate deep", b"[" * 4000 + b"]" * 4000, path="/v1/simulate")
    # The body limit: a body of max_body + 1 bytes.
    checker.post_json("over max_body", b'{"title":"' + b"x" * 9000 + b'","severity":2}')
    checker.health()
    checker.check_kept()
    assert len(accepted) <= 2, accepted


def test_half_sent_requests_and_idle_flood(checker):
    path = checker.d.socket_path
    half = []
    for data in (b"GET /healthz HTT", b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\n",
                 b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ti",
                 b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(data)
        half.append(s)
    # Half-sent requests do not stop others from being served.
    checker.health()
    checker.good_ticket("beside half-sent requests")

    # Flood: three times max_connections idle connections. The kernel queues the ones
    # beyond the limit (listen backlog SOMAXCONN) in order; the daemon closes each idle
    # one after idle_timeout and accepts the next max_connections: a client behind the
    # flood is served after ceil(flood / max_connections) idle timeouts, not never.
    flood = []
    for _ in range(MAX_CONNECTIONS * 3):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(path)
        except (BlockingIOError, ConnectionRefusedError, OSError):
            s.close()  # backlog full: refused, as a full listen queue does
            continue
        flood.append(s)
    assert len(flood) > MAX_CONNECTIONS, len(flood)
    t0 = time.monotonic()
    r = checker.d.client.get("/healthz")
    flooded_s = time.monotonic() - t0
    assert r.status == 200, r
    rounds = -(-len(flood) // MAX_CONNECTIONS)
    assert flooded_s < rounds * IDLE_TIMEOUT_S + 3.0, (flooded_s, len(flood))

    # The half-sent requests were closed by the idle timeout (or answered 4xx).
    for s in half:
        s.settimeout(IDLE_TIMEOUT_S + 3.0)
        try:
            data = s.recv(4096)
            assert data == b"" or parse_status(data)[0] in (400, 408, 413), data[:200]
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
    for s in flood:
        s.close()
    # Once the flood is gone, the daemon answers at once again.
    wait_for(lambda: checker.d.client.get("/healthz").status == 200, 10, "/healthz")
    checker.health()
    checker.good_ticket("after the flood")
    checker.check_kept()
    print(f"\nflood: {len(flood)} idle connections (limit {MAX_CONNECTIONS}), /healthz "
          f"answered after {flooded_s:.2f} s", end="")


def test_everything_kept_after_restart(checker):
    """All classes in one daemon, then a clean stop and a restart: nothing lost."""
    for i, data in enumerate(BROKEN_HTTP[:10]):
        checker.send(f"broken #{i}", data, timeout=2.0, allow_2xx=data.startswith(b"GET /h"))
        checker.good_ticket("interleaved")
    checker.post_json("deep", b"[" * 4000 + b"]" * 4000)
    checker.post_json("bad utf-8", b'{"title":"\xff","severity":2}')
    n = len(checker.kept)
    checker.d.restart()
    checker.check_kept()
    listed = checker.d.client.get("/v1/tickets?limit=1000").json["tickets"]
    assert {t["id"] for t in listed} >= set(checker.kept), n
    if not checker.d.database:  # SQLite: the file holds them
        assert os.path.getsize(checker.d.db_path) > 0
