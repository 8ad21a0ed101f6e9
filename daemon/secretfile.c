/* secretfile.c - reading the files that hold secrets (see secretfile.h). */
#include "secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int secretfile_read(const char *path, const char *what, size_t max, bool private_only, char **ret,
                    size_t *ret_len, struct slad_error *reterr)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return slad_error_set(reterr, errno, "cannot open %s '%s': %s", what, path,
                              strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return slad_error_set(reterr, e, "cannot stat %s '%s': %s", what, path, strerror(e));
    }
    if (private_only && (st.st_mode & (S_IROTH | S_IWOTH))) {
        close(fd);
        return slad_error_set(reterr, EPERM,
                              "%s '%s' may be read or written by any user (mode %04o): it holds "
                              "a secret; run chmod o-rwx '%s'",
                              what, path, (unsigned)(st.st_mode & 07777), path);
    }
    char *buf = malloc(max + 2);
    if (!buf) {
        close(fd);
        return slad_error_set(reterr, ENOMEM, "out of memory");
    }
    size_t len = 0;
    int r = 0;
    while (len < max + 1) {
        ssize_t n = read(fd, buf + len, max + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = slad_error_set(reterr, errno, "cannot read %s '%s': %s", what, path,
                               strerror(errno));
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (r == 0 && len > max)
        r = slad_error_set(reterr, EFBIG, "%s '%s' is longer than %zu bytes", what, path, max);
    if (r < 0) {
        secretfile_free(buf, max + 2);
        return r;
    }
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    return 0;
}

void secretfile_free(char *buf, size_t len)
{
    if (!buf)
        return;
    OPENSSL_cleanse(buf, len);
    free(buf);
}
