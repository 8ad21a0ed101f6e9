"""The console's board over the API (issue 13): the ticket list's filters (assignee,
severity, region, q, due_before, at_risk), sort=due with its paging cursor, and
GET /v1/summary, on the real daemon with tickets reported in the past so that their clocks
stand where the test wants them (the slow policy: response 1h, resolution 10h)."""

import datetime
import time

import pytest


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).isoformat().replace(
        "+00:00", "Z")


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def ids(r):
    assert r.status == 200, r
    return [t["id"] for t in r.json["tickets"]]


@pytest.fixture
def board(daemon):
    """Five tickets: breached (response due an hour ago), at risk (response due in 10 min,
    83 % used), fresh (due in an hour), acknowledged (only resolution runs, due in ~10 h),
    resolved (no running clock)."""
    now = time.time()
    c = daemon.client
    made = {}
    made["breached"] = daemon.create(title="Elevator STUCK", reported_at=rfc3339(now - 7200),
                                     region="east", assignee="wang.wei", severity=2,
                                     customer={"name": "Li Lei", "phone": "+8613911112222"})
    made["at_risk"] = daemon.create(title="电梯故障", reported_at=rfc3339(now - 3000),
                                    region="west", severity=3, source="crm",
                                    external_id="CRM-77")
    made["fresh"] = daemon.create(title="printer jam", region="east", severity=3,
                                  device={"model": "P1", "serial": "SN-ABC-9"})
    made["acked"] = daemon.create(title="ac noisy", assignee="wang.wei", severity=4)
    assert daemon.event(made["acked"]["id"], "acknowledge").status == 200
    made["resolved"] = daemon.create(title="door closed", severity=4)
    assert daemon.event(made["resolved"]["id"], "resolve").status == 200
    return {k: v["id"] for k, v in made.items()}


def test_sort_due_orders_by_the_earliest_running_clock(daemon, board):
    r = daemon.client.get("/v1/tickets?sort=due")
    assert ids(r) == [board["breached"], board["at_risk"], board["fresh"], board["acked"],
                      board["resolved"]]
    assert r.json["next"] is None
    # Each ticket keeps its clocks with due_at, target_s and state for the countdown.
    first = r.json["tickets"][0]
    assert {c["name"]: c["state"] for c in first["clocks"]}["response"] == "breached"
    for c in first["clocks"]:
        assert "due_at" in c and "target_s" in c


def test_open_only(daemon, board):
    r = daemon.client.get("/v1/tickets?sort=due&open=true")
    assert ids(r) == [board["breached"], board["at_risk"], board["fresh"], board["acked"]]
    r = daemon.client.get("/v1/tickets?open=false")
    assert r.status == 400 and "open" in r.error_message()


def test_sort_due_pages_with_the_cursor(daemon, board):
    seen, after, pages = [], None, 0
    while True:
        path = "/v1/tickets?sort=due&limit=2" + (f"&after={after}" if after else "")
        r = daemon.client.get(path)
        seen += ids(r)
        pages += 1
        after = r.json["next"]
        if after is None:
            break
        assert isinstance(after, str)
    assert pages == 3
    assert seen == [board["breached"], board["at_risk"], board["fresh"], board["acked"],
                    board["resolved"]]


def test_sort_due_with_a_filter_and_bad_cursor(daemon, board):
    r = daemon.client.get("/v1/tickets?sort=due&region=east")
    assert ids(r) == [board["breached"], board["fresh"]]
    r = daemon.client.get("/v1/tickets?sort=due&after=42")
    assert r.status == 400 and r.error_code() == "invalid_parameter"
    r = daemon.client.get("/v1/tickets?sort=soon")
    assert r.status == 400 and "sort" in r.error_message()


def test_filters_assignee_severity_region(daemon, board):
    c = daemon.client
    assert ids(c.get("/v1/tickets?assignee=wang.wei")) == [board["breached"], board["acked"]]
    assert ids(c.get("/v1/tickets?severity=3")) == [board["at_risk"], board["fresh"]]
    assert ids(c.get("/v1/tickets?region=west")) == [board["at_risk"]]
    assert ids(c.get("/v1/tickets?severity=3&region=east")) == [board["fresh"]]
    for bad in ("0", "6", "x", "-1"):
        r = c.get(f"/v1/tickets?severity={bad}")
        assert r.status == 400 and "severity" in r.error_message(), bad


