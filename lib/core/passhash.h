/* passhash.h - whether a contact's password_hash has the form of a crypt(3) hash slad
 * accepts: yescrypt "$y$", SHA-512 "$6$", bcrypt "$2b$" (as libxcrypt writes them). The
 * check is of the form only (libxcrypt verifies); it lets the loader refuse at once a
 * hash that could never match (a plain password, a truncated copy, MD5 "$1$"), instead
 * of a console that silently refuses the person. */
#ifndef SLAD_PASSHASH_H
#define SLAD_PASSHASH_H

#include <stdbool.h>

/* true when hash is well formed; else false with *why (a static phrase for a message:
 * "is not a crypt(3) hash ..."). */
bool passhash_valid(const char *hash, const char **why);

#endif
