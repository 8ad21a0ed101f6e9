/* group.h - the words of a grouped message (storm grouping, a channel's group_window):
 * the count, then up to GROUP_SHOWN of its tickets, each with its link when it has one,
 * then "and N more". The delivery loop gathers the members (daemon/deliver_job.c). */
#ifndef SLAD_GROUP_H
#define SLAD_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "escape.h"

#define GROUP_SHOWN 10

struct group_item {
    int64_t ticket_id; /* 0: a plan's task */
    const char *event; /* "sla.breach", ... */
    const char *title; /* the ticket's title, or NULL */
    const char *link;  /* its URL, or NULL */
};

/* The text of a message carrying total notifications, of which items[0..n) are shown (n
 * <= GROUP_SHOWN), in lang ("zh", else English), values escaped as esc; *ret_subject its
 * one-line title. Both malloc'd; -ENOMEM. */
int group_text(const struct group_item *items, size_t n, size_t total, const char *lang,
               enum escape esc, char **ret_text, char **ret_subject, struct slad_error *reterr);

#endif
