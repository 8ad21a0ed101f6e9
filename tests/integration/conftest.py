"""Integration harness: the real slad daemon ($SLAD_BIN) in a temporary directory.

A Daemon writes its config from tests/integration/data/*.conf, starts the binary (its
stderr goes to a file the tests read), waits until /healthz answers (polling with a
deadline, never a fixed sleep), gives an HTTP client over the Unix socket (http.client
with an AF_UNIX connection), and at the end stops it with SIGTERM and checks the exit
status and that the log holds no sanitizer report.

Every answer the Client receives is checked against the API's contract, doc/openapi.yaml
(contract.py, with Debian's python3-yaml and python3-jsonschema): an answer the document
does not describe fails the test that received it, once the test is done.

Everything the tests need is required: a missing feature fails, nothing is skipped.

SLAD_TEST_BACKEND=postgres runs the same tests on PostgreSQL: each Daemon gets a new
database of one cluster (pg.py) that this pytest process starts at its first use and stops
at its end, also when the test wrote the daemon's config itself. A test reads or changes
the database behind the daemon with Daemon.sql, on either backend. The files about the
SQLite file itself (its readers, its lease, a copy from it) are skipped there
(SQLITE_ONLY), and so are single cases marked sqlite_only (its disk's faults, its modes,
its commit thread), each with its reason.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

import contract
import pg
from contract import CONTRACT, ContractError

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

# Generous for the ASan/UBSan build on a loaded machine; polling returns as soon as the
# condition holds.
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 15.0

SANITIZER_MARKERS = (
    "AddressSanitizer",
    "LeakSanitizer",
    "UndefinedBehaviorSanitizer",
    "runtime error:",
    "ThreadSanitizer",
)

# Exec the daemon as systemd does for socket activation: the listening sockets at fds 3...,
# LISTEN_FDS and LISTEN_PID set to the pid that execs (this wrapper's, kept by exec).
ACTIVATE_WRAPPER = r"""
import os, sys
fds = [int(x) for x in sys.argv[1].split(",")]
for i, fd in enumerate(fds):
    if fd != 3 + i:
        os.dup2(fd, 3 + i)
        os.set_inheritable(3 + i, True)
for fd in fds:
    if fd >= 3 + len(fds):
        os.close(fd)
os.environ["LISTEN_FDS"] = str(len(fds))
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[2], sys.argv[2:])
"""


BACKEND = os.environ.get("SLAD_TEST_BACKEND", "sqlite")
assert BACKEND in ("sqlite", "postgres"), f"SLAD_TEST_BACKEND={BACKEND}: sqlite or postgres"

# Test files that are about the SQLite file itself, skipped on PostgreSQL (a single case:
# @pytest.mark.sqlite_only("why")).
SQLITE_ONLY = {
    "test_copy_database.py": "it starts its own PostgreSQL cluster and copies a SQLite file "
                             "into it and back, whatever the backend: the SQLite run is the "
                             "whole test",
    "test_readers.py": "it tests the reader threads that compute reports on their own "
                       "connections to the SQLite file; on PostgreSQL reports run on the "
                       "loop's connection, there is no reader (test_reports.py covers the "
                       "reports on both)",
    "test_scheduler.py": "it tests SQLite's lease, held by the one daemon the file's lock "
                         "allows; the lease between PostgreSQL instances is "
                         "test_failover.py's",
}


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(reason): a case about the SQLite file "
                            "itself, skipped on PostgreSQL with its reason")


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL: skip the SQLITE_ONLY files, and the cases marked sqlite_only."""
    if BACKEND != "postgres":
        return
    for item in items:
        reason = SQLITE_ONLY.get(os.path.basename(str(item.fspath)))
        mark = item.get_closest_marker("sqlite_only")
        if mark:
            reason = mark.args[0]
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


_PG = {}


def postgres_database():
    """A new database of this process's cluster (started at the first call): its
    conninfo, for a Daemon's `database`."""
    if "cluster" not in _PG:
        import tempfile
        folder = tempfile.mkdtemp(prefix="slad-pg.")
        _PG["folder"] = folder
        _PG["cluster"] = pg.Cluster(folder).start()
        _PG["n"] = 0
    _PG["n"] += 1
    name = f"slad_{_PG['n']}"
    _PG["cluster"].psql(f"CREATE DATABASE {name}")
    return _PG["cluster"].conninfo_of(name)


