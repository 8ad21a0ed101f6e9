"""Scheduling on the real daemon (issue 5): follow-up tasks (P14, P16), appointment
reminders (P13) and the repeat-fault rule (P12), with second-scale durations from
data/schedule.conf, and their survival over restarts. Times are checked against the
instants the daemon reports, never against fixed sleeps: the tests poll with deadlines."""

import datetime
import time

from conftest import wait_for


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).isoformat().replace(
        "+00:00", "Z")


def followups(client, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    r = client.get("/v1/followups" + (f"?{q}" if q else ""))
    assert r.status == 200, r
    return r.json["followups"]


def notes(client, ticket_id):
    r = client.get(f"/v1/notifications?ticket={ticket_id}&limit=1000")
    assert r.status == 200, r
    return r.json["notifications"]


def start(make_daemon):
    return make_daemon(template="schedule.conf").start()


def test_followup_due_steps_and_overdue(make_daemon):
    """P14: the callback is created at resolve, pending for 2 s, then due (the owner is
    told), its 50 % step tells the assignee again, at the deadline the supervisor gets
    followup.overdue, 2 s later the manager; every notice once, at its instant."""
    d = start(make_daemon)
    c = d.client
    t = d.create(team="north", assignee="tech", severity=3)
    resolved = time.time()
    assert d.event(t["id"], "resolve").status == 200
    (fu,) = [f for f in followups(c, ticket=t["id"]) if f["name"] == "callback"]
    assert fu["state"] == "pending" and fu["owner"] == "assignee" and fu["outcome"] is None
    due, deadline = parse_time(fu["due_at"]), parse_time(fu["deadline_at"])
    assert abs(due - (resolved + 2)) < 1.0 and abs(deadline - due - 3) < 0.01, fu
    assert fu["id"] in [f["id"] for f in followups(c, state="pending")]

    def events():
        got = [n for n in notes(c, t["id"]) if n["event"].startswith("followup.")]
        return got if len(got) >= 4 else None

    got = wait_for(events, 15, "four follow-up notices")
    keys = [n["idempotency_key"] for n in got]
    assert len(keys) == len(set(keys)), keys
    by_key = {n["idempotency_key"]: n for n in got}
    fid = fu["id"]
    assert by_key[f"f{fid}/due/assignee/tech"]["event"] == "followup.due"
    assert by_key[f"f{fid}/step1/assignee/tech"]["event"] == "followup.due"
    assert by_key[f"f{fid}/step2/supervisor/sup"]["event"] == "followup.overdue"
    assert by_key[f"f{fid}/step3/manager/mgr"]["event"] == "followup.overdue"
    assert [f["id"] for f in followups(c, state="overdue")] == [fid]
    # The history of the ticket shows the task's life with the instants it was due at.
    hist = d.ticket(t["id"])["history"]
    steps = {h.get("step"): h for h in hist if h["kind"] == "followup_step"}
    assert abs(parse_time(steps[1]["at"]) - (due + 1.5)) < 0.01, steps
    assert abs(parse_time(steps[2]["at"]) - deadline) < 0.01, steps
    assert abs(parse_time(steps[3]["at"]) - (deadline + 2)) < 0.01, steps


def test_complete_outcomes(make_daemon):
    """Completion with an outcome; `unsatisfied` tells the supervisor; no notice after;
    bad outcomes and unknown fields are refused; completing twice is 409."""
    d = start(make_daemon)
    c = d.client
    a, b = d.create(team="north", assignee="tech"), d.create(team="north", assignee="tech")
    for t in (a, b):
        assert d.event(t["id"], "resolve").status == 200
    fa = [f for f in followups(c, ticket=a["id"]) if f["name"] == "callback"][0]
    fb = [f for f in followups(c, ticket=b["id"]) if f["name"] == "callback"][0]
    assert c.post(f"/v1/followups/{fa['id']}/complete", {"outcome": "meh"}).status == 400
    assert c.post(f"/v1/followups/{fa['id']}/complete",
                  {"outcome": "satisfied", "colour": "red"}).status == 400
    assert c.post(f"/v1/followups/{fa['id']}/complete", {}).status == 400
    assert c.post("/v1/followups/999999/complete", {"outcome": "satisfied"}).status == 404
    r = c.post(f"/v1/followups/{fa['id']}/complete",
               {"outcome": "satisfied", "note": "works again", "by": "tech"})
    assert r.status == 200, r
    assert r.json["state"] == "done" and r.json["outcome"] == "satisfied"
    assert r.json["note"] == "works again" and r.json["completed_by"] == "tech"
    r = c.post(f"/v1/followups/{fb['id']}/complete", {"outcome": "unsatisfied"})
    assert r.status == 200, r
    assert c.post(f"/v1/followups/{fb['id']}/complete",
                  {"outcome": "satisfied"}).status == 409
    unsat = [n for n in notes(c, b["id"]) if n["event"] == "followup.unsatisfied"]
    assert [n["recipient"] for n in unsat] == ["supervisor"], unsat
    # Past the old due instant and deadline: a completed task says nothing more.
    wait_for(lambda: time.time() > parse_time(fa["deadline_at"]) + 2.5, 10, "deadline + 2.5 s")
    d.stop()
    d.start()
    for t in (a, b):
        assert not [n for n in notes(c, t["id"])
                    if n["event"] in ("followup.due", "followup.overdue")]
    done = {f["id"] for f in followups(c, state="done")}
    assert {fa["id"], fb["id"]} <= done


def test_reopen_cancels_and_re_resolve_creates(make_daemon):
    """The rule chosen: reopening undoes the repair, so its open follow-ups are cancelled
    (never notified); resolving again creates new ones. A cancelled ticket cancels its
    tasks too, including those created at intake."""
    d = start(make_daemon)
    c = d.client
    t = d.create(team="north", assignee="tech")
    (install,) = [f for f in followups(c, ticket=t["id"])]
    assert install["name"] == "install" and install["state"] == "pending"
    assert d.event(t["id"], "resolve").status == 200
    first = [f for f in followups(c, ticket=t["id"]) if f["name"] == "callback"][0]
    assert d.event(t["id"], "reopen").status == 200
    assert followups(c, ticket=t["id"], state="cancelled")[0]["id"] == first["id"]
    assert d.event(t["id"], "resolve").status == 200
    calls = [f for f in followups(c, ticket=t["id"]) if f["name"] == "callback"]
    assert len(calls) == 2 and calls[1]["state"] == "pending", calls
    other = d.create(team="north", assignee="tech")
    assert d.event(other["id"], "cancel").status == 200
    assert [f["state"] for f in followups(c, ticket=other["id"])] == ["cancelled"]
    # Nothing is ever said about the cancelled callback, also after its due instant.
    wait_for(lambda: any(n["idempotency_key"].startswith(f"f{calls[1]['id']}/due")
                         for n in notes(c, t["id"])), 10, "the new callback to fall due")
    assert not [n for n in notes(c, t["id"])
                if n["idempotency_key"].startswith(f"f{first['id']}/")]


def test_followups_survive_restart_and_fire_once(make_daemon):
    """A task due while the daemon is down fires once after the restart, marked late;
    another restart fires nothing again."""
    d = start(make_daemon)
    c = d.client
    t = d.create(team="north", assignee="tech")
    assert d.event(t["id"], "resolve").status == 200
    fu = [f for f in followups(c, ticket=t["id"]) if f["name"] == "callback"][0]
    d.stop()
    # The last step is 2 s after the deadline; "late" means recorded over 1 s after.
    wait_for(lambda: time.time() > parse_time(fu["deadline_at"]) + 3.5, 15, "the whole ladder")
    d.start()
    got = wait_for(lambda: (lambda n: n if len(n) >= 4 else None)(
        [n for n in notes(c, t["id"]) if n["idempotency_key"].startswith(f"f{fu['id']}/")]),
        10, "the ladder after the restart")
    hist = [h for h in d.ticket(t["id"])["history"]
            if h["kind"] in ("followup_due", "followup_step")]
    assert len(hist) == 4, hist
    assert all(h["late"] for h in hist), [(h["kind"], h["at"], h["recorded_at"]) for h in hist]
    d.restart()
    again = [n for n in notes(c, t["id"]) if n["idempotency_key"].startswith(f"f{fu['id']}/")]
    assert sorted(n["id"] for n in again) == sorted(n["id"] for n in got)
    assert len(followups(c, ticket=t["id"], state="overdue")) == 1


def test_reminders_move_with_the_appointment_and_stop_on_cancel(make_daemon):
    """P13: reminders 4 s and 2 s before appointment_at; a PATCH that moves it re-arms
    them for the new time; a cancelled ticket sends none."""
    d = start(make_daemon)
    c = d.client
    appt = time.time() + 30
    t = d.create(team="north", assignee="tech", customer={"name": "Li Lei", "phone": "+8613900000000"},
                 appointment_at=rfc3339(appt))
    moved = time.time() + 6
    r = c.patch(f"/v1/tickets/{t['id']}", {"appointment_at": rfc3339(moved)})
    assert r.status == 200, r

    def reminders():
        got = [n for n in notes(c, t["id"]) if n["event"] == "appointment.reminder"]
        return got if len(got) >= 3 else None

    got = wait_for(reminders, 15, "three reminder notices")
    recipients = sorted((n["idempotency_key"].split("/")[1], n["recipient"]) for n in got)
    assert recipients == [("reminder1", "assignee"), ("reminder1", "customer"),
                          ("reminder2", "assignee")], recipients
    # Each names the moved appointment in its key, none the first one.
    assert all(f"/{int(moved)}/" in n["idempotency_key"] for n in got), got
    hist = [h for h in d.ticket(t["id"])["history"] if h["kind"] == "reminder"]
    at = sorted(parse_time(h["at"]) for h in hist)
    assert abs(at[0] - (int(moved * 1000) / 1000 - 4)) < 0.01, hist
    # A cancelled ticket: no reminder even when its instant comes.
    u = d.create(team="north", assignee="tech", appointment_at=rfc3339(time.time() + 5))
    assert d.event(u["id"], "cancel").status == 200
    wait_for(lambda: time.time() > parse_time(u["appointment_at"]), 10, "the appointment")
    assert not [n for n in notes(c, u["id"]) if n["event"] == "appointment.reminder"]


def test_repeat_fault_third_ticket(make_daemon):
    """P12: the third ticket of a device and fault within the window is a repeat fault:
    repeat_count 1, 2, 3 and one ticket.repeat_fault to the manager on the third; another
    fault code of the same device counts apart."""
    d = start(make_daemon)
    c = d.client
    device = {"model": "X1", "serial": "SN-77"}
    counts = []
    for i in range(3):
        t = d.create(team="north", assignee="tech", device=device, fault_code="E42", external_id=f"rf{i}",
                     source="crm")
        counts.append((t["id"], t["repeat_count"]))
    assert [n for _, n in counts] == [1, 2, 3]
    third = counts[2][0]
    rf = [n for n in notes(c, third) if n["event"] == "ticket.repeat_fault"]
    assert [n["recipient"] for n in rf] == ["manager"], rf
    for tid, _ in counts[:2]:
        assert not [n for n in notes(c, tid) if n["event"] == "ticket.repeat_fault"]
    other = d.create(team="north", assignee="tech", device=device, fault_code="E43")
    assert other["repeat_count"] == 1
    # Re-posting the third (idempotent intake) neither counts again nor notifies again.
    r = c.post("/v1/tickets", {"title": "again", "severity": 2, "team": "north",
                               "device": device, "fault_code": "E42", "source": "crm",
                               "external_id": "rf2"})
    assert r.status == 200 and r.json["repeat_count"] == 3
    assert len([n for n in notes(c, third) if n["event"] == "ticket.repeat_fault"]) == 1


def test_complaint_reply_and_warranty_policies(make_daemon):
    """P15/P20: a complaint is matched by its label, its reply clock breaches on calendar
    time and tells the supervisor; an acknowledged one is met. P17: the warranty label
    chooses the policy, and a PATCH of it re-chooses (elapsed time kept)."""
    d = start(make_daemon)
    c = d.client
    late = d.create(team="north", assignee="tech", labels={"kind": "complaint"})
    on_time = d.create(team="north", assignee="tech", labels={"kind": "complaint"})
    assert late["policy"] == "complaint"
    assert d.event(on_time["id"], "acknowledge").status == 200

    def breached():
        t = d.ticket(late["id"])
        return t if t["clocks"][0]["state"] == "breached" else None

    t = wait_for(breached, 10, "the complaint's reply clock to breach")
    assert abs(parse_time(t["clocks"][0]["breached_at"]) - parse_time(t["reported_at"]) - 3) < 0.01
    breach = [n for n in notes(c, late["id"]) if n["event"] == "sla.breach"]
    assert [n["recipient"] for n in breach] == ["supervisor"], breach
    assert d.ticket(on_time["id"])["clocks"][0]["state"] == "met"
    w = d.create(team="north", labels={"warranty": "in"})
    assert w["policy"] == "repair"
    r = c.patch(f"/v1/tickets/{w['id']}", {"labels": {"warranty": "out"}})
    assert r.status == 200 and r.json["policy"] == "out-of-warranty", r
    assert r.json["clocks"][0]["target_s"] == 7200


def test_single_followup_get(make_daemon):
    """GET /v1/followups/{id}: the task as the list shows it; unknown: 404."""
    d = start(make_daemon)
    t = d.create(team="north", assignee="tech", severity=3)
    assert d.event(t["id"], "resolve").status == 200
    listed = followups(d.client, ticket=t["id"])[0]
    r = d.client.get(f"/v1/followups/{listed['id']}")
    assert r.status == 200, r
    assert r.json == listed
    r = d.client.get("/v1/followups/999999")
    assert r.status == 404 and r.error_code() == "not_found", r
