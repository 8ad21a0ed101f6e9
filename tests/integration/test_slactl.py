"""slactl against the real daemon: every command of SPEC 6 in both output modes (tables
and --json), the exit statuses 0 (done) / 1 (refused by the daemon) / 2 (usage or
connection), colour only on a TTY and never with NO_COLOR, and the simulate timeline.

Commands whose routes a daemon does not offer yet (follow-ups, plans, notifications,
reports) must say so and exit 1; once the routes land the same tests check the output."""

import json
import os
import pty
import re
import subprocess
import time

import pytest

from conftest import DATA_DIR, wait_for

RUN_TIMEOUT_S = 30


def slactl_bin():
    path = os.environ.get("SLACTL_BIN")
    assert path, "SLACTL_BIN must name the slactl binary (meson test sets it)"
    assert os.access(path, os.X_OK), f"SLACTL_BIN '{path}' is not executable"
    return path


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Ctl:
    def __init__(self, socket_path):
        self.socket_path = socket_path

    def run(self, *args, json_out=False, env=None, stdin=None, socket=True):
        argv = [slactl_bin()]
        if socket:
            argv += ["--socket", self.socket_path]
        if json_out:
            argv.append("--json")
        argv += [str(a) for a in args]
        full_env = dict(os.environ)
        full_env.pop("NO_COLOR", None)
        full_env.update(env or {})
        p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=full_env,
                           timeout=RUN_TIMEOUT_S)
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert marker not in p.stderr, p.stderr
        return p

    def ok(self, *args, **kw):
        p = self.run(*args, **kw)
        assert p.returncode == 0, (args, p.returncode, p.stdout, p.stderr)
        return p

    def json(self, *args, **kw):
        return json.loads(self.ok(*args, json_out=True, **kw).stdout)


@pytest.fixture
def ctl(daemon):
    return Ctl(daemon.socket_path)


def new_ticket(ctl, **fields):
    args = ["ticket", "create", "--title", fields.pop("title", "printer on fire"),
            "--severity", fields.pop("severity", 2)]
    for k, v in fields.items():
        args += [f"--{k.replace('_', '-')}", v]
    return ctl.json(*args)


def not_offered(p):
    """A command whose route the daemon lacks: exit 1 and a message saying so."""
    return p.returncode == 1 and "does not offer" in p.stderr


def test_status(ctl):
    p = ctl.ok("status")
    assert "slad: ok" in p.stdout and "open_tickets" in p.stdout
    assert ctl.json("status")["status"] == "ok"


def test_ticket_create_show_both_modes(ctl):
    t = new_ticket(ctl, severity=1, team="north", region="east", grade="gold",
                   assignee="wang", source="crm", external_id="X-1")
    assert t["id"] > 0 and t["policy"] == "fast" and t["team"] == "north"
    assert t["source"] == "crm" and t["external_id"] == "X-1"
    p = ctl.ok("ticket", "create", "--title", "scanner jam", "--severity", "2")
    assert "ticket" in p.stdout and "scanner jam" in p.stdout
    assert "CLOCK" in p.stdout and "resolution" in p.stdout
    shown = ctl.ok("ticket", "show", t["id"]).stdout
    assert "printer on fire" in shown and "fast" in shown
    # The clocks table: due in local time (TZ=UTC here) and a relative deadline.
    assert "DUE" in shown and "LEFT" in shown
    assert "in " in shown or "overdue " in shown, shown
    assert "history:" in shown
    assert ctl.json("ticket", "show", t["id"])["id"] == t["id"]


def test_ticket_create_from_file_and_stdin(ctl, tmp_path):
    body = {"title": "from file", "severity": 2, "labels": {"zone": "a"}}
    f = tmp_path / "t.json"
    f.write_text(json.dumps(body))
    assert ctl.json("ticket", "create", "--file", f)["labels"] == {"zone": "a"}
    t = ctl.json("ticket", "create", "--file", "-", stdin=json.dumps(body))
    assert t["title"] == "from file"


