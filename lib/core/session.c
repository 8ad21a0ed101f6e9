/* session.c - the console's sessions as data (see session.h). */
#include "session.h"

#include <string.h>

int64_t session_expires_ms(const struct session *s)
{
    int64_t idle = s->last_seen_ms + SESSION_IDLE_MS, max = s->created_ms + SESSION_MAX_MS;
    return idle < max ? idle : max;
}

bool session_live(const struct session *s, int64_t now_ms)
{
    return now_ms < session_expires_ms(s);
}

bool session_needs_touch(const struct session *s, int64_t now_ms)
{
    return now_ms - s->last_seen_ms >= SESSION_TOUCH_MS;
}

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void session_base64url(const unsigned char *bytes, size_t n, char *out)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)bytes[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)bytes[i + 1] << 8;
        if (i + 2 < n)
            v |= bytes[i + 2];
        out[j++] = alphabet[(v >> 18) & 63];
        out[j++] = alphabet[(v >> 12) & 63];
        if (i + 1 < n)
            out[j++] = alphabet[(v >> 6) & 63];
        if (i + 2 < n)
            out[j++] = alphabet[v & 63];
    }
    out[j] = '\0';
}

bool session_token_wellformed(const char *text)
{
    if (!text)
        return false;
    size_t n = strspn(text, alphabet);
    return n == SESSION_TOKEN_LEN && text[n] == '\0';
}
