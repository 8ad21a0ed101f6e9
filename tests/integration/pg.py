"""A throwaway PostgreSQL 15 cluster for the integration tests (the python twin of
scripts/with-postgres.sh).

Cluster(folder) runs initdb and pg_ctl (PGBIN, default /usr/lib/postgresql/15/bin) in
that folder as an unprivileged user (the caller, or `postgres` through runuser when the
tests run as root, as in CI), listening only on a Unix socket in the folder, fsync on.
`conninfo` is the libpq connection string slad's `database` takes; `stop()` (also on
exit of the `with` block, whatever happened) stops the server with -m immediate.
restart() and kill() are there for the database-restart tests.

    from pg import postgres          # the fixture: one cluster per test module
    def test_x(postgres): ... postgres.conninfo ...

Nothing is skipped: without postgresql-15 the fixture fails saying what to install.
"""

import os
import shutil
import subprocess
import tempfile

import pytest

PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
START_TIMEOUT_S = 30


class Cluster:
    def __init__(self, folder):
        self.folder = folder
        self.data = os.path.join(folder, "data")
        self.log = os.path.join(folder, "server.log")
        self.running = False
        self._as_owner = []
        if os.geteuid() == 0:
            # The server refuses to run as root: the folder goes to `postgres`.
            shutil.chown(folder, "postgres", "postgres")
            self._as_owner = ["runuser", "-u", "postgres", "--"]

    @property
    def conninfo(self):
        return self.conninfo_of("postgres")

    def conninfo_of(self, dbname):
        """The connection string of another database of the cluster (CREATE DATABASE)."""
        return f"host={self.folder} user=slad dbname={dbname}"

    def _run(self, *args):
        cmd = self._as_owner + [os.path.join(PGBIN, args[0])] + list(args[1:])
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            log = ""
            if os.path.exists(self.log):
                with open(self.log) as f:
                    log = f.read()
            raise RuntimeError(f"{' '.join(args[:1])} failed ({r.returncode}): {r.stdout}{log}")
        return r.stdout

    def _initdb(self, data):
        assert os.access(os.path.join(PGBIN, "initdb"), os.X_OK), (
            f"{PGBIN}/initdb not found: install postgresql-15 (scripts/install-deps.sh)")
        # --no-sync only skips flushing initdb's own files; the server runs with fsync.
        self._run("initdb", "-D", data, "-U", "slad", "-A", "trust", "--no-sync",
                  "-E", "UTF8", "--locale=C")

    def _make_data(self):
        """initdb takes seconds (20 on a loaded machine): with SLAD_PG_TEMPLATE its result
        is made once, renamed into place whole, and copied after (as with-postgres.sh)."""
        template = os.environ.get("SLAD_PG_TEMPLATE")
        if not template:
            self._initdb(self.data)
            return
        if not os.path.isdir(template):
            os.makedirs(os.path.dirname(template), exist_ok=True)
            fresh = os.path.join(self.folder, "template")
            self._initdb(fresh)
            # Copied beside the template first: a rename is whole only on one file system.
            beside = f"{template}.{os.getpid()}"
            subprocess.run(["cp", "-a", fresh, beside], check=True)
            shutil.rmtree(fresh, ignore_errors=True)
            try:
                os.rename(beside, template)
            except OSError:  # another test made it first
                shutil.rmtree(beside, ignore_errors=True)
        subprocess.run(["cp", "-a", template, self.data], check=True)
        if self._as_owner:
            subprocess.run(["chown", "-R", "postgres:postgres", self.data], check=True)

    def start(self):
        if not os.path.isdir(self.data):
            self._make_data()
            with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
                f.write(f"listen_addresses = ''\nunix_socket_directories = '{self.folder}'\n"
                        "fsync = on\nsynchronous_commit = on\nmax_connections = 40\n"
                        "shared_buffers = 32MB\n")
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", str(START_TIMEOUT_S),
                  "start")
        self.running = True
        return self

    def stop(self, mode="immediate"):
        if self.running:
            self.running = False
            self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def restart(self):
        self.stop(mode="fast")
        self.start()

    def psql(self, sql, dbname="postgres"):
        """One statement's rows as text (psql -At), for checks from a test."""
        r = subprocess.run([os.path.join(PGBIN, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1",
                            "-c", sql, self.conninfo_of(dbname)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
        assert r.returncode == 0, f"psql {sql!r}: {r.stderr}"
        return r.stdout

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@pytest.fixture(scope="module")
def postgres():
    folder = tempfile.mkdtemp(prefix="slad-pg.")
    try:
        with Cluster(folder) as cluster:
            yield cluster
    finally:
        shutil.rmtree(folder, ignore_errors=True)
