"""Access-log tailing end to end (SPEC §12.1-§12.3): a real nginx on
loopback writes its access log in the nginx_timed format while a load
generator sends it requests, which it proxies to a small backend answering
chosen statuses after chosen delays.  During the load the log is rotated by
the real logrotate, in create mode (also while the agent is down) and in
copytruncate mode, the agent is killed with kill -9 and restarted, and the
aggregator is stopped and started.  nginx writes every line a second time
into a log nobody rotates; the truth is read back from that file: requests
per minute, 5xx, and the §12.2 percentiles of the logged $request_time
values, computed here independently.  `opspulse health --format json` must
equal it exactly.  Garbage lines written into the tailed log are skipped,
counted by reason, and shown by `opspulse-agent status` and
`opspulse agents`."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from harness import Cluster, Proc, check, check_eq, fail, free_port, run, wait_for

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
LOGROTATE = shutil.which("logrotate") or "/usr/sbin/logrotate"
LOG_FORMAT = ('\'$remote_addr - $remote_user [$time_local] "$request" $status '
              '$body_bytes_sent "$http_referer" "$http_user_agent" $request_time '
              '$upstream_response_time\'')
# (status, backend delay in ms, weight)
MIX = [(200, 0, 40), (200, 5, 20), (200, 60, 8), (201, 0, 5), (404, 0, 8),
       (500, 0, 4), (502, 20, 3), (503, 0, 6), (200, 180, 3), (504, 250, 3)]

BACKEND = r'''
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        _, _, status, delay = self.path.split("/")[:4]
        time.sleep(int(delay) / 1000.0)
        body = b"ok\n"
        self.send_response(int(status))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

ThreadingHTTPServer.daemon_threads = True
s = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
print("backend listening", flush=True)
s.serve_forever()
'''


# ---- SPEC §12.2, independently -------------------------------------------

def upper_us(v):
    s = max(0, v.bit_length() - 1 - 6)
    return (((v >> s) + 1) << s) - 1


def seconds_to_us(text):
    return int((Decimal(text) * 1000000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percentile_ms(uppers, q):
    """Nearest rank ceil(q n) over the sorted bucket uppers, in ms."""
    if not uppers:
        return None
    rank = int(-(-(Decimal(q) * len(uppers)) // 1))
    return Decimal(sorted(uppers)[rank - 1]) / 1000


def truth(path):
    """Counts of nginx's never-rotated copy of the log."""
    per_minute, errors, uppers, n = {}, 0, [], 0
    with open(path) as f:
        for line in f:
            head, _, rest = line.partition(" [")
            stamp = rest[:26]
            t = datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S %z").astimezone(timezone.utc)
            minute = t.replace(second=0)
            after = line.rsplit('" ', 1)[1].split()
            status = int(line.split('" ', 1)[1].split()[0])
            n += 1
            per_minute[minute] = per_minute.get(minute, 0) + 1
            errors += 500 <= status <= 599
            if after[0] != "-":
                uppers.append(upper_us(seconds_to_us(after[0])))
    return {"service": "web", "requests": n, "errors": errors, "timed": len(uppers),
            "error_rate": Decimal(errors) / n,
            "latency_p50_ms": percentile_ms(uppers, "0.5"),
            "latency_p95_ms": percentile_ms(uppers, "0.95"),
            "latency_p99_ms": percentile_ms(uppers, "0.99"),
            "peak_requests_per_minute": max(per_minute.values())}


# ---- nginx, the backend and the load ------------------------------------------

