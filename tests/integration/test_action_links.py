"""Acting from the message (issue 13): with daemon.public_url, every notification carries a
link, read here from what real loopback receivers got on each vendor's channel: a person's
is public_url/a/CODE (a 10-character code), a team channel's the ticket's page. The code
opens the ticket for its contact (GET /v1/actions/CODE) and acknowledges or takes it once
(POST); forged, expired and used codes are refused with words for a person; failed
lookups are limited per address on TCP. Without public_url there is no link."""

import json
import re
import subprocess
import urllib.parse

import pytest

from conftest import Client, free_tcp_port, slad_bin, wait_for, write_private
from receivers import Receiver

PUBLIC = "https://sla.example.com"
CODE = r"[23456789abcdefghjkmnpqrstuvwxyz]{10}"
ACTION_LINK = re.compile(re.escape(PUBLIC) + r"/a/(" + CODE + r")")


def start(make_daemon, rx, daemon_extra=f'public_url = "{PUBLIC}/";'):
    d = make_daemon(template="action-links.conf", daemon_extra=daemon_extra)
    with open(d.conf_path, encoding="utf-8") as f:
        text = f.read()
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(text.replace("@PORT@", str(rx.port)))
    return d.start()


def by_path(rx, prefix):
    return [r for r in rx.requests if r.path.startswith(prefix)]


def deliveries(rx):
    """Wait until every channel got its message; {name: request}."""
    prefixes = {"hook": "/hook", "sms": "/cgi-bin/sendsms", "dingtalk": "/robot/send",
                "slack": "/services/", "wecom": "/cgi-bin/webhook/", "feishu": "/open-apis/",
                "pd": "/v2/enqueue"}
    wait_for(lambda: all(by_path(rx, p) for p in prefixes.values()), 15,
             "a message on every channel")
    return {name: by_path(rx, p)[0] for name, p in prefixes.items()}


@pytest.fixture
def linked(make_daemon):
    with Receiver() as rx:
        d = start(make_daemon, rx)
        tid = d.create(title="Pump A&B", severity=1, team="north")["id"]
        yield d, tid, deliveries(rx)


def test_every_channel_carries_its_link(linked):
    d, tid, got = linked
    page = f"{PUBLIC}/ui/tickets/{tid}"
    hook = json.loads(got["hook"].body)
    assert ACTION_LINK.fullmatch(hook["link"]), hook["link"]
    sms_text = urllib.parse.parse_qs(urllib.parse.urlsplit(got["sms"].path).query)["text"][0]
    assert re.search(r" " + ACTION_LINK.pattern + r"$", sms_text), sms_text
    ding = json.loads(got["dingtalk"].body)["markdown"]["text"]
    assert re.search(r"\[Acknowledge or take it\]\(" + ACTION_LINK.pattern + r"\)", ding), ding
    slack = json.loads(got["slack"].body)
    button = slack["blocks"][1]["elements"][0]
    assert button["type"] == "button" and button["url"] == page, slack
    wecom = json.loads(got["wecom"].body)["markdown"]["content"]
    assert f"[Open the ticket]({page})" in wecom, wecom
    feishu = json.loads(got["feishu"].body)
    assert feishu["msg_type"] == "interactive"
    assert feishu["card"]["elements"][1]["actions"][0]["url"] == page, feishu
    pd = json.loads(got["pd"].body)
    assert any(link["href"] == page for link in pd.get("links", [])), pd
    # Three people, three different codes.
    codes = {ACTION_LINK.search(t).group(1) for t in (hook["link"], sms_text, ding)}
    assert len(codes) == 3


def test_open_then_acknowledge_once(linked):
    d, tid, got = linked
    code = ACTION_LINK.fullmatch(json.loads(got["hook"].body)["link"]).group(1)
    r = d.client.get(f"/v1/actions/{code}")
    assert r.status == 200, r
    assert r.json["contact"] == "sup" and r.json["ticket"]["id"] == tid
    assert r.json["actions"] == ["acknowledge", "take"]
    assert r.json["expires_at"].endswith("Z")
    # Viewing twice does not use it.
    assert d.client.get(f"/v1/actions/{code}").status == 200
    r = d.client.post(f"/v1/actions/{code}", {"action": "acknowledge"})
    assert r.status == 200, r
    assert r.json["ticket"]["status"] == "acknowledged"
    events = [h for h in d.ticket(tid)["history"] if h["kind"] == "event"]
    assert events[-1]["event"] == "acknowledge" and events[-1]["by"] == "sup", events
    for method in ("GET", "POST"):
        r = d.client.request(method, f"/v1/actions/{code}",
                             body={"action": "take"} if method == "POST" else None)
        assert r.status == 410 and r.json["error"]["code"] == "action_used", r
        assert "already used" in r.json["error"]["message"]


def test_take_dispatches_to_the_contact(linked):
    d, tid, got = linked
    text = urllib.parse.parse_qs(urllib.parse.urlsplit(got["sms"].path).query)["text"][0]
    code = ACTION_LINK.search(text).group(1)
    r = d.client.post(f"/v1/actions/{code}", {"action": "take"})
    assert r.status == 200, r
    assert r.json["ticket"]["status"] == "dispatched"
    assert r.json["ticket"]["assignee"] == "mgr"
    events = [h for h in d.ticket(tid)["history"] if h["kind"] == "event"]
    assert events[-1]["by"] == "mgr"


