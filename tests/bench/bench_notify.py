"""bench-notify: notifications delivered per second to a loopback webhook receiver, printed
beside the receiver's own capacity measured in the same run (python http.client with
keep-alive, as many threads as the channel's concurrency).

Phase 1 queues N notifications with the channel limited to 1 an hour (tickets reported in
the past: their first step is due at creation); phase 2 restarts slad with the limit gone
and times the delivery of all of them. Run by `make bench` only."""

import http.client
import http.server
import os
import sys
import tempfile
import threading
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


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    first = 0.0
    last = 0.0
    lock = threading.Lock()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        with Handler.lock:
            Handler.count += 1
            Handler.last = time.monotonic()
            if Handler.count == 1:
                Handler.first = Handler.last

    def log_message(self, *args):
        pass


def receiver_capacity(port, total):
    """Requests per second the receiver answers to keep-alive python clients."""
    def worker(n):
        c = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(n):
            c.request("POST", "/hook", body=b'{"x":1}', headers={"Content-Type": "application/json"})
            c.getresponse().read()
        c.close()
    per = total // CONCURRENCY
    threads = [threading.Thread(target=worker, args=(per,)) for _ in range(CONCURRENCY)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per * CONCURRENCY / (time.monotonic() - t0)


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    capacity = receiver_capacity(port, N)

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
        with Handler.lock:
            Handler.count = 0
        write("")
        t0 = time.monotonic()
        d.start()
        deadline = t0 + 600
        while Handler.count < N - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        with Handler.lock:
            got, first, last = Handler.count, Handler.first, Handler.last
        d.stop()
    # From the first delivery to the last: start-up is not delivery.
    rate = (got - 1) / (last - first) if last > first else 0.0
    print(f"bench-notify: {got} webhook deliveries in {last - first:.2f} s = {rate:.0f}/s "
          f"(receiver capacity in this run: {capacity:.0f}/s with {CONCURRENCY} keep-alive "
          f"clients; slad concurrency {CONCURRENCY})")
    server.shutdown()
    return 0 if got >= N - 1 else 1


if __name__ == "__main__":
    sys.exit(main())
