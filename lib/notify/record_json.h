/* record_json.h - the JSON behind record.h, for the files of notify that build stored
 * texts of their own (payload.c). Not for use outside lib/notify: the service sees only
 * texts. Most records are written with jsonw (json's writer of jansson's compact text);
 * a PATCH's, which merges nested keys, is built as a jansson object.
 *
 * The record_put_* functions add one field and return false when memory ran out (o may
 * be NULL: then false too); a builder ands them and gives up on the first false with
 * record_built. */
#ifndef SLAD_RECORD_JSON_H
#define SLAD_RECORD_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "jsonw.h"
#include "record.h"

/* Set key to v (taken; NULL: out of memory). */
bool record_put(json_t *o, const char *key, json_t *v);
/* A string; nothing for NULL. */
bool record_put_str(json_t *o, const char *key, const char *v);
bool record_put_int(json_t *o, const char *key, int64_t v);
/* An RFC 3339 time; nothing for SLAD_NO_TIME or INT64_MAX (never). */
bool record_put_time(json_t *o, const char *key, int64_t ms);
/* o when every field went in (ok), else NULL (o freed). */
json_t *record_built(json_t *o, bool ok);
/* o serialised and freed; NULL when o is NULL or memory ran out. */
char *record_text(json_t *o);

/* The fields of record_effect's object, written into the object w has open: the outbox
 * payload carries them with fields of its own (payload.c). Written with jsonw, not built
 * as a jansson object: this is on every step's path (doc/PERFORMANCE.md, "Round four"). */
void record_effect_write(struct jsonw *w, const struct ticket *t, const struct effect *e,
                         bool late);
/* An RFC 3339 time; nothing for SLAD_NO_TIME or INT64_MAX (never). */
void record_write_time(struct jsonw *w, const char *key, int64_t ms);

#endif
