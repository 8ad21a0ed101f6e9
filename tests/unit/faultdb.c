/* faultdb.c - the service on a file database for the storage fault tests (faultdb.h). */
#include "faultdb.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_internal.h"
#include "conf_load.h"

static const char conf_text[] =
    "contacts = ( { name = \"tech\"; phone = \"+8613800000001\"; via = [\"log\"]; },\n"
    "             { name = \"boss\"; phone = \"+8613800000002\"; via = [\"log\"]; },\n"
    "             { name = \"chief\"; phone = \"+8613800000003\"; via = [\"log\"]; } );\n"
    "teams = ( { name = \"north\"; roles = { supervisor = [\"boss\"];\n"
    "                                        manager = [\"chief\"]; }; } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/slad-test.jsonl\"; } );\n"
    "repeat_fault = { count = 3; window = \"1h\"; notify = [\"manager\"]; };\n"
    "policies = (\n"
    "  { name = \"fast\"; match = { severity = [1]; }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"response\"; target = \"10s\"; stop = [\"acknowledge\", "
    "\"resolve\"];\n"
    "                 escalate = ( { at = \"50%\"; notify = [\"assignee\"]; },\n"
    "                              { at = \"100%\"; notify = [\"supervisor\", \"manager\"]; },\n"
    "                              { at = \"+5s\"; notify = [\"manager\"]; repeat = \"5s\"; } ); "
    "},\n"
    "               { name = \"resolution\"; target = \"60s\"; stop = [\"resolve\"];\n"
    "                 escalate = ( { at = \"100%\"; notify = [\"manager\"]; } ); } ); },\n"
    "  { name = \"slow\"; match = { }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"response\"; target = \"40s\"; stop = [\"acknowledge\", "
    "\"resolve\"];\n"
    "                 escalate = ( { at = \"50%\"; notify = [\"assignee\"]; },\n"
    "                              { at = \"100%\"; notify = [\"supervisor\"]; } ); } ); }\n"
    ");\n";

struct conf *faultdb_conf(void)
{
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load_string(conf_text, "fault.conf", &conf, &errs) < 0) {
        fprintf(stderr, "%s", errs.text ? errs.text : "?");
        conf_errors_done(&errs);
        return NULL;
    }
    return conf;
}

int faultdb_open(struct faultdb *db, const struct conf *conf, const char *path, bool full,
                 struct slad_error *reterr)
{
    memset(db, 0, sizeof(*db));
    int r = store_open(path, full, &db->store, reterr);
    if (r < 0)
        return r;
    db->agenda = agenda_new();
    if (!db->agenda) {
        faultdb_close(db);
        return slad_error_set(reterr, ENOMEM, "out of memory");
    }
    r = service_new(conf, db->store, db->agenda, NULL, &db->svc, reterr);
    if (r >= 0)
        r = service_load_agenda(db->svc, reterr);
    if (r < 0)
        faultdb_close(db);
    return r;
}

void faultdb_close(struct faultdb *db)
{
    service_free(db->svc);
    agenda_free(db->agenda);
    store_close(db->store);
    memset(db, 0, sizeof(*db));
}

const char *faultdb_tmpdir(void)
{
    return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

void faultdb_remove(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[512];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

int faultdb_reload_agenda(struct faultdb *db, struct slad_error *reterr)
{
    struct agenda_entry e;
    while (agenda_peek(db->agenda, &e))
        agenda_remove(db->agenda, e.kind, e.id);
    return service_load_agenda(db->svc, reterr);
}

static void dump_value(FILE *out, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        fputs("NULL", out);
        break;
    case SQLITE_INTEGER:
        fprintf(out, "%lld", (long long)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        fprintf(out, "%.17g", sqlite3_column_double(st, i));
        break;
    case SQLITE_TEXT:
        fprintf(out, "'%s'", (const char *)sqlite3_column_text(st, i));
        break;
    default: {
        const unsigned char *b = sqlite3_column_blob(st, i);
        fputs("x'", out);
        for (int j = 0; j < sqlite3_column_bytes(st, i); j++)
            fprintf(out, "%02x", b[j]);
        fputs("'", out);
    }
    }
}

/* Rows of table in the order of all their columns. */
static int dump_table(sqlite3 *db, const char *table, FILE *out)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"", table);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int n = sqlite3_column_count(st);
    sqlite3_finalize(st);
    size_t len = (size_t)snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" ORDER BY 1", table);
    for (int i = 2; i <= n && len < sizeof(sql); i++)
        len += (size_t)snprintf(sql + len, sizeof(sql) - len, ", %d", i);
    if (len >= sizeof(sql) || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    fprintf(out, "table %s\n", table);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < n; i++) {
            if (i)
                fputc('|', out);
            dump_value(out, st, i);
        }
        fputc('\n', out);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

