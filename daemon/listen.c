/* listen.c - the listening sockets (see listen.h). */
#include "listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "log.h"

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

/* Sort the sockets systemd passed into API and TCP; others are closed with a warning. */
static void take_activated(struct listeners *ls)
{
    int n = sd_listen_fds(1);
    if (n < 0) {
        log_warning("listen", "ignoring the sockets passed by systemd: error %d", -n);
        return;
    }
    for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
        if (ls->unix_fd < 0 && sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0) {
            ls->unix_fd = fd;
        } else if (ls->tcp_fd < 0 && sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, 0) > 0) {
            ls->tcp_fd = fd;
            snprintf(ls->tcp_name, sizeof(ls->tcp_name), "fd %d", fd);
        } else {
            log_warning("listen",
                        "ignoring socket fd %d passed by systemd: not a listening "
                        "Unix or TCP stream socket, or one too many",
                        fd);
            close(fd);
            continue;
        }
        set_flags(fd);
        ls->activated = true;
    }
}

/* Whether a process accepts connections on the Unix socket at addr. */
static bool unix_alive(const struct sockaddr_un *addr)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    int r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
    /* EAGAIN: its backlog is full, so somebody listens. */
    bool alive = r == 0 || errno == EAGAIN || errno == EINPROGRESS;
    close(fd);
    return alive;
}

static int unix_open(struct listeners *ls, const char *path, unsigned mode,
                     struct slad_error *reterr)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(addr.sun_path))
        return slad_error_set(reterr, ENAMETOOLONG,
                              "socket path '%s' is empty or longer than %zu bytes", path,
                              sizeof(addr.sun_path) - 1);
    memcpy(addr.sun_path, path, len + 1);

    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return slad_error_set(reterr, EEXIST, "'%s' exists and is not a socket", path);
        if (unix_alive(&addr))
            return slad_error_set(reterr, EADDRINUSE,
                                  "another process answers on '%s' (is slad already running?)",
                                  path);
        if (unlink(path) < 0 && errno != ENOENT)
            return slad_error_set(reterr, errno, "cannot remove the stale socket '%s': %s", path,
                                  strerror(errno));
        log_notice("listen", "removed the stale socket '%s'", path);
    }

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return slad_error_set(reterr, errno, "socket: %s", strerror(errno));
    /* bind creates the file with 0777 & ~umask: set the umask so that the socket never
     * exists, even for an instant, with more permissions than configured. */
    mode_t old = umask((mode_t)(~mode & 0777));
    int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    int saved = errno;
    umask(old);
    if (r < 0) {
        close(fd);
        return slad_error_set(reterr, saved, "cannot bind '%s': %s", path, strerror(saved));
    }
    if (listen(fd, SOMAXCONN) < 0) {
        saved = errno;
        close(fd);
        unlink(path);
        return slad_error_set(reterr, saved, "cannot listen on '%s': %s", path, strerror(saved));
    }
    ls->unix_path = strdup(path);
    if (!ls->unix_path) {
        close(fd);
        unlink(path);
        return slad_error_set(reterr, ENOMEM, "out of memory");
    }
    if (stat(path, &st) == 0) {
        ls->unix_dev = st.st_dev;
        ls->unix_ino = st.st_ino;
    }
    ls->unix_fd = fd;
    ls->unix_owned = true;
    return 0;
}

/* "HOST:PORT" or "[V6]:PORT" into host and port; false when malformed. */
static bool split_host_port(const char *spec, char *host, size_t host_size, char *port,
                            size_t port_size)
{
    const char *colon;
    const char *h = spec;
    size_t hlen;
    if (spec[0] == '[') {
        const char *close_br = strchr(spec, ']');
        if (!close_br || close_br[1] != ':')
            return false;
        h = spec + 1;
        hlen = (size_t)(close_br - h);
        colon = close_br + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon)
            return false;
        hlen = (size_t)(colon - spec);
    }
    size_t plen = strlen(colon + 1);
    if (hlen == 0 || hlen >= host_size || plen == 0 || plen >= port_size)
        return false;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, colon + 1, plen + 1);
    return true;
}

static int tcp_open(struct listeners *ls, const char *spec, struct slad_error *reterr)
{
    char host[256], port[16];
    if (!split_host_port(spec, host, sizeof(host), port, sizeof(port)))
        return slad_error_set(reterr, EINVAL, "tcp '%s' is not 'HOST:PORT'", spec);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    };
    struct addrinfo *res = NULL;
    int gr = getaddrinfo(host, port, &hints, &res);
    if (gr != 0)
        return slad_error_set(reterr, EINVAL, "tcp '%s': %s", spec, gai_strerror(gr));
    int saved = EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) {
            ls->tcp_fd = fd;
            snprintf(ls->tcp_name, sizeof(ls->tcp_name), "%s", spec);
            freeaddrinfo(res);
            return 0;
        }
        saved = errno;
        close(fd);
    }
    freeaddrinfo(res);
    return slad_error_set(reterr, saved, "cannot listen on tcp '%s': %s", spec, strerror(saved));
}

int listeners_open(struct listeners *ls, const struct conf_daemon *conf, struct slad_error *reterr)
{
    *ls = (struct listeners){.unix_fd = -1, .tcp_fd = -1};
    take_activated(ls);
    int r;
    if (ls->unix_fd < 0 && (r = unix_open(ls, conf->socket, conf->socket_mode, reterr)) < 0)
        goto fail;
    if (conf->tcp && ls->tcp_fd < 0 && (r = tcp_open(ls, conf->tcp, reterr)) < 0)
        goto fail;
    if (!conf->tcp && ls->tcp_fd >= 0) {
        log_warning("listen", "systemd passed a TCP socket but the config sets no 'tcp' "
                              "(and so no token): not serving it");
        close(ls->tcp_fd);
        ls->tcp_fd = -1;
    }
    return 0;
fail:
    listeners_close(ls);
    return r;
}

void listeners_close(struct listeners *ls)
{
    if (ls->unix_fd >= 0)
        close(ls->unix_fd);
    if (ls->tcp_fd >= 0)
        close(ls->tcp_fd);
    ls->unix_fd = ls->tcp_fd = -1;
    /* Only our own socket file: a successor may already have replaced it. */
    struct stat st;
    if (ls->unix_owned && ls->unix_path && lstat(ls->unix_path, &st) == 0 &&
        st.st_dev == ls->unix_dev && st.st_ino == ls->unix_ino)
        unlink(ls->unix_path);
    free(ls->unix_path);
    ls->unix_path = NULL;
    ls->unix_owned = false;
}
