"""Intake from monitoring (POST /v1/intake/NAME) on the real daemon's TCP listener.

Alertmanager: Debian's prometheus-alertmanager, started here on loopback with a webhook
receiver that posts to slad with the intake's own bearer token (http_config authorization
credentials) and short group_wait / group_interval / repeat_interval; alerts posted to its
API (v2) become one ticket each, its repeats duplicate nothing, resolving them there
resolves the tickets, firing again reopens them.

PagerDuty Events API v2: trigger, acknowledge and resolve posted as PagerDuty's senders
post them (no Authorization header; the routing_key is the token), answered exactly as
PagerDuty answers.
"""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from conftest import Client, free_tcp_port, wait_for, write_private

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
TOKEN = "daemon-token-0123456789abcdef"
PROM_TOKEN = "prom-intake-token-0123456789"
PD_KEY = "R0123456789abcdef0123456789abcde"

SLAD_CONF = """
daemon = { socket = "@DIR@/slad.sock"; socket_mode = "0600"; database = "@DIR@/slad.db";
           tcp = "127.0.0.1:@PORT@"; token_file = "@DIR@/token"; log_level = "debug";
           language = "en"; max_body = 65536; };
contacts = ( { name = "sup"; via = ["log"]; } );
teams = ( { name = "ops"; roles = { supervisor = ["sup"]; }; } );
channels = ( { name = "log"; type = "file"; path = "@DIR@/notifications.jsonl"; } );
policies = (
  { name = "alerts"; match = { source = ["prom", "pd"]; }; calendar = "24x7";
    clocks = ( { name = "response"; target = "1h"; stop = ["acknowledge", "resolve"];
                 escalate = ( { at = "100%"; notify = ["supervisor"]; } ); } ); },
  { name = "default"; match = { }; calendar = "24x7"; }
);
intakes = (
  { name = "prom"; type = "alertmanager"; team = "ops"; labels = { origin = "prometheus"; };
    token_file = "@DIR@/prom.token"; },
  { name = "pd"; type = "pagerduty"; team = "ops"; token_file = "@DIR@/pd.token"; }
);
"""

