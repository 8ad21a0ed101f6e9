"""bench-intake: tickets per second over keep-alive HTTP, 16 connections, one ticket per
request, with slad durable (synchronous = "full") and "normal", printed beside two
baselines measured in the same run:

- Prometheus Alertmanager (Debian's prometheus-alertmanager) taking one alert per request
  on /api/v2/alerts, driven by wrk over TCP with the same 16 connections;
- a plain C loop committing one row per SQLite transaction (WAL; synchronous FULL for the
  durable comparison, NORMAL beside slad's normal mode).

slad is driven by wrk over TCP (with its bearer token) and by intake_client, a small C
keep-alive client, over the Unix socket; intake_client also paces requests at half the
round's maximum rate to measure latency there. Every measurement is repeated ROUNDS times,
interleaved, each on a fresh database; the ratio of each round is computed from that
round's figures and the median ratio is printed with its range. The server's CPU time per
request is printed too: on a shared two-core machine it moves much less than the rates.
Finally the durable intake rate is measured with 10k and 100k tickets already stored
(BENCH_GROWTH_SIZES="10000,100000,1000000" adds 1M: the fill alone is a million requests).

With SLAD_BIN_BEFORE naming another slad binary (an older build), each round also
measures it (durable, C client, at full rate and paced at half of it), so that a change is
judged against the build before it in the same run. Each round also measures durable
intake with `Prefer: return=minimal` (the answer is only the id).

Environment: SLAD_BIN, INTAKE_CLIENT, SQLITE_LOOP (set by meson), SLAD_BIN_BEFORE, BENCH_ROUNDS (3),
BENCH_SECONDS (5), BENCH_GROWTH (1; 0 skips the growth figures), BENCH_GROWTH_SIZES
(10000,100000: the tickets stored before each growth figure), BENCH_DIR (where the
databases go; the default temporary directory otherwise). Run by `make bench` only."""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from conftest import Daemon, free_tcp_port  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "intake.lua")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
GROWTH = os.environ.get("BENCH_GROWTH", "1") != "0"
GROWTH_SIZES = sorted(int(x) for x in
                      os.environ.get("BENCH_GROWTH_SIZES", "10000,100000").split(","))
BEFORE = os.environ.get("SLAD_BIN_BEFORE")
CONNECTIONS = 16
TOKEN = "bench-intake-token-0123456789"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"

SLAD_CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           tcp = "127.0.0.1:@PORT@"; token_file = "@DIR@/token";
           synchronous = "@SYNC@"; log_level = "notice"; language = "en";
           max_connections = 256; };
contacts = ( { name = "sup"; phone = "+8613800000001"; via = ["log"]; } );
teams = ( { name = "north"; roles = { supervisor = ["sup"]; }; } );
channels = ( { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; } );
policies = ( { name = "standard"; match = { }; calendar = "24x7";
  clocks = ( { name = "response"; target = "4h"; stop = ["acknowledge", "resolve"];
               escalate = ( { at = "100%"; notify = ["supervisor"]; } ); },
             { name = "resolution"; target = "24h"; stop = ["resolve"];
               escalate = ( { at = "100%"; notify = ["supervisor"]; } ); } ); } );
"""

ALERTMANAGER_CONF = """route:
  receiver: "null"
receivers:
  - name: "null"
"""


def parse(line):
    """The key=value line printed by intake_client, sqlite_loop and intake.lua."""
    fields = {}
    for part in line.split():
        key, _, value = part.partition("=")
        fields[key] = float(value)
    return fields


def cpu_us(pid):
    """CPU time (user + system, all threads) a process has used, in microseconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1e6 / os.sysconf("SC_CLK_TCK")


def server_cpu(pid, measure):
    """measure()'s result with the server's CPU time during it added as cpu_us (printed per
    request: the figure the noisy machine disturbs least, as waiting for a core is not
    counted)."""
    before = cpu_us(pid)
    result = measure()
    result["cpu_us"] = cpu_us(pid) - before
    return result


