"""bench-timers: slad with many open tickets (two clocks each), beside baselines measured in
the same run. Run by `make bench` only.

For each scale N (BENCH_TIMER_SCALES, default 10000,100000,1000000) in a fresh directory:
  1. bench_populate fills the database through the service layer: N - LATE - 2 BURST
     tickets whose first step is due a day or more ahead, LATE tickets whose steps fall due
     one by one over WINDOW_S seconds, and twice BURST = N/10 tickets whose steps are all
     due at one instant (100,000 at N = 1,000,000), then at a second one.
  2. slad starts; resident memory per open ticket = (RSS - RSS of slad on an empty
     database) / N, beside a bare libev program's RSS per armed timer.
  3. kill -9, start again: time until /healthz answers, beside reading the agenda index
     (id, next_ms) from the same file with python's sqlite3.
  4. The LATE steps fire while all N tickets are open: lateness = history.created_ms - at_ms
     (the loop's instant when it acted minus the due instant, ms), beside tests/bench/
     bare_libev.c holding N timers with the same LATE instants, running at the same time.
  5. Burst 1: time from its instant until every one of its steps is committed (a reader
     polls the database), beside creating as many tickets through the service layer
     (bench_populate, step 1). Burst 2: /healthz latency probed every PROBE_S throughout,
     beside /healthz at rest before burst 1. (Probing costs the loop work of its own, so
     burst 1 is timed unprobed.) slad's CPU time per step of burst 1 (/proc, all threads)
     beside bench_populate's per ticket it created: on a loaded machine the CPU times move
     far less than the durations.
BENCH_PERF_DIR: a directory where `perf record --call-graph dwarf` of slad during burst 1
is written (burst-N.data); its cost is then part of the figures.
SLAD_BIN and BENCH_POPULATE may name an older build (schema before version 12 included):
run the script once per build to compare them.
Prints one table: figure, slad, baseline, ratio, goal, met?"""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import Client  # noqa: E402
import history_db  # noqa: E402
from populate import bench_daemon, cpu_seconds, now_ms, populate_agenda  # noqa: E402

SCALES = [int(x) for x in os.environ.get("BENCH_TIMER_SCALES", "10000,100000,1000000").split(",")]
POPULATE = os.environ["BENCH_POPULATE"]
PERF_DIR = os.environ.get("BENCH_PERF_DIR")  # perf record of slad during burst 1, there
BARE = os.environ["BARE_LIBEV"]
LATE = 2000
WINDOW_S = 10
PROBE_S = 0.1  # /healthz probe period
TARGET_MS = 30 * 86400 * 1000  # the response target of CONF
DAY_MS = 86400 * 1000

CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           synchronous = "full"; log_level = "notice"; language = "en"; };
contacts = ( { name = "sup"; phone = "+8613800000001"; via = ["log"]; } );
teams = ( { name = "north"; roles = { supervisor = ["sup"]; }; } );
channels = ( { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; } );
policies = ( { name = "bench"; match = { }; calendar = "24x7";
  clocks = ( { name = "response"; target = "30d"; stop = ["acknowledge", "resolve"];
               escalate = ( { at = "100%"; notify = ["supervisor"]; } ); },
             { name = "resolution"; target = "60d"; stop = ["resolve"];
               escalate = ( { at = "100%"; notify = ["supervisor"]; } ); } ); } );
