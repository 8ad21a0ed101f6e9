/* refusal.c - libmicrohttpd's own refusals answered with slad's JSON errors.
 *
 * libmicrohttpd (0.9.75) refuses a request it cannot parse before slad sees it: a broken
 * request line or header line (400), an HTTP version other than 1.x (505), a head larger
 * than the connection's memory (431, or 414 while still in the request line), a
 * Content-Length or chunk size past 2^64 (413), a malformed chunked encoding (400). Its
 * answer has a fixed HTML body and no Content-Type, and no option changes it.
 *
 * It queues that answer with its exported MHD_queue_response, called through its PLT (as
 * every exported function of a shared library is), so the definition below, found first
 * in the program, sees every answer queued, and reaches the library's own with
 * dlsym(RTLD_NEXT). slad sets a Content-Type on each of its answers (request.c): an answer
 * without one is the library's refusal, and is replaced by the JSON error of its status.
 *
 * On a plain socket (Unix, TCP) the JSON answer is written here and the library told that
 * the queueing failed, upon which it closes the connection, as it does after any refusal:
 * 0.9.75 builds the head of a refusal it finds among the headers (a bad Content-Length)
 * twice, and would send the second head where the body belongs. Under TLS the JSON answer
 * is queued in place of the HTML one (that one case keeps 0.9.75's doubled head). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <microhttpd.h>

#include "jsonx.h"
#include "log.h"

typedef enum MHD_Result queue_fn(struct MHD_Connection *conn, unsigned int status,
                                 struct MHD_Response *response);

/* The code and message of the refusal of each status libmicrohttpd refuses with. */
static const struct refusal {
    unsigned status;
    const char *code, *message;
} refusals[] = {
    {MHD_HTTP_BAD_REQUEST, "bad_request",
     "the request is not HTTP that slad can read: its request line, a header line, "
     "Content-Length or the chunked encoding is malformed; nothing was done"},
    {MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
     "Content-Length or a chunk size is larger than any body slad takes (daemon.max_body); "
     "nothing was done"},
    {MHD_HTTP_URI_TOO_LONG, "uri_too_long",
     "the request line is longer than the head slad takes (daemon.max_header); nothing was "
     "done"},
    {MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "header_too_large",
     "the request head is larger than slad takes (daemon.max_header); send fewer or shorter "
     "headers"},
    {MHD_HTTP_HTTP_VERSION_NOT_SUPPORTED, "http_version_not_supported",
     "slad speaks HTTP/1.1 and HTTP/1.0; send the request as one of them"},
};

static const struct refusal refusal_other = {
    0, "refused", "libmicrohttpd refused the request before slad read it; nothing was done"};

static const struct refusal *refusal_find(unsigned status)
{
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
        if (refusals[i].status == status)
            return &refusals[i];
    return &refusal_other;
}

static bool over_tls(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON);
    const union MHD_DaemonInfo *di =
        ci ? MHD_get_daemon_info(ci->daemon, MHD_DAEMON_INFO_FLAGS) : NULL;
    return !di || (di->flags & MHD_USE_TLS);
}

/* The whole answer on the connection's socket, at once: it is a few hundred bytes on a
 * connection that has sent nothing yet, which the socket's buffer takes. */
static bool write_answer(struct MHD_Connection *conn, unsigned status, const char *body, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return false;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm))
        date[0] = '\0';
    const char *reason = MHD_get_reason_phrase_for(status);
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %u %s\r\nDate: %s\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     status, reason ? reason : "Refused", date, len);
    if (n < 0 || (size_t)n >= sizeof(head))
        return false;
    struct iovec iov[2] = {{head, (size_t)n}, {(void *)body, len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t sent;
    do
        sent = sendmsg(ci->connect_fd, &msg, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    return sent == (ssize_t)((size_t)n + len);
}

/* Every answer queued, slad's and libmicrohttpd's own. */
enum MHD_Result MHD_queue_response(struct MHD_Connection *conn, unsigned int status,
                                   struct MHD_Response *response)
{
    static queue_fn *next;
    if (!next)
        next = (queue_fn *)dlsym(RTLD_NEXT, "MHD_queue_response");
    if (!next)
        return MHD_NO; /* cannot happen while libmicrohttpd is linked: it defines it */
    if (!response || MHD_get_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE))
        return next(conn, status, response);
    const struct refusal *rf = refusal_find(status);
    size_t len = 0;
    char *body = jsonx_error_body(rf->code, rf->message, &len);
    if (!body)
        return next(conn, status, response); /* out of memory: the library's own answer */
    log_debug("http", "refused a request libmicrohttpd could not read: %u %s", status, rf->code);
    enum MHD_Result r = MHD_NO;
    if (!over_tls(conn)) {
        /* Written here; MHD_NO makes the library close the connection without a second
         * answer. */
        write_answer(conn, status, body, len);
        free(body);
        return MHD_NO;
    }
    struct MHD_Response *json = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!json) {
        free(body);
        return next(conn, status, response);
    }
    if (MHD_add_response_header(json, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") == MHD_YES)
        r = next(conn, status, json);
    MHD_destroy_response(json);
    return r == MHD_YES ? r : next(conn, status, response);
}