def test_ticket_list(ctl):
    ids = [new_ticket(ctl, team="north")["id"] for _ in range(3)]
    v = ctl.json("ticket", "list", "--limit", 2)
    assert [t["id"] for t in v["tickets"]] == ids[:2] and v["next"] == ids[1]
    v = ctl.json("ticket", "list", "--after", ids[1], "--team", "north")
    assert [t["id"] for t in v["tickets"]] == ids[2:]
    assert ctl.json("ticket", "list", "--breached")["tickets"] == []
    assert ctl.json("ticket", "list", "--status", "open", "--policy", "slow")["tickets"]
    p = ctl.ok("ticket", "list", "--limit", 2)
    lines = p.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "STATUS", "SEVERITY"]
    assert lines[1].split()[0] == str(ids[0])
    assert f"--after {ids[1]}" in p.stdout
    # Columns are aligned: every row starts its STATUS at the same column.
    col = lines[0].index("STATUS")
    assert all(line[col - 2:col] == "  " for line in lines[1:3])


def test_ticket_update(ctl):
    t = new_ticket(ctl)
    assert t["policy"] == "slow"
    v = ctl.json("ticket", "update", t["id"], "--severity", 1, "--team", "north",
                 "--appointment", rfc3339(time.time() + 3600))
    assert v["policy"] == "fast" and v["team"] == "north" and v["appointment_at"]
    assert "fast" in ctl.ok("ticket", "update", t["id"], "--grade", "gold").stdout


def test_ticket_events(ctl):
    t = new_ticket(ctl, severity=1, team="north")
    tid = t["id"]
    steps = [("ack", [], "acknowledged"), ("dispatch", ["--assignee", "li"], "dispatched"),
             ("arrive", [], "on_site"), ("hold", ["--reason", "parts"], "on_hold"),
             ("resume", [], "on_site"), ("comment", ["--note", "hello"], "on_site"),
             ("resolve", [], "resolved"), ("reopen", [], None), ("resolve", [], "resolved"),
             ("close", [], "closed")]
    for i, (cmd, extra, status) in enumerate(steps):
        if i % 2:
            v = ctl.json("ticket", cmd, tid, "--by", "ops", "--note", "n", *extra)
            if status:
                assert v["status"] == status, (cmd, v["status"])
        else:
            p = ctl.ok("ticket", cmd, tid, "--by", "ops", *extra)
            if status:
                assert status in p.stdout, (cmd, p.stdout)
    c = new_ticket(ctl)
    assert ctl.json("ticket", "cancel", c["id"], "--note", "dup")["status"] == "cancelled"


def test_refused_and_unknown_exit_1(ctl):
    t = new_ticket(ctl)
    # close from new is refused by the lifecycle: exit 1 with the daemon's message.
    p = ctl.run("ticket", "close", t["id"])
    assert p.returncode == 1, p
    assert "slactl:" in p.stderr and "HTTP 4" in p.stderr
    p = ctl.run("ticket", "show", 999999)
    assert p.returncode == 1 and "404" in p.stderr, p
    p = ctl.run("ticket", "show", 999999, json_out=True)
    assert p.returncode == 1 and json.loads(p.stdout)["error"]["code"]
    # dispatch without an assignee: a usage error, before asking the daemon.
    p = ctl.run("ticket", "dispatch", t["id"])
    assert p.returncode == 2 and "missing --assignee" in p.stderr, p


@pytest.mark.parametrize("args", [
    [], ["frobnicate"], ["ticket"], ["ticket", "show"], ["ticket", "show", "abc"],
    ["ticket", "show", "1", "2"], ["ticket", "list", "--colour", "red"],
    ["ticket", "create", "--severity", "high"], ["ticket", "create", "--title"],
    ["--bogus", "status"], ["--url", "http://127.0.0.1:1", "status"],
    ["check-config", "a", "b"],
])
def test_usage_exit_2(ctl, args):
    p = ctl.run(*args)
    assert p.returncode == 2, (args, p)
    assert p.stderr.strip(), args


