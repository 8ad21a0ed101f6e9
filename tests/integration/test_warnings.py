"""`warnings` in answers: accepted, but someone will not be reached or something was not
applied.

A ticket or plan whose team is not configured, or whose assignee is not a configured
contact, is created or changed all the same, and the answer's `warnings` say who will not
be reached. A creation repeated (same source and external_id: POST /v1/tickets, an
Alertmanager alert, a PagerDuty trigger) with a body that differs from the stored ticket
changes nothing, and the answer names the fields that were not applied. Without anything
to say, an answer has no `warnings` key. slactl prints them to stderr and exits 0.
"""

import json

from conftest import Client
from test_intake import PD_KEY, PROM_TOKEN, slad_with_intakes
from test_slactl import Ctl

TEAM_WARNING = ("team 'south' is not configured: its roles and group channel will not be "
                "reached")
ASSIGNEE_WARNING = ("assignee 'ghost' is not a configured contact: notifications for the "
                    "assignee will not reach anyone")


def test_ticket_unknown_team_and_assignee(client):
    # fast.conf has team north and contacts sup and mgr.
    r = client.post("/v1/tickets", {"title": "t", "severity": 2, "team": "north",
                                    "assignee": "sup"})
    assert r.status == 201 and "warnings" not in r.json, r

    r = client.post("/v1/tickets", {"title": "t", "severity": 2, "team": "south",
                                    "assignee": "ghost"})
    assert r.status == 201, r
    assert r.json["warnings"] == [TEAM_WARNING, ASSIGNEE_WARNING]
    assert (r.json["team"], r.json["assignee"]) == ("south", "ghost")
    tid = r.json["id"]
    # A read is no creation: no warnings there.
    assert "warnings" not in client.get(f"/v1/tickets/{tid}").json

    # PATCH to a configured team: the assignee is still unknown.
    r = client.patch(f"/v1/tickets/{tid}", {"team": "north"})
    assert r.status == 200 and r.json["warnings"] == [ASSIGNEE_WARNING], r
    r = client.patch(f"/v1/tickets/{tid}", {"assignee": None})
    assert r.status == 200 and "warnings" not in r.json, r
    r = client.patch(f"/v1/tickets/{tid}", {"team": "south"})
    assert r.status == 200 and r.json["warnings"] == [TEAM_WARNING], r


def test_ticket_repeat_with_another_body(client):
    body = {"source": "crm", "external_id": "CRM-1", "title": "no cooling", "severity": 2,
            "team": "north", "labels": {"contract": "gold"}}
    r = client.post("/v1/tickets", body)
    assert r.status == 201 and "warnings" not in r.json, r
    tid = r.json["id"]

    # The same body again: 200, nothing to say.
    r = client.post("/v1/tickets", body)
    assert r.status == 200 and "warnings" not in r.json, r

    # Another title and severity: not applied, and said so.
    r = client.post("/v1/tickets", dict(body, title="no cooling at all", severity=1))
    assert r.status == 200, r
    assert (r.json["title"], r.json["severity"]) == ("no cooling", 2)
    assert r.json["warnings"] == [
        f"this external_id exists as ticket #{tid}; the differing title, severity were not "
        "applied: PATCH the ticket to change them"]

    r = client.post("/v1/tickets", dict(body, labels={"contract": "silver"}))
    assert r.json["warnings"] == [
        f"this external_id exists as ticket #{tid}; the differing labels was not applied: "
        "PATCH the ticket to change them"], r
    # A field the repeat leaves out is no difference.
    r = client.post("/v1/tickets", {"source": "crm", "external_id": "CRM-1",
                                    "title": "no cooling", "severity": 2})
    assert r.status == 200 and "warnings" not in r.json, r


