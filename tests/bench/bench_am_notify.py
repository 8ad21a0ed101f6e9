"""bench-am-notify: issue 16 goal 1's second half, "Alertmanager doing the equivalent job,
one notification per alert (group_by: ['...'], group_wait: 0s, a webhook receiver): slad
>= 10x that", beside slad in the same run.

Every figure sends as many one-item requests as it can for BENCH_SECONDS over 16 keep-alive
connections (as bench-intake's Alertmanager row does), then waits for the C webhook receiver
(hook_receiver.c, which counts requests) to have every notification. The rate is items whose
notification reached the receiver per second, from the first request sent to the last
notification received; the intake rate alone is printed beside it.

- am: Alertmanager 0.25, each alert its own group (`group_by: ['...']`, `group_wait: 0s`),
  one webhook per group to the receiver, driven by wrk over TCP (tests/bench/intake.lua,
  a unique label per alert); beside it bench-intake's Alertmanager (a null receiver), its
  intake alone.
- slad notify: durable (`synchronous = "full"`) tickets whose policy's only step is due at
  creation (`at = "0%"`) and notifies a webhook channel (concurrency 16) pointing at the same
  receiver; driven by wrk over TCP (with the token) and by intake_client over the Unix socket.
- slad intake: the same durable tickets with no step due (bench-intake's policy), for the
  intake rate alone.

The CPU column is the server's CPU time per item (intake and delivery together; from
/proc), steadier than the rates on a shared machine. Rounds are interleaved, each figure on a fresh database; the ratio is computed per round and
its median printed with its range. Environment: SLAD_BIN, INTAKE_CLIENT, HOOK_RECEIVER (set
by meson), BENCH_ROUNDS (3), BENCH_SECONDS (5). Run by `make bench` only."""

import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_intake import (ALERTMANAGER, TOKEN, Alertmanager, Slad, cpu_us,  # noqa: E402
                          intake_client, wrk)
from bench_notify import Receiver  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
DRAIN_TIMEOUT = 600  # seconds without a new notification before a figure is given up

# One group per alert, flushed at once; resolved alerts are not sent again.
AM_CONF = """route:
  receiver: hook
  group_by: ['...']
  group_wait: 0s
  group_interval: 1h
  repeat_interval: 1000h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:@PORT@/hook
        send_resolved: false
"""

# bench-intake's daemon with a webhook channel, and a policy whose one step is due at creation.
SLAD_NOTIFY_CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           tcp = "127.0.0.1:@PORT@"; token_file = "@DIR@/token";
           synchronous = "full"; log_level = "notice"; language = "en";
           max_connections = 256; };
