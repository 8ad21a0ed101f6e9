#!/bin/sh
# The layers hold (a meson test, suite 'style'): for each layer of lib/, a file that uses
# only what the layer may use compiles with that layer's include path and poison list,
# and a file that includes a library or a layer it may not use does not. This is what
# lib/*/meson.build enforce on the real files; here it is shown on purpose-made ones.
# Usage: check-layers.sh CC
set -u
cd "$(dirname "$0")/.."
cc=${1:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# layer | its include folders | a header it may use | headers and libraries it may not
layers='core|core|ticket.h|<sqlite3.h> <jansson.h> <libconfig.h> <curl/curl.h> <ev.h> <microhttpd.h> <openssl/evp.h> "store.h" "jsonx.h" "service.h"
json|json core|jsonx.h|<sqlite3.h> <libconfig.h> <curl/curl.h> <ev.h> "store.h" "channel.h"
conf|conf core|conf_load.h|<sqlite3.h> <jansson.h> <curl/curl.h> <ev.h> "store.h" "render.h" "jsonx.h"
store|store core|store.h|<jansson.h> <libconfig.h> <curl/curl.h> <ev.h> "jsonx.h" "service.h" "channel.h"
notify|notify json core|channel.h|<sqlite3.h> <libconfig.h> <curl/curl.h> <ev.h> "store.h" "service.h"
service|service store notify core|service.h|<sqlite3.h> <jansson.h> <libconfig.h> <curl/curl.h> <ev.h> "api.h"
api|api service json core|api.h|<sqlite3.h> <libconfig.h> <curl/curl.h> <ev.h> "store.h" "conf_load.h"'

compile() { # layer includes file
    flags="-std=c11 -D_GNU_SOURCE -fsyntax-only -include lib/poison/$1.h"
    for d in $2; do flags="$flags -Ilib/$d"; done
    # Headers of jansson and libical live in the system's include path; libical's in its
    # own folder.
    $cc $flags -I/usr/include/libical "$3" >"$tmp/out" 2>&1
}

echo "$layers" | while IFS='|' read -r layer dirs allowed forbidden; do
    # The layers' own folders only: what the layer may see is what it was given.
    printf '#include "%s"\nint layer_ok(void);\nint layer_ok(void) { return 0; }\n' "$allowed" \
        > "$tmp/ok.c"
    if ! compile "$layer" "$dirs" "$tmp/ok.c"; then
        echo "check-layers: $layer cannot include its own \"$allowed\":"
        cat "$tmp/out"
        exit 1
    fi
    for h in $forbidden; do
        printf '#include %s\nint layer_bad(void);\nint layer_bad(void) { return 0; }\n' "$h" \
            > "$tmp/bad.c"
        if compile "$layer" "$dirs" "$tmp/bad.c"; then
            echo "check-layers: $layer may include $h, which its layer must not use"
            exit 1
        fi
    done
done || status=1
[ $status -eq 0 ] && echo "check-layers: every layer builds on what it may use, and only on that"
exit $status
