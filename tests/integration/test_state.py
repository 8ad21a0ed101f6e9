"""No request corrupts state (issue 11), on the real daemon: an event dated before the
ticket's last event is refused and changes nothing."""

import datetime

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
