"""The console's sign-in (issue 13): sessions, their cookie, CSRF, access levels, the
limit on failed sign-ins, and the embedded pages, on the real daemon over TCP (with and
without the bearer token) and over the Unix socket.

Password hashes are made with libxcrypt itself (ctypes), as `slactl passwd` does.
"""

import ctypes
import json
import os
import subprocess

import pytest

from conftest import Client, free_tcp_port, slad_bin, write_private

TOKEN = "daemon-token-0123456789abcdef"
PASSWORDS = {"li.na": "viewer-pass", "wang.wei": "operator-pass", "boss": "admin-pass",
             "old.school": "sha512-pass"}

_crypt = ctypes.CDLL("libcrypt.so.1")
_crypt.crypt_gensalt.restype = ctypes.c_char_p
_crypt.crypt.restype = ctypes.c_char_p


def crypt_hash(password, prefix=b"$y$"):
    salt = _crypt.crypt_gensalt(prefix, 0, None, 0)
    return _crypt.crypt(password.encode(), salt).decode()


HASHES = {name: crypt_hash(pw, b"$6$" if name == "old.school" else b"$y$")
          for name, pw in PASSWORDS.items()}

SLAD_CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           tcp = "127.0.0.1:@PORT@"; token_file = "@DIR@/token"; log_level = "debug";
           language = "en"; max_body = 65536; @TLS@ };
