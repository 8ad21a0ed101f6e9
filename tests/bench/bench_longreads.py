"""bench-longreads: issue 16 goal 3, "long reads never hold the loop". While a year-long
SLA report over N tickets (JSON, by team) and a 10,000-row CSV export (by assignee: 5,000
assignees x 2 clocks, the same year) run back to back on two clients, steps fall due one by
one and /healthz is probed; measured are

- step lateness: history.created_ms - at_ms of those steps (the loop's instant when it
  acted minus the due instant), p50, p99, max;
- /healthz: its latency from a client probing every PROBE_S, p50, p99, max;
- how many reports and exports completed in the window, and their mean time.

Three modes on the same database in the same run, one after the other: `quiet` (no long
reads: the floor the machine gives), `loop` (SLAD_READS_ON_LOOP=1: the reports on the event
loop, the behaviour before the reader threads: the baseline) and `readers` (the reader
threads, daemon/reader.c). Goal: in `readers`, lateness p99 < 10 ms and /healthz max < 10 ms.

The tickets are populate.py's year of 2025 (inserted in SQL, no agenda instant), their
clocks' assignees spread over 5,000 names; each mode adds STEPS tickets through the API
whose response clock's 100 % step falls due at one of STEPS instants spread over WINDOW_S.

Environment: SLAD_BIN, BENCH_SIZES (default 10000,100000,1000000), BENCH_KEEP (keep and
reuse the databases there), BENCH_WINDOW_S (10), BENCH_STEPS (500), BENCH_MODES (default
quiet,loop,readers)."""

import multiprocessing
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from conftest import Client  # noqa: E402
import history_db  # noqa: E402
from populate import FROM, TO, bench_daemon, now_ms, populate_year, prepared  # noqa: E402

SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "10000,100000,1000000").split(",")]
KEEP = os.environ.get("BENCH_KEEP")
WINDOW_S = float(os.environ.get("BENCH_WINDOW_S", "10"))
STEPS = int(os.environ.get("BENCH_STEPS", "500"))
PROBE_S = 0.02
ASSIGNEES = 5000
TARGET_MS = 3600 * 1000  # the probe policy's response target
GOAL_MS = 10.0
MODES = tuple(m for m in (("quiet", None), ("loop", {"SLAD_READS_ON_LOOP": "1"}), ("readers", {}))
              if m[0] in os.environ.get("BENCH_MODES", "quiet,loop,readers").split(","))

CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           synchronous = "full"; log_level = "notice"; language = "en"; };
contacts = ( { name = "sup"; phone = "+8613800000001"; via = ["log"]; } );
teams = ( { name = "north"; roles = { supervisor = ["sup"]; }; } );
channels = ( { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; } );
policies = (
  { name = "probe"; match = { labels = { kind = "probe"; }; }; calendar = "24x7";
    clocks = ( { name = "response"; target = "1h"; stop = ["acknowledge", "resolve"];
                 escalate = ( { at = "100%"; notify = ["supervisor"]; } ); } ); },
  { name = "standard"; match = { }; calendar = "24x7";
    clocks = ( { name = "response"; target = "1h"; stop = ["acknowledge", "resolve"]; } ); } );
