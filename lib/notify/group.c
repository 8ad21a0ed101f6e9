/* group.c - the words of a grouped message (see group.h). */
#include "group.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

static void add_value(struct render_buf *b, const char *s, enum escape esc)
{
    render_buf_escape(b, s, strlen(s), esc);
}

int group_text(const struct group_item *items, size_t n, size_t total, const char *lang,
               enum escape esc, char **ret_text, char **ret_subject, struct slad_error *reterr)
{
    bool zh = lang && strcmp(lang, "zh") == 0;
    struct render_buf b;
    render_buf_init(&b, RENDER_MAX_BYTES);
    if (zh)
        render_buf_printf(&b, "共 %zu 条通知", total);
    else
        render_buf_printf(&b, "%zu notifications", total);
    char *subject = NULL, *text = NULL;
    int r = render_buf_take(&b, "grouped message subject", &subject, NULL, reterr);
    render_buf_printf(&b, "%s%s\n", subject ? subject : "", zh ? "：" : ":");
    for (size_t i = 0; i < n && i < GROUP_SHOWN; i++) {
        const struct group_item *it = &items[i];
        if (it->ticket_id)
            render_buf_printf(&b, "- #%" PRId64 " ", it->ticket_id);
        else
            render_buf_puts(&b, "- ");
        add_value(&b, it->event ? it->event : "-", esc);
        render_buf_puts(&b, zh ? "：" : ": ");
        add_value(&b, it->title ? it->title : "-", esc);
        if (it->link) {
            render_buf_puts(&b, " ");
            add_value(&b, it->link, esc);
        }
        render_buf_puts(&b, "\n");
    }
    size_t shown = n < GROUP_SHOWN ? n : GROUP_SHOWN;
    if (total > shown) {
        if (zh)
            render_buf_printf(&b, "另有 %zu 条\n", total - shown);
        else
            render_buf_printf(&b, "and %zu more\n", total - shown);
    }
    if (r == 0)
        r = render_buf_take(&b, "grouped message", &text, NULL, reterr);
    render_buf_done(&b);
    if (r < 0) {
        free(subject);
        free(text);
        return r;
    }
    *ret_text = text;
    *ret_subject = subject;
    return 0;
}