def stop_postgres():
    if "cluster" in _PG:
        import shutil
        _PG.pop("cluster").stop()
        shutil.rmtree(_PG.pop("folder"), ignore_errors=True)


def slad_bin():
    path = os.environ.get("SLAD_BIN")
    assert path, "SLAD_BIN must name the slad binary (meson test sets it)"
    assert os.access(path, os.X_OK), f"SLAD_BIN '{path}' is not executable"
    return path


def wait_for(cond, timeout, what, interval=0.02):
    """Poll cond() until it returns a true value; fail naming what after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def fill_file_system(path):
    """Write path until its file system is full (to the last block); the caller removes it."""
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def write_private(path, text):
    """Write a secret file as an operator must: readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def free_tcp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raw_exchange(path, data, timeout=5.0, shut=True, until_close=False):
    """Send data on a new Unix socket connection; return what came back until the peer
    closed, a full answer arrived (unless until_close), or timeout. shut: half-close after
    sending (the request is complete)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    out = b""
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            if not until_close and complete_answer(out):
                break
    except (BrokenPipeError, ConnectionResetError):
        pass  # the daemon closed on us mid-send: an answer of its own kind
    finally:
        s.close()
    return out


def complete_answer(buf):
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def parse_status(buf):
    """(status, body) of the first answer in buf, or (None, b"") when nothing came back."""
    if not buf:
        return None, b""
    line = buf.split(b"\r\n", 1)[0].split(b" ")
    assert line[0].startswith(b"HTTP/1."), f"not an HTTP answer: {buf[:200]!r}"
    return int(line[1]), buf.partition(b"\r\n\r\n")[2]


def parse_answer(buf):
    """(status, headers with lower-case names, body) of the one answer buf holds."""
    head, sep, body = buf.partition(b"\r\n\r\n")
    assert sep, f"no complete answer head: {buf[:300]!r}"
    lines = head.decode("latin-1").split("\r\n")
    version, status = lines[0].split(" ")[:2]
    assert version in ("HTTP/1.0", "HTTP/1.1"), lines[0]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status), headers, body


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix stream socket."""

    def __init__(self, path, timeout=REQUEST_TIMEOUT_S):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            pytest.fail(f"answer {self.status} is not JSON: {self.body[:300]!r}")

    def error_code(self):
        return self.json["error"]["code"]

    def error_message(self):
        return self.json["error"]["message"]

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


# The exchanges of the running test, checked against doc/openapi.yaml when it ends
# (check_exchanges_at_the_end): checking one costs about a millisecond of the interpreter's
# lock, which a test that measures latency or load would measure with the daemon.
EXCHANGES = []
EXCHANGES_LOCK = threading.Lock()
EXCHANGES_BYTES = 0
EXCHANGES_BYTES_MAX = 64 << 20  # then they are checked at once, to bound the memory held


def check_exchanges(exchanges):
    """Fail the test unless doc/openapi.yaml describes each exchange."""
    for exchange in exchanges:
        try:
            CONTRACT.check(*exchange)
        except ContractError as e:
            pytest.fail(f"doc/openapi.yaml does not describe this exchange: {e}", pytrace=False)


def take_exchanges():
    global EXCHANGES_BYTES
    with EXCHANGES_LOCK:
        taken = EXCHANGES[:]
        EXCHANGES.clear()
        EXCHANGES_BYTES = 0
    return taken


def record_exchange(exchange):
    global EXCHANGES_BYTES
    with EXCHANGES_LOCK:
        EXCHANGES.append(exchange)
        EXCHANGES_BYTES += len(exchange[2] or b"") + len(exchange[5])
        full = EXCHANGES_BYTES > EXCHANGES_BYTES_MAX
    if full:
        check_exchanges(take_exchanges())


