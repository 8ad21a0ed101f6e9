/* apifixture.c - the API over a whole service on an in-memory store (apifixture.h). */
#include "apifixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "conf_load.h"

void api_fixture_open(struct api_fixture *f, const char *conf_text, const struct api_hooks *hooks)
{
    struct conf_errors errs = {0};
    if (conf_load_string(conf_text, "test.conf", &f->conf, &errs) != 0)
        fail_msg("conf: %s", errs.text ? errs.text : "?");
    conf_errors_done(&errs);
    struct slad_error err = {""};
    if (store_open(":memory:", false, &f->store, &err) != 0)
        fail_msg("store: %s", err.msg);
    f->agenda = agenda_new();
    f->metrics = metrics_new();
    if (service_new(f->conf, f->store, f->agenda, f->metrics, &f->svc, &err) != 0)
        fail_msg("service: %s", err.msg);
    f->api = api_new(f->svc, f->metrics, hooks);
    assert_non_null(f->api);
}

void api_fixture_close(struct api_fixture *f)
{
    api_free(f->api);
    service_free(f->svc);
    metrics_free(f->metrics);
    agenda_free(f->agenda);
    store_close(f->store);
    conf_free(f->conf);
}