ALERTMANAGER_CONF = """route:
  receiver: slad
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: slad
    webhook_configs:
      - url: http://127.0.0.1:{port}/v1/intake/prom
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


def slad_with_intakes(make_daemon):
    d = make_daemon()
    d.port = free_tcp_port()
    write_private(os.path.join(d.dir, "token"), TOKEN + "\n")
    write_private(os.path.join(d.dir, "prom.token"), PROM_TOKEN + "\n")
    write_private(os.path.join(d.dir, "pd.token"), PD_KEY + "\n")
    with open(d.conf_path, "w", encoding="utf-8") as f:
        f.write(SLAD_CONF.replace("@DIR@", d.dir).replace("@PORT@", str(d.port)))
    d.start()
    return d


def tickets_of(client, source):
    r = client.get("/v1/tickets?limit=1000")
    assert r.status == 200, r
    return [t for t in r.json["tickets"] if t["source"] == source]


class Alertmanager:
    """The real Alertmanager on loopback, its webhook pointed at slad."""

    def __init__(self, directory, slad_port):
        self.dir = os.path.join(directory, "alertmanager")
        os.mkdir(self.dir)
        conf = os.path.join(self.dir, "alertmanager.yml")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(ALERTMANAGER_CONF.format(port=slad_port, token=PROM_TOKEN))
        self.port = free_tcp_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.dir, "am.log"), "wb")
        self.proc = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={conf}", f"--storage.path={self.dir}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=",
             "--log.level=debug"], stdout=self.log, stderr=self.log)
        wait_for(self.ready, 30, "alertmanager to become ready", interval=0.1)

    def ready(self):
        assert self.proc.poll() is None, self.log_text()
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def post_alerts(self, alerts):
        req = urllib.request.Request(self.url + "/api/v2/alerts", data=json.dumps(alerts).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200

    def webhook_sent(self):
        """Notifications Alertmanager counts as sent to the webhook."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=5) as r:
            text = r.read().decode()
        total = failed = 0.0
        for line in text.splitlines():
            if 'integration="webhook"' not in line:
                continue
            if line.startswith("alertmanager_notifications_total"):
                total = float(line.split()[-1])
            elif line.startswith("alertmanager_notifications_failed_total"):
                failed = float(line.split()[-1])
        return total - failed

    def log_text(self):
        with open(os.path.join(self.dir, "am.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def alertmanager_for():
    started = []

    def start(directory, slad_port):
        assert os.access(ALERTMANAGER, os.X_OK), \
            "prometheus-alertmanager is needed (scripts/install-deps.sh installs it)"
        am = Alertmanager(directory, slad_port)
        started.append(am)
        return am

    yield start
    for am in started:
        am.close()


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def alert(name, instance, severity, summary, ends=None):
    now = datetime.now(timezone.utc)
    a = {"labels": {"alertname": name, "instance": instance, "severity": severity},
         "annotations": {"summary": summary}, "startsAt": iso(now - timedelta(seconds=30)),
         "generatorURL": "http://prometheus.example/graph"}
    if ends is not None:
        a["endsAt"] = iso(ends)
    return a


def test_alertmanager_round_trip(make_daemon, alertmanager_for):
    d = slad_with_intakes(make_daemon)
    am = alertmanager_for(d.dir, d.port)
    am.post_alerts([alert("DiskFull", "db1", "critical", "disk full on db1"),
                    alert("DiskFull", "db2", "warning", "disk full on db2")])

    found = wait_for(lambda: len(tickets_of(d.client, "prom")) == 2 and tickets_of(d.client, "prom"),
                     30, "two tickets from Alertmanager\n" + am.log_text())
    by_title = {t["title"]: t for t in found}
    assert set(by_title) == {"disk full on db1", "disk full on db2"}
    db1 = by_title["disk full on db1"]
    assert db1["severity"] == 1 and by_title["disk full on db2"]["severity"] == 3
    assert db1["team"] == "ops" and db1["policy"] == "alerts"
    assert db1["labels"]["instance"] == "db1" and db1["labels"]["origin"] == "prometheus"
    assert len(db1["external_id"]) == 16  # Alertmanager's fingerprint
    history = len(d.ticket(db1["id"])["history"])

    # Alertmanager repeats the firing group every repeat_interval: nothing is duplicated.
    sent = am.webhook_sent()
    wait_for(lambda: am.webhook_sent() >= sent + 2, 30, "Alertmanager's repeats")
    assert len(tickets_of(d.client, "prom")) == 2
    assert len(d.ticket(db1["id"])["history"]) == history

    # Resolved in Alertmanager: resolved in slad.
    ended = datetime.now(timezone.utc) - timedelta(seconds=1)
    am.post_alerts([alert("DiskFull", "db1", "critical", "disk full on db1", ends=ended),
                    alert("DiskFull", "db2", "warning", "disk full on db2", ends=ended)])
    wait_for(lambda: all(t["status"] == "resolved" for t in tickets_of(d.client, "prom")), 30,
             "both tickets resolved\n" + am.log_text())
    assert len(tickets_of(d.client, "prom")) == 2

    # Firing again: the same ticket reopens.
    am.post_alerts([alert("DiskFull", "db1", "critical", "disk full on db1")])
    wait_for(lambda: d.ticket(db1["id"])["status"] == "open", 30, "db1 reopened")
    assert d.ticket(db1["id"])["reopen_count"] == 1
    assert len(tickets_of(d.client, "prom")) == 2

    # The intake's token opens its URL and nothing else.
    own = Client(tcp=("127.0.0.1", d.port), token=PROM_TOKEN)
    assert own.get("/v1/tickets").status == 401
    assert own.post("/v1/intake/pd", {"routing_key": PD_KEY}).status == 401
    assert Client(tcp=("127.0.0.1", d.port), token="wrong").post(
        "/v1/intake/prom", {"version": "4", "alerts": []}).status == 401


def test_pagerduty_events(make_daemon):
    d = slad_with_intakes(make_daemon)
    # As PagerDuty's senders post: no Authorization header, the routing_key is the token.
    pd = Client(tcp=("127.0.0.1", d.port))
    trigger = {"routing_key": PD_KEY, "event_action": "trigger", "dedup_key": "srv01/disk",
               "payload": {"summary": "Disk full on srv01", "source": "srv01",
                           "severity": "critical", "component": "disk",
                           "custom_details": {"free": "1%"}},
               "client": "Zabbix"}
    r = pd.post("/v1/intake/pd", trigger)
    assert r.status == 202, r
    assert r.body == (b'{"status":"success","message":"Event processed",'
                      b'"dedup_key":"srv01/disk"}\n')
    assert r.headers["Content-Type"] == "application/json"
    [t] = tickets_of(d.client, "pd")
    assert (t["title"], t["severity"], t["external_id"], t["status"]) == \
        ("Disk full on srv01", 1, "srv01/disk", "open")
    assert t["labels"] == {"source": "srv01", "component": "disk"}
    assert t["description"] == '{"free":"1%"}'

    # Its repeat changes nothing; acknowledge, resolve.
    assert pd.post("/v1/intake/pd", trigger).status == 202
    assert len(tickets_of(d.client, "pd")) == 1
    r = pd.post("/v1/intake/pd", {"routing_key": PD_KEY, "event_action": "acknowledge",
                                  "dedup_key": "srv01/disk"})
    assert r.status == 202 and r.json["dedup_key"] == "srv01/disk", r
    assert d.ticket(t["id"])["status"] == "acknowledged"
    r = pd.post("/v1/intake/pd", {"routing_key": PD_KEY, "event_action": "resolve",
                                  "dedup_key": "srv01/disk"})
    assert r.status == 202, r
    got = d.ticket(t["id"])
    assert got["status"] == "resolved"
    assert [h["kind"] for h in got["history"] if h["kind"] == "event"] == ["event", "event"]

    # A trigger without a dedup_key: a new incident, named by the key answered.
    r = pd.post("/v1/intake/pd", {"routing_key": PD_KEY, "event_action": "trigger",
                                  "payload": {"summary": "CPU", "source": "srv02",
                                              "severity": "info"}})
    assert r.status == 202, r
    key = r.json["dedup_key"]
    assert key.startswith("slad-")
    r = pd.post("/v1/intake/pd", {"routing_key": PD_KEY, "event_action": "resolve",
                                  "dedup_key": key})
    assert r.status == 202
    assert [t["status"] for t in tickets_of(d.client, "pd")] == ["resolved", "resolved"]

    # Refusals: PagerDuty's shape with slad's error beside; a wrong key is 401.
    r = pd.post("/v1/intake/pd", {"routing_key": PD_KEY, "event_action": "trigger",
                                  "payload": {"summary": "x", "source": "y",
                                              "severity": "fatal"}})
    assert r.status == 400
    assert r.json["status"] == "invalid event"
    assert r.json["message"] == "Event object is invalid"
    assert "payload.severity" in r.json["errors"][0]
    assert r.json["error"]["code"] == "invalid_field"
    r = pd.post("/v1/intake/pd", dict(trigger, routing_key="not-the-key"))
    assert r.status == 401 and r.error_code() == "unauthorized"
    assert pd.post("/v1/intake/pd", {"event_action": "trigger"}).status == 401
    assert pd.get("/v1/tickets").status == 401
    # The daemon's bearer token opens every intake too.
    r = Client(tcp=("127.0.0.1", d.port), token=TOKEN).post(
        "/v1/intake/pd", dict(trigger, routing_key="anything", dedup_key="other"))
    assert r.status == 202
    assert len(tickets_of(d.client, "pd")) == 3
    # Nothing was refused for the wrong reason: the log names each 401.
    assert "the routing_key does not match the intake's token" in d.log()
