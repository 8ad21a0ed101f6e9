"""No request corrupts state (issue 11), on the real daemon: an event dated before the
ticket's last event is refused and changes nothing; retention purges old closed tickets
with all their rows and keeps the gauges right."""

import datetime

from conftest import wait_for
from test_api import clock, rfc3339


def whole_seconds_ago(seconds):
    """An instant seconds ago, on a whole second (the API keeps milliseconds)."""
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    return float(int(now) - seconds)


def test_event_before_last_is_refused(daemon, client):
    # Reported 2 h ago, on hold from 1 h ago. A resume dated at the report (before the
    # hold) would count the paused hour again: resolution elapsed 3 h after 2 h.
    reported = whole_seconds_ago(7200)
    t = daemon.create(severity=2, reported_at=rfc3339(reported))
    tid = t["id"]
    # Acknowledged (the response clock stops), so that no clock counts while we compare.
    r = daemon.event(tid, "acknowledge", at=rfc3339(reported + 600))
    assert r.status == 200, r
    r = daemon.event(tid, "hold", reason="parts", at=rfc3339(reported + 3600))
    assert r.status == 200, r
    before = daemon.ticket(tid)

    r = daemon.event(tid, "resume", at=rfc3339(reported))
    assert r.status == 409, r
    assert r.error_code() == "out_of_order"
    hold_at = rfc3339(reported + 3600)
    assert hold_at in r.error_message() and "'hold'" in r.error_message(), r
    assert daemon.ticket(tid) == before  # status, clocks, history, updated_at

    # Before the report: refused too.
    r = daemon.event(tid, "comment", at=rfc3339(reported - 60))
    assert r.status == 409 and r.error_code() == "out_of_order", r

    # Dated at the hold's own instant (a tie) it applies: the hold lasted no time, so the
    # resolution 2 h after the report counted 7200 s, not 10800.
    r = daemon.event(tid, "resume", at=hold_at)
    assert r.status == 200, r
    r = daemon.event(tid, "resolve", at=rfc3339(reported + 7200))
    assert r.status == 200, r
    resolution = clock(r.json, "resolution")
    assert resolution["state"] == "met"
    assert resolution["elapsed_s"] == 7200, resolution


def metric(client, name, label):
    """The value of one sample of /metrics, 0 when absent."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f'{name}{{{label}}} '):
            return int(float(line.split()[-1]))
    return 0


def notifications(client, tid):
    return client.get(f"/v1/notifications?ticket={tid}").json["notifications"]


def test_retention_purges_old_closed_tickets(make_daemon):
    # retention = "1d": tickets closed or cancelled (their last event) 3 days ago go with
    # every row; open, recently closed and still followed-up ones stay.
    d = make_daemon(template="retention.conf").start()
    c = d.client
    # The pass a start begins a second later must be over before the old tickets exist: it
    # would purge some of them while they are made (the next pass is an hour later).
    d.wait_log("retention: nothing to purge")
    old = whole_seconds_ago(3 * 86400)
    gone, stay = [], []
    for i in range(4):
        t = d.create(severity=2, team="north", reported_at=rfc3339(old + i))
        assert d.event(t["id"], "resolve", at=rfc3339(old + 3600)).status == 200
        assert d.event(t["id"], "close", at=rfc3339(old + 7200)).status == 200
        gone.append(t["id"])
    t = d.create(severity=2, team="north", reported_at=rfc3339(old))
    assert d.event(t["id"], "cancel", at=rfc3339(old + 600)).status == 200
    gone.append(t["id"])
    t = d.create(severity=2, team="north", reported_at=rfc3339(old))  # closed now
    assert d.event(t["id"], "resolve").status == 200
    assert d.event(t["id"], "close").status == 200
    stay.append(t["id"])
    t = d.create(severity=2, team="north", reported_at=rfc3339(old))  # still open
    stay.append(t["id"])
    t = d.create(severity=1, team="north", reported_at=rfc3339(old))  # its callback is open
    assert d.event(t["id"], "resolve", at=rfc3339(old + 3600)).status == 200
    assert d.event(t["id"], "close", at=rfc3339(old + 7200)).status == 200
    stay.append(t["id"])
    # A notification still to be delivered would keep its ticket: wait until all are sent.
    wait_for(lambda: all(n["state"] == "sent" for tid in gone + stay
                         for n in notifications(c, tid)), 20, "every notification sent")
    sent_before = metric(c, "slad_notifications", 'state="sent"')
    gone_sent = sum(len(notifications(c, tid)) for tid in gone)
    assert gone_sent > 0

    since = d.log_size()
    assert c.post("/v1/reload").status == 200  # starts a pass at once (else hourly)
    wait_for(lambda: all(c.get(f"/v1/tickets/{tid}").status == 404 for tid in gone), 20,
             "the old closed and cancelled tickets to be purged")
    d.wait_log("retention: purged 5 closed or cancelled tickets", since=since)
    for tid in stay:
        assert c.get(f"/v1/tickets/{tid}").status == 200
    assert "kept 1 for an open or recent follow-up" in d.log(since_start=True)
    # The gauges follow.
    assert metric(c, "slad_tickets", 'status="closed"') == 2
    assert metric(c, "slad_tickets", 'status="cancelled"') == 0
    assert metric(c, "slad_tickets", 'status="open"') == 1
    assert metric(c, "slad_notifications", 'state="sent"') == sent_before - gone_sent
    d.stop()

    # Behind the daemon: no row of a purged ticket is left anywhere, and the counters the
    # gauges read equal the tables.
    marks = ",".join(str(int(tid)) for tid in gone)
    for table, column in (("tickets", "id"), ("clocks", "ticket_id"), ("history", "ticket_id"),
                          ("outbox", "ticket_id"), ("followups", "ticket_id")):
        [row] = d.sql(f"SELECT count(*) AS n FROM {table} WHERE {column} IN ({marks})")
        assert row["n"] == 0, (table, row["n"])
    counts = {r["what"]: r["n"] for r in d.sql("SELECT what, n FROM counts")}
    actual = {r["what"]: r["n"] for r in d.sql(
        "SELECT 'ticket ' || status AS what, count(*) AS n FROM tickets GROUP BY status"
        " UNION ALL SELECT 'outbox ' || state, count(*) FROM outbox GROUP BY state")}
    for what, n in actual.items():
        assert counts.get(what) == n, (what, counts, actual)
    assert all(n == actual.get(what, 0) for what, n in counts.items() if what != "breached")
