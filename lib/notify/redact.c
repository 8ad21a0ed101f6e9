/* redact.c - a channel's secrets out of URLs for logs and out of answers (redact.h). */
#include "redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "escape.h"
#include "render.h"
#include "sign.h"

/* ---- URLs ---- */

struct out {
    char *buf;
    size_t size, len;
};

static void out_add(struct out *o, const char *s, size_t n)
{
    if (!o || !o->size)
        return;
    size_t room = o->size - 1 - o->len;
    if (n > room)
        n = room;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static bool token_like(const char *s, size_t n)
{
    if (n >= 20)
        return true;
    if (n < 8)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] >= '0' && s[i] <= '9')
            return true;
    return false;
}

typedef void token_fn(void *userdata, const char *s, size_t n);

/* Copy the "a=1&b=2" pairs of p[0..stop) to o (may be NULL) with every value as "***",
 * and report each value. */
static void redact_pairs(const char *p, const char *stop, struct out *o, token_fn *fn,
                         void *userdata)
{
    bool first = true;
    while (p < stop) {
        size_t n = strcspn(p, "&#");
        if (p + n > stop)
            n = (size_t)(stop - p);
        if (!first)
            out_add(o, "&", 1);
        first = false;
        const char *eq = memchr(p, '=', n);
        if (eq) {
            out_add(o, p, (size_t)(eq + 1 - p));
            size_t vn = (size_t)(p + n - eq - 1);
            if (vn) {
                if (fn)
                    fn(userdata, eq + 1, vn);
                out_add(o, "***", 3);
            }
        } else if (n) {
            if (fn)
                fn(userdata, p, n);
            out_add(o, "***", 3);
        }
        p += n;
        if (p < stop && *p == '&')
            p++;
    }
}

/* Copy url to o (may be NULL) with secret-looking parts as "***", and report each. */
static void redact_scan(const char *url, struct out *o, token_fn *fn, void *userdata)
{
    const char *sep = strstr(url, "://");
    size_t scheme = sep ? strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789+.-")
                        : 0;
    if (!sep || sep == url || url + scheme != sep) {
        out_add(o, "***", 3);
        return;
    }
    out_add(o, url, (size_t)(sep + 3 - url));
    const char *p = sep + 3;
    size_t auth = strcspn(p, "/?#");
    const char *at = NULL;
    for (const char *q = p; q < p + auth; q++)
        if (*q == '@')
            at = q;
    if (at) {
        if (fn)
            fn(userdata, p, (size_t)(at - p));
        out_add(o, "***@", 4);
        out_add(o, at + 1, (size_t)(p + auth - at - 1));
    } else {
        out_add(o, p, auth);
    }
    p += auth;
    /* Path segments. */
    while (*p == '/') {
        out_add(o, "/", 1);
        p++;
        size_t n = strcspn(p, "/?#");
        if (token_like(p, n)) {
            if (fn)
                fn(userdata, p, n);
            out_add(o, "***", 3);
        } else {
            out_add(o, p, n);
        }
        p += n;
    }
    /* Query values. */
    if (*p == '?') {
        out_add(o, "?", 1);
        redact_pairs(p + 1, p + 1 + strcspn(p + 1, "#"), o, fn, userdata);
    }
}

char *redact_url(const char *url, char *buf, size_t size)
{
    if (!buf || !size)
        return buf;
    buf[0] = '\0';
    struct out o = {buf, size, 0};
    redact_scan(url ? url : "", &o, NULL, NULL);
    return buf;
}

/* ---- secrets ---- */

/* Shorter needles would cut ordinary words out of answers. */
#define SECRET_MIN_BYTES 4
/* Header values that are not credentials: the rest of a header template may be one. */
static const char *const public_headers[] = {
    "Content-Type", "Accept",        "Accept-Charset", "Accept-Language", "Content-Language",
    "User-Agent",   "Cache-Control", "Connection",     "Expect",          NULL,
};

