/* escape.c - the escaping a Content-Type asks for (escape.h). */
#include "escape.h"

#include <string.h>
#include <strings.h>

enum escape escape_for_content_type(const char *value)
{
    if (!value)
        return ESCAPE_RAW;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strcspn(value, "; \t");
    if (n == 33 && strncasecmp(value, "application/x-www-form-urlencoded", n) == 0)
        return ESCAPE_FORM;
    if (n == 16 && strncasecmp(value, "application/json", n) == 0)
        return ESCAPE_JSON;
    if (n > 5 && strncasecmp(value + n - 5, "+json", 5) == 0)
        return ESCAPE_JSON;
    if ((n == 15 && strncasecmp(value, "application/xml", n) == 0) ||
        (n == 8 && strncasecmp(value, "text/xml", n) == 0) ||
        (n > 4 && strncasecmp(value + n - 4, "+xml", 4) == 0))
        return ESCAPE_XML;
    return ESCAPE_RAW;
}

const char *escape_content_type(const struct conf_strings *headers)
{
    const char *value = NULL;
    for (size_t i = 0; i < headers->n; i++) {
        const char *h = headers->v[i];
        if (h && strncasecmp(h, "Content-Type:", 13) == 0)
            value = h + 13 + strspn(h + 13, " \t");
    }
    return value;
}
