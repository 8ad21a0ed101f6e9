"""Hostile clients on the real daemon: descriptors run out, slow request heads, too many
connections from one address, bad tokens, smuggled lengths; TLS and private files.

Each test reproduces a defect found in review (doc/RELIABILITY.md, "Hardening") and fails
on a daemon without its fix.
"""

import json
import os
import resource
import select
import socket
import ssl
import stat
import subprocess
import time

import pytest

from conftest import (Client, complete_answer, free_tcp_port, parse_answer, render_config, wait_for,
                      write_private)
from contract import CONTRACT

TOKEN = "limits-token-0123456789abcdef"


def tcp_daemon(make_daemon, extra="", max_connections=None, token_mode=0o600):
    """A daemon with a TCP listener on loopback and a token file."""
    port = free_tcp_port()
    d = make_daemon()
    token_path = os.path.join(d.dir, "token")
    write_private(token_path, TOKEN + "\n")
    os.chmod(token_path, token_mode)
    d.write_config(daemon_extra=f'tcp = "127.0.0.1:{port}"; token_file = "{token_path}"; {extra}')
    if max_connections is not None:
        with open(d.conf_path, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("max_connections = 64;", f"max_connections = {max_connections};")
        with open(d.conf_path, "w", encoding="utf-8") as f:
            f.write(text)
    d.port = port
    return d


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log_lines(d):
    return d.log().count("\n")


def timed_healthz(d):
    t0 = time.monotonic()
    assert d.client.get("/healthz").status == 200
    return time.monotonic() - t0


def connect_many(port, n):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    return socks


def test_out_of_descriptors(make_daemon):
    """ulimit -n 128 and 200 idle TCP clients: no log flood, no spinning, and the Unix
    socket still answers; TCP serves again once they leave."""
    d = tcp_daemon(make_daemon, max_connections=1024)

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    d.start(preexec_fn=low_limit)
    assert "does not cover max_connections 1024" in d.log(), d.log_tail()
    socks = connect_many(d.port, 200)
    time.sleep(0.2)  # let the kernel finish the handshakes (nothing to poll for)
    lines0, cpu0, t0 = log_lines(d), cpu_seconds(d.proc.pid), time.monotonic()
    worst = max(timed_healthz(d) for _ in range(20))
    while time.monotonic() - t0 < 2.0:
        worst = max(worst, timed_healthz(d))
        time.sleep(0.1)
    cpu = cpu_seconds(d.proc.pid) - cpu0
    elapsed = time.monotonic() - t0
    grown = log_lines(d) - lines0
    print(f"200 idle TCP clients at ulimit 128: {cpu:.2f} s CPU in {elapsed:.1f} s, "
          f"{grown} log lines, worst /healthz on the Unix socket {worst * 1000:.0f} ms")
    assert cpu < 0.5 * elapsed, "the daemon spins"
    assert grown < 100, d.log_tail()
    assert worst < 1.0
    for s in socks:
        s.close()
    tcp = Client(tcp=("127.0.0.1", d.port), token=TOKEN)
    wait_for(lambda: tcp.get("/healthz").status == 200, 10, "TCP to answer again")
    d.stop()


def test_slow_request_heads_are_cut(make_daemon):
    """Slowloris: clients that send a header line now and then are disconnected
    header_timeout after they connected, well before the idle timeout (3 s)."""
    d = tcp_daemon(make_daemon, extra='header_timeout = "1s";')
    d.start()
    socks = []
    for _ in range(30):
        s = socket.create_connection(("127.0.0.1", d.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    t0 = time.monotonic()
    open_ = set(socks)
    while open_ and time.monotonic() - t0 < 2.5:
        for s in list(open_):
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                open_.discard(s)
                continue
            r, _, _ = select.select([s], [], [], 0)
            if r and s.recv(4096) == b"":
                open_.discard(s)
        # A client that sends its request at once is served meanwhile.
        assert Client(tcp=("127.0.0.1", d.port), token=TOKEN).get("/healthz").status == 200
        time.sleep(0.3)
    cut_after = time.monotonic() - t0
    assert not open_, f"{len(open_)} slow connections still open after {cut_after:.1f} s"
    print(f"30 slow heads cut after {cut_after:.1f} s (header_timeout 1 s, idle_timeout 3 s)")
    for s in socks:
        s.close()
    assert "sent no complete request head within 1 s" in d.log()
    d.stop()


def test_connections_per_address(make_daemon):
    d = tcp_daemon(make_daemon, extra="max_connections_per_ip = 3;")
    d.start()
    held = [socket.create_connection(("127.0.0.1", d.port)) for _ in range(3)]
    time.sleep(0.1)
    s = socket.create_connection(("127.0.0.1", d.port))
    s.settimeout(5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    try:
        while chunk := s.recv(4096):
            answer += chunk
    except ConnectionResetError:
        pass
    s.close()
    assert answer.startswith(b"HTTP/1.1 503 "), answer
    assert b'"too_many_connections"' in answer
    status, headers, body = parse_answer(answer)
    CONTRACT.check("GET", "/healthz", None, status, headers, body)
    assert d.client.get("/healthz").status == 200  # the Unix socket has no such cap
    held.pop().close()
    tcp = Client(tcp=("127.0.0.1", d.port), token=TOKEN)
    wait_for(lambda: tcp.get("/healthz").status == 200, 5, "a free slot for the address")
    for h in held:
        h.close()
    assert "it already has 3 open (max_connections_per_ip)" in d.log()
    d.stop()


def test_refusals_on_plain_tcp(make_daemon):
    """libmicrohttpd's refusals on the TCP listener without TLS: slad's JSON error, written
    before authentication (test_http.py has every kind on the Unix socket)."""
    d = tcp_daemon(make_daemon)
    d.start()
    for request, status in ((b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 505),
                            (b"GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n", 400)):
        with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
            s.sendall(request)
            answer = b""
            while chunk := s.recv(4096):
                answer += chunk
        got, headers, body = parse_answer(answer)
        assert got == status and int(headers["content-length"]) == len(body), answer
        assert headers["connection"] == "close", answer
        CONTRACT.check_refusal(got, headers, body)
    assert Client(tcp=("127.0.0.1", d.port), token=TOKEN).get("/healthz").status == 200
    d.stop()


def test_failed_authentication_logged_once_a_second(make_daemon):
    d = tcp_daemon(make_daemon)
    d.start()
    c = Client(tcp=("127.0.0.1", d.port), token="guess-0123")
    t0 = time.monotonic()
    for _ in range(100):
        r = c.get("/v1/tickets")
        assert r.status == 401
        assert r.headers.get("Connection", "").lower() == "close"
    elapsed = time.monotonic() - t0
    log = d.log()
    lines = [line for line in log.splitlines() if "refused a TCP request from 127.0.0.1" in line]
    assert lines and lines[0].startswith("<5>http:"), lines
    assert len(lines) <= elapsed + 2, lines
    assert "guess-0123" not in log and TOKEN not in log
    d.stop()


def raw_exchange(path, request):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(request)
    data = b""
    try:
        while chunk := s.recv(4096):
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return data


def test_two_content_lengths_refused(daemon):
    body = b'{"title":"smuggled","severity":3}'
    for second in (len(body) + 1, len(body) - 5):
        answer = raw_exchange(daemon.socket_path, (
            b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (len(body), second)) + body)
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
        assert b"Content-Length" in answer
        status, headers, rest = parse_answer(answer)
        CONTRACT.check("POST", "/v1/tickets", body, status, headers,
                       rest[:int(headers["content-length"])])
    assert daemon.client.get("/v1/tickets").json["tickets"] == []


def test_control_characters_in_the_log(daemon):
    answer = raw_exchange(daemon.socket_path,
                          b"GET /v1/tickets/\x1b[2J\x07 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 "), answer
    with open(daemon.log_path, "rb") as f:
        raw = f.read()
    assert b"\x1b" not in raw and b"\x07" not in raw
    assert b"/v1/tickets/\\x1b[2J\\x07" in raw


def test_token_file_readable_by_others_refused(make_daemon):
    d = tcp_daemon(make_daemon, token_mode=0o644)
    d.spawn()
    assert d.proc.wait(10) == 1
    assert "may be read or written by any user (mode 0644)" in d.log()
    assert "chmod o-rwx" in d.log()


def test_open_tcp_without_tls_warns(make_daemon):
    d = tcp_daemon(make_daemon)
    d.write_config(daemon_extra=d.daemon_extra.replace("127.0.0.1:", "0.0.0.0:"))
    d.start()
    assert "reachable from other hosts without TLS" in d.log()
    d.stop()
    d2 = tcp_daemon(make_daemon)
    d2.start()
    assert "without TLS" not in d2.log()
    d2.stop()


def make_certificate(directory):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def test_tls_listener(make_daemon):
    d = tcp_daemon(make_daemon)
    cert, key = make_certificate(d.dir)
    d.write_config(daemon_extra=d.daemon_extra + f'tls_cert = "{cert}"; tls_key = "{key}";')
    d.start()
    ctx = ssl.create_default_context(cafile=cert)
    import http.client
    for token, status in ((TOKEN, 200), ("wrong", 401)):
        conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=ctx, timeout=10)
        conn.request("GET", "/healthz", headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        assert r.status == status
        r.read()
        conn.close()
    # libmicrohttpd's own refusals answer JSON under TLS too (queued in place of its HTML).
    for request, status in ((b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 505),
                            (b"GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n", 400)):
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", d.port), timeout=5),
                             server_hostname="localhost") as s:
            s.sendall(request)
            answer = b""
            while not complete_answer(answer):
                chunk = s.recv(4096)
                assert chunk, answer
                answer += chunk
        got, headers, body = parse_answer(answer)
        assert got == status and headers["content-type"] == "application/json", answer
        CONTRACT.check_refusal(got, headers, body[:int(headers["content-length"])])
        assert json.loads(body[:int(headers["content-length"])])["error"]["message"], answer
    # Plain HTTP on the TLS port gets no answer in clear.
    s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
              % TOKEN.encode())
    try:
        data = s.recv(4096)
    except (ConnectionResetError, socket.timeout):
        data = b""
    s.close()
    assert b"HTTP/1.1 200" not in data
    assert "without TLS" not in d.log()
    d.stop()


def test_tls_key_readable_by_others_refused(make_daemon):
    d = tcp_daemon(make_daemon)
    cert, key = make_certificate(d.dir)
    os.chmod(key, 0o644)
    d.write_config(daemon_extra=d.daemon_extra + f'tls_cert = "{cert}"; tls_key = "{key}";')
    d.spawn()
    assert d.proc.wait(10) == 1
    assert "tls_key" in d.log() and "chmod o-rwx" in d.log()


def test_tls_half_configured_refused(make_daemon, tmp_path):
    d = tcp_daemon(make_daemon, extra='tls_cert = "/nonexistent.pem";')
    p = subprocess.run([os.environ["SLAD_BIN"], "--check-config", d.conf_path],
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert "tls_cert and tls_key go together" in p.stdout + p.stderr


@pytest.mark.sqlite_only("the SQLite file's and its WAL's modes")
def test_database_private_whatever_the_umask(make_daemon):
    d = make_daemon()
    d.start(preexec_fn=lambda: os.umask(0))
    d.create()
    for suffix in ("", "-wal", "-shm"):
        mode = stat.S_IMODE(os.stat(d.db_path + suffix).st_mode)
        assert mode == 0o600, (suffix, oct(mode))
    d.stop()
