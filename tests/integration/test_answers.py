"""Issue 11, "Huge answers", on the real daemon: after 1000 comments of 64 KiB,
GET /v1/tickets/ID answered 65 MB and held the loop 2.8 s. Now a note holds at most 8 KiB,
the ticket shows its newest history under 1 MiB, and GET /v1/tickets/{id}/history pages
the whole of it; slactl shows both."""

import json
import os
import subprocess
import time

import pytest

from conftest import Daemon

ANSWER_MAX = 1 << 20
NOTE_MAX = 8192
COMMENTS = 1000


def big_body_daemon(directory):
    """fast.conf with the default body limit (1 MiB): a 64 KiB note reaches the parser."""
    d = Daemon(directory)
    d.replace_in_config("max_body = 8192;", "max_body = 1048576;")
    return d.start()


def slactl(d, *args):
    argv = [os.environ["SLACTL_BIN"], "--socket", d.socket_path] + [str(a) for a in args]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    assert "Sanitizer" not in p.stderr, p.stderr
    return p.stdout


@pytest.fixture(scope="module")
def commented(tmp_path_factory):
    """One daemon, a ticket with 1000 comments of 8 KiB; shared by the tests below."""
    d = big_body_daemon(tmp_path_factory.mktemp("answers"))
    t = d.create(severity=2, title="1000 comments")
    for i in range(COMMENTS):
        note = f"{i:04d} " + "x" * (NOTE_MAX - 5)
        r = d.event(t["id"], "comment", note=note, by="tech")
        assert r.status == 200, r
        # The answer to an event is the ticket without its history.
        assert len(r.body) < 64 * 1024
    yield d, t["id"]
    d.stop()


def test_note_over_8_kib_is_refused(commented):
    d, tid = commented
    before = d.client.get(f"/v1/tickets/{tid}/history?limit=1000&after=0").json
    for size in (NOTE_MAX + 1, 64 * 1024):
        r = d.event(tid, "comment", note="y" * size)
        assert r.status == 400, r
        assert r.error_code() == "invalid_field"
        assert "'note'" in r.error_message() and "8192" in r.error_message()
    after = d.client.get(f"/v1/tickets/{tid}/history?limit=1000&after=0").json
    assert after == before  # nothing recorded


def test_ticket_answer_stays_small_and_fast(commented):
    d, tid = commented
    t0 = time.monotonic()
    r = d.client.get(f"/v1/tickets/{tid}")
    took = time.monotonic() - t0
    assert r.status == 200, r
    assert len(r.body) < ANSWER_MAX, len(r.body)
    # Was 2.8 s for 65 MB; under 1 MiB it is a few ms (generous for ASan on a busy host).
    assert took < 1.0, took
    v = r.json
    h = v["history"]
    assert 0 < len(h) <= 100 and v["history_more"] is True
    # The newest entries, oldest first, ending with the last comment.
    ids = [e["id"] for e in h]
    assert ids == sorted(ids)
    assert h[-1]["note"].startswith(f"{COMMENTS - 1:04d} ")
    assert isinstance(v["notifications"], list) and v["notifications_more"] is False


def notes_by_id(d, tid):
    """Every entry of the history read from the database itself: {id: note or None}."""
    import history_db

    rows = d.sql("SELECT id, ticket_id, at_ms, created_ms, kind, data, late, more_entries"
                 f" FROM history WHERE ticket_id = {int(tid)} ORDER BY id")
    return {e["id"]: json.loads(e["data"] or "{}").get("note")
            for e in history_db.entries_of_rows(rows)}


def test_history_pages_reach_every_entry_once(commented):
    d, tid = commented
    seen, after, pages = [], 0, 0
    while True:
        r = d.client.get(f"/v1/tickets/{tid}/history?limit=1000&after={after}")
        assert r.status == 200, r
        assert len(r.body) < ANSWER_MAX, len(r.body)
        v = r.json
        pages += 1
        seen += [e["id"] for e in v["history"]]
        if v["next"] is None:
            break
        assert v["next"] == v["history"][-1]["id"]
        after = v["next"]
    assert len(seen) == len(set(seen)) and seen == sorted(seen)
    notes = notes_by_id(d, tid)
    assert set(seen) == set(notes)
    assert sum(1 for n in notes.values() if n and len(n) == NOTE_MAX) == COMMENTS
    # 8 MB of comments cannot come in one page under 1 MiB.
    assert pages >= 8
    # The default page is 100 entries; the ticket's embedded history is the tail of these.
    first = d.client.get(f"/v1/tickets/{tid}/history").json
    assert len(first["history"]) <= 100 and first["next"] == first["history"][-1]["id"]
    shown = d.ticket(tid)["history"]
    assert [e["id"] for e in shown] == seen[-len(shown):]


def test_history_bad_parameters(commented):
    d, tid = commented
    for query, name in (("limit=0", "'limit'"), ("limit=5000", "'limit'"),
                        ("after=x", "'after'"), ("page=2", "'page'")):
        r = d.client.get(f"/v1/tickets/{tid}/history?{query}")
        assert r.status == 400 and name in r.error_message(), (query, r)
    r = d.client.get("/v1/tickets/999999/history")
    assert r.status == 404 and r.error_code() == "not_found"


def test_slactl_history(commented):
    d, tid = commented
    shown = slactl(d, "ticket", "show", tid)
    assert "history:" in shown
    assert f"all of them: slactl ticket history {tid}" in shown
    page = slactl(d, "ticket", "history", tid, "--limit", 3)
    assert "AT" in page and "KIND" in page and "DETAILS" in page
    assert "more: --after " in page
    after = int(page.split("more: --after ")[1].split()[0])
    rest = json.loads(slactl(d, "--json", "ticket", "history", tid, "--after", after,
                             "--limit", 2))
    assert [e["id"] for e in rest["history"]][0] > after
    assert len(rest["history"]) == 2
