/* fuzz-duration.c - libFuzzer target for duration_parse / duration_format.
 *
 * The first byte chooses the allowed forms, the rest is the text. Whatever the text, the
 * parser must not crash, must fill the error detail with a sentence that quotes the text
 * when it refuses, and what it accepts must format to a canonical text that parses back
 * to the same value and formats to itself again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 256)
        return 0;
    unsigned allowed =
        data[0] & (DURATION_ALLOW_WORKDAYS | DURATION_ALLOW_PERCENT | DURATION_ALLOW_AFTER);
    char text[256];
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    struct duration d;
    struct slad_error err = {{0}};
    if (duration_parse(text, allowed, &d, &err) < 0) {
        if (err.msg[0] == '\0' || strncmp(err.msg, "duration '", 10) != 0)
            abort();
        return 0;
    }
    if (d.value < 0 || (d.unit == DURATION_MS && d.value > DURATION_MAX_MS))
        abort();
    if ((d.unit == DURATION_WORKDAYS && !(allowed & DURATION_ALLOW_WORKDAYS)) ||
        (d.unit == DURATION_PERCENT && !(allowed & DURATION_ALLOW_PERCENT)) ||
        (d.after_due && !(allowed & DURATION_ALLOW_AFTER)) ||
        (d.unit == DURATION_PERCENT && d.after_due))
        abort();

    char canonical[64];
    duration_format(&d, canonical, sizeof(canonical));
    struct duration back;
    if (duration_parse(canonical, allowed, &back, &err) < 0)
        abort();
    if (back.unit != d.unit || back.after_due != d.after_due || back.value != d.value)
        abort();
    char again[64];
    duration_format(&back, again, sizeof(again));
    if (strcmp(canonical, again) != 0)
        abort();
    return 0;
}
