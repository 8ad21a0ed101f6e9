#!/usr/bin/python3
"""Compile doc/openapi.yaml into a C file that holds it as JSON (GET /v1/openapi.json).

    openapi-embed.py doc/openapi.yaml openapi_json.c

Run by lib/api/meson.build at build time; needs PyYAML (Debian: python3-yaml). Before
writing, it checks what a reader of the document relies on, and stops the build with the
place of each fault: OpenAPI 3.1, plain JSON values only (no YAML dates), every local
$ref resolves, every operation has a unique operationId and answers, and every {name} of
a path is a declared path parameter. The C file defines openapi_json (UTF-8 bytes of the
compact JSON with a trailing newline, as every answer of the API ends, and a NUL after
them) and openapi_json_len (without the NUL), declared in lib/api/openapi.h.
"""

import json
import re
import sys

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def fail(errors):
    for e in errors:
        print(f"openapi-embed: {e}", file=sys.stderr)
    sys.exit(1)


def pointer(doc, ref):
    """The value a local reference ('#/a/b') names, or None."""
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def walk(node, where, visit):
    visit(node, where)
    if isinstance(node, dict):
        for k, v in node.items():
            walk(v, f"{where}/{k}", visit)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, f"{where}/{i}", visit)


def check(doc):
    errors = []
    if not str(doc.get("openapi", "")).startswith("3.1."):
        errors.append("'openapi' must be 3.1.x")
    for key in ("info", "paths", "components"):
        if not isinstance(doc.get(key), dict):
            errors.append(f"'{key}' must be a mapping")

    def visit(node, where):
        if isinstance(node, dict):
            for k in node:
                if not isinstance(k, str):
                    errors.append(f"{where}: key {k!r} is not a string (quote it)")
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/") and pointer(doc, ref) is None:
                errors.append(f"{where}: $ref '{ref}' resolves to nothing")
        elif not isinstance(node, (list, str, int, float, bool, type(None))):
            errors.append(f"{where}: {type(node).__name__} is not JSON (quote the value)")

    walk(doc, "#", visit)
    ids = {}
    for path, item in (doc.get("paths") or {}).items():
        params = set(re.findall(r"{([^}]+)}", path))
        declared = {p.get("name") for p in item.get("parameters", []) if "name" in p}
        declared |= {pointer(doc, p["$ref"]).get("name") for p in item.get("parameters", [])
                     if "$ref" in p and pointer(doc, p["$ref"])}
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            where = f"{method.upper()} {path}"
            op_id = op.get("operationId")
            if not op_id:
                errors.append(f"{where}: no operationId")
            elif op_id in ids:
                errors.append(f"{where}: operationId '{op_id}' is also {ids[op_id]}'s")
            else:
                ids[op_id] = where
            if not op.get("responses"):
                errors.append(f"{where}: no responses")
            mine = set(declared)
            for p in op.get("parameters", []):
                p = pointer(doc, p["$ref"]) if "$ref" in p else p
                if p and p.get("in") == "path":
                    mine.add(p.get("name"))
            for name in params - mine:
                errors.append(f"{where}: path parameter '{name}' is not declared")
    return errors


def c_file(data):
    lines = ["/* Generated from doc/openapi.yaml by scripts/openapi-embed.py: do not edit. */",
             '#include "openapi.h"', "", "const unsigned char openapi_json[] = {"]
    body = data + b"\0"
    for i in range(0, len(body), 16):
        lines.append("    " + " ".join(f"{b:#04x}," for b in body[i:i + 16]))
    lines += ["};", f"const size_t openapi_json_len = {len(data)};", ""]
    return "\n".join(lines)


def main():
    if len(sys.argv) != 3:
        fail(["usage: openapi-embed.py OPENAPI.yaml OUTPUT.c"])
    with open(sys.argv[1], encoding="utf-8") as f:
        try:
            doc = yaml.safe_load(f)
        except yaml.YAMLError as e:
            fail([f"{sys.argv[1]}: {e}"])
    if not isinstance(doc, dict):
        fail([f"{sys.argv[1]}: not a mapping"])
    errors = check(doc)
    if errors:
        fail([f"{sys.argv[1]}: {e}" for e in errors])
    data = (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    with open(sys.argv[2], "w", encoding="ascii") as f:
        f.write(c_file(data))


if __name__ == "__main__":
    main()
