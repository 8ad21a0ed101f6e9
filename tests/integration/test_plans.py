"""Maintenance plans on the real daemon (SPEC 1 "Maintenance plan", SPEC 2 /v1/plans;
promises P16, P19) with second-scale visits on schedule.conf (catch-all policy on 24x7):
occurrences become "visit" tasks listed by GET /v1/followups?plan=ID whose owners get
followup.due, a completed visit asks for a "report" that escalates when overdue, a PATCH
of the rule keeps the tasks made, DELETE cancels the open tasks, strict bodies, a restart
neither loses nor repeats an occurrence, hostile rules (issue 11) are refused within a
bounded time while /healthz keeps answering, and a hostile rule already in the database
stops its plan, not the loop."""

import json
import time

import pytest

from conftest import UnixHTTPConnection, wait_for


def rfc3339(t):
    """An instant with milliseconds, UTC."""
    whole = int(t)
    ms = int(round((t - whole) * 1000))
    if ms == 1000:
        whole, ms = whole + 1, 0
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return f"{text}.{ms:03d}Z" if ms else text + "Z"


def parse(text):
    """RFC 3339 with Z (as slad writes) to seconds since the epoch."""
    base, _, frac = text.rstrip("Z").partition(".")
    t = time.mktime(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return t + (int(frac) / 10 ** len(frac) if frac else 0)


def daily_at(start, offsets):
    """A daily rule (a plan recurs at most daily) whose times of day, in UTC (the 24x7
    calendar), are start + each offset in seconds: visits seconds apart for a test. The
    offsets span less than a minute, so within [start, start + the last offset] the rule
    gives exactly those instants; the other combinations of its BYHOUR, BYMINUTE and
    BYSECOND fall outside that span."""
    parts = [time.gmtime(int(start) + o) for o in offsets]
    hours = sorted({t.tm_hour for t in parts})
    minutes = sorted({t.tm_min for t in parts})
    seconds = sorted({t.tm_sec for t in parts})
    join = lambda v: ",".join(map(str, v))
    return f"FREQ=DAILY;BYHOUR={join(hours)};BYMINUTE={join(minutes)};BYSECOND={join(seconds)}"


def plan_body(at=None, offsets=(0, 2, 4, 6, 8), **over):
    """A plan starting at at (seconds; in a second by default) with visits at the offsets."""
    start = time.time() + 1 if at is None else at
    body = {"name": "boiler service", "customer": {"name": "Li Lei", "phone": "+8613900000000",
                                                   "address": "1 Bund Rd"},
            "device": {"model": "B1", "serial": "SN-9"}, "team": "north", "assignee": "tech",
            "rrule": daily_at(start, offsets), "start": rfc3339(start),
            "due_within": "1h", "report_within": "3s"}
    body.update(over)
    return body


def tasks(client, pid, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    r = client.get(f"/v1/followups?plan={pid}&limit=1000" + ("&" + q if q else ""))
    assert r.status == 200, r
    return r.json["followups"]


def notifications(client):
    r = client.get("/v1/notifications?limit=1000")
    assert r.status == 200, r
    return r.json["notifications"]


def task_notices(client, task_id, event):
    return [n for n in notifications(client)
            if n["idempotency_key"].startswith(f"f{task_id}/") and n["event"] == event]


@pytest.fixture
def sched(make_daemon):
    return make_daemon("schedule.conf").start()


def test_occurrences_visits_reports(sched):
    c = sched.client
    start = time.time() + 1
    body = plan_body(start, until=rfc3339(start + 4))
    r = c.post("/v1/plans", body)
    assert r.status == 201, r
    plan = r.json
    pid = plan["id"]
    assert plan["calendar"] == "24x7" and plan["owner"] == "assignee"
    assert parse(plan["next_at"]) == pytest.approx(start, abs=0.002)
    assert plan["occurrences"] == 0

    # Three occurrences (start, +2 s, +4 s = until), each one "visit" due then.
    visits = wait_for(lambda: len(tasks(c, pid)) >= 3 and tasks(c, pid), 15, "three visits")
    assert [v["name"] for v in visits] == ["visit"] * 3
    dues = [parse(v["due_at"]) for v in visits]
    assert dues == pytest.approx([start, start + 2, start + 4], abs=0.002)
    for v in visits:
        assert v["plan_id"] == pid and v["ticket_id"] is None and v["owner"] == "assignee"
        assert parse(v["deadline_at"]) == pytest.approx(parse(v["due_at"]) + 3600, abs=0.002)
    plan = c.get(f"/v1/plans/{pid}").json
    assert plan["occurrences"] == 3 and plan["next_at"] is None

    # The owner (the plan's assignee) was told of each visit once.
    for v in visits:
        due = wait_for(lambda: task_notices(c, v["id"], "followup.due"), 10, "followup.due")
        assert [(n["recipient"], n["idempotency_key"].split("/")[-1]) for n in due] == [
            ("assignee", "tech")], due

    # A completed visit asks for its report within report_within (P16/P19).
    r = c.post(f"/v1/followups/{visits[0]['id']}/complete", {"outcome": "satisfied"})
    assert r.status == 200 and r.json["state"] == "done", r
    done_at = parse(r.json["completed_at"])
    reports = [t for t in tasks(c, pid) if t["name"] == "report"]
    assert len(reports) == 1
    report = reports[0]
    assert parse(report["due_at"]) == pytest.approx(done_at, abs=0.002)
    assert parse(report["deadline_at"]) == pytest.approx(done_at + 3, abs=0.002)
    # Not handed in: at its deadline the supervisor hears of it.
    overdue = wait_for(lambda: task_notices(c, report["id"], "followup.overdue"), 10,
                       "followup.overdue of the report")
    assert {(n["recipient"], n["idempotency_key"].split("/")[-1]) for n in overdue} == {
        ("supervisor", "sup")}
    assert [t["state"] for t in tasks(c, pid) if t["name"] == "report"] == ["overdue"]


def test_patch_keeps_tasks_and_follows_new_rule(sched):
    c = sched.client
    start = time.time() + 1
    pid = c.post("/v1/plans", plan_body(start)).json["id"]
    wait_for(lambda: tasks(c, pid), 10, "the first visit")
    # Now every day: the visits made stay, the next is a day after the start.
    r = c.patch(f"/v1/plans/{pid}", {"rrule": "FREQ=DAILY", "name": "boiler check"})
    assert r.status == 200, r
    assert r.json["name"] == "boiler check" and r.json["rrule"] == "FREQ=DAILY"
    assert parse(r.json["next_at"]) == pytest.approx(start + 86400, abs=0.002)
    made = tasks(c, pid)
    assert made and all(t["state"] == "due" for t in made)
    time.sleep(2.5)  # the old rule would have made another visit by now
    assert tasks(c, pid) == made
    # PATCH is as strict as POST; null clears optional fields and restores defaults.
    r = c.patch(f"/v1/plans/{pid}", {"until": rfc3339(start - 60)})
    assert r.status == 400 and "until" in r.error_message(), r
    r = c.patch(f"/v1/plans/{pid}", {"report_within": None, "owner": None, "team": None,
                                     "device": None, "customer": {"phone": "+8613911111111"}})
    assert r.status == 200, r
    assert r.json["report_within"] is None and r.json["owner"] == "assignee"
    assert r.json["team"] is None and r.json["device"] == {"model": None, "serial": None}
    assert r.json["customer"] == {"name": "Li Lei", "phone": "+8613911111111",
                                  "address": "1 Bund Rd"}
    assert c.patch("/v1/plans/999999", {"name": "x"}).status == 404


def test_delete_cancels_open_tasks(sched):
    c = sched.client
    pid = c.post("/v1/plans", plan_body(offsets=range(0, 40))).json["id"]
    made = wait_for(lambda: len(tasks(c, pid)) >= 2 and tasks(c, pid), 10, "two visits")
    c.post(f"/v1/followups/{made[0]['id']}/complete", {"outcome": "satisfied"})
    r = c.delete(f"/v1/plans/{pid}")
    assert r.status == 200 and r.json["status"] == "deleted", r
    assert r.json["cancelled_tasks"] >= 2  # the open visits and the report
    assert c.get(f"/v1/plans/{pid}").status == 404
    assert c.delete(f"/v1/plans/{pid}").status == 404
    cancelled = {t["id"] for t in c.get("/v1/followups?state=cancelled&limit=1000")
                 .json["followups"]}
    assert {t["id"] for t in made[1:]} <= cancelled
    done = c.get("/v1/followups?state=done&limit=1000").json["followups"]
    assert [t["id"] for t in done] == [made[0]["id"]]  # a done visit stays done
    before = c.get("/v1/followups?limit=1000").json["followups"]
    time.sleep(1.5)  # the second-by-second visits would have gone on by now
    assert c.get("/v1/followups?limit=1000").json["followups"] == before


def test_restart_neither_loses_nor_repeats(sched):
    c = sched.client
    start = time.time() + 1
    body = plan_body(start, until=rfc3339(start + 8))
    pid = c.post("/v1/plans", body).json["id"]
    wait_for(lambda: tasks(c, pid), 10, "the first visit")
    sched.stop()
    time.sleep(3)  # occurrences fall due while the daemon is down
    sched.start()
    c = sched.client
    visits = wait_for(lambda: len(tasks(c, pid)) >= 5 and tasks(c, pid), 15, "five visits")
    dues = [parse(v["due_at"]) for v in visits]
    assert dues == pytest.approx([start + 2 * i for i in range(5)], abs=0.002)
    assert c.get(f"/v1/plans/{pid}").json["occurrences"] == 5
    sched.restart()
    c = sched.client
    time.sleep(1)
    assert [v["id"] for v in tasks(c, pid)] == [v["id"] for v in visits]
    for v in visits:
        due = wait_for(lambda: task_notices(c, v["id"], "followup.due"), 10, "followup.due")
        assert len(due) == 1, due


@pytest.mark.parametrize("over, status, needle", [
    ({"rrule": "FREQ=SOMETIMES"}, 400, "rrule"),
    ({"rrule": "FREQ=DAILY;BYMONTH=13"}, 400, "rrule"),
    ({"due_within": "3 days"}, 400, "due_within"),
    ({"report_within": "75%"}, 400, "report_within"),
    ({"extra": 1}, 400, "extra"),
    ({"customer": {"name": "Li", "email": "x"}}, 400, "customer.email"),
    ({"id": 7}, 400, "id"),
    ({"start": "tomorrow"}, 400, "start"),
    ({"rrule": "FREQ=HOURLY"}, 400, "a plan recurs at most daily"),
    ({"calendar": "mars"}, 400, "calendar"),
    ({"name": None}, 400, "name"),
])
def test_strict_bodies(sched, over, status, needle):
    r = sched.client.post("/v1/plans", plan_body(**over))
    assert r.status == status, r
    assert needle in r.error_message(), r


def test_required_and_until(sched):
    c = sched.client
    body = plan_body()
    del body["rrule"]
    r = c.post("/v1/plans", body)
    assert r.status == 400 and r.error_code() == "missing_field" and "rrule" in r.error_message()
    start = time.time() + 3600
    r = c.post("/v1/plans", plan_body(start, until=rfc3339(start - 1)))
    assert r.status == 400 and "until" in r.error_message(), r


def test_list_pages(sched):
    c = sched.client
    start = time.time() + 86400
    ids = [c.post("/v1/plans", plan_body(start, name=f"p{i}",
                                         rrule="FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=15")).json["id"]
           for i in range(3)]
    r = c.get("/v1/plans?limit=2")
    assert r.status == 200 and [p["id"] for p in r.json["plans"]] == ids[:2]
    assert r.json["next"] == ids[1]
    r = c.get(f"/v1/plans?limit=2&after={ids[1]}")
    assert [p["id"] for p in r.json["plans"]] == ids[2:] and r.json["next"] is None
    assert c.get("/v1/plans?limit=0").status == 400
    p = r.json["plans"][0]
    for key in ("id", "name", "customer", "device", "team", "owner", "assignee", "calendar",
                "rrule", "start", "until", "due_within", "report_within", "next_at",
                "occurrences", "created_at", "updated_at"):
        assert key in p, key
    assert p["customer"]["address"] == "1 Bund Rd" and p["device"]["serial"] == "SN-9"


# Issue 11: rules that kept the loop busy (70 s, 80 s from 1970, 1.6 s; libical scans up to
# the year 20000 for the others) are refused, each answered well within HOSTILE_BOUND_S
# (the goal is 50 ms of loop time; the bound leaves room for a loaded test machine and the
# sanitizer build). The client gives up after HOSTILE_TIMEOUT_S, so that a daemon that
# still scans fails the test instead of hanging it. Finding that a rule never occurs
# takes up to one probe per kind of month (91), which a slow build may not finish within
# the budget: then "too costly" is the answer, as good a refusal.
NEVER = ("has no occurrence", "rrule too costly")
HOSTILE_BOUND_S = 0.5
HOSTILE_TIMEOUT_S = 3.0
HOSTILE = [
    ("FREQ=SECONDLY;BYSECOND=60", None, "a plan recurs at most daily"),
    ("FREQ=SECONDLY;BYHOUR=0;BYMINUTE=0;BYSECOND=0", "1970-01-01T00:00:00Z",
     "a plan recurs at most daily"),
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", None, "never falls in BYMONTH=2"),
    ("FREQ=DAILY;BYHOUR=23;BYMINUTE=59;BYSECOND=60", None, "a leap second"),
    ("FREQ=YEARLY;BYWEEKNO=1;BYMONTH=6;BYDAY=MO", None, "cannot be combined"),
    ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", None, NEVER),
    ("FREQ=MONTHLY;BYDAY=5MO;BYMONTHDAY=1,2,3", None, NEVER),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYSETPOS=2", None, "has no occurrence"),
    ("FREQ=MONTHLY;INTERVAL=2;BYMONTH=2", "2026-03-01T09:00:00Z", "has no occurrence"),
    ("FREQ=DAILY;INTERVAL=7;BYDAY=MO", None, "write FREQ=WEEKLY;INTERVAL=1 with BYDAY"),
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", "2026-03-01T09:00:00Z", "rrule too costly"),
    ("FREQ=MONTHLY;INTERVAL=7;BYMONTH=2;BYDAY=5MO", "2026-03-01T09:00:00Z", "rrule too costly"),
]


def timed(daemon, method, path, body=None):
    """(seconds from sending the request to its whole answer, status, parsed JSON)."""
    conn = UnixHTTPConnection(daemon.client.unix_path, timeout=HOSTILE_TIMEOUT_S)
    try:
        began = time.monotonic()
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        return time.monotonic() - began, r.status, json.loads(data)
    finally:
        conn.close()


def test_hostile_rules_answer_quickly(sched):
    good = sched.client.post("/v1/plans", plan_body(time.time() + 86400,
                                                    rrule="FREQ=MONTHLY")).json
    worst = 0.0
    for rrule, start, needle in HOSTILE:
        start_text = start or rfc3339(time.time() + 60)
        for method, path, body in (
                ("POST", "/v1/plans", plan_body(rrule=rrule, start=start_text)),
                ("PATCH", f"/v1/plans/{good['id']}", {"rrule": rrule, "start": start_text})):
            took, status, answer = timed(sched, method, path, body)
            worst = max(worst, took)
            assert status == 400, (rrule, method, answer)
            message = answer["error"]["message"]
            needles = needle if isinstance(needle, tuple) else (needle,)
            assert message.startswith("field 'rrule'"), (rrule, message)
            assert any(n in message for n in needles), (rrule, message)
            assert answer["error"]["code"] == (
                "too_costly" if "rrule too costly" in message else "invalid_field"), answer
            assert took < HOSTILE_BOUND_S, (rrule, method, took)
            took, status, _ = timed(sched, "GET", "/healthz")
            assert status == 200 and took < HOSTILE_BOUND_S, (rrule, took)
    print(f"worst answer to a hostile plan request: {worst * 1000:.1f} ms")
    # Nothing changed: the good plan is as it was, no other plan was made.
    assert sched.client.get(f"/v1/plans/{good['id']}").json == good
    assert [p["id"] for p in sched.client.get("/v1/plans").json["plans"]] == [good["id"]]


def test_stored_hostile_rule_stops_its_plan(sched):
    """An older slad stored FREQ=SECONDLY;BYSECOND=60 (it took 70 s to expand): at its next
    occurrence the visit is made, the plan stops with a warning, and the loop answers."""
    c = sched.client
    start = time.time() + 2
    pid = c.post("/v1/plans", plan_body(start, rrule="FREQ=DAILY")).json["id"]
    sched.stop()
    sched.sql(f"UPDATE plans SET rrule = 'FREQ=SECONDLY;BYSECOND=60' WHERE id = {int(pid)}")
    since = sched.log_size()
    sched.start()
    c = sched.client
    visits = wait_for(lambda: tasks(c, pid), 10, "the visit due")
    assert [parse(v["due_at"]) for v in visits] == pytest.approx([start], abs=0.002)
    sched.wait_log(f"plan {pid} 'boiler service' stops: field 'rrule': FREQ=SECONDLY is not "
                   "accepted: a plan recurs at most daily", since=since)
    plan = c.get(f"/v1/plans/{pid}").json
    assert plan["next_at"] is None and plan["occurrences"] == 1
    took, status, _ = timed(sched, "GET", "/healthz")
    assert status == 200 and took < HOSTILE_BOUND_S, took
    # A PATCH to an accepted rule resumes it.
    r = c.patch(f"/v1/plans/{pid}", {"rrule": "FREQ=YEARLY"})
    assert r.status == 200 and r.json["next_at"] is not None, r
