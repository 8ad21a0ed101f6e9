"""On-call schedules on the real daemon (issue 14, doc/ONCALL.md) with oncall.conf: a weekly
rota in Europe/Berlin handing off at 09:00 local time, whose answers are checked against
the same rota computed here with zoneinfo, across the 2026 spring DST change; overrides
that are stored and survive a restart; the .ics parsed line by line; and a step that
reaches whoever is on call when it fires, not when its ticket was created."""

import datetime
import json
import os
import subprocess
import time
from zoneinfo import ZoneInfo

import pytest

from conftest import wait_for

BERLIN = ZoneInfo("Europe/Berlin")
UTC = datetime.timezone.utc
ROTA = ["anna", "bert", "carl"]
ROTA_START = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=BERLIN)


def z(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def handoff(k):
    """The k-th weekly hand-off: 09:00 Berlin time, whatever the offset that day."""
    local = ROTA_START.replace(tzinfo=None) + datetime.timedelta(weeks=k)
    return local.replace(tzinfo=BERLIN)


def expected_shift(at):
    """(contact, from, until) of the ops rota at instant at, computed independently."""
    k = 0
    while handoff(k + 1) <= at:
        k += 1
    return ROTA[k % 3], z(handoff(k)), z(handoff(k + 1))


@pytest.fixture
def oncall(make_daemon):
    return make_daemon(template="oncall.conf").start()


def test_oncall_answers_the_rota_across_dst(oncall):
    c = oncall.client
    # Now (no ?at): the person the rota names for this instant.
    r = c.get("/v1/schedules/ops/oncall")
    assert r.status == 200, r
    now = datetime.datetime.now(UTC)
    contact, frm, until = expected_shift(now)
    assert r.json == {"schedule": "ops", "contact": contact, "from": frm, "until": until}
    # The shift that spans the change to summer time (29 March 2026) is an hour shorter:
    # 09:00 local is 08:00Z before it and 07:00Z after.
    r = c.get("/v1/schedules/ops/oncall?at=2026-03-29T12:00:00Z")
    assert r.json == {"schedule": "ops", "contact": "carl", "from": "2026-03-23T08:00:00Z",
                      "until": "2026-03-30T07:00:00Z"}
    assert expected_shift(parse("2026-03-29T12:00:00Z")) == ("carl", "2026-03-23T08:00:00Z",
                                                              "2026-03-30T07:00:00Z")
    r = c.get("/v1/schedules/ops/oncall?from=2026-03-20T00:00:00Z&to=2026-04-01T00:00:00Z")
    assert r.status == 200, r
    assert r.json["shifts"] == [
        {"contact": "bert", "from": "2026-03-16T08:00:00Z", "until": "2026-03-23T08:00:00Z"},
        {"contact": "carl", "from": "2026-03-23T08:00:00Z", "until": "2026-03-30T07:00:00Z"},
        {"contact": "anna", "from": "2026-03-30T07:00:00Z", "until": "2026-04-06T07:00:00Z"},
    ]
    # And back in October: the shift across the change is an hour longer.
    s = c.get("/v1/schedules/ops/oncall?at=2026-10-25T12:00:00Z").json
    assert (s["contact"], s["from"], s["until"]) == expected_shift(parse("2026-10-25T12:00:00Z"))
    assert parse(s["until"]) - parse(s["from"]) == datetime.timedelta(days=7, hours=1)
    # A higher layer wins where its calendar is open: dora on Sundays.
    assert c.get("/v1/schedules/weekend/oncall?at=2026-03-29T10:00:00Z").json["contact"] == "dora"
    assert c.get("/v1/schedules/weekend/oncall?at=2026-03-30T10:00:00Z").json["contact"] == "anna"
    # Every schedule, with who is on call now.
    listing = c.get("/v1/schedules").json["schedules"]
    assert [s["name"] for s in listing] == ["ops", "weekend"]
    assert listing[0]["contact"] == contact


def test_bad_requests_change_nothing(oncall):
    c = oncall.client
    cases = [
        ("/v1/schedules/ops/overrides", {"contact": "zed", "from": "2026-03-01T10:00:00Z",
                                         "to": "2026-03-01T11:00:00Z"}, 400, "'contact'"),
        ("/v1/schedules/ops/overrides", {"contact": "anna", "from": "2026-03-01T10:00:00Z",
                                         "to": "2026-03-01T09:00:00Z"}, 400, "'to'"),
        ("/v1/schedules/ops/overrides", {"contact": "anna", "from": "2026-03-01T10:00:00Z"},
         400, "'to' is required"),
        ("/v1/schedules/ops/overrides", {"contact": "anna", "from": "soon",
                                         "to": "2026-03-01T11:00:00Z"}, 400, "from"),
        ("/v1/schedules/nope/overrides", {"contact": "anna", "from": "2026-03-01T10:00:00Z",
                                          "to": "2026-03-01T11:00:00Z"}, 404, "'nope'"),
    ]
    for path, body, status, words in cases:
        r = c.post(path, body)
        assert r.status == status and words in r.error_message(), (body, r)
    assert c.get("/v1/schedules/ops/overrides").json == {"overrides": [], "next": None}
    for query, words in [("at=noon", "'at'"), ("from=2026-03-01T00:00:00Z", "'to'"),
                         ("from=2026-03-01T00:00:00Z&to=2027-03-01T00:00:00Z", "")]:
        r = c.get("/v1/schedules/ops/oncall?" + query)
        assert r.status == 400 and words in r.error_message(), (query, r)
    assert c.get("/v1/schedules/nope/oncall").status == 404
    assert c.delete("/v1/schedules/ops/overrides/1").status == 404


def test_overrides_survive_a_restart(oncall):
    c = oncall.client
    body = {"contact": "dora", "from": "2026-03-25T10:00:00Z", "to": "2026-03-25T18:00:00Z"}
    r = c.post("/v1/schedules/ops/overrides", body)
    assert r.status == 201, r
    first = r.json
    assert first["id"] >= 1 and first["schedule"] == "ops"
    assert {k: first[k] for k in body} == body
    second = c.post("/v1/schedules/ops/overrides",
                    {"contact": "anna", "from": "2026-03-25T12:00:00Z",
                     "to": "2026-03-25T13:00:00Z"}).json
    oncall.restart()
    listing = c.get("/v1/schedules/ops/overrides").json
    assert listing == {"overrides": [first, second], "next": None}
    # The newest override wins where two overlap; the rota (carl) outside them.
    at = lambda t: c.get(f"/v1/schedules/ops/oncall?at={t}").json
    assert at("2026-03-25T11:00:00Z") == {"schedule": "ops", "contact": "dora",
                                          "from": "2026-03-25T10:00:00Z",
                                          "until": "2026-03-25T12:00:00Z"}
    assert at("2026-03-25T12:30:00Z")["contact"] == "anna"
    assert at("2026-03-25T13:30:00Z")["contact"] == "dora"
    assert at("2026-03-25T19:00:00Z")["contact"] == "carl"
    shifts = c.get("/v1/schedules/ops/oncall?from=2026-03-25T00:00:00Z"
                   "&to=2026-03-26T00:00:00Z").json["shifts"]
    assert [(s["contact"], s["from"][11:16], s["until"][11:16]) for s in shifts] == [
        ("carl", "08:00", "10:00"), ("dora", "10:00", "12:00"), ("anna", "12:00", "13:00"),
        ("dora", "13:00", "18:00"), ("carl", "18:00", "07:00")]
    assert c.delete(f"/v1/schedules/ops/overrides/{first['id']}").json == {
        "status": "deleted", "id": first["id"]}
    oncall.restart()
    assert c.get("/v1/schedules/ops/overrides").json["overrides"] == [second]
    assert at("2026-03-25T11:00:00Z")["contact"] == "carl"
    assert c.delete(f"/v1/schedules/ops/overrides/{first['id']}").status == 404


def unfold(text):
    """RFC 5545 3.1: CRLF line ends; a line that starts with a space continues the last."""
    assert text.endswith("\r\n")
    lines = []
    for line in text[:-2].split("\r\n"):
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def components(lines):
    """The VEVENTs of a VCALENDAR as dicts of their properties (name without parameters)."""
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    events, current, depth = [], None, 0
    for line in lines[1:-1]:
        name, _, value = line.partition(":")
        if line.startswith("BEGIN:"):
            depth += 1
            if value == "VEVENT":
                current = {}
        elif line.startswith("END:"):
            depth -= 1
            if value == "VEVENT":
                events.append(current)
                current = None
        elif current is not None:
            current[name.split(";")[0]] = value
    assert depth == 0
    return events


def test_ics_parses(oncall):
    c = oncall.client
    query = "from=2026-03-20T00:00:00Z&to=2026-04-01T00:00:00Z"
    r = c.get("/v1/schedules/ops.ics?" + query)
    assert r.status == 200, r
    headers = {k.lower(): v for k, v in r.headers.items()}
    assert headers["content-type"].startswith("text/calendar")
    lines = unfold(r.body.decode("utf-8"))
    assert "VERSION:2.0" in lines and any(l.startswith("PRODID:") for l in lines)
    events = components(lines)
    shifts = c.get("/v1/schedules/ops/oncall?" + query).json["shifts"]
    assert len(events) == len(shifts) == 3
    for e, s in zip(events, shifts):
        assert e["SUMMARY"] == f"On call (ops): {s['contact']}"
        ics = lambda t: t.replace("-", "").replace(":", "")
        assert e["DTSTART"] == ics(s["from"]) and e["DTEND"] == ics(s["until"])
        assert e["UID"] and "DTSTAMP" in e
    assert len({e["UID"] for e in events}) == 3
    # A personal calendar: only anna's shifts; the same UIDs as in the whole one.
    mine = components(unfold(c.get("/v1/schedules/ops.ics?contact=anna&" + query)
                             .body.decode("utf-8")))
    assert [e["SUMMARY"] for e in mine] == ["On call (ops): anna"]
    assert mine[0]["UID"] == events[2]["UID"]
    assert c.get("/v1/schedules/nope.ics").status == 404


def notifications(d):
    path = os.path.join(d.dir, "notifications.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_step_reaches_whoever_is_on_call_when_it_fires(oncall):
    """The supervisor of team ops is oncall:ops. The ticket is created while the rota's
    person is on call; an override stored before the step fires (4 s later) puts someone
    else on call, and that person gets the breach."""
    c = oncall.client
    at_creation = c.get("/v1/schedules/ops/oncall").json["contact"]
    other = next(n for n in ROTA + ["dora"] if n != at_creation)
    t = oncall.create(severity=1, team="ops")
    now = datetime.datetime.now(UTC)
    r = c.post("/v1/schedules/ops/overrides",
               {"contact": other, "from": z(now - datetime.timedelta(minutes=1)),
                "to": z(now + datetime.timedelta(hours=1))})
    assert r.status == 201, r

    def breach():
        return [n for n in notifications(oncall)
                if n["event"] == "sla.breach" and n["ticket"]["id"] == t["id"]]

    wait_for(breach, 15, "the breach notification in the file channel")
    sent = breach()
    assert len(sent) == 1 and sent[0]["contact"] == other, sent
    assert sent[0]["recipient"] == "supervisor"
    rows = c.get(f"/v1/notifications?ticket={t['id']}").json["notifications"]
    assert [row["idempotency_key"].rsplit("/", 1)[1] for row in rows] == [other]


def slactl(d, *args, tz="UTC"):
    env = dict(os.environ, TZ=tz)
    env.pop("NO_COLOR", None)
    return subprocess.run([os.environ["SLACTL_BIN"], "--socket", d.socket_path, *args],
                          capture_output=True, text=True, env=env, timeout=30)


def test_slactl_oncall(oncall):
    # Every schedule at an instant, as a table.
    p = slactl(oncall, "oncall", "--at", "2026-03-29T10:00:00Z")
    assert p.returncode == 0, p.stderr
    lines = [l.split() for l in p.stdout.splitlines()]
    assert lines[0] == ["NAME", "CONTACT", "FROM", "UNTIL", "TIMEZONE"]
    assert [l[:2] for l in lines[1:]] == [["ops", "carl"], ["weekend", "dora"]]
    # One schedule's shifts in the reader's time zone: the hand-off stays at 09:00 in
    # Berlin across the change to summer time (times print with their offset).
    p = slactl(oncall, "oncall", "ops", "--from", "2026-03-20T00:00:00Z", "--to",
               "2026-04-01T00:00:00Z", tz="Europe/Berlin")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "CONTACT  FROM                        UNTIL",
        "bert     2026-03-16 09:00:00 +01:00  2026-03-23 09:00:00 +01:00",
        "carl     2026-03-23 09:00:00 +01:00  2026-03-30 09:00:00 +02:00",
        "anna     2026-03-30 09:00:00 +02:00  2026-04-06 09:00:00 +02:00",
    ]
    p = slactl(oncall, "--json", "oncall", "ops", "--at", "2026-03-29T12:00:00Z")
    assert json.loads(p.stdout) == {"schedule": "ops", "contact": "carl",
                                    "from": "2026-03-23T08:00:00Z",
                                    "until": "2026-03-30T07:00:00Z"}
    # Usage errors exit 2 without asking the daemon; refusals exit 1 with its message.
    for args in (["--from", "2026-03-20T00:00:00Z"], ["ops", "--from", "x"],
                 ["ops", "--at", "x", "--from", "x", "--to", "y"], ["ops", "extra"],
                 ["ops", "--at"], ["--bogus"]):
        p = slactl(oncall, "oncall", *args)
        assert p.returncode == 2 and "Usage: slactl [GLOBAL OPTIONS] oncall" in p.stderr, (args, p.stderr)
    p = slactl(oncall, "oncall", "nope")
    assert p.returncode == 1 and "schedule 'nope' is not in the config" in p.stderr
    p = slactl(oncall, "oncall", "ops", "--at", "noon")
    assert p.returncode == 1 and "'at'" in p.stderr