char *faultdb_dump(struct faultdb *fdb)
{
    sqlite3 *db = store_db(fdb->store);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out)
        return NULL;
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
                    sqlite3_step(st) == SQLITE_ROW
                ? 0
                : -1;
    if (r == 0)
        fprintf(out, "user_version %d\n", sqlite3_column_int(st, 0));
    sqlite3_finalize(st);
    st = NULL;
    if (r == 0 && sqlite3_prepare_v2(db,
                                     "SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "ORDER BY name",
                                     -1, &st, NULL) != SQLITE_OK)
        r = -1;
    int rc = SQLITE_DONE;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        r = dump_table(db, (const char *)sqlite3_column_text(st, 0), out);
    if (rc != SQLITE_DONE)
        r = -1;
    sqlite3_finalize(st);
    fclose(out);
    if (r < 0) {
        free(text);
        return NULL;
    }
    return text;
}

void faultdb_print_diff(const char *before, const char *after)
{
    const char *b = before, *a = after;
    while (*a || *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || memcmp(a, b, la) != 0)
            fprintf(stderr, "- %.*s\n+ %.*s\n", (int)lb, b, (int)la, a);
        a += la + (a[la] != '\0');
        b += lb + (b[lb] != '\0');
    }
}

int faultdb_integrity(struct faultdb *fdb, struct slad_error *reterr)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store_db(fdb->store), "PRAGMA integrity_check", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int r;
    if (rc != SQLITE_ROW)
        r = slad_error_set(reterr, EIO, "integrity_check failed: %s", sqlite3_errstr(rc));
    else if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
        r = slad_error_set(reterr, EIO, "integrity_check: %s", sqlite3_column_text(st, 0));
    else
        r = 0;
    sqlite3_finalize(st);
    return r;
}

int faultdb_intake(struct faultdb *db, const char *external_id, int severity, int64_t now_ms,
                   int64_t *ret_id, struct slad_error *reterr)
{
    return faultdb_intake_at(db, external_id, severity, SLAD_NO_TIME, now_ms, ret_id, reterr);
}

int faultdb_intake_at(struct faultdb *db, const char *external_id, int severity,
                      int64_t reported_ms, int64_t now_ms, int64_t *ret_id,
                      struct slad_error *reterr)
{
    struct ticket in, out;
    ticket_init(&in);
    int r = 0;
    if (ticket_set_string(&in.external_id, external_id) < 0 ||
        ticket_set_string(&in.title, "冰箱不制冷") < 0 ||
        ticket_set_string(&in.team, "north") < 0 || ticket_set_string(&in.assignee, "tech") < 0 ||
        ticket_set_string(&in.device_serial, "SN-1") < 0 ||
        ticket_set_string(&in.fault_code, "E1") < 0)
        r = slad_error_set(reterr, ENOMEM, "out of memory");
    in.severity = severity;
    in.reported_at_ms = reported_ms;
    bool created = false;
    if (r == 0)
        r = service_ticket_create(db->svc, &in, now_ms, &out, &created, reterr);
    ticket_done(&in);
    if (r < 0)
        return r;
    if (ret_id)
        *ret_id = out.id;
    ticket_done(&out);
    return 0;
}

int faultdb_event(struct faultdb *db, int64_t id, enum ticket_event_type type, int64_t now_ms,
                  struct slad_error *reterr)
{
    struct ticket_event ev = {.type = type, .at_ms = SLAD_NO_TIME, .by = "tester"};
    struct ticket out;
    int r = service_ticket_event(db->svc, id, &ev, now_ms, &out, reterr);
    if (r == 0)
        ticket_done(&out);
    return r;
}

int faultdb_fire(struct faultdb *db, int64_t now_ms, size_t *ret_done, struct slad_error *reterr)
{
    size_t done = 0;
    int r = service_fire_due(db->svc, now_ms, 1000, &done, reterr);
    if (ret_done)
        *ret_done = done;
    return r;
}

static int copy_delivery(void *userdata, const struct outbox_row *o)
{
    struct faultdb_delivery *d = userdata;
    d->id = o->id;
    d->attempts = o->attempts;
    snprintf(d->channel, sizeof(d->channel), "%s", o->channel ? o->channel : "");
    return 1;
}

int faultdb_next_delivery(struct faultdb *db, int64_t now_ms, struct faultdb_delivery *ret,
                          struct slad_error *reterr)
{
    memset(ret, 0, sizeof(*ret));
    int r = store_outbox_due(db->store, now_ms, INT64_MIN, 0, 1, copy_delivery, ret, reterr);
    if (r < 0)
        return r;
    if (ret->id == 0)
        return slad_error_set(reterr, ENOENT, "no notification due");
    return 0;
}

int faultdb_deliver(struct faultdb *db, const struct faultdb_delivery *d, int64_t now_ms,
                    struct slad_error *reterr)
{
    bool sent = d->id % 2 == 1;
    struct outbox_row o = {
        .id = d->id,
        .channel = d->channel[0] ? d->channel : NULL,
        .state = sent ? OUTBOX_SENT : OUTBOX_PENDING,
        .attempts = d->attempts + 1,
        .next_attempt_ms = sent ? SLAD_NO_TIME : now_ms + 30000,
        .last_error = sent ? NULL : "receiver answered 503",
        .sent_ms = sent ? now_ms : SLAD_NO_TIME,
    };
    return store_outbox_update(db->store, &o, reterr);
}
