"""bench-board-browser: the time for chromium to show the board's first page with 10,000 open
tickets, beside the same board with none (the baseline, in the same run, same browser).

The figure is the Performance API's: from the navigation's start to the mark the board sets
once the first page of tickets and the counts are on screen ("slad-board-rendered",
ui/board.js), median of BENCH_RUNS loads each, alternating the two daemons; the minimum
beside it is the figure least disturbed by other work on a shared machine. The board asks
for 50 tickets (sort=due), so the page does not grow with the open tickets; what grows is
the daemon's work to find the 50 next due among them and to count them (/v1/summary), also
printed from the Resource Timing entries. Goal (issue 13): under 300 ms.

Environment: SLAD_BIN (set by meson), BENCH_TICKETS (10000), BENCH_RUNS (15).
"""

import http.client
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from conftest import Daemon, free_tcp_port, write_private  # noqa: E402

TICKETS = int(os.environ.get("BENCH_TICKETS", "10000"))
RUNS = int(os.environ.get("BENCH_RUNS", "15"))
GOAL_MS = 300.0
USER, PASSWORD = "sup", "operator-pw"


class Unix(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path_ = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.path_)
        self.sock = s


def fill(daemon, count):
    """count open tickets over one keep-alive connection, a mix of teams and severities."""
    conn = Unix(daemon.socket_path)
    t0 = time.monotonic()
    for i in range(count):
        body = json.dumps({"title": f"工单 {i} 冷库压缩机不启动", "severity": 1 + i % 5,
                           "team": "north", "region": ["city", "county", "remote"][i % 3],
                           "customer": {"name": f"客户{i}", "phone": f"+86138{i:08d}"}})
        conn.request("POST", "/v1/tickets", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        assert r.status == 201, r.status
    conn.close()
    return time.monotonic() - t0


def start(directory, host, port):
    write_private(os.path.join(directory, "token"), "bench-token\n")
    extra = f'tcp = "{host}:{port}"; token_file = "{directory}/token";'
    d = Daemon(directory, template="console.conf", daemon_extra=extra)
    text = open(d.conf_path, encoding="utf-8").read().replace('synchronous = "full"', 'synchronous = "normal"')
    text = text.replace('log_level = "debug"', 'log_level = "notice"')
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(text)
    d.start()
    d.base = f"http://{host}:{port}"
    return d


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def sign_in(drv, base):
    drv.get(base + "/ui/")
    status = drv.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/v1/session', {method: 'POST', headers: {'Content-Type': 'application/json'},
              body: JSON.stringify({user: arguments[0], password: arguments[1]})}).then(r => done(r.status));
    """, USER, PASSWORD)
    assert status == 200, f"sign-in answered {status}"


def load(drv, base):
    """One navigation to the board: (ms to the rendered mark, ms of the tickets request,
    ms of the summary request, tickets shown)."""
    drv.get(base + "/ui/?bench=" + str(time.monotonic_ns()))
    # one script that waits in the page (polling from here would load the renderer it times)
    got = drv.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const t0 = performance.now();
        (function check() {
            const m = performance.getEntriesByName('slad-board-rendered');
            if (m.length) {
                const res = performance.getEntriesByType('resource');
                const dur = (part) => { const e = res.find(r => r.name.includes(part)); return e ? e.duration : null; };
                done([m[0].startTime, dur('/v1/tickets?'), dur('/v1/summary'),
                      document.querySelectorAll('[data-ticket-id]').length]);
            } else if (performance.now() - t0 > 5000) {
                done(null);
            } else {
                setTimeout(check, 20);
            }
        })();
    """)
    if not got:
        raise SystemExit("bench-board-browser: the board did not render within 5 s")
    return got


def main():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("bench-board-browser: chromium and chromium-driver are needed (scripts/install-deps.sh)")
        return 77
    top = tempfile.mkdtemp(prefix="bench-board-")
    daemons = {}
    drv = None
    try:
        # Two loopback addresses: a browser's cookies ignore the port, so two daemons on one
        # host would sign each other's session out.
        for name, count, host in (("empty", 0, "127.0.0.1"), ("full", TICKETS, "127.0.0.2")):
            d = os.path.join(top, name)
            os.mkdir(d)
            daemons[name] = start(d, host, free_tcp_port())
            if count:
                secs = fill(daemons[name], count)
                print(f"bench-board-browser: {count} open tickets posted in {secs:.1f} s")
        drv = browser()
        for d in daemons.values():
            sign_in(drv, d.base)
        results = {name: [] for name in daemons}
        for _ in range(2):  # warm the browser's and the daemons' caches
            for name, d in daemons.items():
                load(drv, d.base)
        for _ in range(RUNS):
            for name, d in daemons.items():
                results[name].append(load(drv, d.base))
        print(f"\nbench-board-browser: {RUNS} loads each, chromium headless, 1280 px, 2 cores")
        print(f"{'board':28} {'rendered ms':>12} {'min':>7} {'p90':>7} {'tickets req ms':>15} {'summary req ms':>15} {'shown':>6}")
        med = {}
        for name, rows in results.items():
            rendered = sorted(r[0] for r in rows)
            med[name] = statistics.median(rendered)
            p90 = rendered[int(0.9 * (len(rendered) - 1))]
            label = "baseline: empty board" if name == "empty" else f"{TICKETS} open tickets"
            print(f"{label:28} {med[name]:12.1f} {rendered[0]:7.1f} {p90:7.1f} "
                  f"{statistics.median(r[1] for r in rows):15.1f} {statistics.median(r[2] for r in rows):15.1f} "
                  f"{rows[0][3]:6d}")
        print(f"ratio full / empty: {med['full'] / med['empty']:.2f}x; goal < {GOAL_MS:.0f} ms: "
              f"{'met' if med['full'] < GOAL_MS else 'NOT met'}")
        return 0 if med["full"] < GOAL_MS else 1
    finally:
        if drv:
            drv.quit()
        for d in daemons.values():
            d.stop()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