def test_no_daemon_exit_2(tmp_path):
    path = str(tmp_path / "nothing.sock")
    p = Ctl(path).run("status")
    assert p.returncode == 2, p
    assert path in p.stderr and "systemctl start slad" in p.stderr and "make run" in p.stderr
    p = Ctl(path).run("ticket", "list", socket=False, env={"SLACTL_SOCKET": path})
    assert p.returncode == 2 and path in p.stderr, p
    # A URL with user info is named without it.
    token = tmp_path / "token"
    token.write_text("t" * 40 + "\n")
    p = Ctl(path).run("--url", "http://admin:Pa55word-x@127.0.0.1:1", "--token-file", token,
                      "status", socket=False)
    assert p.returncode == 2, p
    assert "'http://***@127.0.0.1:1'" in p.stderr and "Pa55word" not in p.stderr, p.stderr


def test_tcp_with_token(make_daemon, tmp_path):
    from conftest import free_tcp_port
    port = free_tcp_port()
    token = tmp_path / "token"
    token.write_text("s3cret-token-of-enough-length-0123456789\n")
    os.chmod(token, 0o600)
    d = make_daemon(daemon_extra=f'tcp = "127.0.0.1:{port}"; token_file = "{token}";')
    d.start()
    ctl = Ctl(d.socket_path)
    url = f"http://127.0.0.1:{port}"
    p = ctl.run("--url", url, "--token-file", token, "--json", "status", socket=False)
    assert p.returncode == 0 and json.loads(p.stdout)["status"] == "ok", p
    bad = tmp_path / "bad"
    bad.write_text("wrong-token-wrong-token-wrong-token-0000\n")
    p = ctl.run("--url", url, "--token-file", bad, "status", socket=False)
    assert p.returncode == 2 and "401" in p.stderr, p


