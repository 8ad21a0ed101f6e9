/* fuzz-conf.c - libFuzzer target for the config loader: any bytes, as the text of a config,
 * must load or be refused with messages, never crash, leak or read past the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf_load.h"

/* Larger inputs only slow the fuzzer down: the loader's work grows linearly with size. */
#define MAX_INPUT_BYTES (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5's scanner loses the string it is reading when a syntax error stops the
 * parse (an unterminated or misplaced string literal): a few bytes per refused file that
 * slad cannot free. Read by LeakSanitizer when it is linked in; unused otherwise. */
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT_BYTES)
        return 0;
    char *text = malloc(size + 1); /* libconfig reads a NUL-terminated string */
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    /* calendar_new opens a calendar's "ics" path, and ics = "/dev/stdin" would hang: spell
     * the key "icz" (an unknown key, reported like any other). libconfig has no other way
     * to write a key. */
    for (char *p = text; (p = memmem(p, size - (size_t)(p - text), "ics", 3)); p += 3)
        p[2] = 'z';

    struct conf *conf = NULL;
    struct conf_errors errs;
    if (conf_load_string(text, "fuzz.conf", &conf, &errs) == 0) {
        free(conf_summary(conf));
        conf_free(conf);
    } else {
        conf_errors_done(&errs);
    }
    free(text);
    return 0;
}
