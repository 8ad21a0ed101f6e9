"""GET /v1/reports/sla on the real daemon: tickets with known outcomes made through the API
with second-scale clocks (met, missed, still open, cancelled, reported 40 days ago, team
changed by a PATCH), follow-ups done in time, done late, open past their deadline and open
in time; the expected rows are computed here from the tickets and follow-ups read back,
and compared with the report by policy, team, region, assignee and month (UTC and
Asia/Shanghai), as JSON and as CSV parsed back. Covers P18 (monthly summary by month, team,
region) and P20 (complaints of the supervision team, reviewed monthly)."""

import csv
import datetime
import io
import math
import urllib.parse
import zoneinfo

import pytest

from conftest import Daemon, wait_for

COLUMNS = ["group", "clock", "total", "met", "missed", "open", "compliance", "mean_s", "p90_s"]
OPEN_STATES = {"pending", "running", "paused", "breached"}

CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           synchronous = "full"; log_level = "debug"; language = "en"; };
contacts = ( { name = "sup"; phone = "+8613800000001"; via = ["log"]; },
             { name = "qian"; phone = "+8613800000005"; via = ["log"]; } );
teams = ( { name = "north"; roles = { supervisor = ["sup"]; manager = ["sup"]; }; },
          { name = "south"; roles = { supervisor = ["sup"]; manager = ["sup"]; }; },
          { name = "supervision"; roles = { supervisor = ["qian"]; manager = ["qian"]; }; } );
channels = ( { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; } );
policies = (
  { name = "complaint"; match = { labels = { kind = "complaint"; }; }; calendar = "24x7";
    clocks = ( { name = "reply"; target = "2s"; stop = ["acknowledge", "resolve"]; } );
    followups = (
      { name = "callback"; from = "resolve"; after = "0s"; due_within = "1h";
        owner = "supervisor"; },
      { name = "quick"; from = "resolve"; after = "0s"; due_within = "1s";
        owner = "supervisor"; } ); },
  { name = "fast"; match = { severity = [1]; }; calendar = "24x7";
    clocks = ( { name = "response"; target = "2s"; stop = ["acknowledge", "resolve"]; },
               { name = "resolution"; target = "1h"; stop = ["resolve"]; } ); },
  { name = "slow"; match = { }; calendar = "24x7";
    clocks = ( { name = "response"; target = "1h"; stop = ["acknowledge", "resolve"]; },
               { name = "resolution"; target = "10h"; stop = ["resolve"]; } ); }
);
"""


class ReportDaemon(Daemon):
    def write_config(self, template=None, daemon_extra=None):
        with open(self.conf_path, "w", encoding="utf-8") as f:
            f.write(CONF.replace("@DIR@", self.dir))


def parse_ms(text):
    if text is None:
        return None
    dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(dt.timestamp() * 1000)


def rfc3339_ms(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def expected_rows(tickets, key):
    """The report rows of tickets grouped by key(ticket), as the daemon should compute
    them: cancelled clocks left out, mean rounded to the ms, p90 by nearest rank."""
    cells = {}
    for t in tickets:
        for c in t["clocks"]:
            if c["state"] == "cancelled":
                continue
            cell = cells.setdefault((key(t), c["name"]), {"met": 0, "missed": 0, "open": 0,
                                                          "times": []})
            if c["state"] in OPEN_STATES:
                cell["open"] += 1
                continue
            cell[c["state"]] += 1
            # 24x7 clocks without pauses: the business time counted is stop - start.
            cell["times"].append(parse_ms(c["stopped_at"]) - parse_ms(c["started_at"]))
    rows = []
    for (group, clock), cell in cells.items():
        times = sorted(cell["times"])
        n = len(times)
        decided = cell["met"] + cell["missed"]
        rows.append({
            "group": group, "clock": clock,
            "total": decided + cell["open"], "met": cell["met"], "missed": cell["missed"],
            "open": cell["open"],
            "compliance": cell["met"] / decided if decided else None,
            "mean_s": (sum(times) + n // 2) // n / 1000 if n else None,
            "p90_s": times[math.ceil(0.9 * n) - 1] / 1000 if n else None,
        })
    rows.sort(key=lambda r: (r["group"] is None, r["group"] or "", r["clock"]))
    return rows


def assert_rows_equal(got, want, what):
    assert [(r["group"], r["clock"]) for r in got] == [(r["group"], r["clock"]) for r in want], \
        (what, got, want)
    for g, w in zip(got, want):
        for col in COLUMNS:
            if isinstance(w[col], float):
                assert g[col] == pytest.approx(w[col], abs=1e-9), (what, col, g, w)
            else:
                assert g[col] == w[col], (what, col, g, w)


def csv_rows(text):
    """The CSV body parsed back into report rows (empty fields are null)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert header == COLUMNS
    rows = []
    for rec in reader:
        assert len(rec) == len(COLUMNS), rec
        row = dict(zip(COLUMNS, rec))
        row["group"] = row["group"] or None
        for col in ("total", "met", "missed", "open"):
            row[col] = int(row[col])
        for col in ("compliance", "mean_s", "p90_s"):
            row[col] = float(row[col]) if row[col] else None
        rows.append(row)
    return rows


