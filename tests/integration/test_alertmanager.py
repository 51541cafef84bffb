"""The Alertmanager webhook (SPEC §2 item 4, §7): a real Prometheus
Alertmanager routes alerts posted to its API to the agent's webhook, and
the episodes, firing and then resolved, arrive with the right counts,
service and duration.  Plus the webhook's own refusals (token, size,
malformed JSON) and a regression test for connections dropped mid-request
while valid notifications continue (nng HTTP server bug #1611)."""
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from harness import Cluster, Proc, check, check_eq, fail, free_port, run, wait_for

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
TOKEN = "s3cret-token"


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def http(method, url, body=None, headers=None, timeout=10):
    """Returns (status, body text)."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def webhook_cluster(name, max_bytes=1048576):
    c = Cluster(name)
    c.hook_port = free_port()
    c.hook_url = "http://127.0.0.1:%d/alertmanager" % c.hook_port
    c.write_agent_conf(collectors=True, extra="""
  probes = { enabled = false; };
  capacity = { enabled = false; };
  webhook = { listen = "127.0.0.1:%d"; token = "%s"; max_bytes = %d;
              service_labels = [ "service", "job" ]; };
""" % (c.hook_port, TOKEN, max_bytes))
    c.start()
    wait_for(lambda: "Alertmanager webhook on" in c.agent_proc.output(), 15, "the webhook to listen")
    return c


def post_hook(c, payload, token=TOKEN):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    return http("POST", c.hook_url, body, headers)


def start_alertmanager(c):
    port = free_port()
    c.write("alertmanager.yml", """route:
  receiver: opspulse
  group_by: ['alertname', 'service', 'job']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: opspulse
    webhook_configs:
      - url: "%s"
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: "%s"
""" % (c.hook_url, TOKEN))
    p = Proc("alertmanager", [ALERTMANAGER, "--config.file=" + c.path("alertmanager.yml"),
                              "--storage.path=" + c.path("am-data"),
                              "--web.listen-address=127.0.0.1:%d" % port,
                              "--cluster.listen-address=", "--log.level=debug"], c.dir)
    c.procs.append(p)
    base = "http://127.0.0.1:%d" % port

    def ready():
        try:
            return http("GET", base + "/-/ready", timeout=2)[0] == 200
        except OSError:
            return False
    wait_for(lambda: ready() or not p.alive(), 30, "Alertmanager to be ready")
    check(p.alive(), "Alertmanager exited: " + p.output()[-2000:])
    return base


def am_post(base, alerts):
    status, text = http("POST", base + "/api/v2/alerts", json.dumps(alerts).encode(),
                        {"Content-Type": "application/json"})
    check_eq(status, 200, "Alertmanager accepted the alerts: %s" % text)


def episodes(c):
    c.flush()
    return {r[0]: r[1:] for r in c.sql(
        "SELECT fingerprint, service, env, host, alertname, coalesce(severity, ''), "
        "extract(epoch FROM starts_at)::numeric(20,3)::text, "
        "coalesce(extract(epoch FROM ends_at - starts_at)::numeric(20,3)::text, '') FROM alerts")}


def test_real_alertmanager_firing_then_resolved():
    with webhook_cluster("am") as c:
        base = start_alertmanager(c)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        starts = {"a1": now - timedelta(minutes=10), "a2": now - timedelta(minutes=5, seconds=30),
                  "a3": now - timedelta(minutes=3), "a4": now - timedelta(minutes=1)}
        labels = {
            "a1": {"alertname": "HighLatency", "service": "billing", "severity": "warning",
                   "instance": "web-1", "job": "ignored"},
            "a2": {"alertname": "HighLatency", "service": "billing", "severity": "warning",
                   "instance": "web-2"},
            "a3": {"alertname": "QueueStuck", "job": "worker", "severity": "critical"},
            "a4": {"alertname": "Orphan"},
        }
        am_post(base, [{"labels": labels[k], "startsAt": iso(starts[k])} for k in labels])

        # The fingerprints Alertmanager itself gives the alerts.
        status, text = http("GET", base + "/api/v2/alerts")
        fp = {}
        for a in json.loads(text):
            key = [k for k, v in labels.items() if v == a["labels"]][0]
            fp[key] = a["fingerprint"]
        check_eq(sorted(fp), ["a1", "a2", "a3", "a4"], "Alertmanager holds the four alerts")

        service = {"a1": "billing", "a2": "billing", "a3": "worker", "a4": "default-svc"}

        def expected(resolved):
            out = {}
            for k in labels:
                dur = ""
                if k in resolved:
                    dur = "%.3f" % (resolved[k] - starts[k]).total_seconds()
                out[fp[k]] = [service[k], "production", "it-agent", labels[k]["alertname"],
                              labels[k].get("severity", ""), "%.3f" % starts[k].timestamp(), dur]
            return out

        deadline = time.time() + 60
        while time.time() < deadline and len(episodes(c)) < 4:
            time.sleep(0.5)
        check_eq(episodes(c), expected({}), "four firing episodes")

        # Resolve a1 and a3 by posting them again with an end time.
        ends = {"a1": now - timedelta(minutes=2, seconds=15), "a3": now - timedelta(seconds=20)}
        am_post(base, [{"labels": labels[k], "startsAt": iso(starts[k]), "endsAt": iso(ends[k])}
                       for k in ends])
        deadline = time.time() + 60
        while time.time() < deadline and sum(1 for v in episodes(c).values() if v[6]) < 2:
            time.sleep(0.5)
        got = episodes(c)
        check_eq(got, expected(ends), "a1 and a3 resolved with their durations, a2 and a4 firing")
        check_eq(c.scalar("SELECT count(*) FROM alerts"), "4", "episodes counted once each")
        check_eq(c.sql("SELECT service, count(*), count(ends_at) FROM alerts GROUP BY service ORDER BY 1"),
                 [["billing", "2", "1"], ["default-svc", "1", "0"], ["worker", "1", "1"]],
                 "episodes per service: fired and resolved")
        # The same alert firing again later is a new episode.
        again = now - timedelta(seconds=5)
        am_post(base, [{"labels": labels["a1"], "startsAt": iso(again)}])
        deadline = time.time() + 60
        while time.time() < deadline and c.scalar("SELECT count(*) FROM alerts") != "5":
            c.flush()
            time.sleep(0.5)
        check_eq(c.sql("SELECT count(*), count(ends_at) FROM alerts WHERE fingerprint = '%s'" % fp["a1"]),
                 [["2", "1"]], "a second episode of a1, still firing")


def payload(fingerprint, starts, status="firing", ends=None, labels=None):
    return {"version": "4", "status": status, "receiver": "r", "groupKey": "{}:{}",
            "truncatedAlerts": 0, "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://am", "alerts": [{
                "status": status, "labels": labels or {"alertname": "T", "service": "hooks"},
                "annotations": {}, "startsAt": starts, "endsAt": ends or "0001-01-01T00:00:00Z",
                "generatorURL": "", "fingerprint": fingerprint}]}


def test_refusals():
    with webhook_cluster("amrefuse", max_bytes=4096) as c:
        t = iso(datetime.now(timezone.utc) - timedelta(minutes=1))
        check_eq(post_hook(c, payload("f1", t), token=None)[0], 401, "no token")
        check_eq(post_hook(c, payload("f1", t), token="wrong")[0], 401, "wrong token")
        check_eq(post_hook(c, b'{"alerts": [')[0], 400, "malformed JSON")
        check_eq(post_hook(c, b'[1, 2]')[0], 400, "JSON that is not a payload")
        check_eq(post_hook(c, dict(payload("f1", t), version="3"))[0], 400, "another payload version")
        big = payload("f1", t)
        big["commonAnnotations"] = {"text": "x" * 5000}
        check_eq(post_hook(c, big)[0], 413, "a body over webhook.max_bytes")
        check_eq(http("GET", c.hook_url)[0], 405, "GET")
        s = socket.create_connection(("127.0.0.1", c.hook_port), timeout=10)
        s.sendall(b"POST /alertmanager HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() +
                  b"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n")
        check(s.recv(100).startswith(b"HTTP/1.1 411"), "a chunked body without a length gets 411")
        s.close()
        status, text = post_hook(c, payload("f1", t))
        check_eq(status, 200, "a good notification after the refusals: " + text)
        check_eq(json.loads(text), {"recorded": 1, "skipped": 0}, "answer")
        c.flush()
        check_eq(c.sql("SELECT fingerprint, service FROM alerts"), [["f1", "hooks"]],
                 "only the good notification was recorded")
        check(c.agent_proc.alive(), "the agent is still running")


def abuse(port, stop, counts):
    """Opens connections and drops them at every stage of a request."""
    stages = [
        b"",
        b"POST /alertmanager HTTP/1.1\r\nHost: x\r\n",
        b"POST /alertmanager HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
        b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n{\"version\":",
        b"POST /alertmanager HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
        b"POST /alertmanager HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        # Error answers on connections marked close: the branch of nng
        # 1.5.2's http_sconn_error where #1611 used a freed response.
        b"GET /nope HTTP/1.0\r\n\r\n",
        b"PUT /alertmanager HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"POST /alertmanager HTTP/2.0\r\nHost: x\r\n\r\n",
        b"POST /alertmanager HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n{\"alerts\": [",
    ]
    i = 0
    while not stop.is_set():
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(stages[i % len(stages)])
            if i % 3 == 0:
                # Abortive close: RST instead of FIN.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        finally:
            s.close()
        counts[0] += 1
        i += 1


def test_dropped_connections_mid_request():
    with webhook_cluster("amdrop", max_bytes=65536) as c:
        stop = threading.Event()
        counts = [0]
        threads = [threading.Thread(target=abuse, args=(c.hook_port, stop, counts)) for _ in range(4)]
        for th in threads:
            th.start()
        base = datetime.now(timezone.utc) - timedelta(hours=1)
        statuses = []
        try:
            for i in range(60):
                st, _ = post_hook(c, payload("drop-%03d" % i, iso(base + timedelta(seconds=i))))
                statuses.append(st)
        finally:
            stop.set()
            for th in threads:
                th.join()
        check(counts[0] > 100, "the abuse threads made %d connections" % counts[0])
        check_eq(statuses, [200] * 60, "every valid notification answered 200")
        check(c.agent_proc.alive(), "the agent survived dropped connections")
        c.flush()
        check_eq(c.scalar("SELECT count(*) FROM alerts WHERE fingerprint LIKE 'drop-%'"), "60",
                 "every valid notification recorded")
        # It still serves and stops cleanly.
        check_eq(post_hook(c, payload("after", iso(base)))[0], 200, "served after the abuse")
        check_eq(c.agent_proc.stop(), 0, "the agent stopped cleanly on SIGTERM")


if __name__ == "__main__":
    if not os.path.exists(ALERTMANAGER):
        fail("%s is missing: apt-get install prometheus-alertmanager" % ALERTMANAGER)
    run([test_real_alertmanager_firing_then_resolved, test_refusals, test_dropped_connections_mid_request])
