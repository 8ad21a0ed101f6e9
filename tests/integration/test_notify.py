"""Notification delivery against real loopback receivers (SPEC 3).

A python3 http.server in a thread plays the webhook receiver, answering from a script of
statuses; the file channel writes JSON lines. Signatures are verified here independently
(hmac, base64), and the outbox is read from the daemon's database (Daemon.sql, on either
backend).
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import socketserver
import sqlite3
import subprocess
import threading
import urllib.parse

import pytest

from conftest import fill_file_system, slad_bin, wait_for

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

CONF = """
daemon = {
  socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
  synchronous = "full"; log_level = "debug"; language = "en";
};
contacts = ( { name = "sup"; phone = "+8613800000001"; via = ["log"]; } );
teams = ( { name = "north"; channel = "hook"; roles = { supervisor = ["sup"]; }; } );
channels = (
  { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; },
  { name = "hook"; type = "webhook"; url = "http://127.0.0.1:@PORT@/hook"; secret = "@SECRET@";
    timeout = "2s"; max_attempts = 4; }
);
policies = (
  { name = "fast"; match = { }; calendar = "24x7";
    clocks = ( { name = "response"; target = "2s"; stop = ["resolve"];
                 escalate = ( { at = "50%"; notify = ["supervisor"]; } ); } ); }
);
"""


class Receiver:
    """A loopback HTTP server answering each POST with the next scripted status (then 200)."""

    def __init__(self, statuses=(), hold_first=False):
        self.statuses = list(statuses)
        # waves(): requests answered in waves.
        self.wave = None
        self.wave_requests = 0
        # hold_first: the first request waits for release before it is answered.
        self.release = threading.Event()
        if not hold_first:
            self.release.set()
        self.requests = []
        self.peers = set()  # the client ends of the connections the requests came on
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.requests.append((self.path, dict(self.headers.items()), body))
                    outer.peers.add(self.client_address)
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    first = len(outer.requests) == 1
                    wave = len(outer.requests) <= outer.wave_requests
                if wave:
                    outer.wave.wait(30)
                if first:
                    outer.release.wait(30)
                answer = b'{"errcode":0,"errmsg":"ok"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def waves(self, n, k):
        """From now on (the requests so far forgotten), the first n * k requests are answered
        in waves of n: each waits until n are waiting (every slot of a channel of concurrency
        n busy at once, then every slot free)."""
        with self.lock:
            self.requests.clear()
            self.peers.clear()
            self.wave = threading.Barrier(n)
            self.wave_requests = n * k

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def count(self):
        with self.lock:
            return len(self.requests)


def start(make_daemon, receiver, conf=CONF):
    d = make_daemon()
    text = (conf.replace("@DIR@", d.dir).replace("@PORT@", str(receiver.port))
            .replace("@SECRET@", SECRET))
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(text)
    return d.start()


def outbox(d):
    return d.sql("SELECT * FROM outbox ORDER BY id")


def hook_row(d, state):
    rows = [r for r in outbox(d) if r["channel"] == "hook" and r["state"] == state]
    return rows[0] if rows else None


def verify_signature(headers, body):
    key = base64.b64decode(SECRET[len("whsec_"):])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert f"v1,{want}" in headers["webhook-signature"].split(" "), headers


def test_webhook_and_file(make_daemon):
    rx = Receiver()
    try:
        d = start(make_daemon, rx)
        t = d.create(severity=1, team="north")
        wait_for(lambda: rx.count() >= 1, 15, "the webhook request")
        path, headers, body = rx.requests[0]
        assert path == "/hook"
        headers = {k.lower(): v for k, v in headers.items()}
        verify_signature(headers, body)
        doc = json.loads(body)
        assert doc["version"] == 1
        assert doc["event"] == "sla.warning"
        assert doc["idempotency_key"] == headers["webhook-id"]
        assert doc["idempotency_key"] == f"t{t['id']}/response/step1/r0/channel:hook"
        assert headers["x-slad-event"] == "sla.warning"
        # The supervisor's contact is reached through the file channel: one JSON line.
        path = os.path.join(d.dir, "notifications.jsonl")
        wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0, 15, "the file line")
        with open(path, encoding="utf-8") as f:
            lines = [json.loads(x) for x in f.read().splitlines()]
        assert [x["idempotency_key"] for x in lines] == [
            f"t{t['id']}/response/step1/r0/supervisor/sup"]
        wait_for(lambda: hook_row(d, "sent"), 15, "the webhook row recorded as sent")
        d.stop()
        assert SECRET not in d.log()
        assert SECRET[len("whsec_"):] not in d.log()
    finally:
        rx.close()


def test_500_then_200_sent_once(make_daemon):
    rx = Receiver([500])
    try:
        d = start(make_daemon, rx)
        d.create(severity=1, team="north")
        row = wait_for(lambda: hook_row(d, "sent"), 20, "the retried row recorded as sent")
        assert row["attempts"] == 2
        keys = [h.get("webhook-id") for _, h, _ in rx.requests]
        assert len(keys) == 2 and keys[0] == keys[1], keys
        d.stop()
        assert rx.count() == 2
    finally:
        rx.close()


def test_connections_kept_alive(make_daemon):
    """A backlog goes over the channel's connections, kept open between attempts: 99 queued
    notifications at concurrency 8, the first 64 answered in waves of 8 (every slot busy,
    then every slot free), come over 8 connections, each key once. libcurl alone sizes its
    cache by the transfers in progress and closed the idle ones after each wave."""
    rx = Receiver()
    try:
        conf = CONF.replace("max_attempts = 4;", "max_attempts = 4; concurrency = 8;")
        limited = conf.replace("concurrency = 8;", 'concurrency = 8; rate = "1/h";')
        d = start(make_daemon, rx, limited)
        past = "2020-01-01T00:00:00Z"  # the step is due at once
        for i in range(100):
            d.create(severity=1, team="north", title=f"t{i}", reported_at=past)
        wait_for(lambda: rx.count() >= 1, 15, "the one request the rate lets through")
        d.stop()
        rx.waves(8, 8)
        text = conf.replace("@DIR@", d.dir).replace("@PORT@", str(rx.port))
        with open(d.conf_path, "w", encoding="utf-8") as f:
            f.write(text.replace("@SECRET@", SECRET))
        d.start()
        wait_for(lambda: rx.count() >= 99, 30, "the 99 queued webhook requests")
        keys = [h.get("webhook-id") for _, h, _ in rx.requests]
        assert len(set(keys)) == len(keys) == 99, keys
        assert len(rx.peers) <= 8, rx.peers
        d.stop()
    finally:
        rx.close()


def test_4xx_dead_at_once(make_daemon):
    rx = Receiver([404])
    try:
        d = start(make_daemon, rx)
        ticket = d.create(severity=1, team="north")
        row = wait_for(lambda: hook_row(d, "dead"), 15, "the row dead after a 404")
        assert row["attempts"] == 1
        assert "404" in row["last_error"], row
        assert rx.count() == 1
        # Visible through the API, with the reason; the retry endpoint sends it again.
        r = d.client.get("/v1/notifications?state=dead")
        assert r.status == 200, r
        dead = [n for n in r.json["notifications"] if n["channel"] == "hook"]
        assert len(dead) == 1 and "404" in dead[0]["last_error"], r.json
        assert d.client.post("/v1/notifications/999999/retry").status == 404
        r = d.client.post(f"/v1/notifications/{dead[0]['id']}/retry")
        assert r.status == 200, r
        assert r.json["state"] == "pending"
        # The ticket's history says so, once: the refused second retry adds nothing.
        assert d.client.post(f"/v1/notifications/{dead[0]['id']}/retry").status == 409
        history = d.client.get(f"/v1/tickets/{ticket['id']}/history").json["history"]
        retries = [h for h in history if h["kind"] == "notification_retry"]
        assert len(retries) == 1, history
        assert retries[0]["notification_id"] == dead[0]["id"], retries
        wait_for(lambda: hook_row(d, "sent"), 15, "the retried row sent")
        assert rx.count() == 2
        assert rx.requests[0][1]["webhook-id"] == rx.requests[1][1]["webhook-id"]
        metrics = d.client.get("/metrics").text
        assert 'slad_notification_attempts_total{channel="hook",result="dead"} 1' in metrics
        assert 'slad_notification_attempts_total{channel="hook",result="sent"} 1' in metrics
        d.stop()
    finally:
        rx.close()


def test_kill9_between_send_and_record(make_daemon):
    rx = Receiver(hold_first=True)
    try:
        d = start(make_daemon, rx)
        d.create(severity=1, team="north")
        wait_for(lambda: rx.count() >= 1, 15, "the first webhook request")
        # The request is out, its outcome not recorded: a crash now must send it again.
        d.kill9()
        rx.release.set()
        d.start()
        row = wait_for(lambda: hook_row(d, "sent"), 15, "the re-sent row recorded as sent")
        keys = [h.get("webhook-id") for _, h, _ in rx.requests]
        assert len(keys) == 2 and keys[0] == keys[1], keys
        # Once a 2xx is recorded, a restart sends nothing again.
        d.kill9()
        d.start()
        # (start() armed a pass over due rows for the first loop iteration.)
        assert d.client.get("/healthz").status == 200
        assert hook_row(d, "sent")["id"] == row["id"]
        assert rx.count() == 2
        d.stop()
    finally:
        rx.close()


@pytest.mark.sqlite_only("an SQLite write lock held by another process")
def test_outcome_written_again_after_a_failed_write(make_daemon):
    """A 2xx whose outcome could not be written (the database locked past the loop's wait:
    a checkpoint on a slow disk, an operator's shell) does not leave the row `sending`
    until the next start: the live daemon writes it again every second, the receiver gets
    the request once."""
    rx = Receiver(hold_first=True)
    try:
        d = start(make_daemon, rx)
        d.create(severity=1, team="north")
        wait_for(lambda: rx.count() >= 1, 15, "the first webhook request")
        since = d.log_size()
        db = sqlite3.connect(os.path.join(d.dir, "slad.db"), timeout=10, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            rx.release.set()
            d.wait_log("could not record", 15, since)
            assert hook_row(d, "sending") is not None
        finally:
            db.execute("ROLLBACK")
            db.close()
        row = wait_for(lambda: hook_row(d, "sent"), 10, "the outcome written again")
        assert row["attempts"] == 1
        assert "could not record the outcome (sent) of notification" in d.log()
        d.wait_log("its outcome (sent) is recorded after", 5, since)
        assert rx.count() == 1
        d.stop()
        assert rx.count() == 1
    finally:
        rx.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs")
@pytest.mark.sqlite_only("the SQLite file's disk full (a small tmpfs)")
def test_outcome_written_again_after_a_rolled_back_commit(make_daemon):
    """The outcome's write succeeds but its commit fails (the disk full) and is rolled
    back: the live daemon writes it again once there is space, the receiver gets the
    request once."""
    rx = Receiver(hold_first=True)
    d = make_daemon()
    state = os.path.join(d.dir, "state")
    os.mkdir(state)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", state], check=True,
                   capture_output=True, timeout=30)
    try:
        d.db_path = os.path.join(state, "slad.db")
        conf = CONF.replace('database = "@DIR@/slad.db"', f'database = "{d.db_path}"')
        with open(d.conf_path, "w", encoding="utf-8") as f:
            f.write(conf.replace("@DIR@", d.dir).replace("@PORT@", str(rx.port))
                    .replace("@SECRET@", SECRET))
        d.start()
        d.create(severity=1, team="north")
        wait_for(lambda: rx.count() >= 1, 15, "the first webhook request")
        since = d.log_size()
        filler = os.path.join(state, "filler")
        fill_file_system(filler)
        try:
            rx.release.set()
            d.wait_log("could not record the outcome (sent) of notification", 15, since)
            assert "full" in d.log()[since:], d.log_tail()
        finally:
            os.unlink(filler)
        row = wait_for(lambda: hook_row(d, "sent"), 10, "the outcome written again")
        assert row["attempts"] == 1
        d.wait_log("its outcome (sent) is recorded after", 5, since)
        d.stop()
        assert rx.count() == 1
    finally:
        rx.close()
        if d.proc is not None and d.proc.poll() is None:
            d.stop()
        subprocess.run(["umount", "-l", state], capture_output=True, timeout=30)


DING_SECRET = "SECabc123-robot-secret"


def test_dingtalk_signed_url(make_daemon):
    rx = Receiver()
    conf = CONF.replace('channel = "hook"; ', "").replace(
        '"@SECRET@";', '"@SECRET@"; },\n  { name = "dt"; type = "dingtalk"; '
        'url = "http://127.0.0.1:@PORT@/robot/send?access_token=tok123456789"; '
        'secret = "' + DING_SECRET + '";').replace(
        'notify = ["supervisor"]', 'notify = ["channel:dt"]')
    try:
        d = start(make_daemon, rx, conf)
        d.create(severity=1, team="north")
        wait_for(lambda: rx.count() >= 1, 15, "the dingtalk request")
        path, headers, body = rx.requests[0]
        url = urllib.parse.urlsplit(path)
        assert url.path == "/robot/send"
        q = urllib.parse.parse_qs(url.query)
        assert q["access_token"] == ["tok123456789"]
        ts = q["timestamp"][0]
        signed = f"{ts}\n{DING_SECRET}".encode()
        want = base64.b64encode(hmac.new(DING_SECRET.encode(), signed, hashlib.sha256).digest())
        assert q["sign"] == [want.decode()], (q, want)
        doc = json.loads(body)
        assert doc["msgtype"] == "markdown", doc
        wait_for(lambda: [r for r in outbox(d) if r["channel"] == "dt" and r["state"] == "sent"],
                 15, "the dingtalk row sent")
        d.stop()
        log = d.log()
        assert DING_SECRET not in log and "tok123456789" not in log
    finally:
        rx.close()


class SmtpSink:
    """A minimal SMTP server on loopback: records (mail from, rcpt to, message) per mail.
    With auth it offers AUTH PLAIN (and no STARTTLS) and records every command."""

    def __init__(self, auth=False):
        self.mails = []
        self.commands = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                self.reply("220 sink ESMTP")
                sender, rcpts = None, []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    cmd = line.decode("utf-8", "replace").strip()
                    up = cmd.upper()
                    outer.commands.append(cmd)
                    if up.startswith("EHLO") and auth:
                        self.reply("250-sink")
                        self.reply("250 AUTH PLAIN")
                    elif up.startswith("EHLO") or up.startswith("HELO"):
                        self.reply("250 sink")
                    elif up == "STARTTLS":
                        self.reply("454 TLS not available")
                    elif up.startswith("AUTH"):
                        if up == "AUTH PLAIN":  # no initial response: ask for it
                            self.reply("334 ")
                            outer.commands[-1] += " " + self.rfile.readline().decode().strip()
                        self.reply("235 ok")
                    elif up.startswith("MAIL FROM:"):
                        sender, rcpts = cmd[10:].strip(), []
                        self.reply("250 ok")
                    elif up.startswith("RCPT TO:"):
                        rcpts.append(cmd[8:].strip())
                        self.reply("250 ok")
                    elif up == "DATA":
                        self.reply("354 go on")
                        data = b""
                        while True:
                            chunk = self.rfile.readline()
                            if not chunk or chunk == b".\r\n":
                                break
                            data += chunk
                        outer.mails.append((sender, rcpts, data))
                        self.reply("250 queued")
                    elif up == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 ok")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def mail_rows(d, state):
    return [r for r in outbox(d) if r["channel"] == "mail" and r["state"] == state]


def test_email_through_smtp(make_daemon):
    rx = Receiver()
    smtp = SmtpSink()
    conf = CONF.replace('channel = "hook"; ', "").replace(
        'via = ["log"]', 'email = "sup@example.com"; via = ["mail"]').replace(
        '"@SECRET@";', '"@SECRET@"; },\n  { name = "mail"; type = "email"; '
        f'url = "smtp://127.0.0.1:{smtp.port}"; from = "slad@example.com";')
    try:
        d = start(make_daemon, rx, conf)
        t = d.create(severity=1, team="north", title="冰箱不制冷")
        wait_for(lambda: smtp.mails, 15, "the e-mail")
        sender, rcpts, data = smtp.mails[0]
        assert sender == "<slad@example.com>"
        assert rcpts == ["<sup@example.com>"]
        text = data.decode("utf-8")
        assert "Subject:" in text and "To:" in text, text
        head, _, body = text.partition("\r\n\r\n")
        assert "Subject: [slad] Warning: ticket #" in head, head
        assert f"X-Slad-Idempotency-Key: t{t['id']}/response/step1/r0/supervisor/sup" in head
        assert "冰箱不制冷" in base64.b64decode("".join(body.split())).decode("utf-8")
        wait_for(lambda: mail_rows(d, "sent"), 15, "the e-mail row sent")
        d.stop()
    finally:
        smtp.close()
        rx.close()


def mail_login_conf(port, tls):
    return CONF.replace('channel = "hook"; ', "").replace(
        'via = ["log"]', 'email = "sup@example.com"; via = ["mail"]').replace(
        '"@SECRET@";', '"@SECRET@"; },\n  { name = "mail"; type = "email"; '
        f'url = "smtp://127.0.0.1:{port}"; from = "slad@example.com";\n'
        f'    username = "slad"; password = "mail-Pa55word"; {tls}')


def test_email_login_never_in_clear_text(make_daemon):
    """With a login and no tls key, a server without STARTTLS gets no AUTH and no
    message: the notification is dead at once with a reason that says what to do."""
    rx = Receiver()
    smtp = SmtpSink(auth=True)
    try:
        d = start(make_daemon, rx, mail_login_conf(smtp.port, ""))
        d.create(severity=1, team="north")
        row = wait_for(lambda: mail_rows(d, "dead"), 15, "the e-mail row dead")[0]
        assert row["attempts"] == 1, row
        assert "does not offer STARTTLS" in row["last_error"], row
        assert 'tls = "none"' in row["last_error"], row
        assert not [c for c in smtp.commands if c.upper().startswith(("AUTH", "MAIL", "DATA"))], \
            smtp.commands
        assert not smtp.mails
        api = d.client.get("/v1/notifications?state=dead").json["notifications"]
        assert [n["last_error"] for n in api if n["channel"] == "mail"] == [row["last_error"]]
        d.stop()
        assert "mail-Pa55word" not in d.log()
    finally:
        smtp.close()
        rx.close()


def test_email_tls_none_sends_login_and_warns(make_daemon):
    """tls = "none" is the operator's explicit choice: the login goes as AUTH PLAIN, and
    --check-config and the log say that it travels in clear text."""
    rx = Receiver()
    smtp = SmtpSink(auth=True)
    try:
        d = start(make_daemon, rx, mail_login_conf(smtp.port, 'tls = "none";'))
        r = subprocess.run([slad_bin(), "--check-config", d.conf_path], capture_output=True,
                           text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        assert re.search(re.escape(d.conf_path) + r":\d+: warning: tls in channel 'mail': "
                         r'"none": the SMTP login, password and every message travel in clear '
                         r"text", r.stderr), r.stderr
        assert "warning: tls in channel 'mail'" in d.log()
        d.create(severity=1, team="north")
        wait_for(lambda: smtp.mails, 15, "the e-mail")
        auth = [c for c in smtp.commands if c.upper().startswith("AUTH")]
        assert auth == ["AUTH PLAIN " + base64.b64encode(b"\0slad\0mail-Pa55word").decode()], \
            smtp.commands
        wait_for(lambda: mail_rows(d, "sent"), 15, "the e-mail row sent")
        d.stop()
    finally:
        smtp.close()
        rx.close()
