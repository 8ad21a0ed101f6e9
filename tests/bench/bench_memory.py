"""bench-memory: the figures behind MemoryMax= and TasksMax= of systemd/slad.service.in.

In one run, beside slad on an empty database (the baseline):
  1. resident memory with N open tickets (BENCH_MEMORY_TICKETS, default 1,000,000; filled
     by bench_populate through the service layer);
  2. the peak with C clients (BENCH_MEMORY_CLIENTS, default 256) each holding a request
     whose body is max_body (1 MiB) less one byte: the most a connection can make slad
     buffer; the slope per connection times 2 x max_connections (both listeners) is the
     worst case the limits allow;
  3. the threads: the loop's own, plus libcurl's resolver threads while a webhook channel
     of concurrency 16 addressed by host name delivers 400 notifications.
Prints one table and the unit values it implies. Run by `make bench` only."""

import http.server
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from conftest import Daemon  # noqa: E402

TICKETS = int(os.environ.get("BENCH_MEMORY_TICKETS", "1000000"))
CLIENTS = int(os.environ.get("BENCH_MEMORY_CLIENTS", "256"))
POPULATE = os.environ["BENCH_POPULATE"]
MAX_BODY = 1 << 20
MAX_CONNECTIONS = 1024  # the default, per listener
NOTIFICATIONS = 400
CONCURRENCY = 16

CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           synchronous = "full"; log_level = "notice"; language = "en";
           max_body = 1048576; max_connections = 1024; };
contacts = ( { name = "sup"; phone = "+8613800000001"; via = ["log"]; } );
teams = ( { name = "north"; roles = { supervisor = ["sup"]; }; } );
channels = ( { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; } );
policies = ( { name = "bench"; match = { }; calendar = "24x7";
  clocks = ( { name = "response"; target = "30d"; stop = ["acknowledge", "resolve"];
               escalate = ( { at = "100%"; notify = ["supervisor"]; } ); },
             { name = "resolution"; target = "60d"; stop = ["resolve"];
               escalate = ( { at = "100%"; notify = ["supervisor"]; } ); } ); } );
"""

HOOK_CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           synchronous = "normal"; log_level = "notice"; language = "en"; };
contacts = ( );
teams = ( { name = "north"; channel = "hook"; roles = { }; } );
channels = ( { name = "hook"; type = "webhook"; url = "http://localhost:@PORT@/hook";
               secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"; concurrency = 16; } );
policies = ( { name = "p"; match = { }; calendar = "24x7";
  clocks = ( { name = "response"; target = "1h"; stop = ["resolve"];
               escalate = ( { at = "100%"; notify = ["channel:hook"]; } ); } ); } );
"""


def status_field(pid, name):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {name}")


def start(tmp, conf):
    d = Daemon(tmp)
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(conf.replace("@DIR@", tmp))
    d.start()
    time.sleep(0.5)
    d.client.get("/healthz")
    return d


def held_uploads(d, n):
    """n connections, each with a max_body request short of its last byte."""
    socks = []
    head = (b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % MAX_BODY)
    chunk = b" " * (MAX_BODY - 1)
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.socket_path)
        s.sendall(head + chunk)
        socks.append(s)
    time.sleep(1.0)
    d.client.get("/healthz")
    return socks


class Hook(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        time.sleep(0.02)  # deliveries overlap, as with a real receiver
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")  # every delivery resolves the name again
        self.end_headers()
        Hook.count += 1

    def log_message(self, *args):
        pass


def peak_threads():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        d = start(tmp, HOOK_CONF.replace("@PORT@", str(srv.server_address[1])))
        quiet = status_field(d.proc.pid, "Threads")
        past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
        for i in range(NOTIFICATIONS):
            d.client.post("/v1/tickets", {"title": f"t{i}", "severity": 2, "team": "north",
                                          "reported_at": past})
        peak = quiet
        deadline = time.monotonic() + 120
        while Hook.count < NOTIFICATIONS and time.monotonic() < deadline:
            peak = max(peak, status_field(d.proc.pid, "Threads"))
            time.sleep(0.002)
        d.stop()
    srv.shutdown()
    return quiet, peak


def main():
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        d = start(tmp, CONF)
        empty_kb = status_field(d.proc.pid, "VmRSS")
        d.stop()
        os.remove(d.db_path)
        conf_path = d.conf_path
        t0 = time.monotonic()
        subprocess.run([POPULATE, conf_path, d.db_path, str(TICKETS),
                        str(int(time.time() * 1000) + 86400000), "86400000",
                        str(30 * 86400 * 1000)], check=True, stdout=subprocess.DEVNULL)
        populate_s = time.monotonic() - t0
        d = start(tmp, CONF)
        tickets_kb = status_field(d.proc.pid, "VmRSS")
        socks = held_uploads(d, CLIENTS)
        uploads_kb = status_field(d.proc.pid, "VmRSS")
        hwm_kb = status_field(d.proc.pid, "VmHWM")
        for s in socks:
            s.close()
        d.stop()
    quiet, peak = peak_threads()

    per_conn_kb = (uploads_kb - tickets_kb) / CLIENTS
    worst_mb = (tickets_kb + per_conn_kb * 2 * MAX_CONNECTIONS) / 1024
    print(f"populated {TICKETS} tickets in {populate_s:.0f} s")
    print(f"{'figure':58} {'slad':>10} {'baseline':>10} {'ratio':>7}")
    print(f"{'RSS, empty database (the baseline), MiB':58} {empty_kb / 1024:10.1f} "
          f"{empty_kb / 1024:10.1f} {1.0:7.2f}")
    print(f"{f'RSS with {TICKETS} open tickets, MiB':58} {tickets_kb / 1024:10.1f} "
          f"{empty_kb / 1024:10.1f} {tickets_kb / empty_kb:7.2f}")
    print(f"{f'RSS with {CLIENTS} held 1 MiB uploads on top, MiB':58} {uploads_kb / 1024:10.1f} "
          f"{empty_kb / 1024:10.1f} {uploads_kb / empty_kb:7.2f}")
    print(f"{'peak RSS (VmHWM), MiB':58} {hwm_kb / 1024:10.1f}")
    print(f"{'RSS per held upload, KiB':58} {per_conn_kb:10.0f} {MAX_BODY / 1024:10.0f} "
          f"{per_conn_kb * 1024 / MAX_BODY:7.2f}")
    print(f"{'threads quiet / peak while delivering (concurrency 16)':58} {quiet:5d} / {peak:3d}")
    print(f"worst case the defaults allow (tickets + 2 x {MAX_CONNECTIONS} uploads): "
          f"{worst_mb:.0f} MiB")


if __name__ == "__main__":
    main()
