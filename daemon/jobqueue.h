/* jobqueue.h - a first-in first-out list of jobs linked through a member of theirs (struct
 * jobqueue_link): the queue and the finished list of the worker threads (reader.c,
 * pwcheck.c). Not thread-safe: the caller holds the lock that guards it. */
#ifndef SLAD_JOBQUEUE_H
#define SLAD_JOBQUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct jobqueue_link {
    struct jobqueue_link *next;
};

struct jobqueue {
    struct jobqueue_link *head, **tail;
};

/* The job of type that holds link as its member. */
#define JOBQUEUE_JOB(link, type, member) ((type *)(void *)((char *)(link)-offsetof(type, member)))

static inline void jobqueue_init(struct jobqueue *q)
{
    q->head = NULL;
    q->tail = &q->head;
}

static inline bool jobqueue_empty(const struct jobqueue *q)
{
    return !q->head;
}

static inline void jobqueue_push(struct jobqueue *q, struct jobqueue_link *l)
{
    l->next = NULL;
    *q->tail = l;
    q->tail = &l->next;
}

/* The first job's link, NULL when q is empty. */
static inline struct jobqueue_link *jobqueue_pop(struct jobqueue *q)
{
    struct jobqueue_link *l = q->head;
    if (l) {
        q->head = l->next;
        if (!q->head)
            q->tail = &q->head;
        l->next = NULL;
    }
    return l;
}

/* Every job, in order, as a list of links (q is left empty). */
static inline struct jobqueue_link *jobqueue_take_all(struct jobqueue *q)
{
    struct jobqueue_link *all = q->head;
    jobqueue_init(q);
    return all;
}

#endif