def test_not_allowed_keeps_the_code(linked):
    d, tid, got = linked
    code = ACTION_LINK.fullmatch(json.loads(got["hook"].body)["link"]).group(1)
    assert d.event(tid, "resolve").status == 200
    r = d.client.get(f"/v1/actions/{code}")
    assert r.status == 200 and r.json["actions"] == []
    r = d.client.post(f"/v1/actions/{code}", {"action": "acknowledge"})
    assert r.status == 409 and r.json["error"]["code"] == "event_not_allowed", r
    assert d.client.get(f"/v1/actions/{code}").status == 200
    r = d.client.post(f"/v1/actions/{code}", {"action": "close"})
    assert r.status == 400, r


def test_forged_and_expired(linked):
    d, tid, got = linked
    for forged in ("aaaaaaaaaa", "AAAAAAAAAA", "short", "0000000000", "a" * 60):
        r = d.client.get(f"/v1/actions/{forged}")
        assert r.status == 404 and r.json["error"]["code"] == "action_unknown", (forged, r)
        assert "not one slad sent" in r.json["error"]["message"]
    code = ACTION_LINK.fullmatch(json.loads(got["hook"].body)["link"]).group(1)
    d.sql("UPDATE action_links SET expires_ms = 1")
    r = d.client.get(f"/v1/actions/{code}")
    assert r.status == 410 and r.json["error"]["code"] == "action_expired", r
    assert "expired" in r.json["error"]["message"]
    r = d.client.post(f"/v1/actions/{code}", {"action": "acknowledge"})
    assert r.status == 410 and r.json["error"]["code"] == "action_expired", r
    assert d.ticket(tid)["status"] == "open"
    # The database holds the code's hash, never the code.
    hashes = [r["code_hash"] for r in d.sql("SELECT code_hash FROM action_links")]
    assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
    assert code not in hashes


def test_failed_lookups_are_limited_per_address(make_daemon, tmp_path):
    port = free_tcp_port()
    token = tmp_path / "token"
    write_private(str(token), "t0k3n-for-the-action-link-test\n")
    with Receiver() as rx:
        d = start(make_daemon, rx, daemon_extra=f'public_url = "{PUBLIC}"; tcp = '
                  f'"127.0.0.1:{port}"; token_file = "{token}";')
        tcp = Client(tcp=("127.0.0.1", port), token="t0k3n-for-the-action-link-test")
        for _ in range(10):
            assert tcp.get("/v1/actions/aaaaaaaaaa").status == 404
        r = tcp.get("/v1/actions/aaaaaaaaaa")
        assert r.status == 429 and r.json["error"]["code"] == "too_many_attempts", r
        assert int(r.headers["Retry-After"]) > 0
        # The Unix socket (no address) is not limited.
        assert d.client.get("/v1/actions/aaaaaaaaaa").status == 404


def test_without_public_url_no_link(make_daemon):
    with Receiver() as rx:
        d = start(make_daemon, rx, daemon_extra="")
        d.create(title="no link", severity=1, team="north")
        got = deliveries(rx)
        assert json.loads(got["hook"].body)["link"] is None
        assert "/a/" not in got["sms"].path
        assert "blocks" not in json.loads(got["slack"].body)
        assert d.sql("SELECT count(*) AS n FROM action_links") == [{"n": 0}]


def test_public_url_is_checked(make_daemon):
    for bad in ("sla.example.com", "ftp://x", "https://x/?a=1", "https://x/#f", "https://"):
        d = make_daemon(template="fast.conf", daemon_extra=f'public_url = "{bad}";')
        p = subprocess.run([slad_bin(), "--check-config", "-c", d.conf_path],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode != 0 and "public_url" in p.stderr, (bad, p.stderr)


GROUP_CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           log_level = "debug"; language = "en"; public_url = "https://sla.example.com"; };
contacts = ( { name = "sup"; via = ["log"]; } );
teams = ( { name = "ops"; roles = { supervisor = ["sup"]; }; } );
channels = (
  { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; },
  { name = "robot"; type = "dingtalk"; url = "@URL@"; group_window = "2s"; }
);
policies = (
  { name = "storm"; match = { }; calendar = "24x7";
    clocks = ( { name = "response"; target = "1s"; stop = ["resolve"];
                 escalate = ( { at = "100%"; notify = ["channel:robot"]; } ); } ); }
);
"""


def test_grouped_message_lists_each_link(make_daemon):
    ok = {"body": '{"errcode":0,"errmsg":"ok"}', "headers": {"Content-Type": "application/json"}}
    with Receiver(lambda req, n: ok) as rx:
        d = make_daemon()
        with open(d.conf_path, "w", encoding="utf-8") as f:
            f.write(GROUP_CONF.replace("@DIR@", d.dir).replace("@URL@", rx.url("/robot/send")))
        d.start()
        ids = [d.create(title=f"disk full {i}", severity=1, team="ops")["id"] for i in range(3)]
        wait_for(lambda: rx.requests, 15, "the grouped message")
        text = "".join(json.loads(r.body)["markdown"]["text"] for r in rx.requests)
        assert "3 notifications" in text, text  # one grouped message
        for tid in ids:
            assert f"{PUBLIC}/ui/tickets/{tid}" in text, text
