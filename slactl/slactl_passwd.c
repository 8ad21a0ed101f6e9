/* slactl_passwd.c - slactl passwd: a contact's password_hash for the console's sign-in.
 * Reads one password from stdin (on a terminal without echo, asked twice so that a typo
 * is not what gets stored) and prints its yescrypt hash (libxcrypt's default cost, a
 * fresh salt); no daemon needed. The password is wiped from memory once hashed. */
#include <crypt.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "slactl.h"

/* As the daemon reads it (jsonx_session.h): longer is refused. */
#define PASSWORD_MAX 1024

static void wipe(char *buf, size_t size)
{
    volatile char *p = buf;
    while (size--)
        *p++ = '\0';
}

/* One line of stdin into buf (PASSWORD_MAX + 2 bytes) without its newline; false after
 * saying why. */
static bool read_line(char *buf, size_t size)
{
    size_t n = 0;
    int ch;
    while ((ch = getchar()) != EOF && ch != '\n') {
        if (ch == '\0') {
            fprintf(stderr, "slactl: the password holds a NUL byte\n");
            return false;
        }
        if (n + 1 >= size) {
            fprintf(stderr, "slactl: the password is longer than %d bytes\n", PASSWORD_MAX);
            return false;
        }
        buf[n++] = (char)ch;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (n == 0) {
        fprintf(stderr, "slactl: no password given on stdin\n");
        return false;
    }
    return true;
}

/* Prompt on the terminal and read without echo. Echo goes off before the prompt shows:
 * what is typed after it must not be flushed (TCSAFLUSH would drop it) nor shown. */
static bool ask(const char *prompt, char *buf, size_t size)
{
    struct termios old, quiet;
    bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    fputs(prompt, stderr);
    fflush(stderr);
    bool ok = read_line(buf, size);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fputc('\n', stderr);
    }
    return ok;
}

static void passwd_usage(FILE *out)
{
    fprintf(out, "Usage: slactl [GLOBAL OPTIONS] passwd < FILE\n"
                 "  Reads a password from stdin (on a terminal: asked twice, not shown) and\n"
                 "  prints its yescrypt hash for a contact's password_hash in slad.conf.\n"
                 "  No daemon needed. (see slactl(1), slad.conf(5))\n");
}

int ctl_passwd(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            passwd_usage(stdout);
            return SLACTL_OK;
        }
        fprintf(stderr, "slactl: passwd takes no argument ('%s'); the password comes on stdin\n",
                argv[i]);
        passwd_usage(stderr);
        return SLACTL_USAGE;
    }
    char pw[PASSWORD_MAX + 2], again[PASSWORD_MAX + 2];
    int rc = SLACTL_USAGE;
    struct crypt_data *data = calloc(1, sizeof(*data));
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!data) {
        fprintf(stderr, "slactl: out of memory\n");
        return SLACTL_USAGE;
    }
    if (isatty(STDIN_FILENO)) {
        if (!ask("Password: ", pw, sizeof(pw)) || !ask("Again: ", again, sizeof(again)))
            goto out;
        if (strcmp(pw, again) != 0) {
            fprintf(stderr, "slactl: the two passwords differ; nothing was printed\n");
            goto out;
        }
    } else if (!read_line(pw, sizeof(pw))) {
        goto out;
    }
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, (int)sizeof(salt))) {
        fprintf(stderr, "slactl: this libxcrypt cannot make a yescrypt salt: %s\n",
                strerror(errno));
        goto out;
    }
    const char *hash = crypt_rn(pw, salt, data, (int)sizeof(*data));
    if (!hash || hash[0] == '*') {
        fprintf(stderr, "slactl: hashing failed: %s\n", strerror(errno));
        goto out;
    }
    printf("%s\n", hash);
    rc = SLACTL_OK;
out:
    wipe(pw, sizeof(pw));
    wipe(again, sizeof(again));
    wipe((char *)data, sizeof(*data));
    free(data);
    return rc;
}
