"""Smoke test for `make check`: one real daemon, one ticket through its life, in seconds.

The whole integration suite proves behaviour; this file only shows, fast, that the daemon
starts, stores, escalates, answers and stops: the inner loop's last step."""

import json
import os


def test_ticket_lifecycle_and_escalation(daemon, client):
    t = daemon.create(severity=1, team="north")
    assert t["policy"] == "fast" and t["status"] == "open"
    r = client.post(f"/v1/tickets/{t['id']}/events", {"type": "acknowledge", "by": "sup"})
    assert r.status == 200 and r.json["status"] == "acknowledged"
    r = client.post(f"/v1/tickets/{t['id']}/events", {"type": "resolve"})
    assert r.status == 200 and r.json["status"] == "resolved"
    history = client.get(f"/v1/tickets/{t['id']}/history").json["history"]
    assert [h["kind"] for h in history if h["kind"] == "event"] == ["event", "event"]
    followups = client.get("/v1/followups").json["followups"]
    assert [f["ticket_id"] for f in followups] == [t["id"]]
    assert "slad_tickets{status=\"resolved\"} 1" in client.get("/metrics").text
    health = client.get("/healthz")
    assert health.status == 200 and health.json["status"] == "ok"


def test_breach_is_notified(daemon, client):
    """fast.conf: the response clock (3 s) notifies its manager at 100 %."""
    from conftest import wait_for
    t = daemon.create(severity=1, team="north")
    path = os.path.join(daemon.dir, "notifications.jsonl")

    def breach():
        if not os.path.exists(path):
            return False
        with open(path, encoding="utf-8") as f:
            events = [json.loads(line) for line in f if line.strip()]
        return any(e["event"] == "sla.breach" and e["ticket"]["id"] == t["id"] for e in events)

    wait_for(breach, 10, "the breach notification in the file channel")