static void forms_add_one(struct redact_secrets *f, const char *s, size_t len)
{
    if (len < SECRET_MIN_BYTES || f->failed)
        return;
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i].len == len && memcmp(f->v[i].s, s, len) == 0)
            return;
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        struct redact_secret *v = reallocarray(f->v, cap, sizeof(*v));
        if (!v) {
            f->failed = true;
            return;
        }
        f->v = v;
        f->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        f->failed = true;
        return;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    f->v[f->n++] = (struct redact_secret){copy, len};
}

static void forms_add_escaped(struct redact_secrets *f, const char *s, size_t len, enum escape esc)
{
    struct render_buf b;
    render_buf_init(&b, 6 * len + 16); /* the longest escape: "\u0001" for one byte */
    render_buf_escape(&b, s, len, esc);
    if (b.err)
        f->failed = true;
    else if (b.data)
        forms_add_one(f, b.data, b.len);
    render_buf_done(&b);
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static void forms_add(struct redact_secrets *f, const char *s, size_t len, bool decode);

/* s[0..len) with %XX escapes decoded (and '+' as a space when form). */
static void forms_add_decoded(struct redact_secrets *f, const char *s, size_t len, bool form)
{
    char *d = malloc(len + 1);
    if (!d) {
        f->failed = true;
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi = s[i] == '%' && i + 2 < len ? hex_digit(s[i + 1]) : -1;
        int lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
            d[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[o++] = form && s[i] == '+' ? ' ' : s[i];
        }
    }
    forms_add(f, d, o, false);
    explicit_bzero(d, len + 1);
    free(d);
}

/* s[0..len) as written, percent-encoded (URL and form), JSON-escaped (some encoders
 * write "\/"), base64 with and without padding (a "Basic" credential, a header a gateway
 * echoes), and, when decode, percent-decoded (a URL's token as the server read it). */
static void forms_add(struct redact_secrets *f, const char *s, size_t len, bool decode)
{
    if (len < SECRET_MIN_BYTES)
        return;
    forms_add_one(f, s, len);
    forms_add_escaped(f, s, len, ESCAPE_URL);
    forms_add_escaped(f, s, len, ESCAPE_FORM);
    forms_add_escaped(f, s, len, ESCAPE_JSON);
    if (memchr(s, '/', len)) {
        struct render_buf b;
        render_buf_init(&b, 2 * len + 16);
        for (size_t i = 0; i < len; i++)
            render_buf_add(&b, s[i] == '/' ? "\\/" : s + i, s[i] == '/' ? 2 : 1);
        if (b.err)
            f->failed = true;
        else
            forms_add_one(f, b.data, b.len);
        render_buf_done(&b);
    }
    size_t size = SIGN_BASE64_SIZE(len);
    char *b64 = malloc(size);
    int n = b64 ? sign_base64(s, len, b64, size) : -ENOMEM;
    if (n < 0) {
        f->failed = true;
    } else {
        forms_add_one(f, b64, (size_t)n);
        while (n > 0 && b64[n - 1] == '=')
            n--;
        forms_add_one(f, b64, (size_t)n);
    }
    if (b64) {
        explicit_bzero(b64, size);
        free(b64);
    }
    if (decode && (memchr(s, '%', len) || memchr(s, '+', len)))
        forms_add_decoded(f, s, len, true);
    if (decode && memchr(s, '%', len))
        forms_add_decoded(f, s, len, false);
}

/* A token of the channel's URL or form body: user info ("user:password", and the
 * password alone), path segments and query values. Placeholders are not secrets. */
static void forms_add_token(void *userdata, const char *s, size_t n)
{
    struct redact_secrets *f = userdata;
    if (memmem(s, n, "{{", 2))
        return;
    forms_add(f, s, n, true);
    const char *colon = memchr(s, ':', n);
    if (colon)
        forms_add(f, colon + 1, (size_t)(s + n - colon - 1), true);
}

static bool header_public(const char *line, size_t name_len)
{
    for (size_t i = 0; public_headers[i]; i++)
        if (strlen(public_headers[i]) == name_len &&
            strncasecmp(line, public_headers[i], name_len) == 0)
            return true;
    return false;
}

/* The credential of a header template's value: the whole value, the part after an
 * auth scheme ("Bearer x", "Basic x"), and what a Basic credential decodes to; in a
 * value with placeholders, the literal words that look like tokens. */
static void forms_add_header(struct redact_secrets *f, const char *line)
{
    size_t name_len = strcspn(line, ":");
    if (!line[name_len] || header_public(line, name_len))
        return;
    const char *v = line + name_len + 1;
    v += strspn(v, " \t");
    size_t len = strlen(v);
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    if (memmem(v, len, "{{", 2)) {
        for (size_t i = 0; i < len;) {
            size_t word = strcspn(v + i, " \t{}");
            if (word > len - i)
                word = len - i;
            if (token_like(v + i, word))
                forms_add(f, v + i, word, true);
            i += word ? word : 1;
        }
        return;
    }
    forms_add(f, v, len, true);
    const char *space = memchr(v, ' ', len);
    if (!space)
        return;
    const char *cred = space + 1 + strspn(space + 1, " ");
    size_t cred_len = len - (size_t)(cred - v);
    forms_add(f, cred, cred_len, true);
    if (space - v == 5 && strncasecmp(v, "Basic", 5) == 0) {
        unsigned char *plain = malloc(cred_len + 1);
        size_t plain_len;
        if (plain && sign_base64_decode(cred, cred_len, plain, cred_len + 1, &plain_len) == 0)
            forms_add_token(f, (const char *)plain, plain_len);
        if (plain) {
            explicit_bzero(plain, cred_len + 1);
            free(plain);
        }
    }
}

static int longest_first(const void *a, const void *b)
{
    size_t la = ((const struct redact_secret *)a)->len, lb = ((const struct redact_secret *)b)->len;
    return la < lb ? 1 : la > lb ? -1 : 0;
}

void redact_secrets_init(struct redact_secrets *f, const struct conf_channel *ch)
{
    *f = (struct redact_secrets){.v = NULL};
    const char *secrets[] = {ch->secret, ch->password, ch->routing_key, ch->access_key_secret};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        if (secrets[i])
            forms_add(f, secrets[i], strlen(secrets[i]), false);
    if (ch->username && ch->password) {
        /* HTTP Basic and SMTP AUTH PLAIN carry the pair. */
        char *pair = NULL;
        int n = asprintf(&pair, "%s:%s", ch->username, ch->password);
        if (n < 0)
            f->failed = true;
        else
            forms_add(f, pair, (size_t)n, false);
        if (pair) {
            explicit_bzero(pair, strlen(pair));
            free(pair);
        }
    }
    if (ch->url)
        redact_scan(ch->url, NULL, forms_add_token, f);
    for (size_t i = 0; i < ch->headers.n; i++)
        if (ch->headers.v[i])
            forms_add_header(f, ch->headers.v[i]);
    if (ch->type == CHANNEL_SMS && ch->body &&
        escape_for_content_type(escape_content_type(&ch->headers)) == ESCAPE_FORM)
        redact_pairs(ch->body, ch->body + strlen(ch->body), NULL, forms_add_token, f);
    /* Longest first, so that a secret wins over a shorter one it holds. */
    if (f->n)
        qsort(f->v, f->n, sizeof(f->v[0]), longest_first);
}

void redact_secrets_done(struct redact_secrets *f)
{
    for (size_t i = 0; i < f->n; i++) {
        explicit_bzero(f->v[i].s, f->v[i].len);
        free(f->v[i].s);
    }
    free(f->v);
    *f = (struct redact_secrets){.v = NULL};
}

size_t redact_copy(const struct redact_secrets *f, const char *in, size_t len, char *out,
                   size_t max, size_t *ret_used)
{
    size_t i = 0, o = 0;
    while (i < len && o < max) {
        size_t hit = 0;
        for (size_t k = 0; k < f->n && !hit; k++) {
            size_t n = f->v[k].len;
            if (n <= len - i && f->v[k].s[0] == in[i] && memcmp(in + i, f->v[k].s, n) == 0)
                hit = n;
        }
        if (hit) {
            memcpy(out + o, "***", 3); /* hit >= 4: never past what is still to read */
            o += 3;
            i += hit;
        } else {
            out[o++] = in[i] ? in[i] : ' ';
            i++;
        }
    }
    *ret_used = i;
    return o;
}
