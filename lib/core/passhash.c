/* passhash.c - the forms of crypt(3) hashes slad accepts (see passhash.h). */
#include "passhash.h"

#include <stdlib.h>
#include <string.h>

/* crypt(3)'s alphabet for salts and hashes. */
static const char crypt64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* The length of the run of crypt64 characters at s. */
static size_t run(const char *s)
{
    return strspn(s, crypt64);
}

/* "$y$" params "$" salt "$" hash: params and salt of crypt64, the hash 43 characters. */
static bool yescrypt(const char *s)
{
    size_t params = run(s);
    if (params == 0 || s[params] != '$')
        return false;
    s += params + 1;
    size_t salt = run(s);
    if (salt == 0 || s[salt] != '$')
        return false;
    s += salt + 1;
    return run(s) == 43 && s[43] == '\0';
}

/* "$6$" ["rounds=N$"] salt (1..16) "$" hash (86). */
static bool sha512(const char *s)
{
    if (strncmp(s, "rounds=", 7) == 0) {
        char *end;
        long rounds = strtol(s + 7, &end, 10);
        if (end == s + 7 || *end != '$' || rounds < 1000 || rounds > 999999999)
            return false;
        s = end + 1;
    }
    size_t salt = strcspn(s, "$");
    if (salt == 0 || salt > 16 || s[salt] != '$')
        return false;
    s += salt + 1;
    return run(s) == 86 && s[86] == '\0';
}

/* "$2b$" cost (04..31) "$" salt and hash (22 + 31). */
static bool bcrypt(const char *s)
{
    if (!(s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '9' && s[2] == '$'))
        return false;
    int cost = (s[0] - '0') * 10 + (s[1] - '0');
    if (cost < 4 || cost > 31)
        return false;
    s += 3;
    return run(s) == 53 && s[53] == '\0';
}

bool passhash_valid(const char *hash, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!hash || !hash[0]) {
        *why = "is empty";
        return false;
    }
    bool ok;
    if (strncmp(hash, "$y$", 3) == 0)
        ok = yescrypt(hash + 3);
    else if (strncmp(hash, "$6$", 3) == 0)
        ok = sha512(hash + 3);
    else if (strncmp(hash, "$2b$", 4) == 0)
        ok = bcrypt(hash + 4);
    else {
        *why = "is not a crypt(3) hash slad accepts (yescrypt \"$y$...\", SHA-512 \"$6$...\" or "
               "bcrypt \"$2b$...\"); make one with 'slactl passwd'";
        return false;
    }
    if (!ok)
        *why = "is malformed (cut short or altered?); make a new one with 'slactl passwd'";
    return ok;
}