"""


def rss_kb(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def quantiles(values):
    """(p50, p99, max) of a list, nearest rank."""
    if not values:
        return (float("nan"),) * 3
    v = sorted(values)
    def q(p):
        return v[max(0, -(-len(v) * p // 100) - 1)]
    return q(50), q(99), v[-1]


def populate(conf, db, count, first_ms, spread_ms):
    """Returns (seconds taken, CPU seconds bench_populate used)."""
    return populate_agenda(POPULATE, conf, db, count, first_ms, spread_ms, TARGET_MS)


def make_daemon(tmp):
    return bench_daemon(CONF)(tmp)


def settled_rss(d):
    """RSS once the daemon has answered and had a moment to finish start-up."""
    time.sleep(0.5)
    d.client.get("/healthz")
    return rss_kb(d.proc.pid)


def empty_rss():
    with tempfile.TemporaryDirectory() as tmp:
        d = make_daemon(tmp)
        d.start()
        kb = settled_rss(d)
        d.stop()
        return kb


def read_agenda_index(db):
    """The irreducible start-up work: every (id, next_ms) from the covering index."""
    t0 = time.monotonic()
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute("SELECT id, next_ms FROM tickets WHERE next_ms IS NOT NULL"
                       " ORDER BY next_ms").fetchall()
    con.close()
    return time.monotonic() - t0, len(rows)


class HealthSampler(threading.Thread):
    """/healthz latency, one request every PROBE_S (or as soon as the last answered),
    until stopped."""

    def __init__(self, socket_path):
        super().__init__(daemon=True)
        self.client = Client(unix_path=socket_path)
        self.samples = []
        self.failures = 0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            t0 = time.monotonic()
            try:
                ok = self.client.get("/healthz").status == 200
            except OSError:
                ok = False
            self.samples.append((time.monotonic() - t0) * 1000.0)
            self.failures += not ok
            time.sleep(max(0.0, PROBE_S - (time.monotonic() - t0)))

    def stop(self):
        self.stopping.set()
        self.join()
        return self.samples


def wait_until_ms(at_ms):
    while now_ms() < at_ms:
        time.sleep(min(0.2, max(0.001, (at_ms - now_ms()) / 1000.0)))


# The history rows holding a step due at ?2 (one per fired ticket, schema version 12: the
# step is the row's own entry, or among its more_entries after the clock's breach at the
# same instant), past id ?1: counted in SQL, the reader shares the 2 cores with slad.
BURST_ROWS = (" FROM history WHERE id > ?1 AND at_ms = ?2 AND (kind = 'step'"
              " OR (instr(char(10) || more_entries, char(10) || ?2 || ' ') > 0"
              " AND instr(more_entries, ' 4:step') > 0))")
BURST_ROWS_BEFORE_12 = " FROM history WHERE id > ?1 AND at_ms = ?2 AND kind = 'step'"


def watch_burst(db, burst_ms, count, pid):
    """Seconds from burst_ms until count steps due then are committed, as a reader sees
    them (it reads only the rows added since its last look: it shares the 2 cores),
    seconds until the last of them fired (history.created_ms, before its commit), and the
    CPU seconds slad (process pid) used meanwhile."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = BURST_ROWS if history_db.packed(con) else BURST_ROWS_BEFORE_12
    wait_until_ms(burst_ms)
    cpu0 = cpu_seconds(pid)
    # The last row recorded before the burst's instant (a loaded machine may start this
    # watch late: the rows of the burst already written still count).
    last_id = (con.execute("SELECT id FROM history WHERE created_ms < ? ORDER BY id DESC"
                           " LIMIT 1", (burst_ms,)).fetchone() or (0,))[0]
    base_id, got, done_ms, cpu = last_id, 0, None, 0.0
    while now_ms() < burst_ms + 300000:
        n, top = con.execute("SELECT count(*), max(id)" + rows,
                             (last_id, burst_ms)).fetchone()
        got += n
        last_id = top or last_id
        if got >= count:
            done_ms = now_ms()
            cpu = cpu_seconds(pid) - cpu0
            break
        time.sleep(0.05)
    last_fire = con.execute("SELECT max(created_ms)" + rows, (base_id, burst_ms)).fetchone()[0]
    con.close()
    if done_ms is None:
        return float("inf"), float("inf"), float("inf")
    return (done_ms - burst_ms) / 1000.0, (last_fire - burst_ms) / 1000.0, cpu