def pytest_sessionfinish(session):
    """SLAD_CONTRACT_SEEN=FILE: append the (operationId, status) pairs the tests met."""
    stop_postgres()
    try:
        check_exchanges(take_exchanges())  # those of module fixtures' teardown
    except pytest.fail.Exception as e:
        print(f"\n{e}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if os.environ.get("SLAD_CONTRACT_SEEN"):
        contract.coverage_report(os.environ["SLAD_CONTRACT_SEEN"])


@pytest.fixture(autouse=True)
def check_exchanges_at_the_end():
    """Every answer a Client received during the test (autouse: set up first, so torn down
    last, after the fixtures' own requests), checked once the test is done."""
    yield
    check_exchanges(take_exchanges())


class Client:
    """One connection per request (simple and independent of keep-alive)."""

    def __init__(self, unix_path=None, tcp=None, token=None):
        self.unix_path = unix_path
        self.tcp = tcp
        self.token = token

    def _conn(self):
        if self.unix_path:
            return UnixHTTPConnection(self.unix_path)
        host, port = self.tcp
        return http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_S)

    def request(self, method, path, body=None, headers=None, raw=None):
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if self.token is not None:
            hdrs.setdefault("Authorization", f"Bearer {self.token}")
        conn = self._conn()
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            resp = Response(r.status, dict(r.getheaders()), r.read())
        finally:
            conn.close()
        record_exchange((method, path, data, resp.status, resp.headers, resp.body))
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def render_config(template, directory, daemon_extra="", database=None):
    with open(os.path.join(DATA_DIR, template), encoding="utf-8") as f:
        text = f.read()
    if database:
        text = text.replace('"@DIR@/slad.db"', f'"{database}"')
    return text.replace("@DIR@", directory).replace("@DAEMON@", daemon_extra)


