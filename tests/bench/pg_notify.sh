#!/bin/sh
# pg_notify.sh: what LISTEN/NOTIFY would save and cost slad on PostgreSQL (doc/POSTGRESQL.md,
# "Learning of other instances' writes"), with pgbench, under scripts/with-postgres.sh
# (SLAD_TEST_PG names the throwaway cluster's database; PGBIN its programs).
#
# - The read the scheduler makes every second today (store_agenda_due.c: one of its three
#   statements, the rows due within 2 s on a partial next_ms index of 200,000 rows).
# - The cost of NOTIFY at commit: inserts committed one per transaction by 1, 4 and 8
#   clients, without and with a NOTIFY in the transaction. PostgreSQL serializes the
#   commits of notifying transactions (a lock taken in PreCommit_Notify and held through
#   the commit's WAL flush), so their group commit is lost.
set -eu
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
SECONDS_EACH=${SLAD_BENCH_SECONDS:-8}
: "${SLAD_TEST_PG:?run under scripts/with-postgres.sh}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/slad-pg-notify.XXXXXX")
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"

"$PGBIN/psql" -q -v ON_ERROR_STOP=1 "$SLAD_TEST_PG" <<'SQL'
DROP TABLE IF EXISTS bench_due;
CREATE TABLE bench_due (id BIGSERIAL PRIMARY KEY, next_ms BIGINT, body TEXT);
CREATE INDEX bench_due_next ON bench_due (next_ms) WHERE next_ms IS NOT NULL;
INSERT INTO bench_due (next_ms, body)
  SELECT CASE WHEN g % 4 = 0 THEN NULL ELSE 1780000000000 + g * 1000 END, repeat('x', 200)
  FROM generate_series(1, 200000) g;
ANALYZE bench_due;
SQL
echo "SELECT id, next_ms FROM bench_due WHERE next_ms IS NOT NULL AND next_ms <= 1780000002000;" \
    >"$dir/due.sql"
echo "INSERT INTO bench_due (next_ms, body) VALUES (1790000000000, 'y');" >"$dir/insert.sql"
printf 'BEGIN;\nINSERT INTO bench_due (next_ms, body) VALUES (1790000000000, %s);\nNOTIFY slad_due;\nCOMMIT;\n' \
    "'y'" >"$dir/insert-notify.sql"

run() { # name file clients
    out=$("$PGBIN/pgbench" -n -f "$2" -T "$SECONDS_EACH" -c "$3" "$SLAD_TEST_PG" 2>&1)
    tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
    printf '| %s | %s | %.0f | %s |\n' "$1" "$3" "$tps" "$lat"
}
echo "| what | clients | per second | ms each (average) |"
echo "|---|---|---|---|"
run "the due read (one of the three statements)" "$dir/due.sql" 1
for c in 1 4 8; do
    run "insert, commit" "$dir/insert.sql" "$c"
    run "insert, NOTIFY, commit" "$dir/insert-notify.sql" "$c"
done