def month_of(ms, tz):
    return datetime.datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One daemon and the tickets of every test here (their clocks take seconds)."""
    d = ReportDaemon(tmp_path_factory.mktemp("reports"))
    d.start()
    c = d.client
    complaint = {"labels": {"kind": "complaint"}, "team": "supervision"}
    ids = {}

    def acknowledged(**fields):
        """A ticket acknowledged at once, well within its 2 s clocks."""
        tid = d.create(**fields)["id"]
        assert d.event(tid, "acknowledge").status == 200
        return tid
    ids["c_ok"] = acknowledged(region="city", assignee="zhang", **complaint)
    ids["c_late"] = d.create(region="county", assignee="zhang", **complaint)["id"]
    ids["c_open"] = d.create(region="county", **complaint)["id"]
    ids["f_ok"] = acknowledged(severity=1, team="north", region="city", assignee="li")
    ids["f_late"] = d.create(severity=1, team="north", region="remote", assignee="li")["id"]
    ids["s_open"] = d.create(severity=3, team="north", region='He said "hi", ok')["id"]
    ids["s_none"] = acknowledged(severity=3)
    ids["cancelled"] = d.create(severity=3, team="north", region="city")["id"]
    old_ms = parse_ms(d.ticket(ids["s_none"])["reported_at"]) - 40 * 86400000
    ids["old"] = d.create(severity=3, team="north", region="city",
                          reported_at=rfc3339_ms(old_ms))["id"]

    assert d.event(ids["cancelled"], "cancel").status == 200
    assert c.patch(f"/v1/tickets/{ids['s_open']}", {"team": "south"}).status == 200

    def breached(name, clock):
        return lambda: any(k["name"] == clock and k["state"] == "breached"
                           for k in d.ticket(ids[name])["clocks"])
    wait_for(breached("c_late", "reply"), 15, "the late complaint's reply clock to breach")
    wait_for(breached("f_late", "response"), 15, "the late fast response clock to breach")
    for name in ("c_late", "f_late"):
        assert d.event(ids[name], "acknowledge").status == 200
    for name in ("c_ok", "c_late", "f_ok"):
        assert d.event(ids[name], "resolve").status == 200

    def tasks(name):
        r = c.get(f"/v1/followups?ticket={ids[name]}")
        assert r.status == 200, r
        return {f["name"]: f for f in r.json["followups"]}

    def overdue(name, task):
        return lambda: tasks(name)[task]["state"] == "overdue"
    complete = {"outcome": "satisfied"}
    # c_ok: callback done in time, quick left open past its deadline.
    assert c.post(f"/v1/followups/{tasks('c_ok')['callback']['id']}/complete",
                  complete).status == 200
    wait_for(overdue("c_ok", "quick"), 15, "c_ok's quick follow-up to be overdue")
    # c_late: quick done after its deadline, callback open in time.
    wait_for(overdue("c_late", "quick"), 15, "c_late's quick follow-up to be overdue")
    assert c.post(f"/v1/followups/{tasks('c_late')['quick']['id']}/complete",
                  complete).status == 200

    tickets = {name: d.ticket(tid) for name, tid in ids.items()}
    followups = [f for name in ids for f in tasks(name).values()]
    yield d, ids, tickets, followups
    d.stop()


def report(d, **params):
    r = d.client.get("/v1/reports/sla?" + urllib.parse.urlencode(params))
    assert r.status == 200, r
    return r


def recent(world):
    """The range of the tickets created now (not the one reported 40 days ago)."""
    _, _, tickets, _ = world
    created = [parse_ms(t["reported_at"]) for n, t in tickets.items() if n != "old"]
    return rfc3339_ms(min(created)), rfc3339_ms(max(created) + 1)


def in_range(tickets, frm, to):
    return [t for t in tickets.values() if parse_ms(frm) <= parse_ms(t["reported_at"]) < parse_ms(to)]


@pytest.mark.parametrize("by", ["policy", "team", "region", "assignee"])
def test_rows_by_field(world, by):
    d, _, tickets, _ = world
    frm, to = recent(world)
    got = report(d, **{"from": frm, "to": to, "by": by}).json
    want = expected_rows(in_range(tickets, frm, to), lambda t: t.get(by) or None)
    assert_rows_equal(got["rows"], want, by)


def test_outcomes_as_planned(world):
    """The scenario did what it meant to: the figures below are not all zeros."""
    d, _, tickets, _ = world
    frm, to = recent(world)
    rows = {(r["group"], r["clock"]): r
            for r in report(d, **{"from": frm, "to": to, "by": "policy"}).json["rows"]}
    reply = rows[("complaint", "reply")]
    assert (reply["total"], reply["met"], reply["missed"], reply["open"]) == (3, 1, 1, 1)
    assert reply["compliance"] == pytest.approx(0.5)
    assert reply["p90_s"] >= 2.0  # the late one, stopped after its 2 s target
    # The cancelled ticket's clocks are not counted: slow has s_open and s_none only.
    assert rows[("slow", "response")]["total"] == 2
    assert rows[("slow", "resolution")]["open"] == 2
    assert rows[("slow", "resolution")]["compliance"] is None
    assert rows[("slow", "resolution")]["mean_s"] is None


def test_followups(world):
    d, _, _, followups = world
    frm, to = recent(world)
    got = report(d, **{"from": frm, "to": to}).json["followups"]
    counted = [f for f in followups if f["state"] != "cancelled"]
    done = [f for f in counted if f["state"] == "done"]
    late = [f for f in done if parse_ms(f["completed_at"]) > parse_ms(f["deadline_at"])]
    overdue = [f for f in counted if f["state"] == "overdue"] + late
    assert got == {"total": len(counted), "done": len(done), "overdue": len(overdue),
                   "rate": pytest.approx(len(done) / len(counted))}
    assert (got["total"], got["done"], got["overdue"]) == (4, 2, 2)


def test_supervision_complaints_by_month(world):
    """P18/P20: the monthly review of the supervision team's complaints; by month in UTC
    and in Asia/Shanghai, over a range that holds the ticket reported 40 days ago."""
    d, _, tickets, _ = world
    now_ms = max(parse_ms(t["reported_at"]) for t in tickets.values())
    frm, to = rfc3339_ms(now_ms - 60 * 86400000), rfc3339_ms(now_ms + 1)
    for tz_name in (None, "Asia/Shanghai"):
        tz = zoneinfo.ZoneInfo(tz_name) if tz_name else datetime.timezone.utc
        params = {"from": frm, "to": to, "by": "month"}
        if tz_name:
            params["tz"] = tz_name
        got = report(d, **params).json["rows"]
        want = expected_rows(in_range(tickets, frm, to),
                             lambda t: month_of(parse_ms(t["reported_at"]), tz))
        assert_rows_equal(got, want, f"month {tz_name}")
        assert len({r["group"] for r in got}) == 2  # the old ticket's month and this one
    rows = report(d, **{"from": frm, "to": to, "by": "team"}).json["rows"]
    sup = [r for r in rows if r["group"] == "supervision"]
    assert [r["clock"] for r in sup] == ["reply"] and sup[0]["total"] == 3


def test_default_range_is_the_last_30_days(world):
    d, _, tickets, _ = world
    rows = report(d, by="policy").json["rows"]
    want = expected_rows([t for n, t in tickets.items() if n != "old"], lambda t: t["policy"])
    assert_rows_equal(rows, want, "default range")


@pytest.mark.parametrize("by", ["policy", "region", "month"])
def test_csv_parses_back(world, by):
    d, _, _, _ = world
    frm, to = recent(world)
    params = {"from": frm, "to": to, "by": by}
    want = report(d, **params).json["rows"]
    r = report(d, format="csv", **params)
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.text.endswith("\r\n")
    assert_rows_equal(csv_rows(r.text), want, f"csv {by}")
    if by == "region":
        assert '"He said ""hi"", ok",response,' in r.text


@pytest.mark.parametrize("query,param", [
    ("by=colour", "by"),
    ("format=xml", "format"),
    ("from=yesterday", "from"),
    ("to=2026-13-01T00:00:00Z", "to"),
    ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
    ("by=month&tz=Mars/Olympus_Mons", "tz"),
    ("by=team&tz=Asia/Shanghai", "tz"),
    ("from=2026-02-30", "from"),
    ("from=2026-10-01&tz=Mars/Olympus_Mons", "tz"),
    ("colour=red", "colour"),
])
def test_bad_parameters(world, query, param):
    d, _, _, _ = world
    r = d.client.get("/v1/reports/sla?" + query)
    assert r.status == 400, r
    assert f"'{param}'" in r.error_message(), r


def test_report_survives_restart(world):
    """The figures come from the database: a restarted daemon reports the same."""
    d, _, _, _ = world
    frm, to = recent(world)
    before = report(d, **{"from": frm, "to": to, "by": "team"}).json
    d.restart()
    after = report(d, **{"from": frm, "to": to, "by": "team"}).json
    assert after["rows"] == before["rows"]
    assert after["followups"]["total"] == before["followups"]["total"]



def test_plain_dates_are_midnight_in_tz(daemon, client):
    """from/to as plain dates: midnight in tz (default UTC). A ticket reported at 17:00Z on
    30 November is on 1 December in Shanghai."""
    daemon.create(team="north", reported_at="2026-11-30T17:00:00Z")

    def total(query):
        r = client.get("/v1/reports/sla?by=team&" + query)
        assert r.status == 200, r
        return sum(row["total"] for row in r.json["rows"])

    shanghai = total("from=2026-12-01&to=2026-12-02&tz=Asia/Shanghai")
    assert shanghai > 0
    assert total("from=2026-12-01&to=2026-12-02") == 0
    assert total("from=2026-11-30&to=2026-12-01") == shanghai
    # The same instants written out in full.
    assert total("from=2026-11-30T16:00:00Z&to=2026-12-01T16:00:00Z") == shanghai
    assert total("from=2026-11-30T17:00:01Z&to=2026-12-01T16:00:00Z") == 0
