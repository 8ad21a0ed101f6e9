/* slactl_oncall.c - `slactl oncall [NAME] [--at T]` and `slactl oncall NAME --from T --to T`
 * (doc/ONCALL.md): who is on call in every schedule or in one, or one schedule's shifts,
 * as tables in local time. Its own runner, as check-config has: the table's runner takes
 * numeric ids only, and NAME is optional. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "slactl.h"

#define ONCALL_PATH_MAX 1024

static const char usage_text[] = "Usage: slactl [GLOBAL OPTIONS] oncall [NAME] [--at T]\n"
                                 "       slactl [GLOBAL OPTIONS] oncall NAME --from T --to T\n"
                                 "T is an RFC 3339 time such as 2026-03-29T09:00:00+02:00.";

static int usage(const char *what, const char *arg)
{
    fprintf(stderr, "slactl: oncall: %s%s%s%s\n%s\n", what, arg ? " '" : "", arg ? arg : "",
            arg ? "'" : "", usage_text);
    return SLACTL_USAGE;
}

/* Append "?key=value" or "&key=value", escaped; false when it does not fit. */
static bool add_param(char *path, size_t size, const char *key, const char *value)
{
    if (!value)
        return true;
    char *esc = curl_easy_escape(NULL, value, 0);
    size_t len = strlen(path);
    int n =
        esc ? snprintf(path + len, size - len, "%c%s=%s", strchr(path, '?') ? '&' : '?', key, esc)
            : -1;
    curl_free(esc);
    return n > 0 && (size_t)n < size - len;
}

static void show(struct ctl *ctl, const char *name, bool shifts, json_t *v)
{
    static const char *const all_cols[] = {"name", "contact", "from", "until", "timezone", NULL};
    static const char *const shift_cols[] = {"contact", "from", "until", NULL};
    if (ctl->json || !json_is_object(v)) {
        ctl_print_json(v);
        return;
    }
    if (!name) {
        ctl_print_objects(ctl, json_object_get(v, "schedules"), all_cols);
        return;
    }
    json_t *one = json_array();
    json_array_append(one, v);
    ctl_print_objects(ctl, shifts ? json_object_get(v, "shifts") : one, shift_cols);
    json_decref(one);
}

int ctl_oncall(struct ctl *ctl, int argc, char **argv)
{
    const char *name = NULL, *at = NULL, *from = NULL, *to = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **into = strcmp(a, "--at") == 0     ? &at
                            : strcmp(a, "--from") == 0 ? &from
                            : strcmp(a, "--to") == 0   ? &to
                                                       : NULL;
        if (strcmp(a, "--json") == 0) {
            ctl->json = true;
        } else if (strcmp(a, "--help") == 0) {
            printf("%s\n", usage_text);
            return SLACTL_OK;
        } else if (into) {
            if (i + 1 >= argc)
                return usage("option needs a value:", a);
            *into = argv[++i];
        } else if (strncmp(a, "--", 2) == 0) {
            return usage("unknown option", a);
        } else if (name) {
            return usage("unexpected argument", a);
        } else {
            name = a;
        }
    }
    if ((from || to) && (!name || at || !from || !to))
        return usage(!name ? "--from and --to list one schedule's shifts: give its NAME"
                     : at  ? "give --at, or --from and --to, not both"
                           : "--from and --to go together",
                     NULL);
    char path[ONCALL_PATH_MAX] = "/v1/schedules";
    if (name) {
        char *esc = curl_easy_escape(NULL, name, 0);
        size_t len = strlen(path);
        int n = esc ? snprintf(path + len, sizeof(path) - len, "/%s/oncall", esc) : -1;
        curl_free(esc);
        if (n < 0 || (size_t)n >= sizeof(path) - len)
            return usage("the name is too long", NULL);
    }
    if (!add_param(path, sizeof(path), "at", at) || !add_param(path, sizeof(path), "from", from) ||
        !add_param(path, sizeof(path), "to", to))
        return usage("the options are too long", NULL);
    json_t *answer = NULL;
    int rc = ctl_call(ctl, "GET", path, NULL, &answer, NULL);
    if (rc == SLACTL_OK)
        show(ctl, name, from != NULL, answer);
    json_decref(answer);
    return rc;
}
