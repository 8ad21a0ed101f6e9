"""Loopback receivers for the channel tests: one python3 HTTP server in a thread that
records every request (method, path with query, headers, body, arrival time) and answers
through a function of the request, so that each test scripts its vendor's answers,
errors, throttling and hangs.

An answer is a dict: status (default 200), body (bytes or str), headers (dict), and
either hang (seconds to wait before answering, cut short by close()) or drop (close the
connection without an answer, after hang when both are given).
"""

import http.server
import threading
import time


class Request:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        # Header names in lower case (HTTP names are case-insensitive).
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.at = time.monotonic()
        self.answered = None  # the status sent back, None when hung up or dropped

    def __repr__(self):
        return f"<{self.method} {self.path} {self.body[:120]!r}>"


def ok(_request, _n):
    return {}


class Receiver:
    """A loopback HTTP/1.1 server; answer(request, n) -> answer dict, n counting from 0."""

    def __init__(self, answer=ok):
        self.answer = answer
        self.requests = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length) if length else b""
                req = Request(self.command, self.path, dict(self.headers.items()), body)
                with outer.lock:
                    n = len(outer.requests)
                    outer.requests.append(req)
                a = outer.answer(req, n) or {}
                if a.get("hang"):
                    outer.closing.wait(a["hang"])
                if a.get("drop") or outer.closing.is_set():
                    self.close_connection = True
                    return
                data = a.get("body", b"")
                if isinstance(data, str):
                    data = data.encode()
                status = a.get("status", 200)
                try:
                    self.send_response(status)
                    for k, v in a.get("headers", {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError:
                    self.close_connection = True
                    return
                req.answered = status

            do_GET = do_POST = do_PUT = handle_any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, pred=None):
        with self.lock:
            return sum(1 for r in self.requests if pred is None or pred(r))

    def matching(self, pred):
        with self.lock:
            return [r for r in self.requests if pred(r)]

    def close(self):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