def test_plan_unknown_team_and_assignee(client):
    plan = {"name": "yearly check", "rrule": "FREQ=YEARLY", "start": "2030-05-15T09:00:00Z",
            "due_within": "3d", "team": "north"}
    r = client.post("/v1/plans", plan)
    assert r.status == 201 and "warnings" not in r.json, r

    r = client.post("/v1/plans", dict(plan, team="south", assignee="ghost"))
    assert r.status == 201, r
    assert r.json["warnings"] == [TEAM_WARNING, ASSIGNEE_WARNING]
    pid = r.json["id"]
    assert "warnings" not in client.get(f"/v1/plans/{pid}").json

    r = client.patch(f"/v1/plans/{pid}", {"team": "north", "assignee": "mgr"})
    assert r.status == 200 and "warnings" not in r.json, r
    r = client.patch(f"/v1/plans/{pid}", {"assignee": "ghost"})
    assert r.status == 200 and r.json["warnings"] == [ASSIGNEE_WARNING], r


def test_intake_repeat_with_another_body(make_daemon):
    d = slad_with_intakes(make_daemon)
    pd = Client(tcp=("127.0.0.1", d.port))
    trigger = {"routing_key": PD_KEY, "event_action": "trigger", "dedup_key": "srv01/disk",
               "payload": {"summary": "Disk full on srv01", "source": "srv01",
                           "severity": "critical"}}
    r = pd.post("/v1/intake/pd", trigger)
    assert r.status == 202 and "warnings" not in r.json, r
    tid = d.client.get("/v1/tickets?source=pd&external_id=srv01/disk").json["tickets"][0]["id"]
    assert pd.post("/v1/intake/pd", trigger).json == {
        "status": "success", "message": "Event processed", "dedup_key": "srv01/disk"}

    again = json.loads(json.dumps(trigger))
    again["payload"].update(summary="Disk 99% full on srv01", severity="warning")
    r = pd.post("/v1/intake/pd", again)
    assert r.status == 202, r
    assert r.json["warnings"] == [
        f"this external_id exists as ticket #{tid}; the differing title, severity were not "
        "applied: PATCH the ticket to change them"]
    assert d.ticket(tid)["title"] == "Disk full on srv01"

    # Alertmanager's webhook, as it repeats a firing alert whose summary changed.
    am = Client(tcp=("127.0.0.1", d.port), token=PROM_TOKEN)
    alert = {"status": "firing", "fingerprint": "f00d", "labels": {"alertname": "DiskFull"},
             "annotations": {"summary": "disk full on db1"},
             "startsAt": "2026-12-02T07:00:00Z"}
    hook = {"version": "4", "status": "firing", "receiver": "slad", "alerts": [alert]}
    r = am.post("/v1/intake/prom", hook)
    assert r.status == 200 and "warnings" not in r.json, r
    am_id = r.json["alerts"][0]["ticket_id"]
    r = am.post("/v1/intake/prom", hook)
    assert r.json["alerts"][0]["result"] == "unchanged" and "warnings" not in r.json, r
    alert["annotations"]["summary"] = "disk still full on db1"
    r = am.post("/v1/intake/prom", hook)
    assert r.status == 200, r
    assert r.json["warnings"] == [
        f"alert 'f00d': this external_id exists as ticket #{am_id}; the differing title was "
        "not applied: PATCH the ticket to change them"]


def test_slactl_prints_warnings_to_stderr(daemon):
    ctl = Ctl(daemon.socket_path)
    p = ctl.ok("ticket", "create", "--title", "t", "--severity", "2", "--team", "south")
    assert p.stderr == f"slactl: warning: {TEAM_WARNING}\n", p
    assert "warnings" not in p.stdout and "south" in p.stdout, p
    # --json: the answer as sent on stdout, the warning on stderr too.
    p = ctl.run("ticket", "create", "--title", "t", "--severity", "2", "--team", "south",
                json_out=True)
    assert p.returncode == 0, p
    assert json.loads(p.stdout)["warnings"] == [TEAM_WARNING]
    assert p.stderr == f"slactl: warning: {TEAM_WARNING}\n", p
    # Nothing to warn about: stderr stays empty.
    p = ctl.ok("ticket", "create", "--title", "t", "--severity", "2", "--team", "north")
    assert p.stderr == "", p
