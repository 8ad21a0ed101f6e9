"""bench-step-instructions: the instructions a burst step costs slad, counted by valgrind's
callgrind (the same on a loaded machine as on a quiet one, unlike a time). Run by `make
bench` only.

bench_populate fills a database with BENCH_STEPS (1000) tickets whose response step falls
due at one instant (as bench-timers' burst, on its CONF); slad starts under callgrind,
collecting inside service_fire_due (loading each ticket, the lifecycle, writing the ticket,
its clocks, history and outbox rows, the payloads) and batch_commit (the commits); once every
step's notification is queued slad stops. Prints instructions per step for SLAD_BIN and, when
SLAD_BIN_BEFORE names another build, for it too and the ratio. BENCH_CALLGRIND_DIR keeps the
callgrind files there (for callgrind_annotate --inclusive=yes)."""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = int(os.environ.get("BENCH_STEPS", "1000"))
POPULATE = os.environ["BENCH_POPULATE"]
KEEP = os.environ.get("BENCH_CALLGRIND_DIR")
TARGET_MS = 30 * 86400 * 1000  # the response target of bench_timers' CONF


def conf_text(d):
    with open(os.path.join(HERE, "bench_timers.py"), encoding="utf-8") as f:
        src = f.read()
    return re.search(r'CONF = """(.*?)"""', src, re.S).group(1).replace("@DIR@", d)


def instructions(slad, label):
    d = tempfile.mkdtemp(prefix="bench-steps-")
    try:
        conf = os.path.join(d, "slad.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(conf_text(d))
        # Far enough ahead for slad to start under valgrind.
        due = int(time.time() * 1000) + 25000
        subprocess.run([POPULATE, conf, os.path.join(d, "slad.db"), str(STEPS), str(due), "0",
                        str(TARGET_MS)], check=True, capture_output=True)
        out = os.path.join(d, "callgrind.out")
        with open(os.path.join(d, "slad.log"), "w", encoding="utf-8") as log:
            proc = subprocess.Popen(
                ["valgrind", "--tool=callgrind", "--toggle-collect=service_fire_due",
                 "--toggle-collect=batch_commit", f"--callgrind-out-file={out}", slad,
                 "--config", conf], stdout=subprocess.DEVNULL, stderr=log, cwd=d)
        db = sqlite3.connect(os.path.join(d, "slad.db"), timeout=10)
        queued, deadline = 0, time.time() + 600
        while time.time() < deadline and proc.poll() is None:
            time.sleep(1)
            try:
                queued = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
            except sqlite3.OperationalError:
                continue
            if queued >= STEPS and time.time() * 1000 > due:
                break
        db.close()
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)
        if queued < STEPS:
            raise RuntimeError(f"{label}: only {queued} of {STEPS} steps queued a notification")
        total = None
        with open(out, encoding="utf-8") as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    total = int(line.split()[1])
        if KEEP:
            os.makedirs(KEEP, exist_ok=True)
            shutil.copy(out, os.path.join(KEEP, f"callgrind-{label}.out"))
        return total / STEPS
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    if not shutil.which("valgrind"):
        print("bench-step-instructions: valgrind is not installed; skipped")
        return 77
    builds = [("slad", os.environ["SLAD_BIN"])]
    if os.environ.get("SLAD_BIN_BEFORE"):
        builds.insert(0, ("before", os.environ["SLAD_BIN_BEFORE"]))
    per = {}
    for label, binary in builds:
        per[label] = instructions(binary, label)
        print(f"{label}: {per[label]:,.0f} instructions per burst step ({STEPS} steps)")
    if "before" in per:
        print(f"ratio slad / before: {per['slad'] / per['before']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
