/* intake_keys.c - the intakes' own tokens (see intake_keys.h). */
#include "intake_keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

#define INTAKE_PATH "/v1/intake/"

struct intake_key {
    const char *name; /* the conf's: keys are reloaded with it */
    struct token *tok;
};

struct intake_keys {
    struct intake_key *v;
    size_t n;
};

void intake_keys_free(struct intake_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        token_free(k->v[i].tok);
    free(k->v);
    free(k);
}

int intake_keys_load(const struct conf *conf, struct intake_keys **ret, struct slad_error *reterr)
{
    struct intake_keys *k = calloc(1, sizeof(*k));
    if (!k || (conf->n_intakes && !(k->v = calloc(conf->n_intakes, sizeof(*k->v))))) {
        free(k);
        return slad_error_set(reterr, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < conf->n_intakes; i++) {
        const struct conf_intake *in = &conf->intakes[i];
        if (!in->token_file)
            continue;
        int r = token_load(in->token_file, &k->v[k->n].tok, reterr);
        if (r < 0) {
            slad_error_prefix(reterr, "intake '%s': ", in->name);
            intake_keys_free(k);
            return r;
        }
        k->v[k->n++].name = in->name;
    }
    *ret = k;
    return 0;
}

const struct conf_intake *intake_keys_intake_of(const struct conf *conf, const char *path)
{
    if (!conf || strncmp(path, INTAKE_PATH, sizeof(INTAKE_PATH) - 1) != 0)
        return NULL;
    return conf_find_intake(conf, path + sizeof(INTAKE_PATH) - 1);
}

/* The intake's own token, or NULL. */
static const struct token *own_token(const struct intake_keys *k, const char *name)
{
    for (size_t i = 0; k && i < k->n; i++)
        if (strcmp(k->v[i].name, name) == 0)
            return k->v[i].tok;
    return NULL;
}

enum intake_access intake_keys_check(const struct intake_keys *k, const struct conf *conf,
                                     const char *path, const char *authorization)
{
    const struct conf_intake *in = intake_keys_intake_of(conf, path);
    if (!in)
        return INTAKE_ACCESS_REFUSED;
    const struct token *tok = own_token(k, in->name);
    if (tok && token_check(tok, authorization))
        return INTAKE_ACCESS_GRANTED;
    return in->type == INTAKE_PAGERDUTY && !authorization ? INTAKE_ACCESS_BODY_KEY
                                                          : INTAKE_ACCESS_REFUSED;
}

bool intake_keys_routing_key(const struct intake_keys *k, const struct token *tok,
                             const struct conf_intake *in, const char *routing_key)
{
    const struct token *own = own_token(k, in->name);
    return token_equal(own ? own : tok, routing_key);
}
