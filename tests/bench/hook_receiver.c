/* hook_receiver: a loopback HTTP/1.1 webhook receiver for bench-notify.
 *
 * Answers every request `200 OK` with an empty body on keep-alive connections and counts
 * them, and their distinct `Idempotency-Key` headers: a key seen again is a duplicate (slad
 * sends a notification twice only when a crash cut its attempt). Single-threaded with epoll, so
 * that it costs one core at most and its own capacity (measured with intake_client in the same run)
 * is a stable baseline: the python receiver it replaces answered 1,900-4,800 requests a second and
 * its noise hid slad's figure.
 *
 * Listens on 127.0.0.1 on a free port and prints `port=N` on stdout. Commands on stdin, one a
 * line: `reset` zeroes the counters and forgets the keys, `stat` prints `count=N first_ns=T
 * last_ns=T connections=N keys=N duplicates=N` (monotonic clock of the first and last
 * answered request; connections accepted: keep-alive keeps it at the client's concurrency;
 * distinct keys; requests whose key was seen before), `save PATH` writes the first request
 * answered since the last reset to PATH as it came (head and body: the shape intake_client
 * --template replays) and prints `saved=BYTES`. End of input stops it.
 * Bench-only: built by meson as a dependency of the bench suite. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFFER_SIZE (256 * 1024)
#define MAX_EVENTS  64

static const char ANSWER[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

struct connection {
    int fd;
    size_t used;
    char buf[BUFFER_SIZE];
};

static uint64_t count, accepted, duplicates;
static int64_t first_ns, last_ns;

/* The first request since the last reset, for `save`. */
static char first_request[BUFFER_SIZE];
static size_t first_len;

/* The keys seen: open addressing on a power-of-two table, grown at half full. */
static char **keys;
static size_t keys_cap, keys_len;

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void keys_clear(void)
{
    for (size_t i = 0; i < keys_cap; i++)
        free(keys[i]);
    free(keys);
    keys = NULL;
    keys_cap = keys_len = 0;
}

/* Put key k (n bytes) in the set; false when it was there already. */
static bool keys_add(const char *k, size_t n)
{
    if (2 * (keys_len + 1) > keys_cap) {
        size_t old_cap = keys_cap;
        char **old = keys;
        keys_cap = old_cap ? 2 * old_cap : 1 << 16;
        keys = calloc(keys_cap, sizeof *keys);
        if (!keys)
            die("calloc");
        for (size_t i = 0; i < old_cap; i++) {
            if (!old[i])
                continue;
            size_t j = hash(old[i], strlen(old[i])) & (keys_cap - 1);
            while (keys[j])
                j = (j + 1) & (keys_cap - 1);
            keys[j] = old[i];
        }
        free(old);
    }
    size_t j = hash(k, n) & (keys_cap - 1);
    for (; keys[j]; j = (j + 1) & (keys_cap - 1))
        if (strlen(keys[j]) == n && !memcmp(keys[j], k, n))
            return false;
    keys[j] = strndup(k, n);
    if (!keys[j])
        die("strndup");
    keys_len++;
    return true;
}

/* Count the Idempotency-Key of the request in buf (head ends at head_end). */
static void count_key(const char *buf, const char *head_end)
{
    for (const char *line = memchr(buf, '\n', (size_t)(head_end - buf)); line && line < head_end;
         line = memchr(line + 1, '\n', (size_t)(head_end - line))) {
        if (strncasecmp(line + 1, "idempotency-key:", 16))
            continue;
        const char *a = line + 17, *b = a;
        while (*a == ' ')
            a++;
        for (b = a; b < head_end && *b != '\r' && *b != '\n'; b++)
            ;
        if (!keys_add(a, (size_t)(b - a)))
            duplicates++;
        return;
    }
}

/* The length of the first complete request in c's buffer (head and body), 0 when it is not
 * complete yet, -1 when its head cannot be read. */
static long complete_request(const struct connection *c)
{
    const char *end = memmem(c->buf, c->used, "\r\n\r\n", 4);
    if (!end)
        return c->used >= BUFFER_SIZE ? -1 : 0;
    size_t head = (size_t)(end - c->buf) + 4;
    long body = 0;
    for (const char *line = memchr(c->buf, '\n', head); line && line < end;
         line = memchr(line + 1, '\n', (size_t)(end - line))) {
        if (!strncasecmp(line + 1, "content-length:", 15)) {
            body = strtol(line + 16, NULL, 10);
            break;
        }
    }
    if (body < 0 || (size_t)body > BUFFER_SIZE - head)
        return -1;
    return c->used >= head + (size_t)body ? (long)(head + (size_t)body) : 0;
}

/* Reads what the connection has and answers each complete request; 0 when it closed. */
static int on_readable(struct connection *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->used, BUFFER_SIZE - c->used, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 1;
        if (n <= 0)
            return 0;
        c->used += (size_t)n;
        long len;
        while ((len = complete_request(c)) > 0) {
            /* The answer is 38 bytes on a socket whose buffer is empty between requests. */
            if (send(c->fd, ANSWER, sizeof ANSWER - 1, MSG_NOSIGNAL) != sizeof ANSWER - 1)
                return 0;
            last_ns = now_ns();
            if (count++ == 0) {
                first_ns = last_ns;
                memcpy(first_request, c->buf, (size_t)len);
                first_len = (size_t)len;
            }
            count_key(c->buf, memmem(c->buf, (size_t)len, "\r\n\r\n", 4));
            memmove(c->buf, c->buf + len, c->used - (size_t)len);
            c->used -= (size_t)len;
        }
        if (len < 0)
            return 0;
    }
}

static void on_command(void)
{
    char line[64];
    if (!fgets(line, sizeof line, stdin))
        exit(0);
    if (!strncmp(line, "reset", 5)) {
        count = accepted = duplicates = 0;
        first_ns = last_ns = 0;
        first_len = 0;
        keys_clear();
    } else if (!strncmp(line, "stat", 4)) {
        printf("count=%llu first_ns=%lld last_ns=%lld connections=%llu keys=%llu "
               "duplicates=%llu\n",
               (unsigned long long)count, (long long)first_ns, (long long)last_ns,
               (unsigned long long)accepted, (unsigned long long)keys_len,
               (unsigned long long)duplicates);
    } else if (!strncmp(line, "save ", 5)) {
        line[strcspn(line, "\n")] = '\0';
        FILE *f = fopen(line + 5, "wb");
        if (!f || fwrite(first_request, 1, first_len, f) != first_len || fclose(f))
            die("save");
        printf("saved=%zu\n", first_len);
    }
    fflush(stdout);
}

int main(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) || listen(lfd, 512) ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen))
        die("listen");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev))
        die("epoll_ctl");
    struct epoll_event in = {.events = EPOLLIN, .data.ptr = &in};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &in))
        die("epoll_ctl stdin");
    printf("port=%d\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            void *p = events[i].data.ptr;
            if (p == &in) {
                on_command();
            } else if (!p) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct connection *c = calloc(1, sizeof *c);
                    if (!c)
                        die("calloc");
                    c->fd = fd;
                    accepted++;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev))
                        die("epoll_ctl connection");
                }
            } else if (!on_readable(p)) {
                struct connection *c = p;
                close(c->fd); /* closing removes it from the epoll set */
                free(c);
            }
        }
    }
}
