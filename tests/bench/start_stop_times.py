#!/usr/bin/python3
"""slad's start and stop, several builds side by side (doc/PERFORMANCE.md, "No test slower
than before"): what an integration test pays for each daemon it starts.

For each build, in turn, each round: a start on a new database and one on the database it
left, each timed from the spawn to the first `/healthz` 200 over the Unix socket (polled
every 1 ms), the CPU of every thread of slad at that moment (/proc/PID/task/*/schedstat,
which a loaded machine moves far less than the wall time), its thread count, then SIGTERM
to its exit. Prints the median of each figure per build and its ratio to the first build.

    start_stop_times.py ROUNDS NAME=SLAD:CONFIG_TEMPLATE [NAME=SLAD:CONFIG_TEMPLATE ...]
    start_stop_times.py 30 before=../base/build/daemon/slad:../base/tests/integration/data/fast.conf \\
        after=build/daemon/slad:tests/integration/data/fast.conf

CONFIG_TEMPLATE is an integration config (@DIR@ replaced by a new temporary folder,
@DAEMON@ by nothing): each build with its own, since the config's format may differ."""

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
START_TIMEOUT_S = 30


def healthy(sock_path):
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(1)
            s.connect(sock_path)
            s.sendall(HEALTHZ)
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def cpu_ms(pid):
    """CPU time of every thread of pid so far, in ms."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # the thread ended meanwhile
    return total / 1e6


def start_and_stop(slad, conf, folder):
    """One start and stop: wall to the first 200, CPU then, threads then, wall of the stop."""
    with open(os.path.join(folder, "slad.log"), "ab") as log:
        t0 = time.monotonic()
        p = subprocess.Popen([slad, "--config", conf], stdout=log, stderr=log)
        sock = os.path.join(folder, "slad.sock")
        while not healthy(sock):
            if p.poll() is not None or time.monotonic() - t0 > START_TIMEOUT_S:
                p.kill()
                sys.exit(f"slad did not start (see {folder}/slad.log)")
            time.sleep(0.001)
        figures = {"wall to the first 200": (time.monotonic() - t0) * 1000,
                   "CPU to the first 200": cpu_ms(p.pid),
                   "threads": len(os.listdir(f"/proc/{p.pid}/task"))}
        t1 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        if p.wait() != 0:
            sys.exit(f"slad exited with {p.returncode} (see {folder}/slad.log)")
        figures["stop"] = (time.monotonic() - t1) * 1000
        return figures


def main(argv):
    if len(argv) < 3 or not argv[1].isdigit() or any("=" not in a for a in argv[2:]):
        sys.exit(__doc__)
    rounds = int(argv[1])
    builds = []
    for arg in argv[2:]:
        name, spec = arg.split("=", 1)
        slad, template = (os.path.abspath(x) for x in spec.split(":", 1))
        builds.append((name, slad, template))
    figures = {}
    for _ in range(rounds):
        for name, slad, template in builds:
            with tempfile.TemporaryDirectory(prefix="slad-start-") as folder:
                conf = os.path.join(folder, "slad.conf")
                with open(template, encoding="utf-8") as f:
                    text = f.read().replace("@DIR@", folder).replace("@DAEMON@", "")
                with open(conf, "w", encoding="utf-8") as f:
                    f.write(text)
                for database in ("new", "existing"):
                    for key, value in start_and_stop(slad, conf, folder).items():
                        figures.setdefault((database, key, name), []).append(value)
    names = [b[0] for b in builds]
    print(f"median of {rounds} rounds (ms; threads: a count), ratio to {names[0]}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'':40s}" + "".join(f"{n:>10s}" for n in names)
          + "".join(f"{n + '/' + names[0]:>16s}" for n in names[1:]))
    for database in ("new", "existing"):
        for key in ("CPU to the first 200", "wall to the first 200", "stop", "threads"):
            medians = [statistics.median(figures[(database, key, n)]) for n in names]
            print(f"{database + ' database: ' + key:40s}"
                  + "".join(f"{m:10.1f}" for m in medians)
                  + "".join(f"{m / medians[0]:16.2f}" for m in medians[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
