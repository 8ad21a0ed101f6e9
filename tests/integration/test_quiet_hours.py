"""Quiet hours on the real daemon: a contact whose calendar is closed now and opens at the
next minute (at least 10 s away). At night the breach goes out at once, the warning waits
in the outbox, pending with its next_attempt_at at the opening and marked deferred; at the
opening it goes out. Nothing is dropped."""

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone

from conftest import wait_for

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           log_level = "debug"; language = "en"; };
calendars = ( { name = "quiet"; timezone = "UTC"; hours = { @HOURS@ }; } );
contacts = ( { name = "sup"; phone = "+8613800000001"; via = ["log"]; hours = "quiet"; } );
teams = ( { name = "north"; roles = { supervisor = ["sup"]; }; } );
channels = ( { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; } );
policies = (
  { name = "fast"; match = { }; calendar = "24x7";
    clocks = ( { name = "response"; target = "4s"; stop = ["resolve"];
                 escalate = ( { at = "50%"; notify = ["supervisor"]; },
                              { at = "100%"; notify = ["supervisor"]; } ); } ); }
);
"""


def opening_soon(now):
    """The next whole minute at least 10 s after now, and calendar hours closed until it
    (UTC; the day's hours run from it to midnight, or all of the next day)."""
    opening = (now + timedelta(seconds=10)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    hours = {d: "[]" for d in DAYS}
    day = DAYS[opening.weekday()]
    hours[day] = f'["{opening:%H:%M}-24:00"]'
    return opening, " ".join(f"{d} = {v};" for d, v in hours.items())


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_warning_deferred_breach_sent_at_night(make_daemon):
    d = make_daemon()
    opening, hours = opening_soon(datetime.now(timezone.utc))
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(CONF.replace("@DIR@", d.dir).replace("@HOURS@", hours))
    d.start()
    r = d.client.post("/v1/tickets", {"title": "pump down", "severity": 1, "team": "north"})
    assert r.status == 201, r
    tid = r.json["id"]
    out = os.path.join(d.dir, "notifications.jsonl")

    def rows():
        r = d.client.get(f"/v1/notifications?ticket={tid}")
        assert r.status == 200, r
        return {n["event"]: n for n in r.json["notifications"]}

    # The breach (urgent) goes out at night; the warning waits for the opening.
    wait_for(lambda: rows().get("sla.breach", {}).get("state") == "sent", 15, "the breach sent")
    now = datetime.now(timezone.utc)
    assert now < opening, "the test's night ended too early"
    got = rows()
    warning, breach = got["sla.warning"], got["sla.breach"]
    assert warning["state"] == "pending" and warning["deferred"] is True
    assert parse_time(warning["next_attempt_at"]) == opening
    assert breach["deferred"] is False
    assert [line["event"] for line in lines(out)] == ["sla.breach"]
    # slactl shows it: pending, deferred, due at the opening.
    table = subprocess.run([os.environ["SLACTL_BIN"], "--socket", d.socket_path,
                            "notifications", "--ticket", str(tid)], capture_output=True,
                           text=True, timeout=10)
    assert table.returncode == 0, table
    head, *body = table.stdout.splitlines()
    assert head.split()[7:10] == ["NEXT_ATTEMPT_AT", "DEFERRED", "GROUP_ID"], head
    row = next(r.split() for r in body if "sla.warning" in r)
    # NEXT_ATTEMPT_AT prints with its offset: three words.
    assert row[5] == "pending" and row[10] == "yes", table.stdout
    assert row[7:10] == f"{opening:%Y-%m-%d %H:%M:%S} +00:00".split(), table.stdout  # TZ=UTC

    # The opening: the warning goes out, still marked deferred.
    wait_for(lambda: rows()["sla.warning"]["state"] == "sent",
             (opening - now).total_seconds() + 15, "the warning sent at the opening")
    warning = rows()["sla.warning"]
    assert warning["deferred"] is True
    assert parse_time(warning["sent_at"]) >= opening
    assert [line["event"] for line in lines(out)] == ["sla.breach", "sla.warning"]
