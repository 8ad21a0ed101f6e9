/* deliver_xfer.c - transfers on libev through libcurl's multi socket API (see
 * deliver_xfer.h). */
#include "deliver_xfer.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render.h"

#define RESPONSE_MAX 8192 /* response bytes kept for channel_classify; the rest is dropped */
#define NO_STARTTLS                                                                                \
    "the SMTP server does not offer STARTTLS, so neither the login nor the message was sent "      \
    "(use smtps://, enable STARTTLS on the server, or set tls = \"none\" on the channel)"

struct deliver_call {
    struct deliver_call *next, *prev;
    struct deliver_xfer *x;
    const struct channel_request *req;
    deliver_xfer_done_fn *done;
    void *userdata;
    CURL *easy;
    struct curl_slist *headers, *rcpt;
    struct render_buf resp;
    char retry_after[64];
    size_t upload_off;
    char errbuf[CURL_ERROR_SIZE];
};

struct sock {
    ev_io io;
    struct deliver_xfer *x;
};

struct deliver_xfer {
    struct ev_loop *loop;
    CURLM *multi;
    ev_timer timer;
    struct deliver_call *calls;
    long max_connections; /* CURLMOPT_MAXCONNECTS set, 0 before */
};

static void call_free(struct deliver_call *c)
{
    struct deliver_xfer *x = c->x;
    if (c->prev)
        c->prev->next = c->next;
    else
        x->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    curl_multi_remove_handle(x->multi, c->easy);
    curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    curl_slist_free_all(c->rcpt);
    render_buf_done(&c->resp);
    free(c);
}

void deliver_call_cancel(struct deliver_call *c)
{
    if (c)
        call_free(c);
}

/* curl: response bytes, kept up to RESPONSE_MAX. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct deliver_call *c = userdata;
    size_t len = size * nmemb;
    size_t room = RESPONSE_MAX > c->resp.len ? RESPONSE_MAX - c->resp.len : 0;
    render_buf_add(&c->resp, data, len < room ? len : room);
    return len;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct deliver_call *c = userdata;
    size_t len = size * nmemb;
    if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
        size_t a = 12, b = len;
        while (a < b && (data[a] == ' ' || data[a] == '\t'))
            a++;
        while (b > a && (data[b - 1] == '\r' || data[b - 1] == '\n' || data[b - 1] == ' '))
            b--;
        if (b - a < sizeof(c->retry_after)) {
            memcpy(c->retry_after, data + a, b - a);
            c->retry_after[b - a] = '\0';
        }
    }
    return len;
}

/* curl: the e-mail message, for the SMTP upload. */
static size_t on_read(char *buf, size_t size, size_t nmemb, void *userdata)
{
    struct deliver_call *c = userdata;
    size_t left = c->req->body_len - c->upload_off;
    size_t n = size * nmemb < left ? size * nmemb : left;
    memcpy(buf, c->req->body + c->upload_off, n);
    c->upload_off += n;
    return n;
}

static enum channel_xfer xfer_from(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return CHANNEL_XFER_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return CHANNEL_XFER_TIMEOUT;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_LOGIN_DENIED:
    case CURLE_USE_SSL_FAILED: /* the server offers no STARTTLS: its setup, not a glitch */
        return CHANNEL_XFER_PERMANENT;
    default:
        return CHANNEL_XFER_NETWORK;
    }
}

/* Transfers curl says are over. */
static void check_done(struct deliver_xfer *x)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(x->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct deliver_call *c = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        CURLcode rc = msg->data.result;
        long status = 0;
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
        struct channel_response resp = {
            .xfer = xfer_from(rc),
            .error = rc == CURLE_OK               ? NULL
                     : rc == CURLE_USE_SSL_FAILED ? NO_STARTTLS
                     : c->errbuf[0]               ? c->errbuf
                                                  : curl_easy_strerror(rc),
            .status = status,
            .body = c->resp.data,
            .body_len = c->resp.len,
            .retry_after = c->retry_after[0] ? c->retry_after : NULL,
        };
        c->done(c->userdata, &resp);
        call_free(c);
    }
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    /* Read before the call: curl may remove the socket (freeing w) inside it. */
    struct deliver_xfer *x = ((struct sock *)w)->x;
    int fd = w->fd;
    int action =
        (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(x->multi, fd, action, &running);
    check_done(x);
}