class Web:
    """nginx in a private prefix proxying to the backend."""

    def __init__(self, c):
        self.c = c
        self.dir = c.path("nginx")
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        self.log = os.path.join(self.dir, "logs", "access.log")
        self.truth = os.path.join(self.dir, "logs", "truth.log")
        self.port, self.backend_port = free_port(), free_port()
        user = "user root root;\n" if os.geteuid() == 0 else ""
        self.conf = c.write("nginx/nginx.conf", """%sworker_processes 1;
daemon off;
pid %s/nginx.pid;
error_log %s/logs/error.log;
events { worker_connections 512; }
http {
  log_format nginx_timed %s;
  access_log %s nginx_timed;
  access_log %s nginx_timed;
  client_body_temp_path %s/tmp/body;
  proxy_temp_path %s/tmp/proxy;
  fastcgi_temp_path %s/tmp/fastcgi;
  uwsgi_temp_path %s/tmp/uwsgi;
  scgi_temp_path %s/tmp/scgi;
  server {
    listen 127.0.0.1:%d;
    location / { proxy_pass http://127.0.0.1:%d; }
  }
}
""" % (user, self.dir, self.dir, LOG_FORMAT, self.log, self.truth,
       *([self.dir] * 5), self.port, self.backend_port))
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        self.rotate_state = c.path("nginx/logrotate.state")

    def start(self):
        backend = self.c.write("backend.py", BACKEND)
        b = Proc("backend", [sys.executable, backend, str(self.backend_port)], self.c.dir)
        self.c.procs.append(b)
        wait_for(lambda: "listening" in b.output() or not b.alive(), 15, "the backend")
        n = Proc("nginx", [NGINX, "-p", self.dir, "-c", self.conf], self.c.dir)
        self.c.procs.append(n)
        self.nginx = n
        wait_for(lambda: os.path.exists(os.path.join(self.dir, "nginx.pid"))
                 or not n.alive(), 15, "nginx")
        check(n.alive(), "nginx exited: " + n.output())

    def rotate(self, mode):
        """Runs logrotate on the tailed log (mode: create or copytruncate)."""
        post = ("  postrotate\n    kill -USR1 $(cat %s/nginx.pid)\n  endscript\n" % self.dir
                if mode == "create" else "")
        conf = self.c.write("nginx/logrotate.conf", """%s {
  %s
  rotate 20
  missingok
  nocompress
%s}
""" % (self.log, mode, post))
        os.chmod(conf, 0o644)
        r = subprocess.run([LOGROTATE, "-f", "-s", self.rotate_state, conf],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            fail("logrotate %s failed: %s%s" % (mode, r.stdout, r.stderr))


class Load:
    """Threads sending the MIX to nginx until stopped; pausable."""

    def __init__(self, port, threads=4):
        self.port = port
        self.stop_flag = False
        self.paused = threading.Event()
        self.idle = [threading.Event() for _ in range(threads)]
        self.sent = 0
        self.failures = []
        self.threads = [threading.Thread(target=self.worker, args=(i,), daemon=True)
                        for i in range(threads)]
        weights = [w for _, _, w in MIX]
        self.choices = random.Random(1515).choices(MIX, weights=weights, k=20000)

    def worker(self, i):
        k = i
        while not self.stop_flag:
            if self.paused.is_set():
                self.idle[i].set()
                time.sleep(0.02)
                continue
            self.idle[i].clear()
            status, delay, _ = self.choices[k % len(self.choices)]
            k += len(self.threads)
            url = "http://127.0.0.1:%d/s/%d/%d" % (self.port, status, delay)
            try:
                urllib.request.urlopen(url, timeout=10).read()
            except urllib.error.HTTPError as e:
                e.read()
            except OSError as e:
                self.failures.append(str(e))
            self.sent += 1
        self.idle[i].set()

    def start(self):
        for t in self.threads:
            t.start()

    def pause(self):
        """Waits until no request is in flight."""
        self.paused.set()
        for e in self.idle:
            e.wait(30)

    def resume(self):
        for e in self.idle:
            e.clear()
        self.paused.clear()

    def stop(self):
        self.stop_flag = True
        for t in self.threads:
            t.join(30)


GARBAGE = [
    (b"\x00\x01\x02 binary\n", "binary"),
    (b"\x7fELF\x02\x01\x01\n", "binary"),
    (b'127.0.0.1 - - [05/Dec/2026:09:55:16 +0000] "GET /\xc3\x28 HTTP/1.1" 200 1 "-" "-" 0.1\n',
     "utf8"),
    (b"x" * 100000 + b"\n", "too_long"),
    (b"a line of some other format\n", "format"),
]


def write_garbage(path):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        for data, _ in GARBAGE:
            os.write(fd, data)
    finally:
        os.close(fd)


def health(c, since, until):
    r = c.cli("health", "--since", since, "--until", until, "--format", "json")
    return json.loads(r.stdout, parse_float=Decimal)["rows"]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_nginx_logrotate_kill9_outage():
    with Cluster("accesslogs") as c:
        web = Web(c)
        c.write_agent_conf(extra="""  access_logs = (
    { path = "%s"; format = "nginx_timed"; service = "web"; }
  );
""" % web.log)
        since = datetime.now(timezone.utc) - timedelta(minutes=2)
        c.start()
        web.start()
        load = Load(web.port)
        load.start()
        try:
            time.sleep(4)
            web.rotate("create")
            time.sleep(4)
            c.agent_proc.kill9()
            time.sleep(0.5)
            c.start_agent()
            time.sleep(3)
            c.aggregators[0].stop()
            time.sleep(3)
            c.start_aggregator(0, migrate=False)
            time.sleep(3)
            # copytruncate loses what the server writes between the copy
            # and the truncation (logrotate's documented limit), so the
            # load pauses around it; the agent is behind by a poll there.
            load.pause()
            write_garbage(web.log)
            web.rotate("copytruncate")
            load.resume()
            time.sleep(4)
            c.agent_proc.kill9()
            web.rotate("create")          # rotated while the agent is down
            time.sleep(2)
            c.start_agent()
            time.sleep(random.Random().uniform(0.5, 3))
            c.agent_proc.kill9()          # at some moment of its work
            c.start_agent()
            time.sleep(4)
        finally:
            load.stop()
        check(not load.failures, "requests failed: %s" % load.failures[:3])
        check(load.sent > 500, "only %d requests sent" % load.sent)
        time.sleep(1)
        want = truth(web.truth)
        check_eq(want["requests"], load.sent, "lines in nginx's log vs requests sent")
        until = iso(datetime.now(timezone.utc) + timedelta(minutes=2))
        settle(lambda: [r["requests"] for r in health(c, iso(since), until)]
               == [want["requests"]], 90, "health to count %d lines" % want["requests"])
        c.flush()
        got = health(c, iso(since), until)
        check_eq(len(got), 1, "services in opspulse health")
        for k, v in want.items():
            if k == "error_rate":
                check(abs(Decimal(got[0][k]) - v) < Decimal("1e-9"),
                      "error_rate %s, want %s" % (got[0][k], v))
            else:
                check_eq(got[0][k], v, k)
        check_skips(c, web.log)


def check_skips(c, path):
    want = {}
    for _, reason in GARBAGE:
        want[reason] = want.get(reason, 0) + 1
    text = " ".join("%s %d" % (r, want[r])
                    for r in ["format", "time", "status", "duration", "binary", "utf8",
                              "too_long"] if r in want)
    out = c.agent("status").stdout
    check(("access log:     %s: " % path) in out and ("skipped: %s\n" % text) in out,
          "status shows the skipped lines (%r): %s" % (text, out))
    detail = ", ".join("%s %s %d" % (path, r, want[r]) for r in sorted(want))
    settle(lambda: [(a["skipped_lines"], a["skipped_by_reason"])
                    for a in c.cli_json("agents")["rows"]]
           == [(sum(want.values()), detail)], 60,
           "opspulse agents to show %d skipped lines: %s" % (sum(want.values()), detail))


def settle(pred, timeout, what):
    """Waits for pred, asking once a second (each asks the aggregator)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(1)
    fail("timed out after %ss waiting for %s" % (timeout, what))


if __name__ == "__main__":
    run([test_nginx_logrotate_kill9_outage])