def run_on_tty(argv, env):
    """Run argv with stdout on a pseudo-terminal; returns (rc, output)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return p.wait(timeout=RUN_TIMEOUT_S), b"".join(chunks).decode("utf-8", "replace")


def test_colour_only_on_tty_and_never_with_no_color(ctl, daemon):
    t = new_ticket(ctl, severity=1, team="north")
    argv = [slactl_bin(), "--socket", daemon.socket_path, "ticket", "show", str(t["id"])]
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    rc, out = run_on_tty(argv, env)
    assert rc == 0 and "\033[" in out, out
    rc, out = run_on_tty(argv, dict(env, NO_COLOR="1"))
    assert rc == 0 and "\033[" not in out, out
    assert "\033[" not in ctl.ok("ticket", "show", t["id"]).stdout


def test_simulate_table(ctl, tmp_path):
    now = time.time()
    body = {"title": "sim", "severity": 1, "team": "north", "reported_at": rfc3339(now),
            "events": [{"type": "acknowledge", "at": rfc3339(now + 2)},
                       {"type": "resolve", "at": rfc3339(now + 10)}]}
    f = tmp_path / "sim.json"
    f.write_text(json.dumps(body))
    v = ctl.json("simulate", f)
    assert v["policy"] == "fast" and v["timeline"]
    out = ctl.ok("simulate", f).stdout
    assert "policy fast" in out and "timeline:" in out
    header = next(line for line in out.splitlines() if line.startswith("AT"))
    assert header.split() == ["AT", "KIND", "EVENT", "CLOCK", "STEP", "RECIPIENTS"]
    assert "step" in out and "followup" in out and "sup" in out
    assert ctl.json("simulate", "-", stdin=json.dumps(body))["policy"] == "fast"
    p = ctl.run("simulate", tmp_path / "missing.json")
    assert p.returncode == 2 and "missing.json" in p.stderr
    f.write_text('{"severity": 1}')
    assert ctl.run("simulate", f).returncode == 1


def test_reload(ctl):
    assert "reloaded" in ctl.ok("reload").stdout
    assert ctl.json("reload")["status"] == "reloaded"


def test_check_config(ctl, daemon, tmp_path):
    p = ctl.run("check-config", daemon.conf_path, socket=False)
    assert p.returncode == 0 and "fast" in p.stdout, p
    bad = tmp_path / "bad.conf"
    bad.write_text("daemon = { socket = 1; };\n")
    p = ctl.run("check-config", bad, socket=False)
    assert p.returncode == 1 and "bad.conf" in p.stderr, p


def test_followups(ctl):
    t = new_ticket(ctl, severity=1, team="north")
    ctl.ok("ticket", "resolve", t["id"])
    # fast.conf's callback is due at once ("after = 0s").
    for json_out in (False, True):
        p = ctl.run("followups", "--state", "due", json_out=json_out)
        assert p.returncode == 0, p
        if json_out:
            fus = json.loads(p.stdout)["followups"]
            assert [f["ticket_id"] for f in fus] == [t["id"]], fus
            c = ctl.run("followup", "complete", fus[0]["id"], "--outcome", "satisfied",
                        "--note", "fixed for good", "--by", "sup", json_out=True)
            assert c.returncode == 0, c
            done = json.loads(c.stdout)
            assert done["state"] == "done" and done["completed_by"] == "sup", done
            again = ctl.run("followup", "complete", fus[0]["id"], "--outcome", "satisfied")
            assert again.returncode == 1 and "only an open one" in again.stderr, again
        else:
            assert "OWNER" in p.stdout and "callback" in p.stdout, p.stdout
    p = ctl.run("followup", "complete", 999999, "--outcome", "satisfied")
    assert p.returncode == 1, p


def test_plans(ctl):
    args = ["plan", "create", "--name", "boiler", "--customer-name", "Li Lei",
            "--device-model", "B1", "--team", "north", "--rrule", "FREQ=MONTHLY;INTERVAL=6",
            "--start", rfc3339(time.time() + 86400), "--due-within", "3wd",
            "--report-within", "3wd"]
    p = ctl.run(*args, json_out=True)
    assert p.returncode == 0, p
    pid = json.loads(p.stdout)["id"]
    assert "boiler" in ctl.ok("plan", "list").stdout
    assert ctl.json("plan", "list")["plans"][0]["id"] == pid
    assert ctl.json("plan", "show", pid)["name"] == "boiler"
    assert "boiler" in ctl.ok("plan", "show", pid).stdout
    assert "FREQ=MONTHLY;INTERVAL=6" in ctl.ok("plan", "list").stdout
    assert ctl.json("plan", "show", pid)["due_within"] == "3wd"
    p = ctl.run("plan", "create", "--rrule", "FREQ=SOMETIMES", "--name", "x", "--start",
                rfc3339(time.time()), "--due-within", "1d")
    assert p.returncode == 1 and "rrule" in p.stderr, p
    p = ctl.ok("plan", "delete", pid)
    assert "deleted" in p.stdout, p.stdout
    assert ctl.run("plan", "show", pid).returncode == 1


def test_notifications(ctl, daemon):
    t = new_ticket(ctl, severity=1, team="north")
    p = ctl.run("notifications", "--ticket", t["id"])
    if not_offered(p):
        assert not_offered(ctl.run("notification", "retry", 1))
        return
    assert p.returncode == 0 and "CHANNEL" in p.stdout, p

    def rows():
        return ctl.json("notifications", "--ticket", t["id"])["notifications"]
    n = wait_for(rows, 10, "notifications of the 50% step")[0]
    p = ctl.run("notification", "retry", n["id"])
    assert p.returncode in (0, 1), p


def test_report(ctl):
    t = new_ticket(ctl, severity=1, team="north")
    ctl.ok("ticket", "ack", t["id"])
    frm, to = rfc3339(time.time() - 3600), rfc3339(time.time() + 3600)
    out = ctl.ok("report", "--from", frm, "--to", to, "--by", "policy").stdout.splitlines()
    assert out[0].split() == ["GROUP", "CLOCK", "TOTAL", "MET", "MISSED", "OPEN", "COMPLIANCE",
                              "MEAN_S", "P90_S"], out
    # fast/response: 1 total, 1 met, 0 missed, 0 open, compliance 1, then mean and p90.
    row = next(line.split() for line in out if line.split()[:2] == ["fast", "response"])
    assert row[2:7] == ["1", "1", "0", "0", "1"], out
    assert float(row[7]) == float(row[8]) < 3, out
    assert "follow-ups:" in out
    rows = ctl.json("report", "--from", frm, "--to", to, "--by", "team")["rows"]
    assert {(r["group"], r["clock"]) for r in rows} == {("north", "response"),
                                                        ("north", "resolution")}
    month = ctl.json("report", "--from", frm, "--to", to, "--by", "month", "--tz",
                     "Asia/Shanghai")["rows"]
    assert sum(r["met"] for r in month) == 1
    p = ctl.ok("report", "--from", frm, "--to", to, "--format", "csv")
    assert p.stdout.splitlines()[0] == "group,clock,total,met,missed,open,compliance,mean_s,p90_s"
    p = ctl.run("report", "--by", "colour")
    assert p.returncode == 1 and "'by'" in p.stderr, p


def project_version():
    """The version in the top meson.build, which the build passes to the programs."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(root, "meson.build")) as f:
        m = re.search(r"^\s*version:\s*'([^']+)'", f.read(), re.M)
    assert m, "meson.build names no project version"
    return m.group(1)


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag):
    # No daemon needed: packagers and operators run it to see what is installed.
    p = subprocess.run([slactl_bin(), flag], capture_output=True, text=True,
                       timeout=RUN_TIMEOUT_S)
    assert p.returncode == 0, p
    assert p.stdout == f"slactl {project_version()}\n" and p.stderr == "", p


