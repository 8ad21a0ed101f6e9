/* test-jsonw.c - the JSON writer against jansson: for fixed hostile strings and for
 * 20,000 random documents (objects, arrays, strings of random bytes, integers, true,
 * nested), jsonw writes exactly the bytes jsonx_dump writes for the same jansson object,
 * and fails exactly where jansson refuses a string (not UTF-8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "jsonx.h"

/* A document written both ways. jansson_ok false: jansson refused a value. */
struct both {
    struct jsonw w;
    json_t *stack[JSONW_MAX_DEPTH];
    const char *keys[JSONW_MAX_DEPTH]; /* the key the open container goes under */
    int depth;
    bool jansson_ok;
};

static void add(struct both *b, const char *key, json_t *v)
{
    json_t *into = b->stack[b->depth];
    if (!v) {
        b->jansson_ok = false;
        return;
    }
    int r =
        json_is_array(into) ? json_array_append_new(into, v) : json_object_set_new(into, key, v);
    if (r != 0)
        b->jansson_ok = false;
}

static void both_str(struct both *b, const char *key, const char *v)
{
    jsonw_str(&b->w, key, v);
    add(b, key, json_string(v));
}

static void both_int(struct both *b, const char *key, int64_t v)
{
    jsonw_int(&b->w, key, v);
    add(b, key, json_integer(v));
}

static void both_open(struct both *b, const char *key, bool array)
{
    if (array)
        jsonw_open_array(&b->w, key);
    else
        jsonw_open(&b->w, key);
    b->depth++;
    b->stack[b->depth] = array ? json_array() : json_object();
    b->keys[b->depth] = key;
}

static void both_close(struct both *b)
{
    json_t *v = b->stack[b->depth];
    const char *key = b->keys[b->depth];
    if (json_is_array(v))
        jsonw_close_array(&b->w);
    else
        jsonw_close(&b->w);
    b->depth--;
    add(b, key, v);
}

/* Ends the document and compares the two texts. */
static void both_check(struct both *b, int line)
{
    char *mine = jsonw_finish(&b->w, NULL);
    json_t *top = b->stack[0];
    json_t *doc = json_array_get(top, 0);
    char *ref = b->jansson_ok && doc ? jsonx_dump(doc, NULL) : NULL;
    if ((mine == NULL) != (ref == NULL) || (mine && strcmp(mine, ref) != 0))
        fail_msg("line %d: jsonw %s, jansson %s", line, mine ? mine : "(failed)",
                 ref ? ref : "(refused)");
    free(mine);
    free(ref);
    json_decref(top);
}

static void both_init(struct both *b)
{
    memset(b, 0, sizeof(*b));
    b->stack[0] = json_array(); /* holds the document */
    b->jansson_ok = true;
}

static void test_fixed(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "",
        "plain",
        "quote \" backslash \\ slash / del \x7f",
        "\x01\x02\x03\x04\x05\x06\x07\b\t\n\x0b\f\r\x0e\x0f\x10\x11\x1f",
        "冰箱不制冷 — ünïcödé 😀",
        "\xed\x9f\xbf",     /* U+D7FF: the last before the surrogates */
        "\xee\x80\x80",     /* U+E000 */
        "\xf4\x8f\xbf\xbf", /* U+10FFFF */
        "\x80",             /* a lone continuation byte */
        "\xc0\x80",         /* an overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xf0\x80\x80\xaf", /* overlong '/' */
        "\xed\xa0\x80",     /* a surrogate */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "\xf5\x80\x80\x80",
        "\xff",
        "\xe2\x82",             /* cut short */
        "ok then \xe2\x82 cut", /* cut short inside */
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct both b;
        both_init(&b);
        both_open(&b, NULL, false);
        both_str(&b, "k", texts[i]);
        both_str(&b, texts[i], "as a key");
        both_close(&b);
        both_check(&b, __LINE__ * 1000 + (int)i);
    }
    struct both b;
    both_init(&b);
    both_open(&b, NULL, false);
    both_int(&b, "min", INT64_MIN);
    both_int(&b, "max", INT64_MAX);
    both_int(&b, "zero", 0);
    both_open(&b, "empty", false);
    both_close(&b);
    both_open(&b, "list", true);
    both_close(&b);
    jsonw_true(&b.w, "late");
    add(&b, "late", json_true());
    jsonw_str(&b.w, "absent", NULL); /* nothing written, as record_put_str */
    both_close(&b);
    both_check(&b, __LINE__);
    /* Unbalanced: no text. */
    struct jsonw w = {0};
    jsonw_open(&w, NULL);
    assert_null(jsonw_finish(&w, NULL));
    jsonw_close(&w);
    assert_null(jsonw_finish(&w, NULL));
    /* Too deep: no text. */
    for (int i = 0; i < JSONW_MAX_DEPTH + 1; i++)
        jsonw_open_array(&w, NULL);
    for (int i = 0; i < JSONW_MAX_DEPTH + 1; i++)
        jsonw_close_array(&w);
    assert_null(jsonw_finish(&w, NULL));
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Random bytes, mostly text: ASCII, controls, quotes, UTF-8 of every length, and now and
 * then a byte that breaks it. */
static void random_text(char *buf, size_t size)
{
    size_t n = next() % (size / 5), len = 0;
    static const char *const pieces[] = {"a",    "Z",  " ",  "\"",   "\\",
                                         "/",    "\n", "\t", "\x01", "\x1f",
                                         "\x7f", "é",  "冰", "😀",    "\xed\x9f\xbf"};
    for (size_t i = 0; i < n && len + 5 < size; i++) {
        uint32_t r = next() % 100;
        if (r < 97) {
            const char *p = pieces[next() % (sizeof(pieces) / sizeof(pieces[0]))];
            memcpy(buf + len, p, strlen(p));
            len += strlen(p);
        } else {
            buf[len++] = (char)(0x80 + next() % 0x80); /* most likely not UTF-8 */
        }
    }
    buf[len] = '\0';
}

static void random_value(struct both *b, const char *key, int depth)
{
    uint32_t kind = next() % (depth < 3 ? 6 : 4);
    char text[64];
    switch (kind) {
    case 0:
    case 1:
        random_text(text, sizeof(text));
        both_str(b, key, text);
        break;
    case 2: {
        int64_t v = (int64_t)(((uint64_t)next() << 32) | next());
        both_int(b, key, next() % 2 ? v : v % 1000);
        break;
    }
    case 3:
        jsonw_true(&b->w, key);
        add(b, key, json_true());
        break;
    default: {
        bool array = kind == 5;
        both_open(b, key, array);
        size_t n = next() % 5;
        for (size_t i = 0; i < n; i++) {
            char k[80];
            random_text(text, sizeof(text));
            snprintf(k, sizeof(k), "%zu%s", i, text); /* distinct keys */
            random_value(b, array ? NULL : k, depth + 1);
        }
        both_close(b);
    }
    }
}

static void test_random(void **state)
{
    (void)state;
    for (int i = 0; i < 20000; i++) {
        struct both b;
        both_init(&b);
        both_open(&b, NULL, false);
        size_t n = next() % 8;
        for (size_t k = 0; k < n; k++) {
            char key[8];
            snprintf(key, sizeof(key), "k%zu", k);
            random_value(&b, key, 1);
        }
        both_close(&b);
        both_check(&b, i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
