"""bench-notify: notifications delivered per second to a loopback webhook receiver, printed
beside the receiver's own capacity measured in the same run.

The receiver is hook_receiver (C, epoll, one core at most; it counts requests by their
Idempotency-Key and reports duplicates). Phase 1 queues N notifications with the channel
limited to 1 an hour (N tickets reported in the past, posted by intake_client from a request
template over the Unix socket: their first step is due at creation); the
one delivery the limit lets through is saved as it came, and intake_client replays that
request (same headers, same body, a new key each time) over as many keep-alive connections as
the channel's concurrency: the receiver's capacity for slad's own request. Phase 2 restarts
slad on a copy of the queued database with the limit gone and times the delivery of all of
them, from the first answered delivery to the last, and slad's CPU time for them (steadier
than the rate on a loaded machine).

SLAD_BASELINE_BIN (optional): an older slad binary run on its own copy of the same queue,
alternating with SLAD_BIN for BENCH_ROUNDS rounds, so that a change is measured beside its
baseline under the same load. BENCH_CALLGRIND=1 (optional) runs each slad under valgrind's
callgrind and prints the instructions it executed per delivery: a figure the machine's load
does not move (valgrind's slowness changes the batching a little). Run by `make bench` only."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from conftest import Daemon  # noqa: E402

N = int(os.environ.get("BENCH_NOTIFICATIONS", "2000"))
CONCURRENCY = 16
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))
CALLGRIND = os.environ.get("BENCH_CALLGRIND") == "1"

CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           synchronous = "normal"; log_level = "notice"; language = "en"; };
contacts = ( );
teams = ( { name = "north"; channel = "hook"; roles = { }; } );
channels = ( { name = "hook"; type = "webhook"; url = "http://127.0.0.1:@PORT@/hook";
               secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"; concurrency = @CONC@; @RATE@ } );
policies = ( { name = "p"; match = { }; calendar = "24x7";
  clocks = ( { name = "response"; target = "1h"; stop = ["resolve"];
               escalate = ( { at = "100%"; notify = ["channel:hook"]; } ); } ); } );
"""