def run_tool(argv, what, timeout=SECONDS * 4 + 120):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("requests=")]
    if p.returncode != 0 or not lines:
        raise RuntimeError(f"{what} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    result = parse(lines[-1])
    if result["errors"]:
        raise RuntimeError(f"{what}: {int(result['errors'])} failed requests\n{p.stdout}")
    return result


def wrk(url, prefix, kind, token=""):
    # One wrk thread: the machine has two cores and the server needs one of them.
    return run_tool(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS:g}s", "-s", LUA, url,
                     "--", prefix, kind, token], f"wrk {kind}")


def intake_client(target, prefix, rate=0.0, requests=0, prefer=None):
    """SECONDS of requests, or (requests=N) N requests however long they take."""
    seconds = 900 if requests else SECONDS
    argv = [os.environ["INTAKE_CLIENT"], "--connections", str(CONNECTIONS), "--seconds",
            f"{seconds:g}", "--prefix", prefix] + target
    if prefer:
        argv += ["--prefer", prefer]
    if rate:
        argv += ["--rate", f"{rate:.0f}"]
    if requests:
        argv += ["--requests", str(requests)]
    return run_tool(argv, "intake_client", timeout=seconds * 2 + 120)


def sqlite_loop(sync):
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        return run_tool([os.environ["SQLITE_LOOP"], os.path.join(tmp, "loop.db"),
                         f"{SECONDS:g}", sync], "sqlite_loop")


class Slad:
    """A slad on a fresh database with the Unix socket and a TCP listener with a token."""

    def __init__(self, sync, binary=None, conf=SLAD_CONF):
        self.tmp = tempfile.mkdtemp(prefix="bench-intake-", dir=os.environ.get("BENCH_DIR"))
        self.port = free_tcp_port()
        fd = os.open(os.path.join(self.tmp, "token"), os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(TOKEN + "\n")
        self.daemon = Daemon(self.tmp)
        text = (conf.replace("@DIR@", self.tmp).replace("@PORT@", str(self.port))
                .replace("@SYNC@", sync))
        with open(self.daemon.conf_path, "w", encoding="utf-8") as f:
            f.write(text)
        saved = os.environ["SLAD_BIN"]
        os.environ["SLAD_BIN"] = binary or saved
        try:
            self.daemon.start()
        finally:
            os.environ["SLAD_BIN"] = saved
        self.unix = ["--unix", self.daemon.socket_path]
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self):
        self.daemon.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Alertmanager:
    def __init__(self, config=ALERTMANAGER_CONF):
        self.tmp = tempfile.mkdtemp(prefix="bench-am-", dir=os.environ.get("BENCH_DIR"))
        conf = os.path.join(self.tmp, "alertmanager.yml")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(config)
        self.port = free_tcp_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.tmp, "am.log"), "wb")
        self.proc = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={conf}", f"--storage.path={self.tmp}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=",
             "--log.level=warn"], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("alertmanager did not become ready")
            time.sleep(0.05)

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def median_ratio(pairs):
    ratios = [a / b for a, b in pairs if b]
    return statistics.median(ratios), min(ratios), max(ratios)


def med(results, key):
    return statistics.median(r[key] for r in results)


def growth():
    """Durable intake (10k requests) with GROWTH_SIZES tickets already stored (10k, 100k),
    each beside the same 10k requests on a fresh database measured just before (the machine
    is noisy)."""
    s = Slad("full")
    rows = []
    try:
        stored = 0
        for target in GROWTH_SIZES:
            if target > stored:
                intake_client(s.unix, f"fill{target}", requests=target - stored)
                stored = target
            fresh = Slad("full")
            try:
                reference = server_cpu(fresh.daemon.proc.pid, lambda: intake_client(
                    fresh.unix, f"r{target}", requests=10000))
            finally:
                fresh.close()
            r = server_cpu(s.daemon.proc.pid,
                           lambda: intake_client(s.unix, f"g{target}", requests=10000))
            stored += 10000
            rows.append((target, r, reference))
    finally:
        s.close()
    return rows


