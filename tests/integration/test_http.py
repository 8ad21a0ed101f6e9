"""HTTP itself on the real daemon: HEAD wherever GET works, 405 with an Allow header, and
libmicrohttpd's own refusals of requests it cannot parse (400, 413, 414, 431, 505) answered
with slad's JSON error body, each alone on its connection (raw sockets: http.client would
not send these requests; the TLS listener's refusals are in test_limits.py).
"""

import json

from conftest import parse_answer, raw_exchange
from contract import CONTRACT

# fast.conf: max_header 8192; a connection's memory pool is that plus 8192 bytes of slack
# (daemon/http.c): a head well past the sum does not fit.
TOO_LARGE_HEAD = 40000
def test_head_answers_as_get_without_a_body(daemon, client):
    tid = daemon.create()["id"]
    for path in ("/healthz", "/metrics", f"/v1/tickets/{tid}", "/v1/tickets?status=open",
                 "/v1/reports/sla?format=csv", "/v1/tickets/999999", "/v1/tickets?nope=1"):
        get = client.get(path)
        head = client.request("HEAD", path)
        assert head.status == get.status, (path, head, get)
        assert head.body == b"", (path, head.body[:200])
        assert head.headers["Content-Type"] == get.headers["Content-Type"], path
        # The length of the body GET would send (the times in a ticket do not move here;
        # /metrics counts the GET itself, which moves its figures).
        if path != "/metrics":
            assert int(head.headers["Content-Length"]) == len(get.body), (path, head.headers)
        else:
            assert abs(int(head.headers["Content-Length"]) - len(get.body)) < 100, head.headers
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


# Requests libmicrohttpd refuses before slad sees them, with the status and the code of
# the JSON error that answers each.
REFUSED = [
    ("HTTP/9.9", b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
     505, "http_version_not_supported"),
    ("HTTP/0.9", b"GET /healthz HTTP/0.9\r\nHost: x\r\n\r\n", 505, "http_version_not_supported"),
    ("a word after the version", b"GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n",
     400, "bad_request"),
    ("a header line without a colon",
     b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n", 400, "bad_request"),
    ("a Content-Length that is no number",
     b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
     400, "bad_request"),
    ("a Content-Length past 2^64",
     b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n{}",
     413, "payload_too_large"),
    ("a chunk size that is no number",
     b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"zz\r\n{}\r\n0\r\n\r\n", 400, "bad_request"),
    ("a chunk size past 2^64",
     b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"ffffffffffffffffff\r\n{}\r\n0\r\n\r\n", 413, "payload_too_large"),
    ("a header larger than max_header",
     b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * TOO_LARGE_HEAD + b"\r\n\r\n",
     431, "header_too_large"),
    ("a path larger than max_header",
     b"GET /" + b"p" * TOO_LARGE_HEAD + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
]


def refusal(daemon, data):
    """The one answer to data: (status, headers, error object); nothing else follows it."""
    buf = raw_exchange(daemon.socket_path, data, timeout=5.0, until_close=True)
    status, headers, body = parse_answer(buf)
    assert int(headers["content-length"]) == len(body), f"more than one answer: {buf[:600]!r}"
    assert headers["content-type"] == "application/json", headers
    assert headers.get("connection") == "close", headers
    CONTRACT.check_refusal(status, headers, body)
    doc = json.loads(body)
    assert set(doc) == {"error"} and set(doc["error"]) == {"code", "message"}, doc
    return status, headers, doc["error"]


def test_refusals_of_the_http_library_are_json_errors(daemon, client):
    for what, data, want_status, want_code in REFUSED:
        status, _, err = refusal(daemon, data)
        assert (status, err["code"]) == (want_status, want_code), (what, status, err)
        assert len(err["message"]) > 20, (what, err)
    # The daemon serves on, and nothing was stored.
    assert client.get("/healthz").status == 200
    assert client.get("/v1/tickets").json["tickets"] == []
    # The library's note that its own answer was not queued is not an operator's concern.
    assert "failed to queue" not in daemon.log(), daemon.log_tail()


def test_unix_socket_answers_log_no_socket_option_noise(daemon, client):
    """libmicrohttpd tries TCP_NODELAY and TCP_CORK on every answer; a Unix socket has
    neither, and each failure came out as three log lines ("Failed to push the data ...
    Client may experience some delay"), thousands a second under load: false alarms that
    bury what matters. Answers over the Unix socket log none of them."""
    for _ in range(20):
        assert client.get("/healthz").status == 200
    daemon.create()
    # The whole log since this daemon started: the first such line is written at once,
    # the repeats are counted and written a second later, so a slice could miss them.
    text = daemon.log(since_start=True)
    for noise in ("option to", "Failed to push the data"):
        assert noise not in text, text[-2000:]