def test_help_and_json_after_command(ctl):
    p = ctl.run("--help", socket=False)
    assert p.returncode == 0 and "ticket dispatch ID" in p.stdout and "--assignee" in p.stdout
    assert ctl.run("ticket", "create", "--help").returncode == 0
    t = new_ticket(ctl)
    p = ctl.ok("ticket", "show", t["id"], "--json")
    assert json.loads(p.stdout)["id"] == t["id"]


# --- the routes other issues add, against a stand-in that answers as SPEC 2 says -------

FAKE = {
    ("GET", "/v1/followups"): (200, {"followups": [
        {"id": 7, "ticket_id": 3, "name": "callback", "state": "due", "owner": "sup",
         "due_at": "2026-03-01T08:00:00Z", "deadline_at": "2026-03-02T08:00:00Z",
         "outcome": None}], "next": None}),
    ("POST", "/v1/followups/7/complete"): (200, {"id": 7, "state": "done",
                                                "outcome": "satisfied"}),
    ("POST", "/v1/followups/8/complete"): (409, {"error": {"code": "conflict",
                                                          "message": "already done"}}),
    ("POST", "/v1/plans"): (201, {"id": 4, "name": "boiler", "rrule": "FREQ=MONTHLY"}),
    ("GET", "/v1/plans"): (200, {"plans": [{"id": 4, "name": "boiler",
                                            "customer": {"name": "Li"}, "rrule": "FREQ=MONTHLY",
                                            "start": "2026-03-01T00:00:00Z"}], "next": None}),
    ("GET", "/v1/plans/4"): (200, {"id": 4, "name": "boiler", "rrule": "FREQ=MONTHLY"}),
    ("DELETE", "/v1/plans/4"): (200, {"status": "deleted"}),
    ("GET", "/v1/notifications"): (200, {"notifications": [
        {"id": 9, "ticket_id": 3, "event": "sla.warning", "channel": "log",
         "recipient": "sup", "state": "dead", "attempts": 5, "last_error": "HTTP 500",
         "idempotency_key": "t3/x"}], "next": None}),
    ("POST", "/v1/notifications/9/retry"): (200, {"status": "queued"}),
    ("GET", "/v1/reports/sla"): (200, {"rows": [
        {"group": "fast", "clock": "response", "total": 4, "met": 3, "missed": 1, "open": 0,
         "compliance": 0.75, "mean_s": 120, "p90_s": 300}],
        "followups": {"total": 1, "done": 1, "overdue": 0, "rate": 1.0}}),
}


