/* dbtarget.c - the kind and the form of a `database` setting (dbtarget.h). */
#include "dbtarget.h"

#include <errno.h>
#include <string.h>

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_uri(const char *s)
{
    return starts_with(s, "postgresql://") || starts_with(s, "postgres://");
}

/* The keywords a conninfo commonly starts with: a path in slad's configurations never
 * begins with "word=". */
static bool is_conninfo(const char *s)
{
    static const char *const keywords[] = {
        "host=", "hostaddr=", "dbname=", "service=", "user=", "port="};
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (starts_with(s, keywords[i]))
            return true;
    return false;
}

bool dbtarget_is_postgres(const char *database)
{
    return database && (is_uri(database) || is_conninfo(database));
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* One KEY=VALUE of a conninfo (start) from *p: the value bare (no space, no quote) or
 * 'quoted' with \' and \\ inside. Messages never quote a value: it may be a password. */
static int conninfo_pair(const char *start, const char **p, struct slad_error *reterr)
{
    const char *s = *p;
    const char *key = s;
    while ((*s >= 'a' && *s <= 'z') || *s == '_')
        s++;
    if (s == key || *s != '=')
        return slad_error_set(reterr, EINVAL,
                              "database: expected KEYWORD=value at character %d (a libpq "
                              "conninfo, such as \"host=/run/postgresql dbname=slad\")",
                              (int)(key - start) + 1);
    s++;
    if (*s == '\'') {
        for (s++; *s && *s != '\''; s++)
            if (*s == '\\' && s[1])
                s++;
        if (*s != '\'')
            return slad_error_set(reterr, EINVAL,
                                  "database: the value of '%.*s' opens a quote it does not "
                                  "close",
                                  (int)(strchr(key, '=') - key), key);
        s++;
    } else {
        while (*s && !is_space(*s) && *s != '\'')
            s++;
    }
    if (*s && !is_space(*s))
        return slad_error_set(reterr, EINVAL,
                              "database: expected a space after the value of '%.*s' (quote a "
                              "value that holds a quote: 'it\\'s')",
                              (int)(strchr(key, '=') - key), key);
    *p = s;
    return 0;
}

int dbtarget_check(const char *database, struct slad_error *reterr)
{
    if (is_uri(database)) {
        for (const char *s = database; *s; s++)
            if ((unsigned char)*s <= ' ' || *s == 0x7f)
                return slad_error_set(reterr, EINVAL,
                                      "database: a PostgreSQL URI cannot hold spaces or control "
                                      "characters; percent-encode them (a space is %%20)");
        return 0;
    }
    if (!is_conninfo(database))
        return 0;
    const char *s = database;
    while (*s) {
        while (is_space(*s))
            s++;
        if (*s) {
            int r = conninfo_pair(database, &s, reterr);
            if (r < 0)
                return r;
        }
    }
    return 0;
}
