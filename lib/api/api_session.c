/* api_session.c - the console's sign-in as routes: POST /v1/session opens a session the
 * daemon has verified (the password check is slow by design and runs on the daemon's
 * worker thread, never here), GET /v1/session says who is signed in, DELETE signs out.
 * The cookie itself is the daemon's: it holds the token, the api sees its hash. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_call.h"
#include "jsonx.h"
#include "jsonx_session.h"
#include "service.h"

enum api_access api_access_of_contact(int contact_access)
{
    switch (contact_access) {
    case CONTACT_ADMIN:
        return API_ACCESS_ADMIN;
    case CONTACT_OPERATOR:
        return API_ACCESS_OPERATOR;
    default:
        return API_ACCESS_VIEWER;
    }
}

/* {"name","access","csrf","expires_at"}. */
static json_t *session_render(const struct session *s, enum api_access access)
{
    json_t *o = json_object();
    if (o && (json_object_set_new(o, "name", jsonx_string(s->contact)) < 0 ||
              json_object_set_new(o, "access", json_string(api_access_name(access))) < 0 ||
              json_object_set_new(o, "csrf", jsonx_string(s->csrf)) < 0 ||
              json_object_set_new(o, "expires_at", jsonx_time(session_expires_ms(s))) < 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void route_session_create(struct call *c)
{
    char *user = NULL, *password = NULL;
    struct slad_error err = {""};
    int r = jsonx_signin_parse(c->req->body, c->req->body_len, &user, &password, &err);
    free(user);
    jsonx_signin_wipe(password);
    if (r < 0) {
        call_parse_error(c, r, &err);
        return;
    }
    const struct session *s = c->req->signin;
    const struct conf_contact *contact = s ? conf_find_contact(call_conf(c), s->contact) : NULL;
    if (!contact || !contact->password_hash) {
        /* One answer for an unknown name, a wrong password and a contact without a
         * password: nobody learns which names exist. */
        call_error(c, 401, "sign_in_failed",
                   "the user name or the password is wrong (the user is a contact's name "
                   "whose password_hash is set in the config)");
        return;
    }
    r = service_session_create(c->api->svc, s, c->now_ms, &err);
    if (r < 0) {
        call_errno(c, r, &err);
        return;
    }
    call_json(c, 200, session_render(s, api_access_of_contact(contact->access)));
    c->resp->wrote = true;
}

void route_session_get(struct call *c)
{
    if (!c->req->session) {
        call_error(c, 401, "not_signed_in",
                   "this request carries no live console session: sign in with POST "
                   "/v1/session");
        return;
    }
    call_json(c, 200, session_render(c->req->session, c->req->access));
}

void route_session_delete(struct call *c)
{
    if (c->req->session) {
        struct slad_error err = {""};
        int r = service_session_delete(c->api->svc, c->req->session->token_hash, &err);
        if (r < 0) {
            call_errno(c, r, &err);
            return;
        }
        c->resp->wrote = true;
    }
    call_text(c, 204, JSON_TYPE, strdup(""), 0);
}