"""

YEAR_REPORT = f"/v1/reports/sla?from={FROM}&to={TO}&by=team"
CSV_EXPORT = f"/v1/reports/sla?from={FROM}&to={TO}&by=assignee&format=csv"


BenchDaemon = bench_daemon(CONF)


def rfc3339(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def quantile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))]


class Loop(threading.Thread):
    """Run fn again and again until stopped; collect its durations (s) and failures."""

    def __init__(self, fn, pause_s=0.0):
        super().__init__(daemon=True)
        self.fn, self.pause_s = fn, pause_s
        self.times, self.failures = [], 0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            t0 = time.monotonic()
            try:
                ok = self.fn()
            except OSError:
                ok = False
            self.times.append(time.monotonic() - t0)
            self.failures += not ok
            time.sleep(max(0.0, self.pause_s - (time.monotonic() - t0)))

    def stop(self):
        self.stopping.set()
        self.join()
        return self


def read_loop(socket_path, path, stop, out):
    """In a process of its own (the GIL would otherwise delay the /healthz probe with the
    parsing of big answers): get path again and again until stop is set."""
    client = Client(unix_path=socket_path)
    times, failures = [], 0
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            ok = client.get(path).status == 200
        except OSError:
            ok = False
        times.append(time.monotonic() - t0)
        failures += not ok
    out.put((path, times, failures))


def populate_year_spread(db_path, total):
    """populate.py's year, its clocks' assignees spread over ASSIGNEES names (the CSV
    export's rows)."""
    populate_year(db_path, total)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous = OFF")
    db.execute(f"UPDATE clocks SET assignee = 'tech' || (ticket_id % {ASSIGNEES} + 1)")
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def prepare(root, total):
    directory = os.path.join(root, f"n{total}")
    os.makedirs(directory, exist_ok=True)
    return prepared(BenchDaemon(directory), total, populate_year_spread)


def run_mode(d, env, reads):
    d.start(env=env or {})
    c = d.client
    try:
        assert c.get(YEAR_REPORT).status == 200  # warm: page cache, statements
        csv = c.get(CSV_EXPORT)
        assert csv.status == 200, csv
        csv_rows = csv.text.count("\r\n") - 1
        # STEPS tickets whose 100 % step falls due at t0 + i * WINDOW_S / STEPS.
        t0 = now_ms() + 3000 + STEPS * 15  # creating them takes 1-10 ms each here
        ats = [t0 + int(i * WINDOW_S * 1000 / STEPS) for i in range(STEPS)]
        for i, at in enumerate(ats):
            r = c.post("/v1/tickets", {"title": f"probe {i}", "severity": 3,
                                       "labels": {"kind": "probe"},
                                       "reported_at": rfc3339(at - TARGET_MS)},
                       headers={"Prefer": "return=minimal"})
            assert r.status == 201, r
        assert now_ms() < t0, "creating the probes took longer than planned"
        while now_ms() < t0 - 500:
            time.sleep(0.05)
        load0 = os.getloadavg()[0]
        health = Loop(lambda: Client(unix_path=d.socket_path).get("/healthz").status == 200,
                      PROBE_S)
        stop, out = multiprocessing.Event(), multiprocessing.Queue()
        readers = [multiprocessing.Process(target=read_loop, args=(d.socket_path, p, stop, out))
                   for p in ((YEAR_REPORT, CSV_EXPORT) if reads else ())]
        for p in readers:
            p.start()
        health.start()
        while now_ms() < ats[-1] + 1000:
            time.sleep(0.05)
        health.stop()
        stop.set()
        done = dict((path, (times, failures)) for path, times, failures in
                    (out.get() for _ in readers))
        for p in readers:
            p.join()
        load1 = os.getloadavg()[0]
        time.sleep(0.5)
    finally:
        d.stop()
    lags = history_db.step_lags(d.db_path, ats[0], ats[-1])
    res = {"lags": lags, "health": [t * 1000 for t in health.times],
           "health_failures": health.failures, "load": (load0, load1), "csv_rows": csv_rows}
    if reads:
        res["reports"] = done[YEAR_REPORT][0]
        res["exports"] = done[CSV_EXPORT][0]
        res["read_failures"] = done[YEAR_REPORT][1] + done[CSV_EXPORT][1]
    return res


def line(name, res):
    lags, h = res["lags"], res["health"]
    out = (f"  {name:<8} steps {len(lags):>4}/{STEPS}  lateness p50 {quantile(lags, .5):5.0f} "
           f"p99 {quantile(lags, .99):6.0f} max {max(lags) if lags else 0:6.0f} ms   "
           f"/healthz p50 {quantile(h, .5):6.1f} p99 {quantile(h, .99):7.1f} "
           f"max {max(h) if h else 0:7.1f} ms ({len(h)} probes, {res['health_failures']} failed)"
           f"   load {res['load'][0]:.1f}-{res['load'][1]:.1f}")
    if "reports" in res:
        out += (f"\n           {len(res['reports'])} year reports "
                f"(mean {statistics.mean(res['reports']):.2f} s), {len(res['exports'])} "
                f"{res['csv_rows']}-row CSV exports (mean {statistics.mean(res['exports']):.2f} s)"
                f", {res['read_failures']} failed")
    return out


def main():
    root = KEEP or tempfile.mkdtemp(prefix="bench-longreads-")
    print(f"bench-longreads: steps due one by one over {WINDOW_S:.0f} s and /healthz every "
          f"{PROBE_S * 1000:.0f} ms, while a year report and a CSV export run back to back; "
          f"goal (readers): lateness p99 and /healthz max < {GOAL_MS:.0f} ms")
    verdicts = []
    for total in SIZES:
        d = prepare(root, total)
        print(f"n={total}:", flush=True)
        results = {}
        for name, env in MODES:
            results[name] = run_mode(d, env, reads=env is not None)
            print(line(name, results[name]), flush=True)
        if "readers" not in results:
            continue
        off = results["readers"]
        p99 = quantile(off["lags"], .99)
        hmax = max(off["health"])
        if "loop" in results:
            on = results["loop"]
            print(f"  readers / loop: lateness p99 x{p99 / max(1, quantile(on['lags'], .99)):.3f},"
                  f" /healthz max x{hmax / max(on['health']):.3f}", flush=True)
        verdicts.append((total, p99, hmax))
    for total, p99, hmax in verdicts:
        met = p99 < GOAL_MS and hmax < GOAL_MS
        print(f"goal 3 at n={total}: lateness p99 {p99:.0f} ms, /healthz max {hmax:.1f} ms: "
              f"{'met' if met else 'MISSED'}")
    if not KEEP:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
