"""The API's contract, doc/openapi.yaml, against the daemon and against itself.

Every answer of every integration test is checked against the document (contract.py,
hooked into conftest.py's Client). Here: the daemon serves the document it was built with;
its routes and the route table of lib/api/api.c are the same, method for method; every
schema is valid JSON Schema 2020-12 and every example fits its schema; and the check
itself refuses what the document does not describe (a field it lacks, a status it does
not list, a query parameter it does not give), so that it cannot pass vacuously.
"""

import copy
import json
import os
import re
import threading

import pytest
from jsonschema import Draft202012Validator

import conftest
import contract
from contract import CONTRACT, Contract, ContractError

API_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib", "api",
                     "api.c")


def operations(doc):
    for path, item in doc["paths"].items():
        for method in contract.METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def route_table():
    """(METHOD, pattern) of each entry of api.c's route table."""
    with open(API_C, encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("} routes[] = {"):]
    table = table[:table.index("};")]
    return set(re.findall(r'\{"([A-Z]+)", "([^"]+)"', table))


def test_served_document_is_the_yaml(client):
    r = client.get("/v1/openapi.json")
    assert r.status == 200 and r.headers["Content-Type"] == "application/json"
    assert r.json == contract.load(), "the binary holds another document: rebuild"
    assert r.json["openapi"].startswith("3.1.")


def test_routes_are_the_route_table(daemon, client):
    # An operation served outside lib/api's route table says by what, in x-slad-served-by.
    documented = {(method, path) for method, path, op in operations(CONTRACT.doc)
                  if "x-slad-served-by" not in op}
    table = route_table()
    assert len(table) >= 20, table
    assert documented - table == set(), "documented, not routed"
    assert table - documented == set(), "routed, not documented"
    # Black box: each path of the route table takes exactly its documented methods (the
    # contract check compares the 405's Allow with the document).
    tid = daemon.create()["id"]
    for path in sorted({path for _, path in table}):
        r = client.request("CHECK", re.sub(r"{[^}]+}", str(tid), path))
        assert r.status == 405, (path, r)


def schemas(doc):
    """Every schema object in the document, with where it is."""
    found = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "schema" or (where.endswith("/components/schemas")):
                    found.append((f"{where}/{key}", value))
                if key not in ("examples", "example"):
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(doc, "#")
    return found


def test_schemas_are_json_schema_2020_12():
    found = schemas(CONTRACT.doc)
    assert len(found) > 50, len(found)
    for where, schema in found:
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as e:  # the message names the fault
            pytest.fail(f"{where}: {e}")


def media_examples(doc):
    """(where, schema, example value) of every example of a body, a parameter or a
    schema."""
    found = []

    def walk(node, where):
        if isinstance(node, dict):
            node = CONTRACT.resolve(node)
            if "schema" in node:
                for name, example in node.get("examples", {}).items():
                    example = CONTRACT.resolve(example)
                    found.append((f"{where}/examples/{name}", node["schema"], example["value"]))
                if "example" in node:
                    found.append((f"{where}/example", node["schema"], node["example"]))
            if isinstance(node.get("examples"), list) and "type" in node:
                for i, value in enumerate(node["examples"]):
                    found.append((f"{where}/examples/{i}", node, value))
            for key, value in node.items():
                if key not in ("examples", "example"):
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(doc["paths"], "#/paths")
    walk(doc["components"], "#/components")
    return found


def test_every_example_fits_its_schema():
    found = media_examples(CONTRACT.doc)
    assert len(found) > 40, len(found)
    for where, schema, value in found:
        problems = CONTRACT.errors(schema, value)
        assert not problems, f"{where}: " + contract.describe(problems, value)
    # Every operation shows an answer, and every operation with a body a request.
    for method, path, op in operations(CONTRACT.doc):
        ok = CONTRACT.resolve(op["responses"][min(op["responses"])])
        if min(op["responses"]) == "204":
            continue  # no body to show (sign-out)
        assert any(m.get("examples") for m in ok["content"].values()), (method, path)
        body = op.get("requestBody")
        if body:
            assert body["content"]["application/json"].get("examples"), (method, path)


