"""HTTP itself on the real daemon: HEAD wherever GET works, 405 with an Allow header."""

import json

from conftest import parse_answer, raw_exchange

def test_head_answers_as_get_without_a_body(daemon, client):
    tid = daemon.create()["id"]
    for path in ("/healthz", "/metrics", f"/v1/tickets/{tid}", "/v1/tickets?status=open",
                 "/v1/reports/sla?format=csv", "/v1/tickets/999999", "/v1/tickets?nope=1"):
        get = client.get(path)
        head = client.request("HEAD", path)
        assert head.status == get.status, (path, head, get)
        assert head.body == b"", (path, head.body[:200])
        assert head.headers["Content-Type"] == get.headers["Content-Type"], path
        # The length of the body GET would send (the times in a ticket do not move here).
        assert int(head.headers["Content-Length"]) == len(get.body), (path, head.headers)
    # On one connection: the HEAD answer carries no body bytes that would be read as the
    # start of the next answer.
    buf = raw_exchange(daemon.socket_path,
                       b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                       b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                       until_close=True)
    first, _, rest = buf.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200"), buf[:300]
    status, _, body = parse_answer(rest)
    assert status == 200 and json.loads(body)["status"] == "ok", rest[:300]


def test_head_is_refused_where_get_is(client):
    r = client.request("HEAD", "/v1/simulate")
    assert r.status == 405 and r.body == b"", r
    assert r.headers["Allow"] == "POST", r.headers


def test_method_not_allowed_names_the_methods_in_allow(daemon, client):
    tid = daemon.create()["id"]
    cases = {
        ("DELETE", "/v1/tickets"): "POST, GET, HEAD",
        ("PUT", f"/v1/tickets/{tid}"): "GET, HEAD, PATCH",
        ("GET", f"/v1/tickets/{tid}/events"): "POST",
        ("POST", "/healthz"): "GET, HEAD",
        ("POST", "/v1/plans/1"): "GET, HEAD, PATCH, DELETE",
        ("BREW", "/v1/reload"): "POST",
    }
    for (method, path), allow in cases.items():
        r = client.request(method, path)
        assert r.status == 405, (method, path, r)
        assert r.headers.get("Allow") == allow, (method, path, r.headers)
        assert r.error_code() == "method_not_allowed"
        assert allow in r.error_message(), r
    # Only a 405 names methods.
    for r in (client.get("/healthz"), client.get("/v1/nothing")):
        assert "Allow" not in r.headers, r.headers
