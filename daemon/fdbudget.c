/* fdbudget.c - the process's descriptors, split between the listeners (see fdbudget.h). */
#include "fdbudget.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"

/* Each delivery in flight holds a socket, and libcurl's threaded resolver a socket pair
 * while it looks a name up. */
#define FDBUDGET_PER_DELIVERY 3

static unsigned long raise_soft_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        log_warning("slad", "cannot read the open-file limit: %s", strerror(errno));
        return 1024;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            log_debug("slad", "raised the open-file limit from %llu to %llu",
                      (unsigned long long)was, (unsigned long long)rl.rlim_max);
        else
            rl.rlim_cur = was;
    }
    return rl.rlim_cur == RLIM_INFINITY ? (unsigned long)1 << 20 : (unsigned long)rl.rlim_cur;
}

void fdbudget_split(unsigned long limit, unsigned long reserve, unsigned max_connections, bool tcp,
                    struct fdbudget *ret)
{
    *ret = (struct fdbudget){.limit = limit, .reserve = reserve};
    unsigned long room = limit > reserve ? limit - reserve : 0;
    unsigned long want = (unsigned long)max_connections * (tcp ? 2 : 1);
    if (room >= want) {
        ret->unix_share = max_connections;
        ret->tcp_share = tcp ? max_connections : 0;
        return;
    }
    /* Not enough: the Unix socket keeps up to half, TCP gets what is left; each at least
     * one, so that a badly set limit still serves (and says so). */
    unsigned long unix_share = tcp ? room / 2 : room;
    if (unix_share > max_connections)
        unix_share = max_connections;
    if (unix_share < 1)
        unix_share = 1;
    ret->unix_share = (unsigned)unix_share;
    if (tcp) {
        unsigned long tcp_share = room > unix_share ? room - unix_share : 1;
        ret->tcp_share = (unsigned)(tcp_share > max_connections ? max_connections : tcp_share);
    }
}

void fdbudget_plan(const struct conf *conf, bool tcp, struct fdbudget *ret)
{
    unsigned long reserve = FDBUDGET_BASE_RESERVE;
    for (size_t i = 0; i < conf->n_channels; i++)
        reserve += FDBUDGET_PER_DELIVERY * (unsigned long)conf->channels[i].concurrency;
    unsigned max = conf->daemon.max_connections;
    fdbudget_split(raise_soft_limit(), reserve, max, tcp, ret);
    if (ret->unix_share < max || (tcp && ret->tcp_share < max)) {
        unsigned long need = reserve + (unsigned long)max * (tcp ? 2 : 1);
        if (tcp)
            log_warning("slad",
                        "the open-file limit %lu does not cover max_connections %u on both "
                        "listeners (plus %lu kept for the database and deliveries): the Unix "
                        "socket takes at most %u connections and TCP %u; raise LimitNOFILE= "
                        "(or ulimit -n) to %lu",
                        ret->limit, max, reserve, ret->unix_share, ret->tcp_share, need);
        else
            log_warning("slad",
                        "the open-file limit %lu does not cover max_connections %u (plus %lu "
                        "kept for the database and deliveries): the Unix socket takes at most "
                        "%u connections; raise LimitNOFILE= (or ulimit -n) to %lu",
                        ret->limit, max, reserve, ret->unix_share, need);
    }
}
