/* token.c - the TCP listener's bearer token (see token.h). */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct token {
    /* Only the digest is kept and compared: equal-length inputs for CRYPTO_memcmp, and
     * the time taken does not depend on the token's length. */
    unsigned char digest[SHA256_DIGEST_LENGTH];
};

int token_load(const char *path, struct token **ret, struct slad_error *reterr)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return slad_error_set(reterr, errno, "cannot open token_file '%s': %s", path,
                              strerror(errno));
    char buf[TOKEN_MAX_BYTES + 1];
    size_t len = 0;
    int r = 0;
    while (len < sizeof(buf)) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = slad_error_set(reterr, errno, "cannot read token_file '%s': %s", path,
                               strerror(errno));
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (r == 0 && len > TOKEN_MAX_BYTES)
        r = slad_error_set(reterr, EFBIG, "token_file '%s' is longer than %d bytes", path,
                           TOKEN_MAX_BYTES);
    while (r == 0 && len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    if (r == 0 && len == 0)
        r = slad_error_set(reterr, EINVAL, "token_file '%s' is empty", path);
    struct token *tok = NULL;
    if (r == 0 && !(tok = malloc(sizeof(*tok))))
        r = slad_error_set(reterr, ENOMEM, "out of memory");
    if (r == 0) {
        SHA256((const unsigned char *)buf, len, tok->digest);
        *ret = tok;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
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
    const char *given = authorization + sizeof(scheme) - 1;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)given, strlen(given), digest);
    return CRYPTO_memcmp(digest, tok->digest, sizeof(digest)) == 0;
}
