/* webhook_key.c - the key rule of Standard Webhooks secrets (webhook_key.h). */
#include "webhook_key.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "base64.h"

#define PREFIX     "whsec_"
#define PREFIX_LEN 6

const char *webhook_key_base64(const char *secret)
{
    return strncmp(secret, PREFIX, PREFIX_LEN) == 0 ? secret + PREFIX_LEN : NULL;
}

int webhook_key_bytes(const char *secret, struct slad_error *reterr)
{
    const char *b64 = webhook_key_base64(secret);
    if (!b64) {
        size_t len = strlen(secret);
        return len <= INT_MAX ? (int)len
                              : slad_error_set(reterr, EINVAL, "the webhook secret is too long");
    }
    int n = base64_decoded_len(b64, strlen(b64));
    if (n < 0 || n > WEBHOOK_KEY_MAX_BYTES)
        return slad_error_set(reterr, EINVAL,
                              "the webhook secret starts with 'whsec_' but the rest is not "
                              "base64 of at most %d bytes",
                              WEBHOOK_KEY_MAX_BYTES);
    return n;
}
