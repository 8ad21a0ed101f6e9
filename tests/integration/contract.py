"""The API's contract, doc/openapi.yaml, as a judge of the daemon's answers.

conftest.py's Client hands every answer it receives to CONTRACT.check, so that every test
of the suite also checks that the daemon answers as the document says: the status is one
the operation lists, the Content-Type one of that answer's media types, the body fits its
schema (JSON Schema 2020-12, with RFC 3339 times checked), and the headers it requires
are there (Allow of a 405 names exactly the methods the document gives the path, with
HEAD after GET). A 2xx answer also vouches for its request: its query parameters must be
the operation's and fit their schemas, and its JSON body must fit the request schema.

A path the document does not have answers as `unrouted` (404, or an error that comes
before routing: 400, 401, 413, 503); a method its path does not take, as `unallowed`
(405 and the same). HEAD is judged as the path's GET, without a body. A path item marked
`x-slad-prefix: true` also stands for every path below it; a media type without a schema
takes any bytes. A request the HTTP
library cannot parse is judged by check_refusal, as `refused` (400, 413, 414, 431, 505:
the shared responses of the document's components).

Python 3 with PyYAML and jsonschema (Debian: python3-yaml, python3-jsonschema).
"""

import json
import os
import re
import urllib.parse

import yaml
from jsonschema import Draft202012Validator, FormatChecker

DOC_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "doc",
                        "openapi.yaml")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
RFC3339 = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):"
                     r"[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$")
# The errors any request can meet before it reaches a route.
BEFORE_ROUTING = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
                  "413": "PayloadTooLarge", "503": "Unavailable"}
# The refusals of a request that is not HTTP slad can read (raw sockets in the tests).
BEFORE_PARSING = {"400": "BadRequest", "413": "PayloadTooLarge", "414": "UriTooLong",
                  "431": "HeaderTooLarge", "505": "VersionNotSupported"}


class ContractError(AssertionError):
    """An answer, or the request of a 2xx answer, that the document does not describe."""


def load(path=DOC_PATH):
    # libyaml's loader (python3-yaml has it): a quarter of the pure-Python one's time, paid
    # by every test file at its start.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)


def format_checker():
    checker = FormatChecker(())

    @checker.checks("date-time")
    def is_date_time(value):
        return not isinstance(value, str) or bool(RFC3339.match(value))

    return checker


