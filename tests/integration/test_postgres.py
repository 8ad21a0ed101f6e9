"""The PostgreSQL test harness itself (pg.py, scripts/with-postgres.sh): the server runs
as an unprivileged user, on a Unix socket only, with fsync on, and nothing is left behind
when it stops, even when the command under scripts/with-postgres.sh fails."""

import os
import re
import shutil
import subprocess
import tempfile
import time

from pg import PGBIN, Cluster, postgres  # noqa: F401 (the fixture)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WITH_POSTGRES = os.path.join(ROOT, "scripts", "with-postgres.sh")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_server_is_unprivileged_socket_only_and_durable(postgres):
    settings = postgres.psql(
        "SELECT current_setting('fsync') || ' ' || current_setting('synchronous_commit')"
        " || ' [' || current_setting('listen_addresses') || '] '"
        " || current_setting('unix_socket_directories')").strip()
    assert settings == f"on on [] {postgres.folder}"
    owner = os.stat(postgres.data).st_uid
    assert owner != 0, "the server's files must not belong to root"
    assert os.path.exists(os.path.join(postgres.folder, ".s.PGSQL.5432"))


def test_restart_keeps_data(postgres):
    postgres.psql("CREATE TABLE kept (n integer); INSERT INTO kept VALUES (42)")
    postgres.restart()
    assert postgres.psql("SELECT n FROM kept").strip() == "42"


def test_cluster_start_and_stop_are_fast_and_leave_no_server():
    folder = tempfile.mkdtemp(prefix="slad-pg.")
    try:
        t0 = time.monotonic()
        cluster = Cluster(folder).start()
        t1 = time.monotonic()
        pid = int(open(os.path.join(cluster.data, "postmaster.pid")).readline())
        cluster.stop()
        t2 = time.monotonic()
        print(f"\npg.py: initdb + start {t1 - t0:.2f} s, stop {t2 - t1:.2f} s")
        # pg_ctl returns when postmaster.pid is gone; the process exits just after (and
        # may stay a zombie until its reaper runs).
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not alive(pid), "the server outlived stop()"
        # A shared 2-core machine is slow; this bounds a stall, not the normal case.
        assert t2 - t0 < 60
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_with_postgres_sh_gives_a_database_and_cleans_up_after_a_failure():
    env = dict(os.environ)
    script = (f'{PGBIN}/psql -X -Atc "SELECT current_setting(\'fsync\')" "$SLAD_TEST_PG" && '
              'echo "$SLAD_TEST_PG" && exit 7')
    t0 = time.monotonic()
    r = subprocess.run([WITH_POSTGRES, "sh", "-c", script], env=env, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    print(f"\nwith-postgres.sh: start, one query, stop {time.monotonic() - t0:.2f} s")
    assert r.returncode == 7, r.stderr
    fsync, conninfo = r.stdout.split("\n")[:2]
    assert fsync == "on"
    folder = conninfo.split()[0].removeprefix("host=")
    assert folder.startswith("/") and not os.path.exists(folder), \
        f"{folder} is left behind"


def test_daemon_on_an_unreachable_postgresql_database(make_daemon):
    """A PostgreSQL database the daemon cannot reach: it does not start, says why, and
    never logs the connection string's password."""
    d = make_daemon()
    with open(d.conf_path, encoding="utf-8") as f:
        text = f.read()
    # The database the harness chose (SQLite's file, or the tests' cluster when
    # SLAD_TEST_BACKEND=postgres) replaced by hosts that do not exist.
    text, n = re.subn(r'database = "[^"]*";',
                      'database = "postgresql://slad:PGSECRET@db1,db2/slad'
                      '?target_session_attrs=read-write";\n  failover_timeout = "5s";', text,
                      count=1)
    assert n == 1, text
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(text)
    d.spawn()
    assert d.wait_exit() == 1
    log = d.log()
    assert "cannot open the database '(the PostgreSQL database)'" in log, log
    assert "PGSECRET" not in log
    assert not os.path.exists(d.socket_path)
    d.check_sanitizers()