def main():
    have_am = os.access(ALERTMANAGER, os.X_OK)
    have_wrk = shutil.which("wrk") is not None
    if not have_wrk:
        print("bench-intake: wrk is missing (scripts/install-deps.sh --bench); TCP rows skipped")
    if not have_am:
        print("bench-intake: prometheus-alertmanager is missing; its baseline is skipped")
    print(f"bench-intake: {ROUNDS} rounds of {SECONDS:g} s per figure, {CONNECTIONS} "
          f"keep-alive connections, {os.cpu_count()} cores")

    rounds = []
    for i in range(ROUNDS):
        r = {"loop_full": sqlite_loop("full"), "loop_normal": sqlite_loop("normal")}
        if have_am and have_wrk:
            am = Alertmanager()
            try:
                r["am"] = server_cpu(am.proc.pid, lambda: wrk(am.url, f"a{i}", "alert"))
            finally:
                am.close()
        for sync in ("full", "normal"):
            s = Slad(sync)
            try:
                r[f"{sync}_unix"] = server_cpu(s.daemon.proc.pid,
                                               lambda: intake_client(s.unix, f"u{i}"))
            finally:
                s.close()
            # Latency at half this round's maximum (the rate moves with the machine's load).
            s = Slad(sync)
            try:
                half = r[f"{sync}_unix"]["rate"] / 2
                r[f"{sync}_paced"] = intake_client(s.unix, f"p{i}", rate=half)
                r[f"{sync}_paced"]["target"] = half
            finally:
                s.close()
            if have_wrk:
                s = Slad(sync)
                try:
                    r[f"{sync}_wrk"] = server_cpu(
                        s.daemon.proc.pid, lambda: wrk(s.url, f"w{i}", "ticket", TOKEN))
                finally:
                    s.close()
        s = Slad("full")
        try:
            r["full_min"] = server_cpu(s.daemon.proc.pid, lambda: intake_client(
                s.unix, f"m{i}", prefer="return=minimal"))
        finally:
            s.close()
        if BEFORE:
            s = Slad("full", BEFORE)
            try:
                r["before_unix"] = server_cpu(s.daemon.proc.pid,
                                              lambda: intake_client(s.unix, f"b{i}"))
            finally:
                s.close()
            s = Slad("full", BEFORE)
            try:
                half = r["before_unix"]["rate"] / 2
                r["before_paced"] = intake_client(s.unix, f"q{i}", rate=half)
                r["before_paced"]["target"] = half
            finally:
                s.close()
        rounds.append(r)
        # The one-row loop's median commit is about one fsync: it shows the disk's state.
        print(f"  round {i + 1} (load {os.getloadavg()[0]:.1f}, fsync ~"
              f"{r['loop_full']['p50_us'] / 1e3:.2f} ms): "
              + "  ".join(f"{k} {v['rate']:.0f}/s" for k, v in r.items()), flush=True)

    def line(name, key, base_key=None, base2_key=None):
        results = [r[key] for r in rounds if key in r]
        if not results:
            return
        cpu = statistics.median(r["cpu_us"] / r["requests"] for r in results)
        text = (f"{name:<34} {med(results, 'rate'):>9.0f} {med(results, 'p50_us') / 1e3:>8.2f} "
                f"{med(results, 'p99_us') / 1e3:>8.2f} {med(results, 'max_us') / 1e3:>8.1f} "
                f"{cpu:>7.0f}")
        for bk in (base_key, base2_key):
            if bk and all(bk in r for r in rounds):
                m, lo, hi = median_ratio([(r[key]["rate"], r[bk]["rate"]) for r in rounds])
                text += f"  {m:6.2f}x ({lo:.2f}-{hi:.2f}) vs {bk}"
        print(text)

    print()
    print(f"{'intake (median of rounds)':<34} {'rate/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'CPU us':>7}  rate ratio, median (range over rounds)")
    line("baseline: SQLite loop FULL", "loop_full")
    line("baseline: SQLite loop NORMAL", "loop_normal")
    line("baseline: Alertmanager, wrk TCP", "am")
    line("slad full, C client Unix", "full_unix", "am", "loop_full")
    line("slad full, wrk TCP", "full_wrk", "am", "loop_full")
    line("slad normal, C client Unix", "normal_unix", "am", "loop_normal")
    line("slad normal, wrk TCP", "normal_wrk", "am", "loop_normal")
    line("slad full, return=minimal, Unix", "full_min", "am", "full_unix")
    line("before (SLAD_BIN_BEFORE) full, Unix", "before_unix", "am", "loop_full")
    for sync in ("full", "normal", "before"):
        if not all(f"{sync}_paced" in r for r in rounds):
            continue
        results = [r[f"{sync}_paced"] for r in rounds]
        half = med(results, "target")
        print(f"{'slad ' + sync + ', paced at max/2 ~' + format(half, '.0f'):<34} "
              f"{med(results, 'rate'):>9.0f} {med(results, 'p50_us') / 1e3:>8.2f} "
              f"{med(results, 'p99_us') / 1e3:>8.2f} {med(results, 'max_us') / 1e3:>8.1f}"
              f"  p99 per round: "
              + ", ".join(f"{r['p99_us'] / 1e3:.2f}" for r in results) + " ms")

    cpu_line = []
    for sync in ("full", "normal"):
        key = f"{sync}_wrk"
        if all("am" in r and key in r for r in rounds):
            m, lo, hi = median_ratio([(r[key]["cpu_us"] / r[key]["requests"],
                                       r["am"]["cpu_us"] / r["am"]["requests"]) for r in rounds])
            cpu_line.append(f"{sync} {m:.2f}x ({lo:.2f}-{hi:.2f})")
    print("CPU us: the server's CPU time per request (the one-row loop: its own).")
    if all("before_unix" in r for r in rounds):
        m, lo, hi = median_ratio([(r["full_unix"]["rate"], r["before_unix"]["rate"])
                                  for r in rounds])
        c, clo, chi = median_ratio([(r["full_unix"]["cpu_us"] / r["full_unix"]["requests"],
                                     r["before_unix"]["cpu_us"] / r["before_unix"]["requests"])
                                    for r in rounds])
        p, plo, phi = median_ratio([(r["full_paced"]["p99_us"], r["before_paced"]["p99_us"])
                                    for r in rounds])
        print(f"this build / before (durable, C client Unix): rate {m:.2f}x ({lo:.2f}-{hi:.2f}), "
              f"CPU per ticket {c:.2f}x ({clo:.2f}-{chi:.2f}), p99 at half rate "
              f"{p:.2f}x ({plo:.2f}-{phi:.2f})")
    if cpu_line:
        print("slad's CPU per ticket / Alertmanager's per alert (wrk TCP): "
              + ", ".join(cpu_line))
    print()
    goals = []
    if all("am" in r and "full_wrk" in r for r in rounds):
        m, lo, hi = median_ratio([(r["full_wrk"]["rate"], r["am"]["rate"]) for r in rounds])
        goals.append(("durable >= 10x Alertmanager (both wrk TCP)", m >= 10, f"{m:.2f}x"))
    m, lo, hi = median_ratio([(r["full_unix"]["rate"], r["loop_full"]["rate"]) for r in rounds])
    goals.append(("durable >= 4x one-row SQLite loop FULL", m >= 4, f"{m:.2f}x"))
    p99 = med([r["full_paced"] for r in rounds], "p99_us") / 1e3
    goals.append(("durable p99 < 5 ms at half max rate", p99 < 5, f"{p99:.2f} ms"))
    for what, met, figure in goals:
        print(f"goal: {what:<44} {figure:>9}  {'MET' if met else 'MISSED'}")

    if GROWTH:
        print()
        for stored, r, ref in growth():
            print(f"growth: slad full, C client Unix, {stored:>7} tickets stored: "
                  f"{r['rate']:.0f}/s  p50 {r['p50_us'] / 1e3:.2f} ms  "
                  f"p99 {r['p99_us'] / 1e3:.2f} ms  CPU {r['cpu_us'] / r['requests']:.0f} us; "
                  f"fresh database just before: {ref['rate']:.0f}/s  CPU "
                  f"{ref['cpu_us'] / ref['requests']:.0f} us (rate ratio "
                  f"{r['rate'] / ref['rate']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