contacts = ( );
teams = ( { name = "north"; channel = "hook"; roles = { }; } );
channels = ( { name = "hook"; type = "webhook"; url = "http://127.0.0.1:@HOOK@/hook";
               secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"; concurrency = 16; } );
policies = ( { name = "standard"; match = { }; calendar = "24x7";
  clocks = ( { name = "response"; target = "4h"; stop = ["resolve"];
               escalate = ( { at = "0%"; notify = ["channel:hook"]; } ); } ); } );
"""


def drain(receiver, expected, t0):
    """Waits for expected notifications at the receiver; (received, seconds from t0 to the
    last one)."""
    got, last, idle_since = 0, t0, time.monotonic()
    while got < expected and time.monotonic() - idle_since < DRAIN_TIMEOUT:
        time.sleep(0.05)
        count, _, last_at = receiver.stat()
        if count != got:
            got, last, idle_since = count, last_at, time.monotonic()
    return got, last - t0


def notified(receiver, pid, send):
    """send() posts the items (a key=value result); the figure with the notifications, and
    the server's (pid) CPU time per item notified, intake and delivery together."""
    receiver.command("reset")
    cpu0 = cpu_us(pid)
    t0 = time.monotonic()  # CLOCK_MONOTONIC, as the receiver's stamps
    result = send()
    got, seconds = drain(receiver, int(result["requests"]), t0)
    result.update(notified=got, notify_seconds=seconds,
                  cpu_us=(cpu_us(pid) - cpu0) / max(got, 1),
                  notify_rate=got / seconds if seconds > 0 else 0.0,
                  duplicates=receiver.duplicates)
    return result


def slad_notify(hook_port):
    """bench-intake's Slad, durable, with SLAD_NOTIFY_CONF (its webhook at hook_port)."""
    return Slad("full", conf=SLAD_NOTIFY_CONF.replace("@HOOK@", str(hook_port)))


def main():
    if not os.access(ALERTMANAGER, os.X_OK) or shutil.which("wrk") is None:
        print("bench-am-notify: prometheus-alertmanager or wrk is missing "
              "(scripts/install-deps.sh --bench); skipped")
        return 77
    receiver = Receiver()
    print(f"bench-am-notify: {ROUNDS} rounds of {SECONDS:g} s of requests per figure, 16 "
          f"keep-alive connections, {os.cpu_count()} cores; the rate is items notified at the "
          "C receiver per second, first request to last notification")
    rounds = []
    ok = True
    for i in range(ROUNDS):
        r = {}
        am = Alertmanager(AM_CONF.replace("@PORT@", str(receiver.port)))
        try:
            r["am"] = notified(receiver, am.proc.pid,
                               lambda: wrk(am.url, f"a{i}", "alert"))
        finally:
            am.close()
        am = Alertmanager()  # bench-intake's: a null receiver, no notification
        try:
            cpu0 = cpu_us(am.proc.pid)
            r["am_intake"] = wrk(am.url, f"n{i}", "alert")
            r["am_intake"]["cpu_us"] = (cpu_us(am.proc.pid) - cpu0) / r["am_intake"]["requests"]
        finally:
            am.close()
        s = slad_notify(receiver.port)
        try:
            r["notify_wrk"] = notified(receiver, s.daemon.proc.pid,
                                       lambda: wrk(s.url, f"w{i}", "ticket", TOKEN))
        finally:
            s.close()
        s = slad_notify(receiver.port)
        try:
            r["notify_unix"] = notified(receiver, s.daemon.proc.pid,
                                        lambda: intake_client(s.unix, f"u{i}"))
        finally:
            s.close()
        for key, argv in (("intake_wrk", "wrk"), ("intake_unix", "unix")):
            s = Slad("full")
            try:
                cpu0 = cpu_us(s.daemon.proc.pid)
                r[key] = (wrk(s.url, f"i{i}", "ticket", TOKEN) if argv == "wrk"
                          else intake_client(s.unix, f"j{i}"))
                r[key]["cpu_us"] = (cpu_us(s.daemon.proc.pid) - cpu0) / r[key]["requests"]
            finally:
                s.close()
        rounds.append(r)
        for key, v in r.items():
            if "notified" in v:
                ok = ok and v["notified"] >= v["requests"] and not v["duplicates"]
        print(f"  round {i + 1} (load {os.getloadavg()[0]:.1f}): "
              + "  ".join(f"{k} {v['rate']:.0f}/s" + (
                  f" -> {v['notified']:.0f}/{v['requests']:.0f} notified in "
                  f"{v['notify_seconds']:.2f} s = {v['notify_rate']:.0f}/s, "
                  f"{v['duplicates']} dup" if "notified" in v else "")
                  + f", CPU {v['cpu_us']:.0f} us"
                  for k, v in r.items()), flush=True)

    def ratio(key, field, base, base_field):
        rs = [x[key][field] / x[base][base_field] for x in rounds if x[base][base_field]]
        return f"{statistics.median(rs):.2f}x ({min(rs):.2f}-{max(rs):.2f})"

    print()
    print(f"{'median of rounds':<40} {'intake/s':>9} {'notified/s':>11}  "
          "CPU us  notified ratio vs am, median (range)")
    for key, name in (("am", "Alertmanager, one webhook per alert, wrk"),
                      ("am_intake", "Alertmanager intake alone (null), wrk"),
                      ("notify_wrk", "slad durable + webhook, wrk TCP"),
                      ("notify_unix", "slad durable + webhook, C client Unix"),
                      ("intake_wrk", "slad durable intake alone, wrk TCP"),
                      ("intake_unix", "slad durable intake alone, Unix")):
        rate = statistics.median(x[key]["rate"] for x in rounds)
        cpu = statistics.median(x[key]["cpu_us"] for x in rounds)
        line = f"{name:<40} {rate:>9.0f}"
        if "notified" in rounds[0][key]:
            nr = statistics.median(x[key]["notify_rate"] for x in rounds)
            line += f" {nr:>11.0f} {cpu:>7.0f}"
            if key != "am":
                line += "  " + ratio(key, "notify_rate", "am", "notify_rate")
        else:
            line += f" {'':>11} {cpu:>7.0f}  intake " + ratio(key, "rate", "am", "notify_rate")
        print(line)
    m = statistics.median(x["notify_wrk"]["notify_rate"] / x["am"]["notify_rate"]
                          for x in rounds)
    print(f"\ngoal: slad durable + notification >= 10x Alertmanager's notified rate (wrk TCP)"
          f" {m:.2f}x  {'MET' if m >= 10 else 'MISSED'}")
    receiver.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
