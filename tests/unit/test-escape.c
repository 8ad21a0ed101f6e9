/* test-escape.c - the escaping a body's Content-Type asks for, and which header line says
 * it: the rule the config loader, the renderer and the redaction share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "escape.h"

static void test_content_type(void **state)
{
    (void)state;
    static const struct {
        int line;
        const char *value;
        enum escape esc;
    } cases[] = {
        {__LINE__, "application/json", ESCAPE_JSON},
        {__LINE__, "application/json; charset=utf-8", ESCAPE_JSON},
        {__LINE__, "  Application/JSON;charset=UTF-8", ESCAPE_JSON},
        {__LINE__, "application/vnd.api+json", ESCAPE_JSON},
        {__LINE__, "application/x-www-form-urlencoded", ESCAPE_FORM},
        {__LINE__, "application/x-www-form-urlencoded; charset=UTF-8", ESCAPE_FORM},
        {__LINE__, "application/xml", ESCAPE_XML},
        {__LINE__, "text/xml; charset=utf-8", ESCAPE_XML},
        {__LINE__, "application/soap+xml", ESCAPE_XML},
        {__LINE__, "text/xmlx", ESCAPE_RAW},
        {__LINE__, "text/plain", ESCAPE_RAW},
        {__LINE__, "application/jsonx", ESCAPE_RAW},
        {__LINE__, "json", ESCAPE_RAW},
        {__LINE__, "+json", ESCAPE_RAW},
        {__LINE__, "", ESCAPE_RAW},
        {__LINE__, NULL, ESCAPE_RAW},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (escape_for_content_type(cases[i].value) != cases[i].esc)
            fail_msg("line %d: '%s'", cases[i].line, cases[i].value ? cases[i].value : "NULL");
}

/* The last Content-Type line wins; its value starts after the blanks that follow the
 * colon; names are matched whole, in any case. */
static void test_content_type_header(void **state)
{
    (void)state;
    static const struct {
        int line;
        const char *headers[4];
        const char *expect; /* NULL: none */
    } cases[] = {
        {__LINE__, {"Content-Type: application/json"}, "application/json"},
        {__LINE__, {"content-type:\t text/xml"}, "text/xml"},
        {__LINE__, {"CONTENT-TYPE:application/xml"}, "application/xml"},
        {__LINE__,
         {"Content-Type: text/plain", "Accept: */*", "Content-Type: application/json"},
         "application/json"},
        {__LINE__, {"Content-Type:"}, ""},
        {__LINE__, {"Accept: application/json"}, NULL},
        {__LINE__, {"X-Content-Type: application/json"}, NULL},
        {__LINE__, {"Content-Types: application/json"}, NULL},
        {__LINE__, {"Content-Type application/json"}, NULL},
        {__LINE__, {NULL}, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *v[4];
        size_t n = 0;
        for (; n < 4 && cases[i].headers[n]; n++)
            v[n] = (char *)cases[i].headers[n];
        struct conf_strings headers = {v, n};
        const char *got = escape_content_type(&headers);
        if (!got != !cases[i].expect || (got && strcmp(got, cases[i].expect) != 0))
            fail_msg("line %d: '%s', expected '%s'", cases[i].line, got ? got : "NULL",
                     cases[i].expect ? cases[i].expect : "NULL");
    }
    /* A NULL line (a config list with a hole) is skipped. */
    char *holes[] = {"Content-Type: application/json", NULL};
    struct conf_strings h = {holes, 2};
    assert_string_equal(escape_content_type(&h), "application/json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_content_type_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
