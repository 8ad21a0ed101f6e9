/* intake_client: a keep-alive HTTP/1.1 load generator for slad's ticket intake.
 *
 * Opens N connections (Unix socket or TCP), and on each sends one POST /v1/tickets at a time
 * with a unique external_id, until a duration has passed. Single-threaded with epoll so the
 * client takes one core at most and the daemon keeps the other.
 *
 * With --rate R the requests are paced: request i is due at start + i/R, and its latency is
 * counted from that due instant, not from when a connection was free to send it, so a
 * stalled server is not hidden (no coordinated omission). Without --rate each connection
 * sends as soon as its previous answer arrived (closed loop, the maximum rate).
 *
 * With --template FILE each request is that file's bytes (a request captured as it came, e.g.
 * slad's webhook saved by hook_receiver), the value of its Idempotency-Key header ending
 * with a request number of the same width, so that each key is new and every length stays.
 *
 * Prints one line of key=value pairs: requests, errors, seconds, rate, p50_us, p99_us, max_us.
 * Bench-only: built by meson as a dependency of the bench suite. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 256
#define RESPONSE_BUFFER 65536
#define REQUEST_BUFFER  16384

struct options {
    const char *unix_path;
    const char *tcp_host;
    int tcp_port;
    const char *token;
    const char *prefix;
    const char *prefer; /* a Prefer header's value ("return=minimal"), or NULL */
    const char *template_path;
    int connections;
    double seconds;
    double rate;
    uint64_t max_requests; /* 0: no limit, only the duration */
};

struct connection {
    int fd;
    bool busy;
    uint32_t watched; /* the epoll events registered, to skip needless epoll_ctl calls */
    char request[REQUEST_BUFFER];
    size_t request_len;
    size_t sent;
    char response[RESPONSE_BUFFER];
    size_t received;
    int64_t started_ns;
};

struct run {
    struct options opt;
    struct connection conns[MAX_CONNECTIONS];
    int epoll_fd;
    int timer_fd; /* wakes the loop at the next due instant when paced (epoll is ms-grained) */
    uint64_t next_id;
    uint64_t issued;
    uint64_t completed;
    uint64_t errors;
    int64_t *latencies_ns;
    size_t latencies_len;
    size_t latencies_cap;
    int64_t start_ns;
    int64_t end_ns;
    char template[REQUEST_BUFFER]; /* --template: the request, and where its key's tail is */
    size_t template_len, key_tail, key_tail_len;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "intake_client: %s: %s\n", what, strerror(errno));
    exit(2);
}

