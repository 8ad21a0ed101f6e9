/* stream.c - the console's event stream (see stream.h): one libmicrohttpd response per
 * stream whose content reader hands out what was queued, suspending the connection when
 * nothing is. */
#include "stream.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "jsonx.h"
#include "log.h"

struct stream {
    struct streams *owner;
    struct stream *prev, *next;
    struct MHD_Connection *conn;
    char *buf; /* queued bytes, STREAM_BUFFER_MAX at most */
    size_t len;
    bool suspended;
    bool closing; /* end once the buffer is sent */
};

struct streams {
    struct ev_loop *loop;
    size_t max, n;
    struct stream *head;
    ev_timer keepalive;
    void (*kick)(void *);
    void *kick_data;
    unsigned long dropped; /* slow readers disconnected */
};

static const char stream_hello[] = "retry: 2000\n\n";
static const char stream_keepalive[] = ": keepalive\n\n";
static const char stream_reset[] = "event: reset\ndata: {}\n\n";
static const char err_too_many[] =
    "{\"error\":{\"code\":\"too_many_streams\",\"message\":\"too many event streams are open "
    "(a quarter of max_connections); close one or try again later\"}}";

size_t streams_max_for(size_t max_connections)
{
    return max_connections / 4 ? max_connections / 4 : 1;
}

static void wake(struct stream *st)
{
    if (st->suspended) {
        st->suspended = false;
        MHD_resume_connection(st->conn);
    }
}

/* Disconnect a stream whose reader does not keep up: shutting the socket down makes MHD's
 * next write fail, which ends the request (the descriptor stays MHD's to close). */
static void drop(struct stream *st, bool stopping)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(st->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (stopping) {
        log_info("stream", "ended an event stream with %zu bytes unsent: slad stops", st->len);
    } else {
        st->owner->dropped++;
        log_notice("stream",
                   "disconnected an event stream whose reader fell %zu bytes behind (the "
                   "limit is %d)",
                   st->len, STREAM_BUFFER_MAX);
    }
    free(st->buf);
    st->buf = NULL;
    st->len = 0;
    st->closing = true;
    if (info)
        shutdown(info->connect_fd, SHUT_RDWR);
    wake(st);
}

/* Queue text on st (a dropped or closing stream takes nothing); false when it was dropped. */
static bool queue(struct stream *st, const char *text, size_t len)
{
    if (st->closing)
        return false;
    if (st->len + len > STREAM_BUFFER_MAX) {
        drop(st, false);
        return false;
    }
    if (!st->buf) {
        st->buf = malloc(STREAM_BUFFER_MAX);
        if (!st->buf) {
            drop(st, false);
            return false;
        }
    }
    memcpy(st->buf + st->len, text, len);
    st->len += len;
    return true;
}

static ssize_t reader_cb(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *st = cls;
    if (st->len > 0) {
        size_t n = st->len < max ? st->len : max;
        memcpy(out, st->buf, n);
        memmove(st->buf, st->buf + n, st->len - n);
        st->len -= n;
        return (ssize_t)n;
    }
    if (st->closing)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* Nothing to send: wait (suspended) for the next commit or keepalive. */
    st->suspended = true;
    MHD_suspend_connection(st->conn);
    return 0;
}

static void keepalive_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct streams *ss = w->data;
    for (struct stream *st = ss->head, *next; st; st = next) {
        next = st->next;
        if (queue(st, stream_keepalive, sizeof(stream_keepalive) - 1))
            wake(st);
    }
    ss->kick(ss->kick_data);
}

/* MHD freed the response: the stream has ended. */
static void free_cb(void *cls)
{
    struct stream *st = cls;
    struct streams *ss = st->owner;
    if (st->prev)
        st->prev->next = st->next;
    else
        ss->head = st->next;
    if (st->next)
        st->next->prev = st->prev;
    ss->n--;
    if (ss->n == 0)
        ev_timer_stop(ss->loop, &ss->keepalive);
    free(st->buf);
    free(st);
}

struct streams *streams_new(struct ev_loop *loop, size_t max, void (*kick)(void *), void *kick_data)
{
    struct streams *ss = calloc(1, sizeof(*ss));
    if (!ss)
        return NULL;
    ss->loop = loop;
    ss->max = max;
    ss->kick = kick;
    ss->kick_data = kick_data;
    ev_timer_init(&ss->keepalive, keepalive_cb, STREAM_KEEPALIVE_S, STREAM_KEEPALIVE_S);
    ss->keepalive.data = ss;
    return ss;
}

void streams_free(struct streams *ss)
{
    if (!ss)
        return;
    ev_timer_stop(ss->loop, &ss->keepalive);
    free(ss);
}

size_t streams_open_count(const struct streams *ss)
{
    return ss->n;
}

enum MHD_Result streams_open(struct streams *ss, struct MHD_Connection *conn)
{
    struct MHD_Response *r;
    unsigned status = MHD_HTTP_OK;
    struct stream *st = NULL;
    if (ss->n >= ss->max) {
        static struct log_limit limit;
        log_limited(&limit, LOG_PRIO_NOTICE, "stream",
                    "refused an event stream: %zu are open, the most allowed (503)", ss->n);
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        r = MHD_create_response_from_buffer(sizeof(err_too_many) - 1, (void *)err_too_many,
                                            MHD_RESPMEM_PERSISTENT);
        if (r) {
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
            MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
        }
    } else {
        st = calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        st->owner = ss;
        st->conn = conn;
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader_cb, st, free_cb);
        if (!r) {
            free(st);
            return MHD_NO;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        st->next = ss->head;
        if (ss->head)
            ss->head->prev = st;
        ss->head = st;
        if (ss->n++ == 0)
            ev_timer_again(ss->loop, &ss->keepalive);
        queue(st, stream_hello, sizeof(stream_hello) - 1);
    }
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r); /* a stream's is freed (free_cb) once the connection is done */
    return ret;
}

/* "event: ticket" with the change's JSON into buf; its length, or 0 when it did not fit. */
static size_t ticket_event(const struct service_change *c, char *buf, size_t size)
{
    json_t *at = jsonx_time(c->updated_ms);
    const char *text = json_string_value(at);
    int n = snprintf(buf, size,
                     "event: ticket\ndata: {\"id\":%" PRId64 ",\"status\":\"%s\","
                     "\"updated_at\":\"%s\"}\n\n",
                     c->id, ticket_status_name(c->status), text ? text : "");
    json_decref(at);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

void streams_publish(struct streams *ss, const struct service_change *changes, size_t n,
                     bool overflow)
{
    if (!ss || !ss->head || (n == 0 && !overflow))
        return;
    for (size_t i = 0; i <= n; i++) {
        char event[256];
        size_t len;
        const char *text = event;
        if (i == n && !overflow)
            break;
        if (i == n) {
            text = stream_reset;
            len = sizeof(stream_reset) - 1;
        } else if ((len = ticket_event(&changes[i], event, sizeof(event))) == 0) {
            continue;
        }
        for (struct stream *st = ss->head; st; st = st->next)
            queue(st, text, len);
    }
    for (struct stream *st = ss->head; st; st = st->next)
        wake(st);
    ss->kick(ss->kick_data);
}

void streams_close_all(struct streams *ss)
{
    if (!ss)
        return;
    for (struct stream *st = ss->head; st; st = st->next) {
        if (st->closing)
            continue;
        if (st->len > 0) {
            drop(st, true); /* a reader that has not taken everything would hold the stop */
            continue;
        }
        st->closing = true;
        wake(st);
    }
    ev_timer_stop(ss->loop, &ss->keepalive);
    ss->kick(ss->kick_data);
}
