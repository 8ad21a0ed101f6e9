"""The daemon as a process (SPEC 5): command line, start and stop, reload, restart with
overdue steps, crash safety of group commit, systemd notify/watchdog and socket
activation, the TCP listener's token, resource limits, and bad input."""

import datetime
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import (Client, Daemon, STOP_TIMEOUT_S, free_tcp_port, slad_bin, wait_for,
                      write_private)


def step_entries(ticket):
    return [h for h in ticket["history"] if h["kind"] == "step"]


# --- command line ---------------------------------------------------------------------

def test_version():
    r = subprocess.run([slad_bin(), "--version"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    assert r.stdout.startswith("slad ")


def test_check_config(make_daemon):
    d = make_daemon()
    r = subprocess.run([slad_bin(), "--check-config", d.conf_path], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert "fast" in r.stdout
    d.write_config("invalid.conf")
    r = subprocess.run([slad_bin(), "--check-config", d.conf_path], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1
    assert f"{d.conf_path}:5:" in r.stderr  # file:line of the bad log_level


def test_invalid_config_at_start(make_daemon):
    """Every error is printed with file:line, nothing starts, exit status 1."""
    d = make_daemon("invalid.conf")
    d.spawn()
    assert d.wait_exit() == 1
    log = d.log()
    assert f"{d.conf_path}:5:" in log and f"{d.conf_path}:12:" in log, log
    assert "nothing was started" in log
    assert not os.path.exists(d.socket_path)
    d.check_sanitizers()


def test_start_ready_log_and_stop(make_daemon):
    d = make_daemon()
    d.start()
    log = d.log()
    assert "<5>slad: ready in" in log, log
    assert oct(os.stat(d.socket_path).st_mode & 0o777) == "0o600"
    d.stop()
    assert d.stop_seconds < STOP_TIMEOUT_S
    assert "slad: stopped" in d.log()
    assert not os.path.exists(d.socket_path), "the socket file is removed at exit"
    print(f"start to healthy: {d.start_seconds * 1000:.0f} ms, "
          f"stop: {d.stop_seconds * 1000:.0f} ms")


def test_stale_socket_replaced_live_one_kept(make_daemon):
    d = make_daemon()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(d.socket_path)
    stale.close()  # the file stays, nobody answers on it
    d.start()
    assert "removed the stale socket" in d.log()

    # A second daemon on the same socket (another database) must not steal it.
    other_dir = os.path.join(d.dir, "other")
    os.mkdir(other_dir)
    second = Daemon(other_dir)
    second.socket_path = d.socket_path
    second.write_config()
    with open(second.conf_path, encoding="utf-8") as f:
        text = f.read().replace(f'"{other_dir}/slad.sock"', f'"{d.socket_path}"')
    with open(second.conf_path, "w", encoding="utf-8") as f:
        f.write(text)
    second.spawn()
    assert second.wait_exit() == 1
    assert "another process answers" in second.log()
    second.check_sanitizers()
    assert d.client.get("/healthz").status == 200


def test_not_a_socket_is_not_removed(make_daemon):
    d = make_daemon()
    with open(d.socket_path, "w") as f:
        f.write("precious")
    d.spawn()
    assert d.wait_exit() == 1
    assert "is not a socket" in d.log()
    with open(d.socket_path) as f:
        assert f.read() == "precious"


# --- reload -----------------------------------------------------------------------------

def set_fast_target(d, target):
    """Rewrite the running config with response target changed (a valid reload)."""
    d.write_config()
    with open(d.conf_path, encoding="utf-8") as f:
        text = f.read()
    text = text.replace('{ name = "response"; target = "3s";',
                        f'{{ name = "response"; target = "{target}";', 1)
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(text)


def test_reload_post_valid_and_invalid(daemon, client):
    t = daemon.create(severity=1)
    set_fast_target(daemon, "5s")
    r = client.post("/v1/reload")
    assert r.status == 200, r
    daemon.wait_log("reload: ok (2 policies)")
    # Open tickets take the new target; new ones too.
    tk = daemon.ticket(t["id"])
    assert [c for c in tk["clocks"] if c["name"] == "response"][0]["target_s"] == 5
    assert [c for c in daemon.create(severity=1)["clocks"]
            if c["name"] == "response"][0]["target_s"] == 5

    daemon.write_config("invalid.conf")
    r = client.post("/v1/reload")
    assert 400 <= r.status < 500, r
    msg = r.error_message()
    assert f"{daemon.conf_path}:5:" in msg, msg
    daemon.wait_log(f"reload: '{daemon.conf_path}' is invalid, keeping the running config")
    daemon.wait_log(f"reload: {daemon.conf_path}:12:")
    # Still running on the previous config.
    assert [c for c in daemon.create(severity=1)["clocks"]
            if c["name"] == "response"][0]["target_s"] == 5
    assert client.get("/healthz").status == 200


def test_reload_sighup_valid_and_invalid(daemon, client):
    set_fast_target(daemon, "7s")
    mark = daemon.log_size()
    daemon.send_signal(signal.SIGHUP)
    daemon.wait_log("reload: ok (2 policies)", since=mark)
    t = daemon.create(severity=1)
    assert [c for c in t["clocks"] if c["name"] == "response"][0]["target_s"] == 7

    daemon.write_config("invalid.conf")
    mark = daemon.log_size()
    daemon.send_signal(signal.SIGHUP)
    daemon.wait_log("is invalid, keeping the running config: 6 error(s)", since=mark)
    daemon.wait_log(f"<3>reload: {daemon.conf_path}:11:", since=mark)
    t = daemon.create(severity=1)
    assert [c for c in t["clocks"] if c["name"] == "response"][0]["target_s"] == 7


# --- restart and crash safety -------------------------------------------------------------

def test_restart_fires_overdue_steps_once_marked_late(make_daemon):
    d = make_daemon()
    d.start()
    t = d.create(severity=1, team="north")
    d.stop()
    # Both steps (1.5 s and 3 s after creation) fall due while the daemon is down, the
    # second more than the second after which the service calls a step late.
    created = datetime.datetime.fromisoformat(t["created_at"].replace("Z", "+00:00"))
    wait_for(lambda: time.time() > created.timestamp() + 3.0 + 1.5, 10,
             "the steps to fall due")
    d.start()

    def fired():
        s = step_entries(d.ticket(t["id"]))
        return s if len(s) >= 2 else None

    steps = wait_for(fired, 10, "the overdue steps after restart")
    assert len(steps) == 2, steps
    for h in steps:
        assert h["late"] is True, h
    notes = d.ticket(t["id"])["notifications"]
    assert notes, "the late steps queued notifications"
    keys = [n["idempotency_key"] for n in notes]
    assert len(keys) == len(set(keys))

    d.restart()
    # Nothing fires again: give the timer a chance, then compare.
    assert d.client.get("/healthz").status == 200
    again = step_entries(d.ticket(t["id"]))
    assert len(again) == 2, again
    notes2 = d.ticket(t["id"])["notifications"]
    assert sorted(n["id"] for n in notes2) == sorted(n["id"] for n in notes)


def test_overdue_burst_fires_in_batches_while_serving(make_daemon):
    """2100 tickets whose steps all fell due while the daemon was down: at start they fire
    in batches (one transaction each) of at most 1000 entries and about 10 ms of work, and
    /healthz is answered between batches."""
    d = make_daemon()
    # Long enough that the ASan build on a loaded machine creates every ticket before the
    # first step (50 %) falls due.
    target_s = 20.0
    set_fast_target(d, f"{target_s:.0f}s")
    d.start()
    n_tickets = 2100
    created = []
    lock = threading.Lock()

    def worker(k):
        c = Client(unix_path=d.socket_path)
        for i in range(k, n_tickets, 8):
            r = c.post("/v1/tickets", {"title": "burst", "severity": 1, "team": "north",
                                       "source": "burst", "external_id": str(i)})
            assert r.status == 201, r
            with lock:
                created.append(r.json["id"])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert len(created) == n_tickets
    first_due = t0 + target_s / 2  # the 50% step of the first ticket
    assert time.monotonic() < first_due, "creating the tickets took too long for this test"
    d.stop()
    # "late" means recorded more than a second after the instant: leave a margin.
    last_due = time.monotonic() + target_s + 1.5
    wait_for(lambda: time.monotonic() > last_due, target_s + 10, "every step to fall due")

    mark = d.log_size()
    answered = []
    done = threading.Event()

    def poll_health():
        c = Client(unix_path=d.socket_path)
        while not done.is_set():
            try:
                if c.get("/healthz").status == 200:
                    answered.append(time.monotonic())
            except OSError:
                time.sleep(0.005)

    poller = threading.Thread(target=poll_health)
    poller.start()
    try:
        d.start()

        def batches():
            """Log lines since the restart, the indexes of the batch lines, their sizes."""
            with open(d.log_path, "rb") as f:
                f.seek(mark)
                lines = f.read().decode().splitlines()
            idx = [i for i, line in enumerate(lines) if "handled late" in line]
            # "<5>timers: 1000 due entries handled late, ..."
            return lines, idx, [int(lines[i].split()[1]) for i in idx]

        wait_for(lambda: sum(batches()[2]) >= n_tickets, 120,
                 "every overdue ticket to be handled")
    finally:
        done.set()
        poller.join(30)
    lines, idx, sizes = batches()
    assert len(sizes) >= 3 and max(sizes) <= 1000, sizes
    between = [line for line in lines[idx[0]:idx[-1]] if "GET '/healthz' 200" in line]
    assert between, "no /healthz answered while the burst was being handled"
    for tid in (created[0], created[-1]):
        steps = step_entries(d.ticket(tid))
        assert len(steps) == 2 and all(h["late"] for h in steps), steps
    print(f"burst of {n_tickets} overdue tickets handled in batches {sizes}; "
          f"{len(between)} /healthz answered in between")


def test_kill9_during_burst_loses_no_acknowledged_ticket(make_daemon):
    """Several threads post tickets; kill -9 in the middle; every ticket that got a 2xx
    exists after restart (2xx = durable)."""
    d = make_daemon()
    d.start()
    acked = {}
    lock = threading.Lock()
    stop = threading.Event()
    errors = []

    def worker(n):
        c = Client(unix_path=d.socket_path)
        i = 0
        while not stop.is_set():
            ext = f"w{n}-{i}"
            i += 1
            try:
                r = c.post("/v1/tickets", {"title": "burst", "severity": 3, "source": "load",
                                           "external_id": ext})
            except OSError:
                continue  # the daemon died mid-request: no answer, no promise
            if r.status in (200, 201):
                with lock:
                    acked[ext] = r.json["id"]
            elif r.status != 503:
                errors.append(r)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    wait_for(lambda: len(acked) >= 200, 30, "200 acknowledged tickets")
    d.kill9()
    stop.set()
    for th in threads:
        th.join(30)
    assert not errors, errors[:3]
    n_acked = len(acked)
    d.start()
    for ext, tid in acked.items():
        r = d.client.get(f"/v1/tickets/{tid}")
        assert r.status == 200, (ext, tid, r)
        assert r.json["external_id"] == ext
        again = d.client.post("/v1/tickets", {"title": "burst", "severity": 3,
                                              "source": "load", "external_id": ext})
        assert again.status == 200 and again.json["id"] == tid
    print(f"{n_acked} acknowledged tickets survived kill -9")


def test_concurrent_posts_group_commit(daemon):
    ids = []
    lock = threading.Lock()

    def worker(n):
        c = Client(unix_path=daemon.socket_path)
        for i in range(25):
            r = c.post("/v1/tickets", {"title": "c", "severity": 3, "source": "gc",
                                       "external_id": f"{n}-{i}"})
            assert r.status == 201, r
            with lock:
                ids.append(r.json["id"])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    elapsed = time.monotonic() - t0
    assert len(ids) == 200 and len(set(ids)) == 200
    print(f"200 POSTs from 8 threads in {elapsed * 1000:.0f} ms")


# --- graceful stop ------------------------------------------------------------------------

def test_sigterm_answers_request_in_flight(make_daemon):
    d = make_daemon()
    d.start()
    body = b'{"title":"in flight","severity":3,"source":"t","external_id":"flight"}'
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(d.socket_path)
    s.sendall(b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body[:10]))
    # A barrier: once another request is answered, the loop has read the first one's
    # header (it was sent earlier on a ready socket).
    assert d.client.get("/healthz").status == 200
    t0 = time.monotonic()
    d.send_signal(signal.SIGTERM)
    d.wait_log("SIGTERM: stopping (1 request(s) in flight)")
    # No new connections once stopping.
    with pytest.raises(OSError):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(2)
        try:
            c.connect(d.socket_path)
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            if not c.recv(100):
                raise ConnectionResetError("closed")
        finally:
            c.close()
    s.sendall(body[10:])
    data = b""
    while b"\r\n\r\n" not in data:
        more = s.recv(4096)
        if not more:
            break
        data += more
    s.close()
    assert data.startswith(b"HTTP/1.1 201"), data[:200]
    rc = d.wait_exit()
    elapsed = time.monotonic() - t0
    assert rc == 0, d.log_tail()
    assert elapsed < STOP_TIMEOUT_S
    d.check_sanitizers()
    # The answered ticket is durable.
    d.start()
    r = d.client.post("/v1/tickets", {"title": "in flight", "severity": 3, "source": "t",
                                      "external_id": "flight"})
    assert r.status == 200, r


def test_sigint_stops_too(make_daemon):
    d = make_daemon()
    d.start()
    d.stop(sig=signal.SIGINT)


# --- systemd ------------------------------------------------------------------------------

class NotifySocket:
    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.messages = []

    def poll(self):
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except (socket.timeout, BlockingIOError):
                return self.messages

    def wait(self, pred, timeout, what):
        def check():
            self.poll()
            return [m for m in self.messages if pred(m)]
        return wait_for(check, timeout, what)

    def close(self):
        self.sock.close()


def test_sd_notify_ready_status_watchdog_reload_stopping(make_daemon):
    d = make_daemon()
    ns = NotifySocket(d.dir)
    t0 = time.monotonic()
    d.spawn(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "400000"})
    ready = ns.wait(lambda m: "READY=1" in m.split("\n"), 20, "READY=1")
    ready_ms = (time.monotonic() - t0) * 1000
    assert any(line.startswith("STATUS=") and "open tickets" in line
               for line in ready[0].split("\n")), ready
    # READY only after the socket listens: /healthz answers at once.
    assert d.client.get("/healthz").status == 200
    # WATCHDOG=1 every 200 ms (half of WATCHDOG_USEC).
    ns.wait(lambda m: m == "WATCHDOG=1", 5, "WATCHDOG=1")
    n0 = ns.poll().count("WATCHDOG=1")
    wait_for(lambda: ns.poll().count("WATCHDOG=1") >= n0 + 3, 5, "three more WATCHDOG=1")
    d.send_signal(signal.SIGHUP)
    ns.wait(lambda m: "RELOADING=1" in m and "MONOTONIC_USEC=" in m, 5, "RELOADING=1")
    ns.wait(lambda m: "READY=1" in m, 5, "READY=1 after reload")
    assert len([m for m in ns.messages if "READY=1" in m.split("\n")]) >= 2
    d.stop()
    ns.wait(lambda m: "STOPPING=1" in m, 1, "STOPPING=1")
    ns.close()
    print(f"spawn to READY=1: {ready_ms:.0f} ms")


def test_socket_activation(make_daemon):
    d = make_daemon()
    token_path = os.path.join(d.dir, "token")
    write_private(token_path, "s3cret\n")
    d.write_config(daemon_extra=f'tcp = "127.0.0.1:1"; token_file = "{token_path}";')
    # systemd owns the sockets: a Unix one at another path than the config's, and TCP.
    act_path = os.path.join(d.dir, "activated.sock")
    us = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    us.bind(act_path)
    us.listen(16)
    ts = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ts.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ts.bind(("127.0.0.1", 0))
    ts.listen(16)
    port = ts.getsockname()[1]
    d.spawn(activate_fds=[us.fileno(), ts.fileno()])
    us.close()
    ts.close()
    c = Client(unix_path=act_path)

    def up():
        if d.proc.poll() is not None:
            pytest.fail(f"slad exited: {d.log()}")
        try:
            return c.get("/healthz").status == 200
        except OSError:
            return False

    wait_for(up, 20, "/healthz on the activated socket")
    assert not os.path.exists(d.socket_path), "the configured path is not created"
    assert Client(tcp=("127.0.0.1", port)).get("/healthz").status == 401
    assert Client(tcp=("127.0.0.1", port), token="s3cret").get("/healthz").status == 200
    assert "socket from systemd" in d.log()
    d.stop()
    assert os.path.exists(act_path), "an activated socket is systemd's: not removed"


# --- TCP and token --------------------------------------------------------------------

def test_tcp_bearer_token(make_daemon):
    d = make_daemon()
    token_path = os.path.join(d.dir, "token")
    write_private(token_path, "correct horse\n")
    port = free_tcp_port()
    d.write_config(daemon_extra=f'tcp = "127.0.0.1:{port}"; token_file = "{token_path}";')
    d.start()
    addr = ("127.0.0.1", port)
    for token in (None, "wrong", "correct horse ", "correct", "", "correct horse2"):
        c = Client(tcp=addr, token=token)
        for method, path, body in (("GET", "/healthz", None),
                                   ("POST", "/v1/tickets", {"title": "x", "severity": 1})):
            r = c.request(method, path, body=body)
            assert r.status == 401, (token, path, r)
            assert r.json == {"error": {"code": "unauthorized",
                                        "message": r.error_message()}}
    r = Client(tcp=addr).request("GET", "/healthz",
                                 headers={"Authorization": "Basic Y29ycmVjdA=="})
    assert r.status == 401
    good = Client(tcp=addr, token="correct horse")
    assert good.get("/healthz").status == 200
    r = good.post("/v1/tickets", {"title": "over tcp", "severity": 1})
    assert r.status == 201, r
    assert d.client.get(f"/v1/tickets/{r.json['id']}").status == 200
    # Nothing was stored by the refused requests.
    assert len(d.client.get("/v1/tickets").json["tickets"]) == 1
    # The token follows token_file on reload.
    write_private(token_path, "battery staple\n")
    assert d.client.post("/v1/reload").status == 200
    assert Client(tcp=addr, token="correct horse").get("/healthz").status == 401
    assert Client(tcp=addr, token="battery staple").get("/healthz").status == 200
    assert "correct horse" not in d.log() and "battery staple" not in d.log()


# --- limits and bad input ---------------------------------------------------------------

def recv_all(s, limit=65536):
    data = b""
    while len(data) < limit:
        try:
            more = s.recv(4096)
        except ConnectionResetError:
            break
        if not more:
            break
        data += more
    return data


def test_header_too_large(daemon, client):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(daemon.socket_path)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    data = recv_all(s)
    s.close()
    assert data == b"" or data.split(b" ")[1] in (b"413", b"414", b"431"), data[:200]
    assert client.get("/healthz").status == 200


def test_idle_connection_closed(daemon):
    """idle_timeout is 3 s in fast.conf."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(daemon.socket_path)
    t0 = time.monotonic()
    assert s.recv(100) == b""
    elapsed = time.monotonic() - t0
    s.close()
    assert 2.0 <= elapsed < 8.0, elapsed


def test_connection_limit(make_daemon):
    """Over max_connections, connections wait in the listen backlog (libmicrohttpd stops
    accepting) and are served once a slot frees."""
    d = make_daemon()
    with open(d.conf_path, encoding="utf-8") as f:
        text = f.read().replace("max_connections = 64;", "max_connections = 4;")
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(text)
    d.start()
    held = []
    for _ in range(4):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(d.socket_path)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        held.append(s)
    extra = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    extra.settimeout(1.0)
    extra.connect(d.socket_path)
    extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    with pytest.raises(socket.timeout):
        extra.recv(4096)
    for s in held:
        s.close()
    extra.settimeout(10)
    assert recv_all(extra).startswith(b"HTTP/1.1 200")
    extra.close()


def test_garbage_never_stops_the_daemon(daemon, client):
    junk = [b"\x00\xff\x13\x37" * 100, b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
            b"POST /v1/tickets HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            b"POST /v1/tickets HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"GET /v1/tickets/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /v1/tickets?limit=%ZZ HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"]
    for data in junk:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(daemon.socket_path)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        recv_all(s)
        s.close()
    assert client.get("/healthz").status == 200
    assert client.get("/v1/tickets").json["tickets"] == []


def test_keep_alive_and_pipelining(daemon):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(daemon.socket_path)
    body = b'{"title":"p","severity":3}'
    req = (b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
           % (len(body), body))
    s.sendall(req * 3 + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = recv_all(s)
    s.close()
    assert data.count(b"HTTP/1.1 201") == 3, data
    assert data.count(b"HTTP/1.1 200") == 1, data
