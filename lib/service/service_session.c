/* service_session.c - the console's sessions as operations (service.h): written in a
 * savepoint, read against the running config (a contact removed, or whose password_hash
 * was removed, is signed out at the next request). */
#include "service.h"

#include <errno.h>

#include "service_internal.h"
#include "store.h"
#include "store_session.h"

int service_session_create(struct service *svc, const struct session *sess, int64_t now_ms,
                           struct slad_error *reterr)
{
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    r = store_session_purge(svc->store, now_ms, reterr);
    if (r == 0)
        r = store_session_insert(svc->store, sess, reterr);
    if (r == 0)
        r = store_release(svc->store, reterr);
    return r < 0 ? service_abort_op(svc, r) : 0;
}

int service_session_find(struct service *svc, const unsigned char hash[SESSION_HASH_BYTES],
                         int64_t now_ms, struct session *ret,
                         const struct conf_contact **ret_contact, struct slad_error *reterr)
{
    int r = store_session_get(svc->store, hash, ret, reterr);
    if (r < 0)
        return r;
    if (!session_live(ret, now_ms))
        return slad_error_set(reterr, ENOENT, "the session of '%s' has ended", ret->contact);
    const struct conf_contact *c = conf_find_contact(svc->conf, ret->contact);
    if (!c || !c->password_hash)
        return slad_error_set(reterr, ENOENT,
                              "contact '%s' is no longer in the config or has no password_hash",
                              ret->contact);
    *ret_contact = c;
    return 0;
}

/* One statement in a savepoint (a failure leaves the batch's other work alone). */
static int one_write(struct service *svc, int r, struct slad_error *reterr)
{
    if (r == 0)
        r = store_release(svc->store, reterr);
    return r < 0 ? service_abort_op(svc, r) : 0;
}

int service_session_touch(struct service *svc, const unsigned char hash[SESSION_HASH_BYTES],
                          int64_t now_ms, struct slad_error *reterr)
{
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    return one_write(svc, store_session_touch(svc->store, hash, now_ms, reterr), reterr);
}

int service_session_delete(struct service *svc, const unsigned char hash[SESSION_HASH_BYTES],
                           struct slad_error *reterr)
{
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    return one_write(svc, store_session_delete(svc->store, hash, reterr), reterr);
}

int service_session_purge(struct service *svc, int64_t now_ms, struct slad_error *reterr)
{
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    return one_write(svc, store_session_purge(svc->store, now_ms, reterr), reterr);
}