@pytest.mark.parametrize("q,which", [
    ("stuck", "breached"),          # title, case ignored
    ("ELEVATOR", "breached"),
    ("li%20lei", "breached"),       # customer name
    ("1111", "breached"),           # customer phone
    ("sn-abc", "fresh"),            # device serial
    ("crm-7", "at_risk"),           # external id
    ("%E7%94%B5%E6%A2%AF", "at_risk"),  # 电梯 in the title
])
def test_search(daemon, board, q, which):
    assert ids(daemon.client.get(f"/v1/tickets?q={q}")) == [board[which]]


def test_search_finds_nothing_for_like_wildcards(daemon, board):
    # The text is searched as it is: '%' and '_' are no wildcards.
    assert ids(daemon.client.get("/v1/tickets?q=%25")) == []
    assert ids(daemon.client.get("/v1/tickets?q=_")) == []


def test_due_before_and_at_risk(daemon, board):
    c = daemon.client
    soon = rfc3339(time.time() + 1800)
    assert ids(c.get(f"/v1/tickets?due_before={soon}")) == [board["breached"], board["at_risk"]]
    assert ids(c.get("/v1/tickets?at_risk=true")) == [board["at_risk"]]
    assert board["at_risk"] not in ids(c.get("/v1/tickets?at_risk=false"))
    assert ids(c.get("/v1/tickets?breached=true")) == [board["breached"]]
    r = c.get("/v1/tickets?due_before=tomorrow")
    assert r.status == 400 and "due_before" in r.error_message()
    r = c.get("/v1/tickets?at_risk=yes")
    assert r.status == 400 and "at_risk" in r.error_message()


def test_at_risk_follows_the_clock(daemon, board):
    # Acknowledging stops the response clock: the ticket is no longer at risk.
    assert daemon.event(board["at_risk"], "acknowledge").status == 200
    assert ids(daemon.client.get("/v1/tickets?at_risk=true")) == []


def test_summary(daemon, board):
    r = daemon.client.get("/v1/summary")
    assert r.status == 200, r
    # The breach of a ticket without a team reaches nobody: its notification is dead.
    dead = daemon.client.get("/v1/notifications?state=dead").json["notifications"]
    assert dead
    assert r.json == {"open": 4, "at_risk": 1, "breached": 1, "dead_notifications": len(dead)}
    assert daemon.event(board["breached"], "resolve").status == 200
    assert daemon.client.get("/v1/summary").json["breached"] == 0
    assert daemon.client.get("/v1/summary").json["open"] == 3


def test_summary_empty(client):
    r = client.get("/v1/summary")
    assert r.json == {"open": 0, "at_risk": 0, "breached": 0, "dead_notifications": 0}
    r = client.get("/v1/summary?x=1")
    assert r.status == 400 and r.error_code() == "unknown_parameter"


def test_next_steps(daemon, board):
    """The fast policy: response 3s with steps at 50 % (supervisor) and 100 % (manager) of a
    team north ticket; the engine's own walk is unit-tested (tests/unit/test-api.c)."""
    t = daemon.create(title="lift", severity=1, team="north")
    r = daemon.client.get(f"/v1/tickets/{t['id']}/next")
    assert r.status == 200, r
    steps = [(s["clock"], s["percent"], s["event"], s["recipients"][0]["contact"])
             for s in r.json["steps"]]
    assert steps[:2] == [("response", 50, "sla.warning", "sup"),
                         ("response", 100, "sla.breach", "mgr")]
    ats = [parse_time(s["at"]) for s in r.json["steps"]]
    assert ats == sorted(ats)
    assert daemon.client.get("/v1/tickets/999/next").status == 404
    # A resolved ticket has nothing ahead.
    assert daemon.client.get(f"/v1/tickets/{board['resolved']}/next").json["steps"] == []