contacts = (
  { name = "li.na"; via = ["log"]; password_hash = "@li.na@"; },
  { name = "wang.wei"; via = ["log"]; password_hash = "@wang.wei@"; access = "operator"; },
  { name = "boss"; via = ["log"]; password_hash = "@boss@"; access = "admin"; },
  { name = "old.school"; via = ["log"]; password_hash = "@old.school@"; access = "operator"; },
  { name = "nopass"; via = ["log"]; access = "admin"; }
);
teams = ( { name = "ops"; roles = { supervisor = ["wang.wei"]; }; } );
channels = ( { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; } );
policies = (
  { name = "default"; match = { }; calendar = "24x7";
    clocks = ( { name = "response"; target = "1h"; stop = ["acknowledge", "resolve"]; } ); }
);
"""


def write_conf(d, hashes=None, tls=""):
    text = SLAD_CONF.replace("@DIR@", d.dir).replace("@PORT@", str(d.port)).replace("@TLS@", tls)
    for name, h in (hashes or HASHES).items():
        text = text.replace(f"@{name}@", h)
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(text)


@pytest.fixture
def slad(make_daemon):
    d = make_daemon()
    d.port = free_tcp_port()
    write_private(os.path.join(d.dir, "token"), TOKEN + "\n")
    write_conf(d)
    d.start()
    d.tcp = Client(tcp=("127.0.0.1", d.port))
    d.bearer = Client(tcp=("127.0.0.1", d.port), token=TOKEN)
    return d


def sign_in(client, user, password=None):
    """(answer, cookie header value "slad_session=...", csrf)."""
    r = client.post("/v1/session", {"user": user, "password": password or PASSWORDS[user]})
    if r.status != 200:
        return r, None, None
    cookie = r.headers["Set-Cookie"].split(";")[0]
    return r, cookie, r.json["csrf"]


def as_session(cookie, csrf=None):
    h = {"Cookie": cookie}
    if csrf:
        h["X-CSRF-Token"] = csrf
    return h


def test_sign_in_sets_a_strict_cookie_and_answers_the_session(slad):
    r, cookie, csrf = sign_in(slad.tcp, "wang.wei")
    assert r.status == 200, r
    attrs = [a.strip() for a in r.headers["Set-Cookie"].split(";")]
    assert attrs[0].startswith("slad_session=") and len(attrs[0]) == len("slad_session=") + 43
    assert {"Path=/", "HttpOnly", "SameSite=Strict"} <= set(attrs)
    assert "Secure" not in attrs  # plain TCP; TLS adds it
    assert r.json["name"] == "wang.wei" and r.json["access"] == "operator"
    assert r.json["csrf"] == csrf and len(csrf) == 43
    g = slad.tcp.get("/v1/session", headers=as_session(cookie))
    assert g.status == 200 and g.json["csrf"] == csrf and g.json["name"] == "wang.wei"
    # The token itself is nowhere in the database: only its SHA-256.
    token = cookie.split("=", 1)[1]
    assert token not in json.dumps(slad.sql("SELECT * FROM console_sessions"))
    if not slad.database:  # SQLite: nor anywhere in the file
        with open(slad.db_path, "rb") as f:
            assert token.encode() not in f.read()
    assert "contact 'wang.wei' signed in from 127.0.0.1" in slad.log()


def test_cookie_is_secure_on_a_tls_listener(make_daemon):
    import http.client
    import ssl
    d = make_daemon()
    d.port = free_tcp_port()
    write_private(os.path.join(d.dir, "token"), TOKEN + "\n")
    cert, key = os.path.join(d.dir, "cert.pem"), os.path.join(d.dir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    os.chmod(key, 0o600)
    write_conf(d, tls=f'tls_cert = "{cert}"; tls_key = "{key}";')
    d.start()
    ctx = ssl.create_default_context(cafile=cert)
    conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=ctx, timeout=10)
    body = json.dumps({"user": "boss", "password": PASSWORDS["boss"]})
    conn.request("POST", "/v1/session", body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    assert r.status == 200
    attrs = [a.strip() for a in r.getheader("Set-Cookie").split(";")]
    assert "Secure" in attrs and "HttpOnly" in attrs and "SameSite=Strict" in attrs
    conn.close()
    # The Unix socket of the same daemon is no TLS listener: no Secure there.
    r, _, _ = sign_in(d.client, "boss")
    assert "Secure" not in r.headers["Set-Cookie"]


def test_sha512_hashes_sign_in_too(slad):
    r, _, _ = sign_in(slad.tcp, "old.school")
    assert r.status == 200 and r.json["access"] == "operator", r


def test_wrong_password_unknown_user_and_no_password_answer_the_same_401(slad):
    answers = [sign_in(slad.tcp, "wang.wei", "not-the-password")[0],
               sign_in(slad.tcp, "nobody", "whatever")[0],
               sign_in(slad.tcp, "nopass", "whatever")[0]]
    for r in answers:
        assert r.status == 401 and r.error_code() == "sign_in_failed", r
        assert "Set-Cookie" not in r.headers
    assert len({r.error_message() for r in answers}) == 1
    log = slad.log()
    assert "failed sign-in from 127.0.0.1 as 'wang.wei': wrong password" in log
    assert "failed sign-in from 127.0.0.1 as 'nobody'" in log
    assert "not-the-password" not in log and "whatever" not in log


def test_bad_sign_in_bodies_are_400(slad):
    for body in ({"user": "wang.wei"}, {"user": "", "password": "x"},
                 {"user": "wang.wei", "password": "x", "remember": True},
                 {"user": "wang.wei", "password": "operator-pass\u0000tail"}):
        r = slad.tcp.post("/v1/session", body)
        assert r.status == 400, (body, r)
        assert "operator-pass" not in r.text


def test_failed_sign_ins_from_one_address_are_limited(slad):
    for _ in range(5):
        assert sign_in(slad.tcp, "wang.wei", "guess")[0].status == 401
    r = sign_in(slad.tcp, "wang.wei")[0]  # even the right password waits now
    assert r.status == 429 and r.error_code() == "too_many_attempts", r
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    # Another address (the Unix socket) is not held back.
    assert sign_in(slad.client, "wang.wei")[0].status == 200


def test_changes_by_cookie_need_the_csrf_token(slad):
    tid = slad.bearer.post("/v1/tickets", {"title": "router down", "severity": 2}).json["id"]
    _, cookie, csrf = sign_in(slad.tcp, "wang.wei")
    for headers in (as_session(cookie), as_session(cookie, "x" * 43)):
        r = slad.tcp.post(f"/v1/tickets/{tid}/events", {"type": "acknowledge"}, headers=headers)
        assert r.status == 403 and r.error_code() == "csrf_mismatch", r
    assert slad.ticket(tid)["status"] == "open"
    # Reads need no CSRF token.
    assert slad.tcp.get(f"/v1/tickets/{tid}", headers=as_session(cookie)).status == 200
    # The bearer token needs none either.
    assert slad.bearer.post(f"/v1/tickets/{tid}/events",
                            {"type": "comment", "note": "on it"}).status == 200


def test_viewer_reads_but_cannot_post_an_event(slad):
    tid = slad.bearer.post("/v1/tickets", {"title": "router down", "severity": 2}).json["id"]
    _, cookie, csrf = sign_in(slad.tcp, "li.na")
    assert slad.tcp.get("/v1/tickets", headers=as_session(cookie)).status == 200
    r = slad.tcp.post(f"/v1/tickets/{tid}/events", {"type": "acknowledge"},
                      headers=as_session(cookie, csrf))
    assert r.status == 403 and r.error_code() == "forbidden", r
    assert "needs operator access" in r.error_message() and "li.na" in r.error_message()
    assert slad.ticket(tid)["status"] == "open"


def test_operator_event_is_by_the_contact_whatever_the_body_says(slad):
    tid = slad.bearer.post("/v1/tickets", {"title": "router down", "severity": 2}).json["id"]
    _, cookie, csrf = sign_in(slad.tcp, "wang.wei")
    r = slad.tcp.post(f"/v1/tickets/{tid}/events", {"type": "acknowledge", "by": "someone else"},
                      headers=as_session(cookie, csrf))
    assert r.status == 200 and r.json["status"] == "acknowledged", r
    history = slad.client.get(f"/v1/tickets/{tid}/history").json["history"]
    events = [h for h in history if h["kind"] == "event"]
    assert events[-1]["by"] == "wang.wei", events
    # An operator may not create tickets nor reload; an admin may.
    r = slad.tcp.post("/v1/tickets", {"title": "x", "severity": 2}, headers=as_session(cookie, csrf))
    assert r.status == 403 and "needs admin access" in r.error_message(), r
    r = slad.tcp.post("/v1/reload", headers=as_session(cookie, csrf))
    assert r.status == 403, r
    _, admin, admin_csrf = sign_in(slad.tcp, "boss")
    r = slad.tcp.post("/v1/reload", headers=as_session(admin, admin_csrf))
    assert r.status == 200 and r.json == {"status": "reloaded"}, r


def test_session_survives_a_restart_and_signing_out_ends_it(slad):
    _, cookie, csrf = sign_in(slad.tcp, "boss")
    slad.restart()
    r = slad.tcp.get("/v1/session", headers=as_session(cookie))
    assert r.status == 200 and r.json["name"] == "boss" and r.json["csrf"] == csrf, r
    r = slad.tcp.delete("/v1/session", headers=as_session(cookie))
    assert r.status == 403 and r.error_code() == "csrf_mismatch", r
    r = slad.tcp.delete("/v1/session", headers=as_session(cookie, csrf))
    assert r.status == 204, r
    assert r.headers["Set-Cookie"].startswith("slad_session=; Path=/; Max-Age=0; HttpOnly")
    r = slad.tcp.get("/v1/session", headers=as_session(cookie))
    assert r.status == 401 and r.error_code() == "not_signed_in", r
    assert slad.tcp.get("/v1/tickets", headers=as_session(cookie)).status == 401


def test_removing_the_password_signs_the_contact_out(slad):
    _, cookie, _ = sign_in(slad.tcp, "wang.wei")
    hashes = dict(HASHES)
    hashes["wang.wei"] = HASHES["li.na"]  # any valid hash: the old password no longer fits
    write_conf(slad, {k: v for k, v in hashes.items()})
    text = open(slad.conf_path, encoding="utf-8").read()
    text = text.replace(f'password_hash = "{HASHES["li.na"]}"; access = "operator";',
                        'access = "operator";')
    with open(slad.conf_path, "w", encoding="utf-8") as f:
        f.write(text)
    assert slad.client.post("/v1/reload").status == 200
    assert slad.tcp.get("/v1/session", headers=as_session(cookie)).status == 401


def test_tcp_without_credentials_reaches_only_the_public_routes(slad):
    r = slad.tcp.get("/v1/tickets")
    assert r.status == 401 and r.headers["WWW-Authenticate"] == "Bearer", r
    r = slad.tcp.get("/v1/session")
    assert r.status == 401 and r.error_code() == "not_signed_in", r
    assert slad.tcp.get("/v1/tickets", headers={"Cookie": "slad_session=forged"}).status == 401
    assert slad.bearer.get("/v1/tickets").status == 200


def test_unix_socket_has_full_rights_and_a_cookie_acts_as_its_contact(slad):
    tid = slad.create()["id"]
    _, cookie, csrf = sign_in(slad.client, "li.na")
    r = slad.client.post(f"/v1/tickets/{tid}/events", {"type": "acknowledge"},
                         headers=as_session(cookie, csrf))
    assert r.status == 403 and r.error_code() == "forbidden", r
    r = slad.client.post(f"/v1/tickets/{tid}/events", {"type": "acknowledge", "by": "cli"})
    assert r.status == 200, r


def test_pages_are_served_without_credentials_with_their_headers(slad):
    r = slad.tcp.get("/")
    assert r.status == 302 and r.headers["Location"] == "/ui/", r
    r = slad.tcp.get("/ui")
    assert r.status == 302 and r.headers["Location"] == "/ui/", r
    r = slad.tcp.get("/ui/")
    assert r.status == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8", r
    # The app draws the sign-in form (name="user", name="password": test_console.py).
    assert '<script type="module"' in r.text, r.text
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    etag = r.headers["ETag"]
    again = slad.tcp.get("/ui/", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b"" and again.headers["ETag"] == etag, again
    assert slad.tcp.get("/ui/", headers={"If-None-Match": '"0"'}).status == 200
    # The app's own paths are the page; files are looked up by name.
    app = slad.tcp.get("/ui/tickets/42")
    assert app.status == 200 and app.headers["ETag"] == etag
    assert slad.tcp.get("/ui/index.html").headers["ETag"] == etag
    assert slad.tcp.get("/ui/missing.js").status == 404
    assert slad.tcp.get("/ui/../slad.conf").status in (404, 400)
    action = slad.tcp.get("/a/ABCDEFGHJK")
    assert action.status == 200 and action.headers["ETag"] != etag
    r = slad.tcp.post("/ui/", {"x": 1})
    assert r.status == 405 and r.headers["Allow"] == "GET, HEAD", r
    head = slad.tcp.request("HEAD", "/ui/")
    assert head.status == 200 and head.body == b""
    # The Unix socket serves them too.
    assert slad.client.get("/ui/").status == 200


def test_check_config_refuses_a_malformed_hash_and_never_prints_one(slad):
    out = subprocess.run([slad_bin(), "--check-config", "-c", slad.conf_path],
                         capture_output=True, text=True)
    assert out.returncode == 0, out
    assert "wang.wei (operator, password set)" in out.stdout
    assert "$y$" not in out.stdout + out.stderr and "$6$" not in out.stdout
    text = open(slad.conf_path, encoding="utf-8").read().replace(HASHES["boss"], "$1$abc$xyz")
    bad = os.path.join(slad.dir, "bad.conf")
    with open(bad, "w", encoding="utf-8") as f:
        f.write(text)
    out = subprocess.run([slad_bin(), "--check-config", "-c", bad], capture_output=True,
                         text=True)
    assert out.returncode != 0
    assert "password hash of contact 'boss'" in out.stderr and "slactl passwd" in out.stderr
    assert "$1$abc$xyz" not in out.stderr


def slactl_bin():
    return os.environ["SLACTL_BIN"]


def test_slactl_passwd_hash_signs_in(make_daemon):
    out = subprocess.run([slactl_bin(), "passwd"], input="fresh pass\n", capture_output=True,
                         text=True)
    assert out.returncode == 0, out
    h = out.stdout.strip()
    assert h.startswith("$y$") and len(out.stdout.splitlines()) == 1
    assert "fresh pass" not in out.stdout + out.stderr
    d = make_daemon()
    d.port = free_tcp_port()
    write_private(os.path.join(d.dir, "token"), TOKEN + "\n")
    write_conf(d, dict(HASHES, **{"wang.wei": h}))
    d.start()
    assert sign_in(d.client, "wang.wei", "fresh pass")[0].status == 200
    assert sign_in(d.client, "wang.wei", "fresh pas")[0].status == 401
    # Refusals: nothing on stdin, an argument.
    out = subprocess.run([slactl_bin(), "passwd"], input="", capture_output=True, text=True)
    assert out.returncode != 0 and out.stdout == "" and "no password" in out.stderr
    out = subprocess.run([slactl_bin(), "passwd", "secret"], capture_output=True, text=True)
    assert out.returncode != 0 and out.stdout == ""


def run_on_tty(argv, lines, timeout=20):
    """Run argv on a pseudo-terminal, typing one of lines after each prompt it shows;
    (exit status, all it wrote)."""
    import pty
    import select
    import signal
    import time
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    out, answered, pending = b"", 0, list(lines)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        while pending and out.count(b"Password: ") + out.count(b"Again: ") > answered:
            os.write(fd, pending.pop(0).encode() + b"\n")
            answered += 1
    done, status = os.waitpid(pid, os.WNOHANG)
    while not done and time.monotonic() < deadline:
        time.sleep(0.01)
        done, status = os.waitpid(pid, os.WNOHANG)
    if not done:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise AssertionError(f"{argv} did not finish: {out!r}")
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_slactl_passwd_on_a_terminal_asks_twice_without_echo():
    rc, text = run_on_tty([slactl_bin(), "passwd"], ["typed once", "typed once"])
    assert rc == 0, text
    assert "$y$" in text and "typed once" not in text
    rc, text = run_on_tty([slactl_bin(), "passwd"], ["typed once", "typed twice"])
    assert rc != 0 and "differ" in text and "$y$" not in text


def test_ended_sessions_are_refused_and_purged(slad):
    """Idle 12 h or signed in 7 days ago: refused after a restart, and gone from the
    database at the next sign-in (the clock moved by rewriting the stored instants)."""
    _, idle, _ = sign_in(slad.tcp, "li.na")
    _, old, _ = sign_in(slad.tcp, "wang.wei")
    _, fresh, _ = sign_in(slad.tcp, "boss")
    slad.stop()
    hour = 3600 * 1000
    slad.sql(f"UPDATE console_sessions SET last_seen_ms = last_seen_ms - 12 * {hour}"
             " WHERE contact = 'li.na'")
    slad.sql(f"UPDATE console_sessions SET created_ms = created_ms - 7 * 24 * {hour}"
             " WHERE contact = 'wang.wei'")
    slad.start()
    assert slad.tcp.get("/v1/session", headers=as_session(idle)).status == 401
    assert slad.tcp.get("/v1/session", headers=as_session(old)).status == 401
    assert slad.tcp.get("/v1/session", headers=as_session(fresh)).status == 200
    assert sign_in(slad.tcp, "old.school")[0].status == 200
    slad.stop()
    left = sorted(r["contact"] for r in slad.sql("SELECT contact FROM console_sessions"))
    assert left == ["boss", "old.school"], left
