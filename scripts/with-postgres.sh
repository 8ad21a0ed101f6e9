#!/bin/sh
# with-postgres.sh CMD [ARG...]: run CMD beside a throwaway PostgreSQL 15 cluster.
#
# initdb and pg_ctl (PGBIN, default /usr/lib/postgresql/15/bin) make a cluster in a new
# temporary folder, as an unprivileged user: the caller when it is not root, else the
# `postgres` user of the postgresql-common package (through runuser), who owns the folder.
# The server listens only on a Unix socket in that folder (listen_addresses = ''), with
# fsync on: what the tests measure is what a real server pays. CMD runs with
# SLAD_TEST_PG set to a libpq connection string for the database `postgres` (user `slad`,
# trust authentication on the socket: the folder is private to the two users), and the
# cluster is stopped and its folder removed when CMD ends, fails or is interrupted.
# The exit status is CMD's. scripts/install-deps.sh installs postgresql-15.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ $# -eq 0 ]; then
    echo "usage: with-postgres.sh CMD [ARG...]" >&2
    exit 2
fi
if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
    echo "with-postgres: $PGBIN/initdb not found; install postgresql-15" \
        "(scripts/install-deps.sh) or set PGBIN" >&2
    exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/slad-pg.XXXXXX")
as_owner() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        echo "with-postgres: running as root and there is no 'postgres' user to run the" \
            "server as; install postgresql-15" >&2
        rmdir "$dir"
        exit 1
    fi
    chown postgres: "$dir"
    as_owner() { runuser -u postgres -- "$@"; }
fi

child=""
stop() {
    [ -z "$child" ] || kill "$child" 2>/dev/null || true
    # Immediate: nothing in a throwaway cluster needs a checkpoint on the way out.
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# initdb takes seconds (most of the start): with SLAD_PG_TEMPLATE (a folder path, e.g. in
# the build directory) its result is made once, renamed into place whole, and copied after.
# --no-sync only skips flushing initdb's own files: the server runs with fsync on.
initdb_into() {
    as_owner "$PGBIN/initdb" -D "$1" -U slad -A trust --no-sync -E UTF8 --locale=C \
        >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
}
template=${SLAD_PG_TEMPLATE:-}
if [ -z "$template" ]; then
    initdb_into "$dir/data"
else
    if [ ! -d "$template" ]; then
        mkdir -p "$(dirname "$template")"
        initdb_into "$dir/template"
        # Copied beside the template first: a rename is whole only on one file system.
        cp -a "$dir/template" "$template.$$"
        mv -T "$template.$$" "$template" 2>/dev/null || rm -rf "$template.$$"
    fi
    cp -a "$template" "$dir/data"
    [ "$(id -u)" -ne 0 ] || chown -R postgres: "$dir/data"
fi
cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
max_connections = 40
shared_buffers = 32MB
EOF
as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null || {
    cat "$dir/server.log" >&2
    exit 1
}

# pg_ctl puts the server in a session of its own, so a SIGKILL of this script (meson's
# timeout kills the process group) would leave it running: a watchdog in another session
# stops it when this script is gone. Its output goes nowhere: meson waits for the pipes.
owner=""
[ "$(id -u)" -ne 0 ] || owner=postgres
setsid sh -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
    if [ -n "$4" ]; then runuser -u "$4" -- "$3/pg_ctl" -D "$2/data" -m immediate stop
    else "$3/pg_ctl" -D "$2/data" -m immediate stop; fi
    rm -rf "$2"' watchdog "$$" "$dir" "$PGBIN" "$owner" </dev/null >/dev/null 2>&1 &

SLAD_TEST_PG="host=$dir user=slad dbname=postgres"
export SLAD_TEST_PG
# In the background, waited for: a TERM or INT reaches the trap at once.
status=0
"$@" &
child=$!
wait "$child" || status=$?
child=""
exit $status
