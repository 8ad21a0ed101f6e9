/* jsonx_session.c - the sign-in body (see jsonx_session.h). */
#include "jsonx_session.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

void jsonx_signin_wipe(char *password)
{
    if (!password)
        return;
    /* volatile: the compiler may not drop the stores before free. */
    volatile char *p = password;
    while (*p)
        *p++ = '\0';
    free(password);
}

int jsonx_signin_parse(const char *body, size_t len, char **ret_user, char **ret_password,
                       struct slad_error *reterr)
{
    static const char known[] = "user, password";
    json_t *root;
    char *user = NULL, *password = NULL;
    int r = jsonx_load_object(body, len, &root, reterr);
    /* The parser's words quote the text near the fault: that may be the password. */
    if (r == -EBADMSG)
        return slad_error_set(reterr, EBADMSG,
                              "the body is not a JSON object {\"user\":\"NAME\",\"password\":"
                              "\"...\"} (where it broke is not shown: it could quote the "
                              "password)");
    if (r < 0)
        return r;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "user") == 0)
            r = jsonx_read_string(v, "", key, 1, JSONX_USER_MAX, false, &user, reterr);
        else if (strcmp(key, "password") == 0 && json_is_string(v) &&
                 strlen(json_string_value(v)) != json_string_length(v))
            /* crypt(3) would check the text before the NUL only. */
            r = slad_error_set(reterr, EINVAL, "field 'password' must not hold a NUL (\\u0000)");
        else if (strcmp(key, "password") == 0)
            r = jsonx_read_string(v, "", key, 1, JSONX_PASSWORD_MAX, false, &password, reterr);
        else
            r = jsonx_unknown_field(reterr, "", key, known);
        if (r < 0)
            break;
    }
    json_decref(root);
    if (r == 0 && (!user || !password))
        r = slad_error_set(reterr, EINVAL,
                           "field '%s' is required: {\"user\":\"NAME\","
                           "\"password\":\"...\"}",
                           user ? "password" : "user");
    if (r < 0) {
        free(user);
        jsonx_signin_wipe(password);
        return r;
    }
    *ret_user = user;
    *ret_password = password;
    return 0;
}