def test_the_check_refuses_what_the_document_does_not_describe(daemon, client):
    tid = daemon.create(title="described", severity=2)["id"]
    answer = client.get(f"/v1/tickets/{tid}")
    headers, body = answer.headers, answer.body
    CONTRACT.check("GET", f"/v1/tickets/{tid}", None, 200, headers, body)

    def refused(doc, *exchange):
        with pytest.raises(ContractError) as e:
            if exchange[0] == "refusal":
                Contract(doc).check_refusal(*exchange[1:])
            else:
                Contract(doc).check(*exchange)
        return str(e.value)

    # A field the document lacks.
    doc = copy.deepcopy(CONTRACT.doc)
    del doc["components"]["schemas"]["TicketCore"]["properties"]["repeat_count"]
    doc["components"]["schemas"]["TicketCore"]["required"].remove("repeat_count")
    assert "repeat_count" in refused(doc, "GET", f"/v1/tickets/{tid}", None, 200, headers, body)
    # A status the operation does not list.
    doc = copy.deepcopy(CONTRACT.doc)
    missing = client.get("/v1/tickets/999999")
    del doc["paths"]["/v1/tickets/{id}"]["get"]["responses"]["404"]
    assert "answer 404 is not in the document" in refused(
        doc, "GET", "/v1/tickets/999999", None, 404, missing.headers, missing.body)
    # Another Content-Type, a body that does not fit, a missing header, a wrong Allow.
    assert "Content-Type" in refused(CONTRACT.doc, "GET", "/healthz", None, 200,
                                     {"Content-Type": "text/html"}, b"<html/>")
    assert "open_tickets" in refused(CONTRACT.doc, "GET", "/healthz", None, 200,
                                     {"Content-Type": "application/json"},
                                     b'{"status":"ok"}')
    bad_time = json.loads(body)
    bad_time["created_at"] = "yesterday"
    assert "date-time" in refused(CONTRACT.doc, "GET", f"/v1/tickets/{tid}", None, 200,
                                  headers, json.dumps(bad_time).encode())
    nope = client.request("DELETE", "/v1/tickets")
    assert "Allow" in refused(CONTRACT.doc, "DELETE", "/v1/tickets", None, 405,
                              dict(nope.headers, Allow="POST"), nope.body)
    # A query parameter or a request body the daemon took but the document does not give.
    listing = client.get("/v1/tickets")
    assert "'colour'" in refused(CONTRACT.doc, "GET", "/v1/tickets?colour=red", None, 200,
                                 listing.headers, listing.body)
    created = client.post("/v1/tickets", {"title": "x", "severity": 2})
    doc = copy.deepcopy(CONTRACT.doc)
    doc["components"]["schemas"]["TicketFields"]["properties"]["title"]["maxLength"] = 0
    assert "took a body" in refused(doc, "POST", "/v1/tickets", b'{"title":"x","severity":2}',
                                    201, created.headers, created.body)
    # A refusal of the HTTP library as it was before slad answered them (HTML, no type), and
    # a status the document gives no refusal.
    assert "Content-Type" in refused(CONTRACT.doc, "refusal", 400, {},
                                     b"<html><body>Bad request</body></html>")
    assert "answer 418 is not in the document" in refused(
        CONTRACT.doc, "refusal", 418, {"Content-Type": "application/json"},
        b'{"error":{"code":"bad_request","message":"no"}}')
    # A path marked x-slad-prefix stands for the paths below it; a media type without a
    # schema takes any bytes, one with a schema only UTF-8 text.
    doc = copy.deepcopy(CONTRACT.doc)
    content = {"image/png": {}, "text/plain": {"schema": {"type": "string"}}}
    doc["paths"]["/files/"] = {"x-slad-prefix": True, "get": {
        "operationId": "file", "responses": {"200": {"description": "a file", "content": content}}}}
    png = {"Content-Type": "image/png"}
    Contract(doc).check("GET", "/files/img/a.png", None, 200, png, b"\x89PNG\xff")
    assert "UTF-8" in refused(doc, "GET", "/files/a.txt", None, 200,
                              {"Content-Type": "text/plain"}, b"\xff")
    assert "no such path" in refused(doc, "GET", "/filesx", None, 200, png, b"")


def test_answers_are_checked_at_the_end_of_the_test(client):
    conftest.check_exchanges(conftest.take_exchanges())  # the fixtures' own
    worker = threading.Thread(target=lambda: client.get("/healthz"))
    worker.start()
    worker.join(30)
    client.get("/v1/tickets/999999")
    with conftest.EXCHANGES_LOCK:
        waiting = list(conftest.EXCHANGES)
    assert [(e[0], e[1], e[3]) for e in waiting] == [("GET", "/healthz", 200),
                                                    ("GET", "/v1/tickets/999999", 404)], waiting
    # What the end of the test does with them: an exchange the document does not describe
    # fails the test.
    method, path, data, _, headers, body = waiting[0]
    with pytest.raises(pytest.fail.Exception) as e:
        conftest.check_exchanges([(method, path, data, 418, headers, body)])
    assert "answer 418 is not in the document" in str(e.value)
