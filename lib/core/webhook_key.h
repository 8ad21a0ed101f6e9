/* webhook_key.h - the HMAC key of a Standard Webhooks v1 secret (SPEC 3): the
 * base64-decoded part after "whsec_" for a secret that starts with it, else the secret's
 * bytes.
 *
 * The config loader refuses keys too short to resist guessing by their size; the signer
 * (lib/notify/sign.c) decodes the same key with OpenSSL. Both ask here what the key is. */
#ifndef SLAD_WEBHOOK_KEY_H
#define SLAD_WEBHOOK_KEY_H

#include "error.h"

/* The longest key a whsec_ secret may hold, in bytes (the signer's buffer). */
#define WEBHOOK_KEY_MAX_BYTES 255

/* The base64 text of secret's key when secret starts with "whsec_", else NULL: the key
 * is the secret's own bytes. */
const char *webhook_key_base64(const char *secret);

/* How many bytes the key of secret has; -EINVAL (with a message that does not quote the
 * secret) for a whsec_ secret whose rest is not base64 of at most WEBHOOK_KEY_MAX_BYTES
 * bytes. */
int webhook_key_bytes(const char *secret, struct slad_error *reterr);

#endif
