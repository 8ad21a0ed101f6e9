/* service_links.c - the console's links in notifications (issue 13): with
 * daemon.public_url, a notification to a person carries public_url/a/CODE, a capability to
 * see that ticket and acknowledge or take it as that person; one to a team's channel
 * carries public_url/ui/tickets/ID (whoever opens it signs in); the customer gets none.
 *
 * A code is ACTION_CODE_LEN characters of an alphabet without look-alikes (no 0/o, 1/l/i),
 * from getrandom: 31^10, about 2^49.5, guessed at the rate the API lets a client fail
 * lookups (service_action.c, rate-limited per address) in no useful time. The store keeps
 * its SHA-256 only; the outbox payload keeps the link to write it into the message. */
#include "service_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "recipient.h"
#include "sign.h"
#include "store.h"

static const char code_alphabet[] = ACTION_CODE_ALPHABET;

int service_code_hash(const char *code, char hex[ACTION_HASH_HEX])
{
    unsigned char sum[SIGN_SHA256_BYTES];
    if (sign_sha256(code, strlen(code), sum) < 0)
        return -EIO;
    for (size_t i = 0; i < sizeof(sum); i++)
        snprintf(hex + 2 * i, 3, "%02x", sum[i]);
    return 0;
}

/* A new code into code (ACTION_CODE_LEN + 1 bytes); -EIO without random bytes. */
static int new_code(char code[ACTION_CODE_LEN + 1])
{
    size_t n = 0, k = sizeof(code_alphabet) - 1;
    while (n < ACTION_CODE_LEN) {
        unsigned char buf[32];
        if (getrandom(buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
            return -EIO;
        /* Rejection sampling: a byte past the last whole multiple of k would bias. */
        for (size_t i = 0; i < sizeof(buf) && n < ACTION_CODE_LEN; i++)
            if (buf[i] < 256 - 256 % k)
                code[n++] = code_alphabet[buf[i] % k];
    }
    code[n] = '\0';
    return 0;
}

int service_link_for(struct service *svc, const struct ticket *t, const struct recipient *rc,
                     int64_t now_ms, char *link, size_t size, struct slad_error *reterr)
{
    link[0] = '\0';
    const char *base = svc->conf->daemon.public_url;
    if (!base || !t->id || !rc->channel || rc->error[0] || strcmp(rc->text, "customer") == 0)
        return 0;
    if (!rc->contact) {
        snprintf(link, size, "%s/ui/tickets/%" PRId64, base, t->id);
        return 0;
    }
    char code[ACTION_CODE_LEN + 1], hex[ACTION_HASH_HEX];
    int r = new_code(code);
    if (r == 0)
        r = service_code_hash(code, hex);
    if (r < 0)
        return slad_error_set(reterr, EIO, "no random bytes for an action link");
    /* Links of the past are dropped as new ones are made: the table holds about a week. */
    r = store_action_purge(svc->store, now_ms - ACTION_LINK_KEEP_MS, reterr);
    if (r >= 0)
        r = store_action_add(svc->store, hex, t->id, rc->contact->name, now_ms,
                             now_ms + ACTION_LINK_TTL_MS, reterr);
    if (r < 0)
        return r;
    snprintf(link, size, "%s/a/%s", base, code);
    return 0;
}
