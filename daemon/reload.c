/* reload.c - config reload (see reload.h). */
#include "reload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "http.h"
#include "intake_keys.h"
#include "log.h"
#include "retention.h"
#include "sdnotify.h"
#include "service.h"
#include "slad.h"
#include "timers.h"
#include "token.h"
#include "conf_load.h"

static bool str_differs(const char *a, const char *b)
{
    if (!a || !b)
        return a != b;
    return strcmp(a, b) != 0;
}

/* Settings read once at start: say that changing them needs a restart. */
static void warn_fixed(const struct conf_daemon *old, const struct conf_daemon *new)
{
    const char *changed[12];
    size_t n = 0;
    if (str_differs(old->socket, new->socket) || old->socket_mode != new->socket_mode)
        changed[n++] = "socket";
    if (str_differs(old->tcp, new->tcp))
        changed[n++] = "tcp";
    if (str_differs(old->database, new->database) || old->synchronous_full != new->synchronous_full)
        changed[n++] = "database";
    if (old->max_connections != new->max_connections)
        changed[n++] = "max_connections";
    if (old->max_header_bytes != new->max_header_bytes)
        changed[n++] = "max_header";
    if (old->idle_timeout_ms != new->idle_timeout_ms)
        changed[n++] = "idle_timeout";
    if (old->header_timeout_ms != new->header_timeout_ms)
        changed[n++] = "header_timeout";
    if (old->max_connections_per_ip != new->max_connections_per_ip)
        changed[n++] = "max_connections_per_ip";
    if (str_differs(old->tls_cert, new->tls_cert) || str_differs(old->tls_key, new->tls_key))
        changed[n++] = "tls_cert and tls_key";
    for (size_t i = 0; i < n; i++)
        log_warning("reload", "'%s' changed: it takes effect at the next restart", changed[i]);
}

static void say_ready(struct slad *s)
{
    char status[256];
    slad_status(s, status, sizeof(status));
    sdnotify_ready(status);
}

void reload_log_lines(enum log_priority prio, const char *subsystem, const char *text)
{
    const char *p = text ? text : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0)
            log_line(prio, subsystem, "%.*s", (int)len, p);
        p += len + (nl ? 1 : 0);
    }
}

/* Log every error line of text and copy text into errbuf. */
static void report_invalid(struct slad *s, const char *text, size_t count, char *errbuf,
                           size_t errbuf_size)
{
    log_err("reload", "'%s' is invalid, keeping the running config: %zu error(s)", s->conf_path,
            count);
    reload_log_lines(LOG_PRIO_ERR, "reload", text);
    if (errbuf_size > 0)
        snprintf(errbuf, errbuf_size, "%s", text ? text : "the file could not be loaded");
}

int reload_run(void *userdata, char *errbuf, size_t errbuf_size)
{
    struct slad *s = userdata;
    sdnotify_reloading();
    struct conf *nc = NULL;
    struct conf_errors errs = {0};
    int r = conf_load(s->conf_path, &nc, &errs);
    if (r < 0) {
        s->reload_failures++;
        report_invalid(s, errs.text, errs.count, errbuf, errbuf_size);
        conf_errors_done(&errs);
        say_ready(s);
        return -EINVAL;
    }
    conf_errors_done(&errs);

    struct slad_error err;
    struct token *tok = NULL;
    struct intake_keys *keys = NULL;
    /* The TCP listener exists only if it did at start; its tokens follow the files. */
    if (nc->daemon.tcp && nc->daemon.token_file &&
        ((r = token_load(nc->daemon.token_file, &tok, &err)) < 0 ||
         (r = intake_keys_load(nc, &keys, &err)) < 0)) {
        token_free(tok);
        s->reload_failures++;
        char text[SLAD_ERROR_MAX + 2];
        snprintf(text, sizeof(text), "%s\n", err.msg);
        report_invalid(s, text, 1, errbuf, errbuf_size);
        conf_free(nc);
        say_ready(s);
        return -EINVAL;
    }
    r = batch_begin(s->batch, &err);
    if (r == 0)
        r = service_set_conf(s->svc, nc, timers_now_ms(s->loop), &err);
    if (r < 0) {
        s->reload_failures++;
        log_err("reload", "could not apply '%s', keeping the running config: %s", s->conf_path,
                err.msg);
        if (errbuf_size > 0)
            snprintf(errbuf, errbuf_size, "%s", err.msg);
        token_free(tok);
        intake_keys_free(keys);
        conf_free(nc);
        say_ready(s);
        return r;
    }
    batch_mark_dirty(s->batch);
    warn_fixed(&s->conf->daemon, &nc->daemon);
    http_set_conf(s->http, nc, tok, keys);
    struct conf *old = s->conf;
    s->conf = nc;
    conf_free(old);
    log_set_level(nc->daemon.log_level);
    timers_rearm(s->timers);
    retention_kick(s->retention); /* the retention may have changed */
    s->reloads++;
    reload_log_lines(LOG_PRIO_WARNING, "config", nc->warnings);
    log_notice("reload", "ok (%zu policies)", nc->n_policies);
    say_ready(s);
    return 0;
}
