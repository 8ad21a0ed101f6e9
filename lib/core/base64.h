/* base64.h - how many bytes padded standard base64 text stands for, without decoding it.
 *
 * OpenSSL decodes (lib/notify/sign.c); this is the check before it, shared with the config
 * loader, which needs only the size of a signing key and links no OpenSSL. */
#ifndef SLAD_BASE64_H
#define SLAD_BASE64_H

#include <stddef.h>

/* The bytes text[0..len) decodes to, or -EINVAL when it is not padded standard base64 (RFC
 * 4648 section 4): a character outside A-Z a-z 0-9 + /, a length that is not a multiple of
 * 4, padding other than one or two '=' at the end, or text longer than INT_MAX / 2. */
int base64_decoded_len(const char *text, size_t len);

#endif
