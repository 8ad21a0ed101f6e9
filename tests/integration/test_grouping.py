"""Storm grouping on the real daemon: a DingTalk robot (a loopback receiver) with
group_window = "2s" gets 50 breaches that fall within one second as at most 2 messages,
which hold all 50: each message counts its members, lists 10 of them and "and N more";
each breach row is marked sent by its message (group_id), and each message has its own
key."""

import json
import re
import subprocess
import threading

import pytest

from conftest import slad_bin, wait_for
from receivers import Receiver

CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           log_level = "debug"; language = "en"; max_connections = 64; };
contacts = ( { name = "sup"; via = ["log"]; } );
teams = ( { name = "ops"; roles = { supervisor = ["sup"]; }; } );
channels = (
  { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; },
  { name = "robot"; type = "dingtalk"; url = "@URL@"; group_window = "2s"; }
);
policies = (
  { name = "storm"; match = { }; calendar = "24x7";
    clocks = ( { name = "response"; target = "2s"; stop = ["resolve"];
                 escalate = ( { at = "100%"; notify = ["channel:robot"]; } ); } ); }
);
"""

N = 50


def built_with_failpoints():
    out = subprocess.run([slad_bin(), "--version"], capture_output=True, text=True,
                         timeout=10).stdout
    return out.strip().endswith(" failpoints")


def dingtalk_ok(_req, _n):
    return {"body": '{"errcode":0,"errmsg":"ok"}', "headers": {"Content-Type": "application/json"}}


def test_fifty_breaches_two_messages_at_most(make_daemon):
    with Receiver(dingtalk_ok) as rx:
        d = make_daemon()
        with open(d.conf_path, "w", encoding="utf-8") as f:
            f.write(CONF.replace("@DIR@", d.dir).replace("@URL@", rx.url("/robot/send")))
        d.start()

        # 50 tickets within about a second (5 clients side by side): 50 breaches.
        ids, errors = [], []

        def post(k):
            for i in range(k, N, 5):
                r = d.client.post("/v1/tickets", {"title": f"disk full on db{i}", "severity": 1,
                                                  "team": "ops"})
                (ids if r.status == 201 else errors).append(r.json.get("id") or r)

        threads = [threading.Thread(target=post, args=(k,)) for k in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors and len(ids) == N

        def rows():
            r = d.client.get("/v1/notifications?limit=1000")
            assert r.status == 200, r
            return r.json["notifications"]

        wait_for(lambda: sum(1 for n in rows() if n["event"] == "sla.breach"
                             and n["state"] == "sent") == N, 30, "all 50 breaches sent")
        breaches = [n for n in rows() if n["event"] == "sla.breach"]
        groups = {n["id"]: n for n in rows() if n["event"] == "notification.group"}
        assert len(breaches) == N
        assert 1 <= len(groups) <= 2 and rx.count() == len(groups)

        # Each breach is marked sent by one message; each message its own key, sent.
        assert all(n["group_id"] in groups for n in breaches)
        for g in groups.values():
            assert g["state"] == "sent" and g["group_id"] == g["id"]
            assert g["idempotency_key"] == f"group/robot/{min(n['id'] for n in breaches if n['group_id'] == g['id'])}"
            members = d.client.get(f"/v1/notifications?group={g['id']}").json["notifications"]
            assert len(members) == 1 + sum(1 for n in breaches if n["group_id"] == g["id"])
        assert len({g["idempotency_key"] for g in groups.values()}) == len(groups)

        # The messages: the count, 10 tickets listed, "and N more"; 50 in all.
        total = 0
        titles = set()
        for req in rx.requests:
            md = json.loads(req.body)["markdown"]
            count = int(re.match(r"(\d+) notifications", md["title"]).group(1))
            total += count
            listed = re.findall(r"- #(\d+) sla\.breach: (disk full on db\d+)", md["text"])
            assert len(listed) == min(count, 10), md["text"]
            titles.update(t for _, t in listed)
            if count > 10:
                assert md["text"].rstrip().endswith(f"and {count - 10} more"), md["text"]
        assert total == N
        assert titles <= {f"disk full on db{i}" for i in range(N)}


HOOK_CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           log_level = "debug"; language = "en"; };
contacts = ( { name = "sup"; via = ["log"]; } );
teams = ( { name = "ops"; roles = { supervisor = ["sup"]; }; } );
channels = (
  { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; },
  { name = "hook"; type = "webhook"; url = "@URL@"; group_window = "1s"; }
);
policies = (
  { name = "storm"; match = { }; calendar = "24x7";
    clocks = ( { name = "response"; target = "1s"; stop = ["resolve"];
                 escalate = ( { at = "100%"; notify = ["channel:hook"]; } ); } ); }
);
"""


@pytest.mark.skipif(not built_with_failpoints(), reason="needs a build with -Dfailpoints=true")
def test_crash_after_the_message_sends_it_again_never_a_member(make_daemon):
    """kill -9 after the grouped message's 2xx, before it is recorded: after the restart the
    same message goes again with its key (the receiver drops the repeat), its members
    never alone, and all of them end sent."""
    with Receiver() as rx:
        d = make_daemon()
        with open(d.conf_path, "w", encoding="utf-8") as f:
            f.write(HOOK_CONF.replace("@DIR@", d.dir).replace("@URL@", rx.url("/hook")))
        d.start(env={"SLAD_FAILPOINT": "after-2xx-before-record:1"})
        for i in range(10):
            assert d.client.post("/v1/tickets", {"title": f"t{i}", "severity": 1,
                                                 "team": "ops"}).status == 201
        d.proc.wait(30)
        assert rx.count() == 1
        states = [(r["event"], r["state"], r["own"]) for r in d.sql(
            "SELECT event, state, CASE WHEN group_id = id THEN 1 ELSE 0 END AS own"
            " FROM outbox WHERE group_id IS NOT NULL ORDER BY id")]
        assert ("notification.group", "sending", 1) in states
        assert {s for e, s, _ in states if e == "sla.breach"} == {"sending"}

        d.start()
        wait_for(lambda: all(n["state"] == "sent" for n in d.client.get(
            "/v1/notifications?limit=100").json["notifications"]), 20, "all sent")
        bodies = [json.loads(r.body) for r in rx.requests]
        assert {b["event"] for b in bodies} == {"notification.group"}
        keys = [b["idempotency_key"] for b in bodies]
        assert keys.count(keys[0]) == 2 and len(set(keys)) == len(keys) - 1, keys
        rows = d.client.get("/v1/notifications?limit=100").json["notifications"]
        assert sum(1 for n in rows if n["event"] == "sla.breach") == 10