def run_scale(n, rss_empty_kb):
    burst = n // 10
    late = min(LATE, n - burst)
    res = {"n": n, "burst": burst, "late": late}
    with tempfile.TemporaryDirectory() as tmp:
        d = make_daemon(tmp)
        db = d.db_path
        far = res["far"] = n - late - 2 * burst
        res["populate_s"], _ = populate(d.conf_path, db, far, now_ms() + 2 * DAY_MS, DAY_MS)
        rate = far / res["populate_s"] if far else 20000.0
        # The LATE and BURST steps fall due after this populate, a start, a kill -9 and a
        # restart: leave room for all of them.
        t0_ms = now_ms() + int(1000 * ((late + 2 * burst) / rate + 25 + n / 100000))
        burst_ms = t0_ms + (WINDOW_S + 5) * 1000
        # Room for burst 1 and its deliveries: ~40 s at 1M on a loaded machine.
        burst2_ms = burst_ms + int(20000 + 60000 * n / 1000000)
        populate(d.conf_path, db, late, t0_ms, WINDOW_S * 1000)
        res["burst_populate_s"], res["burst_populate_cpu_s"] = populate(d.conf_path, db, burst,
                                                                        burst_ms, 0)
        populate(d.conf_path, db, burst, burst2_ms, 0)

        d.start()
        res["first_start_s"] = d.start_seconds
        res["rss_b_per_ticket"] = (settled_rss(d) - rss_empty_kb) * 1024.0 / n
        d.kill9()
        d.start()
        res["restart_s"] = d.start_seconds
        res["index_read_s"], rows = read_agenda_index(db)
        assert rows == n, f"{rows} agenda rows in the index, expected {n}"
        assert now_ms() < t0_ms - 1000, "start-up took longer than the room left for it"

        bare = subprocess.Popen([BARE, str(n), str(late), str(t0_ms), str(WINDOW_S * 1000)],
                                stdout=subprocess.PIPE, text=True)
        wait_until_ms(t0_ms + WINDOW_S * 1000 + 1000)
        out, _ = bare.communicate(timeout=120)
        m = dict(re.findall(r"(\w+)=([-\d.]+)", out))
        res["bare"] = {k: float(v) for k, v in m.items()}
        lags = history_db.step_lags(db, t0_ms, t0_ms + WINDOW_S * 1000)
        assert len(lags) >= late, f"only {len(lags)} of {late} steps fired"
        res["lag"] = quantiles(lags)
        res["early"] = sum(1 for x in lags if x < 0)

        # /healthz at rest, then burst 1 alone (its duration), then burst 2 with /healthz
        # probed every PROBE_S (its latency): each /healthz costs the loop work of its own,
        # so probing must not inflate the duration.
        rest = HealthSampler(d.socket_path)
        rest.start()
        wait_until_ms(burst_ms - 500)
        res["healthz_rest"] = quantiles(rest.stop())
        perf = None
        if PERF_DIR:
            wait_until_ms(burst_ms - 200)
            perf = subprocess.Popen(["perf", "record", "--call-graph", "dwarf", "-F", "199",
                                     "-p", str(d.proc.pid), "-o",
                                     os.path.join(PERF_DIR, f"burst-{n}.data")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        res["burst_s"], res["burst_last_fire_s"], res["burst_cpu_s"] = watch_burst(
            db, burst_ms, burst, d.proc.pid)
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=300)
        sampler = HealthSampler(d.socket_path)
        wait_until_ms(burst2_ms - 50)
        sampler.start()
        res["burst2_s"], _, _ = watch_burst(db, burst2_ms, burst, d.proc.pid)
        time.sleep(1.0)  # keep probing while the deliveries that follow run
        res["healthz_burst"] = quantiles(sampler.stop())
        res["healthz_samples"] = len(sampler.samples)
        res["healthz_failures"] = sampler.failures
        res["rss_after_kb"] = rss_kb(d.proc.pid)
        # At 1M the deliveries of the bursts may still be running: SIGTERM waits for them.
        t0 = time.monotonic()
        d.send_signal(signal.SIGTERM)
        d.wait_exit(300)
        res["stop_s"] = time.monotonic() - t0
        d.stop()
    return res


def ratio(a, b):
    return f"{a / b:.2f}" if b and b == b and b not in (float("inf"),) else "-"


def main():
    # meson test sets MALLOC_PERTURB_, which fills every malloc'd and freed block: a cost
    # slad does not pay in service. Its children (slad, the tools) must run without it.
    os.environ.pop("MALLOC_PERTURB_", None)
    rss_empty = empty_rss()
    results = []
    for n in SCALES:
        r = run_scale(n, rss_empty)
        results.append(r)
        print(f"bench-timers: N={n} done: {r}", flush=True)

    rows = []
    for r in results:
        n, b = r["n"], r["bare"]
        lag, hb, hr = r["lag"], r["healthz_burst"], r["healthz_rest"]
        rows += [
            (f"N={n} RSS per open ticket (B)", r["rss_b_per_ticket"], b["rss_per_timer_b"],
             "< 512", r["rss_b_per_ticket"] < 512),
            (f"N={n} start-up after kill -9 (s)", r["restart_s"], r["index_read_s"], "< 3",
             r["restart_s"] < 3),
            (f"N={n} step lateness p50 (ms)", lag[0], b["p50_ms"], "", None),
            (f"N={n} step lateness p99 (ms)", lag[1], b["p99_ms"], "< 10", lag[1] < 10),
            (f"N={n} step lateness max (ms)", lag[2], b["max_ms"], "", None),
            (f"N={n} steps fired early", r["early"], b["early"], "0", r["early"] == 0),
            (f"N={n} burst of {r['burst']}: committed (s)", r["burst_s"], r["burst_populate_s"],
             "< 2", r["burst_s"] < 2),
            (f"N={n} burst: slad CPU per step (us)", 1e6 * r["burst_cpu_s"] / r["burst"],
             1e6 * r["burst_populate_cpu_s"] / r["burst"], "", None),
            (f"N={n} /healthz in burst p50 (ms)", hb[0], hr[0], "", None),
            (f"N={n} /healthz in burst p99 (ms)", hb[1], hr[1], "", None),
            (f"N={n} /healthz in burst max (ms)", hb[2], hr[2], "< 50", hb[2] < 50),
        ]
    print()
    print("baselines: RSS = bare libev per armed ev_periodic; start-up = reading (id, next_ms)"
          " with python sqlite3; lateness = bare libev with N timers, same instants, same run;"
          " burst (timed unprobed) and its CPU = bench_populate creating as many tickets; /healthz"
          " (probed every 0.1 s in a second burst) = at rest before the bursts")
    print(f"{'figure':44} {'slad':>10} {'baseline':>10} {'ratio':>7} {'goal':>7}  met?")
    missed = 0
    for name, value, base, goal, met in rows:
        flag = "" if met is None else ("yes" if met else "NO")
        missed += met is False
        print(f"{name:44} {value:10.3f} {base:10.3f} {ratio(value, base):>7} {goal:>7}  {flag}")
    for r in results:
        print(f"N={r['n']}: first start {r['first_start_s']:.2f} s, populate "
              f"{r['far'] / max(r['populate_s'], 1e-9):.0f} tickets/s, "
              f"last burst step fired {r['burst_last_fire_s']:.2f} s after its instant, "
              f"burst 2 (probed) committed in {r['burst2_s']:.2f} s, "
              f"RSS after the burst {r['rss_after_kb'] / 1024:.0f} MiB, "
              f"/healthz samples in burst 2 {r['healthz_samples']} "
              f"({r['healthz_failures']} failed)")
    print(f"bench-timers: {missed} goal(s) missed")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
