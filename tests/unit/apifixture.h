/* apifixture.h - the API over a whole service on an in-memory store, for the unit tests
 * of the routes (test-api.c, test-console.c): one configuration text in, api_handle out. */
#ifndef SLAD_TEST_APIFIXTURE_H
#define SLAD_TEST_APIFIXTURE_H

#include "agenda.h"
#include "api.h"
#include "conf.h"
#include "metrics.h"
#include "service.h"
#include "store.h"

struct api_fixture {
    struct conf *conf;
    struct store *store;
    struct agenda *agenda;
    struct metrics *metrics;
    struct service *svc;
    struct api *api;
};

/* The service and API over conf_text (hooks may be NULL); fails the test on any error. */
void api_fixture_open(struct api_fixture *f, const char *conf_text, const struct api_hooks *hooks);

/* Everything api_fixture_open made, in reverse order. */
void api_fixture_close(struct api_fixture *f);

#endif
