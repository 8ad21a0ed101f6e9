/* token.c - the TCP listener's bearer token (see token.h). */
#include "token.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secretfile.h"

struct token {
    /* Only the digest is kept and compared: equal-length inputs for CRYPTO_memcmp, and
     * the time taken does not depend on the token's length. */
    unsigned char digest[SHA256_DIGEST_LENGTH];
};

int token_load(const char *path, struct token **ret, struct slad_error *reterr)
{
    char *buf = NULL;
    size_t len = 0;
    int r = secretfile_read(path, "token_file", TOKEN_MAX_BYTES, true, &buf, &len, reterr);
    if (r < 0)
        return r;
    size_t size = len;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    if (len == 0)
        r = slad_error_set(reterr, EINVAL, "token_file '%s' is empty", path);
    struct token *tok = NULL;
    if (r == 0 && !(tok = malloc(sizeof(*tok))))
        r = slad_error_set(reterr, ENOMEM, "out of memory");
    if (r == 0) {
        SHA256((const unsigned char *)buf, len, tok->digest);
        *ret = tok;
    }
    secretfile_free(buf, size);
    return r;
}

void token_free(struct token *tok)
{
    if (!tok)
        return;
    OPENSSL_cleanse(tok, sizeof(*tok));
    free(tok);
}

bool token_check(const struct token *tok, const char *authorization)
{
    static const char scheme[] = "Bearer ";
    if (!tok || !authorization || strncasecmp(authorization, scheme, sizeof(scheme) - 1) != 0)
        return false;
    return token_equal(tok, authorization + sizeof(scheme) - 1);
}

bool token_equal(const struct token *tok, const char *text)
{
    if (!tok || !text)
        return false;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, strlen(text), digest);
    return CRYPTO_memcmp(digest, tok->digest, sizeof(digest)) == 0;
}
