/* jsonx_session.h - the body of POST /v1/session, {"user":"wang.wei","password":"..."},
 * read strictly (an unknown field, a missing or empty one is a 400 naming it). The
 * password is never part of a message. */
#ifndef SLAD_JSONX_SESSION_H
#define SLAD_JSONX_SESSION_H

#include <stddef.h>

#include "error.h"

/* Longest password read: yescrypt takes any length, a bound keeps the work bounded. */
#define JSONX_PASSWORD_MAX 1024
#define JSONX_USER_MAX     128

/* user and password into *ret_user, *ret_password (malloc'd; wipe the password with
 * jsonx_signin_wipe). Errors as jsonx.h's parsers. */
int jsonx_signin_parse(const char *body, size_t len, char **ret_user, char **ret_password,
                       struct slad_error *reterr);
/* Overwrite and free a password of jsonx_signin_parse (NULL-safe). */
void jsonx_signin_wipe(char *password);

#endif
