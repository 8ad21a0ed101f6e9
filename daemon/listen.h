/* listen.h - the daemon's listening sockets: the Unix API socket and the optional TCP
 * one, either inherited from systemd (socket activation, sd_listen_fds) or created here.
 *
 * A stale Unix socket (a file nobody answers on) is replaced; a live one means another
 * slad runs on it, and starting fails instead of stealing it. */
#ifndef SLAD_LISTEN_H
#define SLAD_LISTEN_H

#include <stdbool.h>

#include "conf.h"
#include "error.h"

struct listeners {
    int unix_fd;                           /* -1 when none */
    int tcp_fd;                            /* -1 when none */
    bool unix_owned;                       /* created here: unlink the path at exit */
    bool activated;                        /* fds came from systemd */
    char *unix_path;                       /* the path created here, or NULL */
    unsigned long long unix_dev, unix_ino; /* its inode: unlinked at exit only if unchanged */
    char tcp_name[128];                    /* "127.0.0.1:8470", for logs */
};

/* Take the sockets systemd passed (LISTEN_FDS/LISTEN_PID; the first Unix stream socket
 * is the API socket, the first AF_INET/AF_INET6 stream socket the TCP one), then create
 * whatever the config asks for and systemd did not pass. Every fd is non-blocking and
 * close-on-exec. */
int listeners_open(struct listeners *ls, const struct conf_daemon *conf, struct slad_error *reterr);

/* Close what is still open (fds set to -1 were handed over) and unlink the socket file
 * created here. */
void listeners_close(struct listeners *ls);

#endif