class Receiver:
    """hook_receiver as a child process, driven over its stdin."""

    def __init__(self):
        self.proc = subprocess.Popen([os.environ["HOOK_RECEIVER"]], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().split("=")[1])

    def command(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def stat(self):
        self.command("stat")
        fields = dict(f.split("=") for f in self.proc.stdout.readline().split())
        self.connections = int(fields["connections"])
        self.keys = int(fields["keys"])
        self.duplicates = int(fields["duplicates"])
        return int(fields["count"]), int(fields["first_ns"]) / 1e9, int(fields["last_ns"]) / 1e9

    def save(self, path):
        """The first request since the last reset, as it came, into path."""
        self.command(f"save {path}")
        return int(self.proc.stdout.readline().split("=")[1])

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def cpu_seconds(pid):
    """User and system CPU of a process so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def receiver_capacity(port, total, template):
    """Requests per second the receiver answers to intake_client's keep-alive connections,
    each request slad's webhook as saved in template."""
    out = subprocess.run([os.environ["INTAKE_CLIENT"], "--tcp", f"127.0.0.1:{port}",
                          "--connections", str(CONCURRENCY), "--requests", str(total),
                          "--seconds", "60", "--template", template],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    return float(re.search(r"rate=([0-9.]+)", out).group(1))


def write_conf(d, directory, port, rate):
    text = (CONF.replace("@DIR@", directory).replace("@PORT@", str(port))
            .replace("@CONC@", str(CONCURRENCY)).replace("@RATE@", rate))
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(text)


def post_tickets(socket_path, template):
    """N tickets reported two hours ago, posted by intake_client over 16 keep-alive
    connections (a million one at a time from python would take most of an hour)."""
    past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
    body = json.dumps({"title": "t", "severity": 2, "team": "north", "reported_at": past})
    with open(template, "w", encoding="ascii", newline="") as f:
        f.write("POST /v1/tickets HTTP/1.1\r\nHost: slad\r\nContent-Type: application/json\r\n"
                f"Idempotency-Key: queue-000000000000\r\nContent-Length: {len(body)}\r\n\r\n"
                + body)
    argv = [os.environ["INTAKE_CLIENT"], "--unix", socket_path, "--connections",
            str(CONCURRENCY), "--requests", str(N), "--seconds", str(max(60, N // 100)),
            "--template", template]
    out = subprocess.run(argv, check=True, capture_output=True, text=True,
                         timeout=max(120, N // 50)).stdout
    fields = dict(f.split("=") for f in out.split())
    assert int(fields["requests"]) == N and int(fields["errors"]) == 0, out


def queue(binary, directory, receiver):
    """N notifications queued behind the rate limit in directory's database by binary (the
    baseline when there is one: each build then upgrades its copy as it would in place); the
    one the limit let through is saved as the request template."""
    os.environ["SLAD_BIN"] = binary
    d = Daemon(directory)
    write_conf(d, directory, receiver.port, 'rate = "1/h";')
    d.start()
    post_tickets(os.path.join(directory, "slad.sock"), os.path.join(directory, "ticket.http"))
    deadline = time.monotonic() + 30
    while receiver.stat()[0] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    d.stop()
    template = os.path.join(directory, "webhook.http")
    assert receiver.save(template) > 0, "no delivery got through the rate limit"
    return template


def deliver(binary, queued, directory, receiver):
    """slad (binary) delivering the queue copied from queued: a dict of figures."""
    for name in os.listdir(queued):
        if name.startswith("slad.db"):
            shutil.copy(os.path.join(queued, name), directory)
    out = os.path.join(directory, "callgrind.out")
    if CALLGRIND:
        wrapper = os.path.join(directory, "slad-callgrind")
        with open(wrapper, "w", encoding="utf-8") as f:
            f.write(f"#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file={out} "
                    f"{binary} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        binary = wrapper
    os.environ["SLAD_BIN"] = binary
    d = Daemon(directory)
    write_conf(d, directory, receiver.port, "")
    receiver.command("reset")
    d.start()
    if CALLGRIND:  # count from here: start-up is not delivery
        subprocess.run(["callgrind_control", "-z", str(d.proc.pid)], check=True,
                       capture_output=True)
    cpu0 = cpu_seconds(d.proc.pid)
    deadline = time.monotonic() + 600
    got, first, last = 0, 0.0, 0.0
    while got < N - 1 and time.monotonic() < deadline:
        time.sleep(0.05)
        got, first, last = receiver.stat()
    cpu = cpu_seconds(d.proc.pid) - cpu0
    instructions = 0
    if CALLGRIND:
        subprocess.run(["callgrind_control", "-d", str(d.proc.pid)], check=True,
                       capture_output=True)
        for name in os.listdir(directory):
            if name.startswith("callgrind.out."):
                with open(os.path.join(directory, name), encoding="utf-8") as f:
                    for line in f:
                        if line.startswith(("summary:", "totals:")):
                            instructions = max(instructions, int(line.split()[1]))
    d.stop()
    # From the first delivery to the last: start-up is not delivery.
    rate = (got - 1) / (last - first) if last > first else 0.0
    return {"got": got, "seconds": last - first, "rate": rate, "cpu_us": cpu * 1e6 / max(got, 1),
            "connections": receiver.connections, "keys": receiver.keys,
            "duplicates": receiver.duplicates, "instructions": instructions / max(got, 1)}


def main():
    receiver = Receiver()
    binaries = [("slad", os.environ["SLAD_BIN"])]
    if os.environ.get("SLAD_BASELINE_BIN"):
        binaries.insert(0, ("baseline", os.environ["SLAD_BASELINE_BIN"]))
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        queued = os.path.join(tmp, "queued")
        os.mkdir(queued)
        template = queue(binaries[0][1], queued, receiver)
        # The receiver's capacity, twice the notifications (at most 400,000: about 10 s) so
        # that start-up is a small part.
        capacity = receiver_capacity(receiver.port, min(2 * N, 400000), template)
        print(f"bench-notify: the C receiver answers {capacity:.0f} webhook requests/s from "
              f"{CONCURRENCY} keep-alive connections (slad's request replayed, "
              f"{os.path.getsize(template)} bytes); load average {os.getloadavg()[0]:.2f}")
        for rnd in range(ROUNDS):
            for label, binary in binaries:
                run = os.path.join(tmp, f"{label}-{rnd}")
                os.mkdir(run)
                f = deliver(binary, queued, run, receiver)
                shutil.rmtree(run)
                print(f"bench-notify: {label}: {f['got']} webhook deliveries in "
                      f"{f['seconds']:.2f} s = {f['rate']:.0f}/s, {f['rate'] / capacity:.2f}x "
                      f"the receiver's capacity; slad's CPU {f['cpu_us']:.0f} us a delivery; "
                      f"concurrency {CONCURRENCY}, {f['connections']} connections, "
                      f"{f['keys']} keys, {f['duplicates']} duplicates; "
                      + (f"{f['instructions'] / 1e3:.0f}k instructions a delivery; "
                         if CALLGRIND else "") + "load average "
                      f"{os.getloadavg()[0]:.2f}", flush=True)
                ok = ok and f["got"] >= N - 1 and f["duplicates"] == 0
    receiver.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