static int open_connection(const struct options *opt)
{
    int fd;
    if (opt->unix_path) {
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        if (strlen(opt->unix_path) >= sizeof addr.sun_path) {
            fprintf(stderr, "intake_client: socket path too long\n");
            exit(2);
        }
        memcpy(addr.sun_path, opt->unix_path, strlen(opt->unix_path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
            die("connect (unix)");
    } else {
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(opt->tcp_port)};
        if (inet_pton(AF_INET, opt->tcp_host, &addr.sin_addr) != 1) {
            fprintf(stderr, "intake_client: bad IPv4 address %s\n", opt->tcp_host);
            exit(2);
        }
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
            die("connect (tcp)");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void record_latency(struct run *r, int64_t ns)
{
    if (r->latencies_len == r->latencies_cap) {
        r->latencies_cap = r->latencies_cap ? r->latencies_cap * 2 : 65536;
        r->latencies_ns = realloc(r->latencies_ns, r->latencies_cap * sizeof *r->latencies_ns);
        if (!r->latencies_ns)
            die("realloc");
    }
    r->latencies_ns[r->latencies_len++] = ns;
}

/* Read --template's request and find the tail of its Idempotency-Key value (at most 12
 * characters: the request number goes there). */
static void load_template(struct run *r)
{
    FILE *f = fopen(r->opt.template_path, "rb");
    if (!f)
        die("template");
    r->template_len = fread(r->template, 1, sizeof r->template, f);
    fclose(f);
    const char *head_end = memmem(r->template, r->template_len, "\r\n\r\n", 4);
    const char *k = head_end ? memmem(r->template, (size_t)(head_end - r->template),
                                      "\r\nIdempotency-Key: ", 19)
                             : NULL;
    if (r->template_len == sizeof r->template || !k) {
        fprintf(stderr, "intake_client: the template is no request with an Idempotency-Key\n");
        exit(2);
    }
    const char *v = k + 19, *end = memmem(v, (size_t)(head_end + 2 - v), "\r\n", 2);
    size_t len = (size_t)(end - v);
    r->key_tail_len = len < 12 ? len : 12;
    r->key_tail = (size_t)(end - r->template) - r->key_tail_len;
}

static void build_request(struct run *r, struct connection *c)
{
    if (r->template_len) {
        memcpy(c->request, r->template, r->template_len);
        char num[32];
        snprintf(num, sizeof num, "%020llu", (unsigned long long)r->next_id++);
        memcpy(c->request + r->key_tail, num + 20 - r->key_tail_len, r->key_tail_len);
        c->request_len = r->template_len;
        c->sent = 0;
        c->received = 0;
        return;
    }
    char body[512];
    int body_len = snprintf(body, sizeof body,
                            "{\"title\":\"bench intake\",\"severity\":3,\"source\":\"bench\","
                            "\"external_id\":\"%s-%llu\"}",
                            r->opt.prefix, (unsigned long long)r->next_id++);
    char auth[256] = "";
    if (r->opt.token)
        snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", r->opt.token);
    char prefer[128] = "";
    if (r->opt.prefer)
        snprintf(prefer, sizeof prefer, "Prefer: %s\r\n", r->opt.prefer);
    int len = snprintf(c->request, sizeof c->request,
                       "POST /v1/tickets HTTP/1.1\r\nHost: localhost\r\n%s%s"
                       "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                       auth, prefer, body_len, body);
    c->request_len = (size_t)len;
    c->sent = 0;
    c->received = 0;
}

static void watch(struct run *r, struct connection *c, uint32_t events)
{
    if (c->watched == events)
        return;
    c->watched = events;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(r->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl");
}

static void try_send(struct run *r, struct connection *c)
{
    while (c->sent < c->request_len) {
        ssize_t n = send(c->fd, c->request + c->sent, c->request_len - c->sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(r, c, EPOLLIN | EPOLLOUT);
            return;
        }
        if (n <= 0)
            die("send");
        c->sent += (size_t)n;
    }
    watch(r, c, EPOLLIN);
}

static void start_request(struct run *r, struct connection *c, int64_t due_ns)
{
    build_request(r, c);
    c->busy = true;
    c->started_ns = due_ns;
    r->issued++;
    try_send(r, c);
}

/* Returns the length of a complete response in c->response, or 0 if more bytes are needed.
 * slad and Alertmanager answer with Content-Length; a chunked answer is not expected. */
static size_t complete_response(struct connection *c, int *status)
{
    c->response[c->received] = '\0';
    char *head_end = strstr(c->response, "\r\n\r\n");
    if (!head_end)
        return 0;
    size_t head_len = (size_t)(head_end - c->response) + 4;
    *status = atoi(c->response + 9);
    const char *cl = strcasestr(c->response, "\r\nContent-Length:");
    long body_len = 0;
    if (cl && cl < head_end)
        body_len = strtol(cl + 17, NULL, 10);
    else if (strcasestr(c->response, "\r\nTransfer-Encoding: chunked")) {
        fprintf(stderr, "intake_client: chunked answers are not supported\n");
        exit(2);
    }
    if (c->received < head_len + (size_t)body_len)
        return 0;
    return head_len + (size_t)body_len;
}

static void on_readable(struct run *r, struct connection *c)
{
    for (;;) {
        if (c->received >= RESPONSE_BUFFER - 1) {
            fprintf(stderr, "intake_client: answer larger than %d bytes\n", RESPONSE_BUFFER);
            exit(2);
        }
        ssize_t n = recv(c->fd, c->response + c->received, RESPONSE_BUFFER - 1 - c->received, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n == 0) {
            fprintf(stderr, "intake_client: server closed a keep-alive connection\n");
            exit(2);
        }
        if (n < 0)
            die("recv");
        c->received += (size_t)n;
        int status = 0;
        size_t len = complete_response(c, &status);
        if (len == 0)
            continue;
        if (len != c->received) {
            fprintf(stderr, "intake_client: unexpected bytes after an answer\n");
            exit(2);
        }
        int64_t t = now_ns();
        record_latency(r, t - c->started_ns);
        r->completed++;
        if (status < 200 || status > 299) {
            if (r->errors < 3)
                fprintf(stderr, "intake_client: status %d: %.200s\n", status, c->response);
            r->errors++;
        }
        c->busy = false;
        c->received = 0;
        r->end_ns = t;
        return;
    }
}

static int compare_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t percentile(const int64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[i];
}

/* The due instant of the next request, or now when unpaced. */
static int64_t next_due(const struct run *r, int64_t now)
{
    if (r->opt.rate <= 0)
        return now;
    return r->start_ns + (int64_t)((double)r->issued * 1e9 / r->opt.rate);
}

/* Whether new requests may still be issued. */
static bool issuing(const struct run *r, int64_t now, int64_t stop_ns)
{
    return now < stop_ns && (r->opt.max_requests == 0 || r->issued < r->opt.max_requests);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: intake_client (--unix PATH | --tcp IPV4:PORT) [--token T]\n"
            "       [--connections N] [--seconds S] [--requests N] [--rate R] [--prefix P]\n"
            "       [--prefer return=minimal] [--template FILE]\n");
    exit(2);
}

static void parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.connections = 16, .seconds = 5, .prefix = "ic"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--unix"))
            o->unix_path = v;
        else if (!strcmp(a, "--tcp")) {
            static char host[64];
            const char *colon = strrchr(v, ':');
            if (!colon || (size_t)(colon - v) >= sizeof host)
                usage();
            memcpy(host, v, (size_t)(colon - v));
            host[colon - v] = '\0';
            o->tcp_host = host;
            o->tcp_port = atoi(colon + 1);
        } else if (!strcmp(a, "--token"))
            o->token = v;
        else if (!strcmp(a, "--connections"))
            o->connections = atoi(v);
        else if (!strcmp(a, "--seconds"))
            o->seconds = atof(v);
        else if (!strcmp(a, "--requests"))
            o->max_requests = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--rate"))
            o->rate = atof(v);
        else if (!strcmp(a, "--prefix"))
            o->prefix = v;
        else if (!strcmp(a, "--prefer"))
            o->prefer = v;
        else if (!strcmp(a, "--template"))
            o->template_path = v;
        else
            usage();
    }
    if (!o->unix_path == !o->tcp_host || o->connections < 1 || o->connections > MAX_CONNECTIONS ||
        o->seconds <= 0)
        usage();
}

int main(int argc, char **argv)
{
    static struct run r;
    parse_options(argc, argv, &r.opt);
    if (r.opt.template_path)
        load_template(&r);
    r.epoll_fd = epoll_create1(0);
    if (r.epoll_fd < 0)
        die("epoll_create1");
    for (int i = 0; i < r.opt.connections; i++) {
        struct connection *c = &r.conns[i];
        c->fd = open_connection(&r.opt);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        c->watched = EPOLLIN;
        if (epoll_ctl(r.epoll_fd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
            die("epoll_ctl");
    }

    r.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct epoll_event timer_ev = {.events = EPOLLIN, .data.ptr = &r.timer_fd};
    if (r.timer_fd < 0 || epoll_ctl(r.epoll_fd, EPOLL_CTL_ADD, r.timer_fd, &timer_ev) < 0)
        die("timerfd");
    r.start_ns = now_ns();
    r.end_ns = r.start_ns;
    int64_t stop_ns = r.start_ns + (int64_t)(r.opt.seconds * 1e9);
    int busy = 0;
    for (;;) {
        int64_t now = now_ns();
        /* Hand due requests to idle connections until the duration has passed. */
        for (int i = 0; i < r.opt.connections && issuing(&r, now, stop_ns); i++) {
            struct connection *c = &r.conns[i];
            if (c->busy)
                continue;
            int64_t due = next_due(&r, now);
            if (due > now)
                break;
            start_request(&r, c, due);
            busy++;
        }
        if (busy == 0 && !issuing(&r, now, stop_ns))
            break;
        int timeout_ms = -1;
        if (issuing(&r, now, stop_ns) && r.opt.rate > 0) {
            int64_t due = next_due(&r, now);
            struct itimerspec when = {
                .it_value = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000}};
            /* A due request not handed out means every connection is busy: wait for an
             * answer rather than spin (the client must not steal the server's core). */
            if (due > now && timerfd_settime(r.timer_fd, TFD_TIMER_ABSTIME, &when, NULL) < 0)
                die("timerfd_settime");
        } else if (busy == 0) {
            timeout_ms = (int)((stop_ns - now + 999999) / 1000000);
        }
        struct epoll_event events[MAX_CONNECTIONS + 1];
        int n = epoll_wait(r.epoll_fd, events, MAX_CONNECTIONS + 1, timeout_ms);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == &r.timer_fd) {
                uint64_t expirations;
                if (read(r.timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
                    die("read timerfd");
                continue;
            }
            struct connection *c = events[i].data.ptr;
            if (events[i].events & EPOLLOUT)
                try_send(&r, c);
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                bool was_busy = c->busy;
                on_readable(&r, c);
                if (was_busy && !c->busy)
                    busy--;
            }
        }
    }

    double seconds = (double)(r.end_ns - r.start_ns) / 1e9;
    qsort(r.latencies_ns, r.latencies_len, sizeof *r.latencies_ns, compare_int64);
    printf("requests=%llu errors=%llu seconds=%.3f rate=%.1f p50_us=%.0f p99_us=%.0f "
           "max_us=%.0f\n",
           (unsigned long long)r.completed, (unsigned long long)r.errors, seconds,
           seconds > 0 ? (double)r.completed / seconds : 0.0,
           (double)percentile(r.latencies_ns, r.latencies_len, 0.50) / 1e3,
           (double)percentile(r.latencies_ns, r.latencies_len, 0.99) / 1e3,
           (double)(r.latencies_len ? r.latencies_ns[r.latencies_len - 1] : 0) / 1e3);
    for (int i = 0; i < r.opt.connections; i++)
        close(r.conns[i].fd);
    free(r.latencies_ns);
    return r.errors ? 1 : 0;
}
