/* access.h - one log line per answered request that changed something ("ticket: #42
 * created..."), a warning per server error, and (at debug) every request. */
#ifndef SLAD_ACCESS_H
#define SLAD_ACCESS_H

#include <stddef.h>

struct api_response;

/* Called when the answer is sent, i.e. after its commit. body is the request body. */
void access_log(const char *method, const char *path, const char *body, size_t body_len,
                const struct api_response *resp, double duration_ms);

#endif
