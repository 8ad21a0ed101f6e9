/* openapi.h - doc/openapi.yaml, the API's contract, as JSON in the binary for GET
 * /v1/openapi.json. scripts/openapi-embed.py writes the definitions (openapi_json.c in the
 * build folder) from the YAML at build time. */
#ifndef SLAD_OPENAPI_H
#define SLAD_OPENAPI_H

#include <stddef.h>

/* The compact JSON, UTF-8, ending in a newline; a NUL follows its openapi_json_len bytes. */
extern const unsigned char openapi_json[];
extern const size_t openapi_json_len;

#endif