class Daemon:
    """One slad process in directory; start() may be called again after stop()."""

    def __init__(self, directory, template="fast.conf", daemon_extra=""):
        self.dir = str(directory)
        self.socket_path = os.path.join(self.dir, "slad.sock")
        self.db_path = os.path.join(self.dir, "slad.db")
        self.conf_path = os.path.join(self.dir, "slad.conf")
        self.log_path = os.path.join(self.dir, "slad.log")
        self.daemon_extra = daemon_extra
        # SLAD_TEST_BACKEND=postgres: a new database of the tests' cluster.
        self.database = postgres_database() if BACKEND == "postgres" else None
        self.write_config(template)
        self.proc = None
        self.client = Client(unix_path=self.socket_path)
        self.starts = 0

    def write_config(self, template="fast.conf", daemon_extra=None):
        if daemon_extra is not None:
            self.daemon_extra = daemon_extra
        text = render_config(template, self.dir, self.daemon_extra, self.database)
        tmp = self.conf_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, self.conf_path)

    def replace_in_config(self, old, new):
        """Change one setting of the written config (old must be in it), before a start."""
        with open(self.conf_path, encoding="utf-8") as f:
            text = f.read()
        assert old in text, f"'{old}' is not in {self.conf_path}"
        with open(self.conf_path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new))

    def use_the_tests_database(self):
        """SLAD_TEST_BACKEND=postgres: a config the test wrote itself (its own text, not
        render_config's) names the SQLite file in the daemon's folder; the daemon is started
        on its PostgreSQL database instead, so that no test runs on SQLite unnoticed."""
        if not self.database or not os.path.exists(self.conf_path):
            return
        with open(self.conf_path, encoding="utf-8") as f:
            text = f.read()
        if f'"{self.db_path}"' in text:
            write_private(self.conf_path, text.replace(f'"{self.db_path}"', f'"{self.database}"'))

    # --- process -------------------------------------------------------------------
    def spawn(self, env=None, pass_fds=(), activate_fds=None, preexec_fn=None):
        """Start the process without waiting. activate_fds: socket activation;
        preexec_fn: runs in the child before exec (limits, umask)."""
        assert self.proc is None or self.proc.poll() is not None
        full_env = dict(os.environ)
        full_env.pop("NOTIFY_SOCKET", None)
        full_env.pop("LISTEN_FDS", None)
        full_env.pop("LISTEN_PID", None)
        full_env.pop("WATCHDOG_USEC", None)
        full_env.update(env or {})
        self.use_the_tests_database()
        argv = [slad_bin(), "--config", self.conf_path]
        if activate_fds:
            fds = ",".join(map(str, activate_fds))
            argv = [sys.executable, "-c", ACTIVATE_WRAPPER, fds] + argv
            pass_fds = tuple(pass_fds) + tuple(activate_fds)
        self.log_offset = self.log_size()
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=self.log_file,
            env=full_env, pass_fds=pass_fds, cwd=self.dir, preexec_fn=preexec_fn)
        self.starts += 1
        return self.proc

    def start(self, **kw):
        t0 = time.monotonic()
        self.spawn(**kw)
        self.wait_healthy()
        self.start_seconds = time.monotonic() - t0
        return self

    def healthy(self):
        if self.proc.poll() is not None:
            pytest.fail(f"slad exited with {self.proc.returncode} while starting:\n{self.log()}")
        try:
            return self.client.get("/healthz").status == 200
        except OSError:
            return False

    def wait_healthy(self):
        wait_for(self.healthy, START_TIMEOUT_S, "/healthz to answer 200")

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=STOP_TIMEOUT_S):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"slad did not exit within {timeout} s:\n{self.log_tail()}")

    def stop(self, sig=signal.SIGTERM, expect_rc=0):
        """Graceful stop; checks the exit status, the time, and the sanitizers."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        t0 = time.monotonic()
        self.send_signal(sig)
        rc = self.wait_exit()
        self.stop_seconds = time.monotonic() - t0
        self.log_file.close()
        self.check_sanitizers()
        assert rc == expect_rc, f"slad exited with {rc}:\n{self.log_tail()}"
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.log_file.close()

    def restart(self, **kw):
        self.stop()
        return self.start(**kw)

    # --- log -------------------------------------------------------------------------
    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log(self, since_start=False):
        try:
            with open(self.log_path, "rb") as f:
                if since_start:
                    f.seek(self.log_offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=60):
        return "\n".join(self.log().splitlines()[-n:])

    def wait_log(self, needle, timeout=10.0, since=0):
        """Wait until needle appears in the log after byte offset since."""
        def found():
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return needle in f.read().decode("utf-8", "replace")
        wait_for(found, timeout, f"'{needle}' in the log")

    def check_sanitizers(self):
        text = self.log()
        for marker in SANITIZER_MARKERS:
            assert marker not in text, f"sanitizer report in the log:\n{self.log_tail(120)}"

    # --- the database itself, on either backend ------------------------------------
    def sql(self, statement):
        """Run one SQL statement on the daemon's database, whichever backend, and return
        its rows as dicts (a write returns [] unless it has RETURNING). For the checks the API cannot make (what
        the outbox or the history holds, a code's hash) and the few changes a test forces
        (an expiry in the past). Write it in the SQL both engines read alike; values go in
        the text, not as parameters."""
        reading = statement.lstrip().upper().startswith("SELECT")
        if self.database:
            dbname = self.database.rsplit("dbname=", 1)[1]
            if reading or " RETURNING " in statement.upper():
                text = _PG["cluster"].psql(
                    f"WITH r AS ({statement}) SELECT coalesce(json_agg(r), '[]') FROM r", dbname)
                return json.loads(text)
            _PG["cluster"].psql(statement, dbname)
            return []
        import sqlite3
        db = (sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10) if reading
              else sqlite3.connect(self.db_path, timeout=10))
        try:
            db.row_factory = sqlite3.Row
            with db:
                return [dict(r) for r in db.execute(statement).fetchall()]
        finally:
            db.close()

    # --- API helpers ---------------------------------------------------------------
    def create(self, **fields):
        body = {"title": "printer on fire", "severity": 2}
        body.update(fields)
        r = self.client.post("/v1/tickets", body)
        assert r.status == 201, r
        return r.json

    def ticket(self, tid):
        r = self.client.get(f"/v1/tickets/{tid}")
        assert r.status == 200, r
        return r.json

    def event(self, tid, type_, **fields):
        body = {"type": type_}
        body.update(fields)
        return self.client.post(f"/v1/tickets/{tid}/events", body)


@pytest.fixture
def make_daemon(tmp_path):
    """Factory: make_daemon(template=..., daemon_extra=...) -> a Daemon, not started.
    Every daemon made is stopped at the end (exit 0, no sanitizer report)."""
    made = []

    def make(template="fast.conf", daemon_extra="", subdir=None):
        d = tmp_path / (subdir or f"d{len(made)}")
        d.mkdir()
        daemon = Daemon(d, template=template, daemon_extra=daemon_extra)
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.stop()
        elif daemon.proc is not None:
            daemon.check_sanitizers()


@pytest.fixture
def daemon(make_daemon):
    """A running daemon on fast.conf."""
    return make_daemon().start()


@pytest.fixture
def client(daemon):
    return daemon.client
