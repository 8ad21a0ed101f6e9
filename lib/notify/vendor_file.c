/* vendor_file.c - the file channel: the webhook body (vendor_webhook.c) as one JSON line
 * to append to a file, so that a new user sees escalations with no external service. */
#include "vendor.h"

static int build_file(const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                      const uint8_t nonce[CHANNEL_NONCE_BYTES], struct channel_request *r,
                      struct slad_error *reterr)
{
    int e = vendor_json_body(r, vendor_webhook_body(n, now_ms), "\n", reterr);
    return e < 0 ? e : vendor_copy(&r->path, ch->path, reterr);
}

const struct vendor vendor_file = {
    .transport = CHANNEL_TRANSPORT_FILE,
    .build = build_file,
};