@pytest.fixture
def fake(tmp_path):
    """A Unix-socket HTTP server answering FAKE; records (method, path, body)."""
    import http.server
    import socketserver
    import threading
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            seen.append((self.command, self.path, json.loads(body) if body else None))
            if path == "/v1/reports/sla" and "format=csv" in self.path:
                data, ctype, status = b"group,clock,compliance\nfast,response,0.75\n", \
                    "text/csv", 200
            else:
                status, v = FAKE.get((self.command, path), (404, {"error": {
                    "code": "not_found", "message": f"no such path '{path}'"}}))
                data, ctype = json.dumps(v).encode(), "application/json"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PATCH = answer

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

    path = str(tmp_path / "fake.sock")
    server = Server(path, Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Ctl(path), seen
    server.shutdown()
    server.server_close()


def test_followups_plans_notifications_report_shapes(fake):
    ctl, seen = fake
    out = ctl.ok("followups", "--state", "due", "--before", "2026-04-01T00:00:00Z").stdout
    assert out.splitlines()[0].split()[:4] == ["ID", "TICKET_ID", "NAME", "STATE"]
    assert "callback" in out and "2026-03-01 08:00:00" in out
    assert seen[-1][1] == "/v1/followups?state=due&before=2026-04-01T00%3A00%3A00Z"
    assert ctl.json("followups")["followups"][0]["id"] == 7
    out = ctl.ok("followup", "complete", 7, "--outcome", "satisfied", "--note", "ok").stdout
    assert "satisfied" in out
    assert seen[-1][2] == {"outcome": "satisfied", "note": "ok"}
    p = ctl.run("followup", "complete", 8, "--outcome", "satisfied")
    assert p.returncode == 1 and "already done" in p.stderr

    ctl.ok("plan", "create", "--name", "boiler", "--customer-name", "Li", "--device-serial",
           "SN-9", "--rrule", "FREQ=MONTHLY", "--start", "2026-03-01T00:00:00Z",
           "--due-within", "3wd")
    assert seen[-1][2] == {"name": "boiler", "customer": {"name": "Li"},
                           "device": {"serial": "SN-9"}, "rrule": "FREQ=MONTHLY",
                           "start": "2026-03-01T00:00:00Z", "due_within": "3wd"}
    out = ctl.ok("plan", "list").stdout
    assert "boiler" in out and '{"name":"Li"}' in out and "2026-03-01 00:00:00 +00:00" in out
    assert ctl.json("plan", "list")["plans"][0]["id"] == 4
    assert "FREQ=MONTHLY" in ctl.ok("plan", "show", 4).stdout
    assert ctl.json("plan", "show", 4)["name"] == "boiler"
    assert "deleted" in ctl.ok("plan", "delete", 4).stdout
    assert seen[-1][0] == "DELETE"
    p = ctl.run("plan", "show", 5)
    assert p.returncode == 1 and "does not offer" in p.stderr

    out = ctl.ok("notifications", "--state", "dead", "--ticket", 3).stdout
    assert "sla.warning" in out and "HTTP 500" in out and "LAST_ERROR" in out
    assert ctl.json("notifications")["notifications"][0]["attempts"] == 5
    assert "queued" in ctl.ok("notification", "retry", 9).stdout
    assert ctl.json("notification", "retry", 9)["status"] == "queued"

    out = ctl.ok("report", "--from", "2026-01-01T00:00:00Z", "--by", "policy").stdout
    assert "COMPLIANCE" in out and "0.75" in out and "follow-ups" in out
    assert ctl.json("report")["rows"][0]["met"] == 3
    out = ctl.ok("report", "--format", "csv").stdout
    assert out.startswith("group,clock,compliance\n")


# --- issue 17: what a new user tripped on ------------------------------------------------

def listed_commands():
    """The commands `slactl --help` lists ("ticket create", "plan update", ...)."""
    p = subprocess.run([slactl_bin(), "--help"], capture_output=True, text=True,
                       timeout=RUN_TIMEOUT_S)
    commands = []
    for line in p.stdout.split("Commands:\n", 1)[1].splitlines():
        head = line[2:26].strip()
        if line.startswith("  ") and head and not head.startswith(("[", "--")):
            commands.append(" ".join(w for w in head.split() if not w.isupper()
                                     and not w.startswith("[")))
    return commands


def test_every_command_has_its_help(tmp_path):
    """`slactl COMMAND --help` prints that command's usage and options, exit 0, without a
    daemon; `slactl ticket --help` the ticket commands."""
    commands = listed_commands()
    assert "ticket create" in commands and "plan update" in commands, commands
    assert "check-config" in commands and len(commands) >= 25, commands
    ctl = Ctl(str(tmp_path / "no.sock"))
    for words in commands:
        p = ctl.run(*words.split(), "--help")
        assert p.returncode == 0, (words, p)
        assert p.stdout.startswith(f"Usage: slactl [GLOBAL OPTIONS] {words}"), (words, p.stdout)
        others = [c for c in commands if c != words and not c.startswith(words)
                  and f"  {c} " in p.stdout]
        assert not others, (words, others)
    p = ctl.ok("ticket", "create", "--help")
    assert "--title X --severity X [--grade X]" in p.stdout, p.stdout
    p = ctl.ok("ticket", "--help")
    assert "ticket create" in p.stdout and "ticket resolve" in p.stdout
    assert "plan create" not in p.stdout


@pytest.mark.parametrize("args, missing", [
    (["ticket", "create", "--severity", "2"], "--title"),
    (["ticket", "create", "--title", "x"], "--severity"),
    (["ticket", "dispatch", "1"], "--assignee"),
    (["ticket", "hold", "1", "--by", "sup"], "--reason"),
    (["followup", "complete", "1", "--note", "n"], "--outcome"),
    (["plan", "create", "--name", "x", "--start", "2027-01-01T00:00:00Z"], "--rrule"),
    (["ticket", "show"], "missing ID"),
])
def test_missing_required_option_is_usage_before_connecting(tmp_path, args, missing):
    p = Ctl(str(tmp_path / "no.sock")).run(*args)
    assert p.returncode == 2, p
    assert missing in p.stderr and "cannot reach" not in p.stderr, p.stderr


def test_file_with_field_options_is_refused(ctl, tmp_path):
    f = tmp_path / "t.json"
    f.write_text(json.dumps({"title": "from file", "severity": 2}))
    for args in (["--file", f, "--title", "X"], ["--title", "X", "--file", f]):
        p = ctl.run("ticket", "create", *args)
        assert p.returncode == 2 and "--file" in p.stderr and "--title" in p.stderr, p
    assert ctl.json("ticket", "list")["tickets"] == []
    # --file alone needs no --title: the file has it.
    assert ctl.json("ticket", "create", "--file", f)["title"] == "from file"


def test_permission_denied_on_the_socket_says_so(tmp_path):
    import socket as pysocket
    path = str(tmp_path / "slad.sock")
    listener = pysocket.socket(pysocket.AF_UNIX, pysocket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    try:
        argv = [slactl_bin(), "--socket", path, "status"]
        if os.geteuid() == 0:  # root passes any mode: run as nobody
            os.chmod(tmp_path, 0o755)
            os.chmod(path, 0o600)
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + argv
        else:
            os.chmod(path, 0)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    finally:
        listener.close()
    assert p.returncode == 2, p
    assert "permission denied" in p.stderr and "usermod -aG slad" in p.stderr, p.stderr
    assert "is slad running" not in p.stderr, p.stderr


def test_ticket_show_every_field_and_zoned_times(ctl, tmp_path):
    body = {"title": "chiller", "severity": 2, "source": "crm", "external_id": "CRM-7",
            "description": "noisy since Monday", "fault_code": "E42",
            "customer": {"name": "Li Lei", "phone": "+8613900000000", "address": "1 Bund Rd"},
            "device": {"model": "KFR-72LW", "serial": "SN-17"}, "labels": {"zone": "a"},
            "reported_at": "2026-03-02T08:00:00Z"}
    f = tmp_path / "t.json"
    f.write_text(json.dumps(body))
    tid = ctl.json("ticket", "create", "--file", f)["id"]
    shown = ctl.ok("ticket", "show", tid).stdout
    for line in ("customer.name   Li Lei", "customer.phone  +8613900000000",
                 "customer.address 1 Bund Rd", "device.model    KFR-72LW",
                 "device.serial   SN-17", "fault_code      E42", "labels          zone=a",
                 "external_id     CRM-7", "reopen_count    0", "repeat_count    1",
                 "description     noisy since Monday",
                 "reported_at     2026-03-02 08:00:00 +00:00"):
        assert line in shown, (line, shown)
    shown = ctl.ok("ticket", "show", tid, env={"TZ": "Asia/Shanghai"}).stdout
    assert "reported_at     2026-03-02 16:00:00 +08:00" in shown, shown
    assert re.search(r"resolution +\S+ +\S+ +\S+ +\S+ \S+ \+08:00", shown), shown


def test_ticket_update_label(ctl):
    t = new_ticket(ctl)
    v = ctl.json("ticket", "update", t["id"], "--label", "zone=a", "--label", "kind=x")
    assert v["labels"] == {"zone": "a", "kind": "x"}, v
    v = ctl.json("ticket", "update", t["id"], "--label", "kind=")
    assert v["labels"] == {"zone": "a"}, v
    p = ctl.run("ticket", "update", t["id"], "--label", "zone")
    assert p.returncode == 2 and "KEY=VALUE" in p.stderr, p
    v = ctl.json("ticket", "update", t["id"], "--title", "printer on fire, 2nd floor",
                 "--customer-phone", "+8613900000001", "--device-serial", "SN-2")
    assert v["title"] == "printer on fire, 2nd floor" and v["labels"] == {"zone": "a"}, v
    assert v["customer"]["phone"] == "+8613900000001" and v["device"]["serial"] == "SN-2", v


def test_plan_options_update_and_pages(ctl):
    start = rfc3339(time.time() + 86400)
    p = ctl.json("plan", "create", "--name", "boiler", "--rrule", "FREQ=MONTHLY",
                 "--start", start, "--due-within", "1d", "--assignee", "sup",
                 "--owner", "supervisor", "--calendar", "24x7", "--customer-address", "1 Bund Rd")
    assert (p["assignee"], p["owner"], p["calendar"]) == ("sup", "supervisor", "24x7"), p
    assert p["customer"]["address"] == "1 Bund Rd", p
    q = ctl.json("plan", "create", "--name", "second", "--rrule", "FREQ=YEARLY",
                 "--start", start, "--due-within", "1d")
    v = ctl.json("plan", "update", p["id"], "--name", "boiler 2", "--customer-name", "Li")
    assert v["name"] == "boiler 2" and v["customer"] == {
        "name": "Li", "phone": None, "address": "1 Bund Rd"}, v
    page = ctl.json("plan", "list", "--limit", 1)
    assert [x["id"] for x in page["plans"]] == [p["id"]] and page["next"] == p["id"], page
    page = ctl.json("plan", "list", "--after", p["id"])
    assert [x["id"] for x in page["plans"]] == [q["id"]], page
    assert "more: --after" in ctl.ok("plan", "list", "--limit", 1).stdout


def test_single_followup_and_notification_and_filters(ctl, daemon):
    t = new_ticket(ctl, severity=1, team="north")
    ctl.ok("ticket", "resolve", t["id"])
    (fu,) = ctl.json("followups", "--ticket", t["id"])["followups"]
    assert ctl.json("followup", "show", fu["id"])["name"] == fu["name"]
    assert "deadline_at" in ctl.ok("followup", "show", fu["id"]).stdout
    notes = ctl.json("notifications", "--ticket", t["id"], "--event", "followup.due",
                     "--channel", "log")["notifications"]
    assert all(n["event"] == "followup.due" and n["channel"] == "log" for n in notes), notes
    got = wait_for(lambda: ctl.json("notifications", "--ticket", t["id"])["notifications"], 10,
                   "a notification")
    assert ctl.json("notification", "show", got[0]["id"])["id"] == got[0]["id"]


def test_ticket_list_by_origin(ctl):
    t = new_ticket(ctl, source="crm", external_id="CRM-9")
    new_ticket(ctl, source="crm", external_id="CRM-10")
    v = ctl.json("ticket", "list", "--source", "crm", "--external-id", "CRM-9")
    assert [x["id"] for x in v["tickets"]] == [t["id"]], v
