"""bench-notify: notifications delivered per second to a loopback webhook receiver, printed
beside the receiver's own capacity measured in the same run.

The receiver is hook_receiver (C, epoll, one core at most); its capacity is what intake_client
gets from it with as many keep-alive connections as the channel's concurrency, each request a
webhook-sized body. Phase 1 queues N notifications with the channel limited to 1 an hour
(tickets reported in the past: their first step is due at creation); phase 2 restarts slad
with the limit gone and times the delivery of all of them, from the first answered delivery
to the last, and slad's CPU time for them (steadier than the rate on a loaded machine). Run
by `make bench` only."""

import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from conftest import Daemon  # noqa: E402

N = int(os.environ.get("BENCH_NOTIFICATIONS", "2000"))
CONCURRENCY = 16

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
        return int(fields["count"]), int(fields["first_ns"]) / 1e9, int(fields["last_ns"]) / 1e9

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def cpu_seconds(pid):
    """User and system CPU of a process so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def receiver_capacity(port, total):
    """Requests per second the receiver answers to intake_client's keep-alive connections."""
    out = subprocess.run([os.environ["INTAKE_CLIENT"], "--tcp", f"127.0.0.1:{port}",
                          "--connections", str(CONCURRENCY), "--requests", str(total),
                          "--seconds", "60"],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    return float(re.search(r"rate=([0-9.]+)", out).group(1))


def main():
    receiver = Receiver()
    port = receiver.port
    # The receiver's capacity, twice the notifications so that start-up is a small part.
    capacity = receiver_capacity(port, 2 * N)

    with tempfile.TemporaryDirectory() as tmp:
        d = Daemon(tmp)

        def write(rate):
            text = (CONF.replace("@DIR@", tmp).replace("@PORT@", str(port))
                    .replace("@CONC@", str(CONCURRENCY)).replace("@RATE@", rate))
            with open(d.conf_path, "w", encoding="utf-8") as f:
                f.write(text)

        write('rate = "1/h";')
        d.start()
        past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
        for i in range(N):
            r = d.client.post("/v1/tickets", {"title": f"t{i}", "severity": 2, "team": "north",
                                              "reported_at": past})
            assert r.status == 201, r
        d.stop()
        receiver.command("reset")
        write("")
        d.start()
        cpu0 = cpu_seconds(d.proc.pid)
        deadline = time.monotonic() + 600
        got = 0
        while got < N - 1 and time.monotonic() < deadline:
            time.sleep(0.05)
            got, first, last = receiver.stat()
        cpu = cpu_seconds(d.proc.pid) - cpu0
        d.stop()
    receiver.close()
    # From the first delivery to the last: start-up is not delivery.
    rate = (got - 1) / (last - first) if last > first else 0.0
    print(f"bench-notify: {got} webhook deliveries in {last - first:.2f} s = {rate:.0f}/s, "
          f"{rate / capacity:.2f}x the C receiver's capacity in this run ({capacity:.0f}/s with "
          f"{CONCURRENCY} keep-alive connections; slad concurrency {CONCURRENCY}, "
          f"{receiver.connections} connections); slad's CPU: {cpu * 1e6 / max(got, 1):.0f} us "
          f"a delivery")
    return 0 if got >= N - 1 else 1


if __name__ == "__main__":
    sys.exit(main())