class Contract:
    def __init__(self, doc):
        self.doc = doc
        self.formats = format_checker()
        self.validators = {}
        self.seen = set()  # (operationId, status) of the answers checked
        # Paths with fewer parameters first: a literal segment wins over {name}.
        # A path item with `x-slad-prefix: true` also answers every path below it (files
        # under /ui/); it is tried after the others.
        self.paths = []
        for template, item in doc["paths"].items():
            pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
            prefix = bool(item.get("x-slad-prefix"))
            regex = re.compile(f"^{pattern}" + ("" if prefix else "$"))
            self.paths.append(((prefix, template.count("{")), regex, template, item))
        self.paths.sort(key=lambda p: p[0])
        responses = {code: {"$ref": f"#/components/responses/{name}"}
                     for code, name in BEFORE_ROUTING.items()}
        self.unrouted = {"operationId": "unrouted", "responses": dict(
            responses, **{"404": {"$ref": "#/components/responses/NotFound"}})}
        self.unallowed = {"operationId": "unallowed", "responses": dict(
            responses, **{"405": {"$ref": "#/components/responses/MethodNotAllowed"}})}
        self.refused = {"operationId": "refused", "responses": {
            code: {"$ref": f"#/components/responses/{name}"}
            for code, name in BEFORE_PARSING.items()}}

    # ---- the document ----
    def pointer(self, ref):
        """What a local reference ('#/a/b') names."""
        target = self.doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return target

    def resolve(self, node):
        """node, or what its $ref names (to the end of a chain of them)."""
        while isinstance(node, dict) and "$ref" in node:
            node = self.pointer(node["$ref"])
        return node

    def inline(self, node, refs=()):
        """node with each local $ref replaced by what it names (a $ref with other keywords
        becomes allOf [target] beside them, as 2020-12 reads it): jsonschema resolving a
        $ref costs more than the check itself, and every answer of the suite is checked. A
        $ref within its own target stays, to resolve in the components."""
        if isinstance(node, list):
            return [self.inline(v, refs) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/") or ref in refs:
            return {k: self.inline(v, refs) for k, v in node.items()}
        target = self.inline(self.pointer(ref), refs + (ref,))
        rest = {k: self.inline(v, refs) for k, v in node.items() if k != "$ref"}
        return dict(rest, allOf=[target] + rest.get("allOf", [])) if rest else target

    def validator(self, schema):
        """A validator of schema, whose $refs resolve in the document's components."""
        key = id(schema)
        if key not in self.validators:
            root = self.inline(schema)
            root = dict(root, components=self.doc["components"]) if isinstance(root, dict) \
                else root
            self.validators[key] = (schema, Draft202012Validator(
                root, format_checker=self.formats))
        return self.validators[key][1]

    def errors(self, schema, value):
        return sorted(self.validator(schema).iter_errors(value), key=lambda e: list(e.path))

    def route(self, path):
        """(template, path item) of the path, or (None, None)."""
        for _, regex, template, item in self.paths:
            if regex.match(path):
                return template, item
        return None, None

    def allowed(self, item):
        """The methods a path takes as the daemon's Allow names them."""
        methods = set()
        for m in METHODS:
            if m in item:
                methods.add(m.upper())
                if m == "get":
                    methods.add("HEAD")
        return methods

    def operation(self, method, path):
        """(name for messages, operation, path item) that answers method on path."""
        template, item = self.route(path)
        if item is None:
            return f"{method} {path} (no such path)", self.unrouted, None
        op = item.get("get" if method == "HEAD" else method.lower())
        if op is None:
            return f"{method} {template} (not a method of the path)", self.unallowed, item
        return f"{method} {template} ({op['operationId']})", op, item

    # ---- judging ----
    def check(self, method, target, request_body, status, headers, body):
        """Raise ContractError unless the answer (and, for a 2xx, its request) is as the
        document says. headers: the answer's, any case; request_body: bytes or None."""
        split = urllib.parse.urlsplit(target)
        name, op, item = self.operation(method, split.path)
        where = f"{name}: answer {status}"
        headers = {k.lower(): v for k, v in headers.items()}
        self.seen.add((op["operationId"], status))
        response = op["responses"].get(str(status), op["responses"].get("default"))
        if response is None:
            raise ContractError(f"{where} is not in the document (it lists "
                                f"{', '.join(op['responses'])}): {body[:300]!r}")
        self.check_response(where, self.resolve(response), headers,
                            None if method == "HEAD" else body)
        if method == "HEAD" and body:
            raise ContractError(f"{where}: HEAD answered with a body: {body[:100]!r}")
        if status == 405 and item is not None:
            allow = {m.strip() for m in headers.get("allow", "").split(",") if m.strip()}
            if allow != self.allowed(item):
                raise ContractError(f"{where}: Allow '{headers.get('allow')}' but the document "
                                    f"gives the path {sorted(self.allowed(item))}")
        if 200 <= status < 300:
            self.check_request(name, op, item, split.query, request_body, headers)

    def check_refusal(self, status, headers, body):
        """Raise ContractError unless a refusal of a request slad could not read is one
        the document describes."""
        headers = {k.lower(): v for k, v in headers.items()}
        self.seen.add(("refused", status))
        response = self.refused["responses"].get(str(status))
        if response is None:
            raise ContractError(f"refused: answer {status} is not in the document (it lists "
                                f"{', '.join(self.refused['responses'])}): {body[:300]!r}")
        self.check_response(f"refused: answer {status}", self.resolve(response), headers, body)

    def check_response(self, where, response, headers, body):
        """The headers, media type and body (None: not sent, as for HEAD) of one answer."""
        for hname, header in response.get("headers", {}).items():
            header = self.resolve(header)
            value = headers.get(hname.lower())
            if value is None:
                if header.get("required"):
                    raise ContractError(f"{where}: header {hname} is missing")
                continue
            problems = self.errors(header.get("schema", {}), value)
            if problems:
                raise ContractError(f"{where}: header {hname} '{value}': {problems[0].message}")
        content = response.get("content")
        ctype = headers.get("content-type")
        if not content:
            if body:
                raise ContractError(f"{where}: the document gives no body: {body[:200]!r}")
            return
        if ctype not in content:
            raise ContractError(f"{where}: Content-Type '{ctype}' is not one of "
                                f"{sorted(content)}")
        if body is None:
            return
        media = content[ctype]
        if ctype.split(";")[0].strip() == "application/json":
            try:
                value = json.loads(body)
            except ValueError as e:
                raise ContractError(f"{where}: not JSON ({e}): {body[:300]!r}") from None
        elif "schema" not in media:
            return  # bytes of any kind (a file)
        else:
            try:
                value = body.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ContractError(f"{where}: not UTF-8 text ({e}); give the media type no "
                                    f"schema if its bytes are binary") from None
        problems = self.errors(media.get("schema", {}), value)
        if problems:
            raise ContractError(f"{where}: the body does not fit the document's schema:\n"
                                + describe(problems, value))

    def check_request(self, name, op, item, query, request_body, headers):
        """A request the daemon took: its query and body as the operation documents them."""
        params = {}
        for p in item.get("parameters", []) + op.get("parameters", []):
            p = self.resolve(p)
            if p["in"] == "query":
                params[p["name"]] = p
        for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            if key not in params:
                raise ContractError(f"{name} took query parameter '{key}', which the document "
                                    f"does not give it (it has {sorted(params) or 'none'})")
            if value == "":
                continue  # an empty value is absent
            schema = self.resolve(params[key].get("schema", {}))
            typed = value  # query values are text: an integer's is read as one
            if schema.get("type") == "integer" and re.fullmatch(r"-?\d+", value):
                typed = int(value)
            problems = self.errors(params[key].get("schema", {}), typed)
            if problems:
                raise ContractError(f"{name} took query parameter {key}='{value}', which "
                                    f"does not fit its schema: {problems[0].message}")
        body_spec = self.resolve(op.get("requestBody", {}))
        media = body_spec.get("content", {}).get("application/json")
        if media is None or not request_body:
            return
        try:
            value = json.loads(request_body)
        except ValueError:
            raise ContractError(f"{name} took a body that is not JSON: "
                                f"{request_body[:200]!r}") from None
        problems = self.errors(media.get("schema", {}), value)
        if problems:
            raise ContractError(f"{name} took a body the document's schema refuses:\n"
                                + describe(problems, value))


def describe(problems, value):
    lines = []
    for e in problems[:5]:
        path = "/".join(str(p) for p in e.absolute_path) or "(top)"
        lines.append(f"  at {path}: {e.message[:300]}")
    text = json.dumps(value, ensure_ascii=False)
    return "\n".join(lines) + f"\n  in: {text[:600]}"


CONTRACT = Contract(load())


def documented_answers(doc):
    """(operationId, status) of every answer the document gives an operation."""
    return {(item[m]["operationId"], int(code)) for item in doc["paths"].values()
            for m in METHODS if m in item for code in item[m]["responses"] if code.isdigit()}


def coverage_report(path):
    """Append to path the answers of this run, as `operationId status` lines (the caller
    compares them with documented_answers: which documented answers no test meets)."""
    with open(path, "a", encoding="utf-8") as f:
        f.writelines(f"{op} {status}\n" for op, status in sorted(CONTRACT.seen))
