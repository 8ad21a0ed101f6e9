/* escape.h - how a value is written into its surroundings, and which of these ways a
 * request body's Content-Type asks for.
 *
 * The renderer (lib/notify/render.c) applies an escape; the config loader checks with
 * escape_for_content_type that an SMS body with placeholders has a type whose values can
 * be escaped, and the redaction of answers looks for a form body's values the same way:
 * one rule for all three. */
#ifndef SLAD_ESCAPE_H
#define SLAD_ESCAPE_H

#include "conf.h"

/* How a value is written into its surroundings. */
enum escape {
    ESCAPE_RAW,      /* as is (UTF-8 repaired) */
    ESCAPE_JSON,     /* the inside of a JSON string: \" \\ \n \u0001 ... */
    ESCAPE_FORM,     /* application/x-www-form-urlencoded: space '+', others %XX */
    ESCAPE_URL,      /* RFC 3986: all but A-Z a-z 0-9 - . _ ~ as %XX (Aliyun's rule) */
    ESCAPE_HEADER,   /* a header value: control characters become spaces */
    ESCAPE_SLACK,    /* Slack message text: & < > as &amp; &lt; &gt; */
    ESCAPE_XML,      /* XML text and attribute values: & < > " ' as entities */
    ESCAPE_MARKDOWN, /* one run of plain text in DingTalk / WeCom markdown: line breaks as
                        spaces, markup characters escaped (render.c) */
};

/* The escaping for a body sent with this Content-Type value: JSON for application/json
 * (and +json types), FORM for application/x-www-form-urlencoded, XML for application/xml,
 * text/xml (and +xml types), else RAW: a type in which a value cannot be escaped. NULL
 * gives RAW. */
enum escape escape_for_content_type(const char *value);

/* The value of the last "Content-Type:" line among "Name: value" header lines (blanks
 * after the colon skipped), or NULL. */
const char *escape_content_type(const struct conf_strings *headers);

#endif
