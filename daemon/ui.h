/* ui.h - the console's pages, compiled into the binary (ui/meson.build lists them,
 * scripts/ui-embed.py embeds them), served on every listener without credentials (what
 * they show comes from the API, which asks for them):
 *
 *   GET /            302 to /ui/ (also /ui)
 *   GET /ui/         ui/index.html
 *   GET /ui/FILE     that file when its last segment has a '.', else index.html (the
 *                    page routes on location.pathname: /ui/tickets/42)
 *   GET /a/CODE      ui/action.html (an action link of a notification)
 *
 * GET and HEAD only (405 otherwise); an unknown file is a 404 JSON error. Every page
 * carries its ETag (304 to a matching If-None-Match), Cache-Control: no-cache, a
 * Content-Security-Policy that allows nothing from elsewhere, nosniff and no referrer. */
#ifndef SLAD_UI_H
#define SLAD_UI_H

#include <microhttpd.h>
#include <stdbool.h>

struct request;

/* Whether path is the console's (served here, not by lib/api). */
bool ui_path(const char *path);
/* Answer the request for ui_path's path. */
enum MHD_Result ui_serve(struct request *req);

#endif