static void on_curl_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    struct deliver_xfer *x = w->data;
    int running;
    curl_multi_socket_action(x->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(x);
}

/* CURLMOPT_SOCKETFUNCTION: watch s as curl asks. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    struct deliver_xfer *x = userp;
    struct sock *sk = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sk) {
            ev_io_stop(x->loop, &sk->io);
            free(sk);
        }
        return 0;
    }
    if (!sk) {
        sk = calloc(1, sizeof(*sk));
        if (!sk)
            return -1;
        sk->x = x;
        curl_multi_assign(x->multi, s, sk);
    } else {
        ev_io_stop(x->loop, &sk->io);
    }
    int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    ev_io_init(&sk->io, on_io, s, events);
    ev_io_start(x->loop, &sk->io);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer; -1 means none. Never act from inside: the timer
 * fires from the loop. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct deliver_xfer *x = userp;
    ev_timer_stop(x->loop, &x->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&x->timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(x->loop, &x->timer);
    }
    return 0;
}

static void setup_smtp(struct deliver_call *c)
{
    const struct channel_request *req = c->req;
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    /* Else curl sends AUTH PLAIN and the message in clear text to a server without TLS. */
    if (req->require_tls)
        curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (req->username)
        curl_easy_setopt(e, CURLOPT_USERNAME, req->username);
    if (req->password)
        curl_easy_setopt(e, CURLOPT_PASSWORD, req->password);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, req->mail_from);
    for (size_t i = 0; i < req->n_rcpt; i++)
        c->rcpt = curl_slist_append(c->rcpt, req->rcpt_to[i]);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, c->rcpt);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, c);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
}

static void setup_http(struct deliver_call *c)
{
    const struct channel_request *req = c->req;
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    for (size_t i = 0; i < req->n_headers; i++)
        c->headers = curl_slist_append(c->headers, req->headers[i]);
    /* No "Expect: 100-continue" round trip for a small body. */
    c->headers = curl_slist_append(c->headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    if (!req->method || strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        return;
    }
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    if (strcmp(req->method, "POST") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
}

int deliver_xfer_start(struct deliver_xfer *x, const struct channel_request *req,
                       int64_t timeout_ms, deliver_xfer_done_fn *done, void *userdata,
                       struct deliver_call **ret)
{
    struct deliver_call *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->easy = curl_easy_init();
    if (!c->easy) {
        free(c);
        return -ENOMEM;
    }
    c->x = x;
    c->req = req;
    c->done = done;
    c->userdata = userdata;
    render_buf_init(&c->resp, RESPONSE_MAX + 1);
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    if (req->transport == CHANNEL_TRANSPORT_SMTP)
        setup_smtp(c);
    else
        setup_http(c);
    c->next = x->calls;
    if (x->calls)
        x->calls->prev = c;
    x->calls = c;
    if (curl_multi_add_handle(x->multi, e) != CURLM_OK) {
        call_free(c);
        return -ENOMEM;
    }
    *ret = c;
    return 0;
}

void deliver_xfer_max_connections(struct deliver_xfer *x, long n)
{
    if (n > 0 && n != x->max_connections &&
        curl_multi_setopt(x->multi, CURLMOPT_MAXCONNECTS, n) == CURLM_OK)
        x->max_connections = n;
}

struct deliver_xfer *deliver_xfer_new(struct ev_loop *loop)
{
    struct deliver_xfer *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any handle; the daemon has one thread */
    x->loop = loop;
    x->multi = curl_multi_init();
    if (!x->multi) {
        curl_global_cleanup();
        free(x);
        return NULL;
    }
    curl_multi_setopt(x->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(x->multi, CURLMOPT_SOCKETDATA, x);
    curl_multi_setopt(x->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(x->multi, CURLMOPT_TIMERDATA, x);
    ev_timer_init(&x->timer, on_curl_timer, 0., 0.);
    x->timer.data = x;
    return x;
}

void deliver_xfer_free(struct deliver_xfer *x)
{
    if (!x)
        return;
    while (x->calls)
        call_free(x->calls);
    ev_timer_stop(x->loop, &x->timer);
    curl_multi_cleanup(x->multi);
    curl_global_cleanup();
    free(x);
}
