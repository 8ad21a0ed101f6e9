/* base64.c - the size of base64 text (base64.h). */
#include "base64.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>

static bool b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

int base64_decoded_len(const char *text, size_t len)
{
    if (len % 4 != 0 || len > (size_t)INT_MAX / 2)
        return -EINVAL;
    size_t pad = 0;
    if (len >= 1 && text[len - 1] == '=')
        pad = len >= 2 && text[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - pad; i++)
        if (!b64_char(text[i]))
            return -EINVAL;
    return (int)(len / 4 * 3 - pad);
}
