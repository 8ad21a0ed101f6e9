/* intake_keys.h - who may post to an intake (POST /v1/intake/NAME) on the TCP listener:
 * besides the daemon's bearer token, an intake's own token (its token_file), which opens
 * that intake's URL and nothing else; and, for a pagerduty intake, a request without an
 * Authorization header whose body's routing_key is that token (or the daemon's), as
 * PagerDuty's senders send it. Tokens are read at start and on reload, compared in
 * constant time (token.h), never logged. */
#ifndef SLAD_INTAKE_KEYS_H
#define SLAD_INTAKE_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "error.h"

struct token;
struct intake_keys;

/* The tokens of conf's intakes that have a token_file, into *ret (an empty set when none
 * has); an unreadable file is an error naming the intake. */
int intake_keys_load(const struct conf *conf, struct intake_keys **ret, struct slad_error *reterr);
/* Wipes the tokens; NULL-safe. */
void intake_keys_free(struct intake_keys *k);

/* The intake a request path names: "/v1/intake/NAME" with NAME an intake of conf; NULL
 * for any other path. */
const struct conf_intake *intake_keys_intake_of(const struct conf *conf, const char *path);

enum intake_access {
    INTAKE_ACCESS_REFUSED,  /* 401 */
    INTAKE_ACCESS_GRANTED,  /* the intake's own bearer token */
    INTAKE_ACCESS_BODY_KEY, /* no header, pagerduty: the body's routing_key decides */
};

/* The access of a TCP request to path whose Authorization header (NULL: none) is not the
 * daemon's token. */
enum intake_access intake_keys_check(const struct intake_keys *k, const struct conf *conf,
                                     const char *path, const char *authorization);

/* Whether routing_key opens intake in: its own token, else the daemon's (tok). */
bool intake_keys_routing_key(const struct intake_keys *k, const struct token *tok,
                             const struct conf_intake *in, const char *routing_key);

#endif
