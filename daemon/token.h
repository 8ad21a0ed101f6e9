/* token.h - the bearer token of the TCP listener: read from token_file at start and on
 * reload, compared in constant time, wiped when freed, never logged. */
#ifndef SLAD_TOKEN_H
#define SLAD_TOKEN_H

#include <stdbool.h>

#include "error.h"

/* Longest token file accepted. */
#define TOKEN_MAX_BYTES 4096

struct token;

/* Read path; a trailing newline (and CR) is stripped; an empty token, and a file that any
 * user may read, are refused. */
int token_load(const char *path, struct token **ret, struct slad_error *reterr);
/* Wipes the token; NULL-safe. */
void token_free(struct token *tok);

/* Whether an Authorization header value is "Bearer <the token>". NULL (no header) and
 * a NULL token are refused. The comparison takes the same time wherever the first
 * difference lies (and does not reveal the token's length). */
bool token_check(const struct token *tok, const char *authorization);

/* Whether text is the token itself (a PagerDuty routing_key), compared the same way; NULL
 * text and a NULL token are refused. */
bool token_equal(const struct token *tok, const char *text);

#endif
