"""HTTPS and credentials on the aggregator's HTTP address (SPEC §7).

A real aggregator serves /report, /metrics and /healthz: first with none
of the new keys (plain HTTP, open, as before; a warning when it listens
beyond loopback), then with http_tls, http_users (hashes written by
mkpasswd and htpasswd) and http_tokens.  A real Prometheus server scrapes
/metrics over HTTPS with a bearer token, and a second job with a wrong
token sees the 401; headless Chromium, trusting the test CA through an
NSS database, loads /report with Basic credentials (screenshot path in
the log) and is refused without them; curl sends wrong passwords, unknown
users, malformed and over-long headers and plain HTTP to the TLS port.
SIGHUP swaps token and certificate on the open listener; a bad reload
keeps both.  check-config names each bad value with its line."""
import base64
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

from harness import (AGGREGATOR, SANITIZED, Cluster, Proc, check, check_eq, free_port, run,
                     wait_for)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
REALM = 'Basic realm="OpsPulse"'


def sh(*argv, input=None):
    r = subprocess.run(list(argv), input=input, capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "%s exited %d: %s" % (argv[0], r.returncode, r.stderr[-2000:]))
    return r.stdout


# ---- certificates, hashes, configuration ------------------------------------------

def make_ca(d):
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/ca.key",
       "-out", d + "/ca.pem", "-days", "30", "-subj", "/CN=OpsPulse web test CA",
       "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def make_server_cert(d, name, serial):
    """A certificate for localhost and 127.0.0.1 signed by d's CA."""
    with open(d + "/ext", "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    sh("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout",
       "%s/%s.key" % (d, name), "-out", d + "/csr", "-subj", "/CN=localhost")
    sh("openssl", "x509", "-req", "-in", d + "/csr", "-CA", d + "/ca.pem", "-CAkey",
       d + "/ca.key", "-set_serial", str(serial), "-days", "30", "-extfile", d + "/ext",
       "-out", "%s/%s.pem" % (d, name))


class Web:
    """The aggregator's configuration and what the tests send to it."""

    def __init__(self, c):
        self.c = c
        self.port = c.http_ports[0]
        self.certs = c.path("webcerts")
        os.makedirs(self.certs)
        make_ca(self.certs)
        make_server_cert(self.certs, "web", 1001)
        make_server_cert(self.certs, "web2", 1002)
        self.ca = self.certs + "/ca.pem"
        # A letter first: mkpasswd and htpasswd take the password as an
        # argument, and a random one starting with "-" reads as an option.
        self.review_pw = "p" + secrets.token_urlsafe(12)
        self.alice_pw = "p" + secrets.token_urlsafe(12)
        self.review_hash = sh("mkpasswd", "-m", "yescrypt", self.review_pw).strip()
        self.alice_hash = sh("htpasswd", "-nbB", "alice", self.alice_pw).strip().split(":", 1)[1]
        self.token = secrets.token_hex(32)
        self.token2 = secrets.token_hex(32)

    def conf(self, http="127.0.0.1", web=None, tokens=None, extra="", users=None):
        """aggregator0.conf; web names the certificate, None for plain HTTP;
        users and tokens are set with a certificate, or when users is true."""
        keys = ""
        if web is not None:
            keys = '  http_tls = { cert = "%s/%s.pem"; key = "%s/%s.key"; };\n' % (
                self.certs, web, self.certs, web)
        if web is not None or users:
            keys += ('  http_users = ( { name = "review"; hash = "%s"; },\n'
                     '                 { name = "alice"; hash = "%s"; } );\n'
                     '  http_tokens = [ %s ];\n') % (
                         self.review_hash, self.alice_hash,
                         ", ".join('"%s"' % t for t in (tokens or [self.token])))
        return self.c.write("aggregator0.conf", """aggregator = {
  listen = [ "%s" ];
  database = "%s";
  http = "%s:%d";
  tls = { insecure = true; };
  workers = 2;
%s%s};
""" % (self.c.addresses[0], self.c.conninfo, http, self.port, keys, extra))

    def curl(self, path, *args, scheme="https"):
        """(status, headers, body) of curl on path; status 0: no HTTP answer."""
        r = subprocess.run(["curl", "-sS", "-i", "--max-time", "20", "--cacert", self.ca]
                           + list(args) + ["%s://127.0.0.1:%d%s" % (scheme, self.port, path)],
                           capture_output=True, text=True, timeout=60)
        m = re.match(r"HTTP/1\.1 (\d+)", r.stdout)
        if not m:
            return 0, "", r.stderr
        head, _, body = r.stdout.partition("\n\n")  # text mode: no \r
        return int(m.group(1)), head, body

    def metrics(self):
        s, _, body = self.curl("/metrics", "-H", "Authorization: Bearer " + self.token)
        check_eq(s, 200, "/metrics with the token")
        return {m.group(1): int(m.group(2)) for m in re.finditer(
            r'^opspulse_http_auth_failures_total\{reason="(\w+)"\} (\d+)$', body, re.M)}

    def connect(self):
        """A keep-alive HTTPS connection that verifies with the test CA."""
        ctx = ssl.create_default_context(cafile=self.ca)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=20, context=ctx)
        conn.connect()
        return conn

    def refusals(self):
        return self.c.aggregators[0].output().count("http: refused ")


def test_without_new_keys():
    """No new key: plain HTTP, open to all, as before; beyond loopback a
    warning says what to set."""
    with Cluster("web-plain") as c:
        w = Web(c)
        w.conf(http="0.0.0.0")
        agg = c.start_aggregator()
        wait_for(lambda: "http: serving" in agg.output(), 15, "the HTTP address")
        for path, want in (("/healthz", 200), ("/metrics", 200), ("/report", 200)):
            s, head, _ = w.curl(path, scheme="http")
            check_eq(s, want, "plain GET %s" % path)
            check("WWW-Authenticate" not in head, "%s asked for credentials" % path)
        s, _, _ = w.curl("/metrics", "-H", "Authorization: Digest x", scheme="http")
        check_eq(s, 200, "an open address ignores Authorization")
        check_eq(w.curl("/healthz")[0], 0, "HTTPS on a plain address")
        check("warning: http: 0.0.0.0:%d is reachable beyond this host over plain HTTP with no "
              "credentials: anyone on the network can read (and a man in the middle change) "
              "every service's indicators; set http_tls and http_users or http_tokens (see "
              "\"Sharing the report\" in the README)" % w.port in agg.output(),
              "no warning for an open non-loopback address: %s" % agg.output()[-3000:])
        agg.stop()
        # On loopback, the same configuration starts without that warning
        # (the log file goes on where the first run's ended).
        w.conf()
        agg = c.start_aggregator(migrate=False)
        wait_for(lambda: agg.output().count("http: serving") == 2, 15, "the HTTP address")
        check_eq(agg.output().count("is reachable beyond this host"), 1,
                 "warnings after a loopback start")
        check_eq(w.curl("/metrics", scheme="http")[0], 200, "loopback /metrics")
        agg.stop()
        # Credentials without TLS: a man in the middle reads them.
        w.conf(http="0.0.0.0", users=True)
        agg = c.start_aggregator(migrate=False)
        wait_for(lambda: agg.output().count("http: serving") == 3, 15, "the HTTP address")
        check("warning: http: 0.0.0.0:%d is reachable beyond this host over plain HTTP: anyone "
              "on the network can read (and a man in the middle change) every service's "
              "indicators; set http_tls (see" % w.port in agg.output(),
              "no warning for credentials over plain HTTP: %s" % agg.output()[-2000:])
        check_eq(w.curl("/metrics", scheme="http")[0], 401, "plain /metrics with credentials")
        check_eq(w.curl("/metrics", "-u", "alice:" + w.alice_pw, scheme="http")[0], 200,
                 "alice over plain HTTP")


def check_curl_cases(w):
    """Wrong, unknown, malformed, over-long, plain: refused, listener fine."""
    before = w.metrics()
    b64 = base64.b64encode
    basic = lambda s: "Authorization: Basic " + b64(s.encode()).decode()
    cases = [
        ("missing", []),
        ("wrong_password", ["-u", "review:" + w.review_pw + "x"]),
        ("wrong_password", ["-u", "alice:" + w.review_pw]),
        ("unknown_user", ["-u", "bob:" + w.review_pw]),
        ("malformed", ["-H", "Authorization: Basic !!!!"]),
        ("malformed", ["-H", basic("review")]),
        ("malformed", ["-H", basic("review:a\x01b")]),
        ("malformed", ["-H", "Authorization: Bearer"]),
        ("malformed", ["-H", "Authorization: Bearer a b"]),
        ("malformed", ["-H", "Authorization: Basic " + "QUFB" * 1100]),
        ("unsupported_scheme", ["-H", 'Authorization: Digest username="review"']),
        ("wrong_token", ["-H", "Authorization: Bearer " + w.token[:-1]]),
        ("wrong_token", ["-H", "Authorization: Bearer " + w.token2]),
    ]
    want = dict(before)
    for reason, args in cases:
        for path in ("/report", "/metrics"):
            s, head, body = w.curl(path, *args)
            check_eq(s, 401, "%s %s" % (path, args[:2]))
            check("\nWWW-Authenticate: %s\n" % REALM in head + "\n",
                  "401 without the challenge: %r" % head)
            check_eq(body.strip(), "credentials required: a user of http_users (Basic) or "
                     "a token of http_tokens (Bearer)", "401 body")
            want[reason] = want.get(reason, 0) + 1
    # A header beyond the server's buffer, plain HTTP and TLS 1.1 get no
    # HTTP answer and are not counted.
    check_eq(w.curl("/metrics", "-H", "X-Big: " + "a" * 20000)[0], 0, "a 20 kB header")
    s, _, err = w.curl("/healthz", scheme="http")
    check_eq(s, 0, "plain HTTP to the TLS port")
    s, _, err = w.curl("/healthz", "--tlsv1.1", "--tls-max", "1.1")
    check(s == 0 and "protocol version" in err, "TLS 1.1 accepted: %r" % err)
    raw = socket.create_connection(("127.0.0.1", w.port), timeout=10)
    raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    raw.settimeout(10)
    try:
        check(not raw.recv(100).startswith(b"HTTP/"), "plain HTTP answered over the TLS port")
    except (ConnectionResetError, socket.timeout):
        pass
    raw.close()
    check_eq(w.metrics(), want, "refusals counted by reason")
    # The listener still serves people and scrapers.
    check_eq(w.curl("/healthz")[0], 200, "/healthz, open")
    check_eq(w.curl("/report", "-u", "review:" + w.review_pw)[0], 200, "review's /report")
    check_eq(w.curl("/metrics", "-u", "alice:" + w.alice_pw)[0], 200, "alice's /metrics")
    check_eq(w.metrics(), want, "accepted requests are not refusals")


def get(conn, path, auth):
    conn.request("GET", path, headers={"Authorization": auth})
    r = conn.getresponse()
    r.read()
    return r.status


def check_log_limit(w):
    """A burst of refusals from one address: one line a second."""
    conn = w.connect()
    time.sleep(1.1)
    n = w.refusals()
    t0 = time.monotonic()
    for _ in range(10):
        check_eq(get(conn, "/metrics", "Bearer " + w.token2), 401, "wrong token")
    burst = time.monotonic() - t0
    lines = w.refusals() - n
    check(burst < 1.0, "10 requests on one connection took %.2f s" % burst)
    check_eq(lines, 1, "log lines of a %.2f s burst" % burst)
    time.sleep(1.1)
    check_eq(get(conn, "/metrics", "Bearer " + w.token2), 401, "wrong token")
    check_eq(w.refusals() - n, 2, "log lines after a quiet second")
    check("refused /metrics from 127.0.0.1: an unknown bearer token (9 more refused from there "
          "since its last line)" in w.c.aggregators[0].output(),
          "no line counting the 9 unlogged refusals: %s" % w.c.aggregators[0].output()[-1500:])
    conn.close()


def serial(conn):
    return conn.sock.getpeercert()["serialNumber"]


def check_reload(w, agg):
    """SIGHUP: a new token and certificate on the same listener, while a
    connection opened before keeps going; a bad reload keeps both."""
    before = w.connect()
    check_eq(serial(before), "03E9", "first certificate (1001)")
    check_eq(get(before, "/metrics", "Bearer " + w.token), 200, "token before the reload")
    w.conf(web="web2", tokens=[w.token2])
    agg.p.send_signal(signal.SIGHUP)
    wait_for(lambda: "certificate reloaded" in agg.output(), 15, "the reload")
    after = w.connect()
    check_eq(serial(after), "03EA", "certificate after SIGHUP (1002)")
    check_eq(get(after, "/metrics", "Bearer " + w.token2), 200, "new token")
    check_eq(get(after, "/metrics", "Bearer " + w.token), 401, "old token")
    # The connection of before the reload is still open, on its
    # certificate, with the new credentials.
    check_eq(get(before, "/metrics", "Bearer " + w.token2), 200, "new token, old connection")
    check_eq(serial(before), "03E9", "old connection's certificate")
    before.close()
    w.token, w.token2 = w.token2, w.token
    # An empty token is refused, and the running credentials stay.
    w.conf(web="web", tokens=[""])
    agg.p.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload of" in agg.output(), 15, "the bad reload")
    check("'aggregator.http_tokens': line 10: token 1 is empty (anyone could use it); use a "
          "long random string of letters, digits and -._~+/ (openssl rand -hex 32)"
          in agg.output(), "bad reload message: %s" % agg.output()[-1500:])
    check_eq(get(after, "/metrics", "Bearer " + w.token), 200, "token after a bad reload")
    again = w.connect()
    check_eq(serial(again), "03EA", "certificate after a bad reload")
    again.close()
    after.close()


# ---- Prometheus ---------------------------------------------------------------------

def prometheus_get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return json.loads(r.read().decode())


def check_prometheus(w, c):
    """Prometheus scrapes over HTTPS with the token; a wrong token is 401."""
    d = c.path("prometheus")
    os.makedirs(d)
    port = free_port()
    job = """  - job_name: %s
    scheme: https
    tls_config: { ca_file: "%s" }
    authorization: { credentials: "%s" }
    static_configs: [ { targets: [ "127.0.0.1:%d" ] } ]
"""
    with open(d + "/prometheus.yml", "w") as f:
        # A sanitizer build answers /metrics several times slower.
        f.write("global: { scrape_interval: %ds, scrape_timeout: %ds }\nscrape_configs:\n"
                % ((5, 5) if SANITIZED else (1, 1))
                + job % ("opspulse", w.ca, w.token, w.port)
                + job % ("wrong-token", w.ca, w.token2, w.port))
    p = Proc("prometheus", ["prometheus", "--config.file=" + d + "/prometheus.yml",
                            "--storage.tsdb.path=" + d + "/data",
                            "--web.listen-address=127.0.0.1:%d" % port], c.dir)
    c.procs.append(p)
    targets = {}

    def scraped():
        try:
            active = prometheus_get(port, "/api/v1/targets")["data"]["activeTargets"]
        except OSError:
            return False
        targets.clear()
        targets.update({t["labels"]["job"]: t for t in active})
        return (targets.get("opspulse", {}).get("health") == "up"
                and targets.get("wrong-token", {}).get("health") == "down")
    wait_for(lambda: scraped() or not p.alive(), 90, "Prometheus to scrape both jobs")
    check(p.alive(), "prometheus exited: %s" % p.output()[-2000:])
    check_eq(targets["opspulse"]["scrapeUrl"], "https://127.0.0.1:%d/metrics" % w.port, "scrape URL")
    check_eq(targets["opspulse"]["lastError"], "", "good job's last error")
    check("server returned HTTP status 401 Unauthorized" in targets["wrong-token"]["lastError"],
          "wrong token's last error: %r" % targets["wrong-token"]["lastError"])
    q = prometheus_get(port, "/api/v1/query?query=opspulse_database_up")["data"]["result"]
    check_eq([(r["metric"]["job"], r["value"][1]) for r in q], [("opspulse", "1")],
             "opspulse_database_up through Prometheus")
    # A per-service gauge: the deploy recorded through the agent, the same
    # through Prometheus as on /metrics.
    _, _, text = w.curl("/metrics", "-H", "Authorization: Bearer " + w.token)
    direct = re.search(r'^opspulse_deploys_per_week\{service="web-svc"\} (\S+)$', text, re.M)
    check(direct, "no deploys gauge on /metrics: %s" % text[-1500:])
    q = prometheus_get(port, "/api/v1/query?query=opspulse_deploys_per_week")["data"]["result"]
    check_eq([(r["metric"]["service"], float(r["value"][1])) for r in q],
             [("web-svc", float(direct.group(1)))], "opspulse_deploys_per_week through Prometheus")
    q = prometheus_get(port, "/api/v1/query?query=opspulse_http_auth_failures_total"
                             "%7Breason%3D%22wrong_token%22%7D")["data"]["result"]
    check(q and float(q[0]["value"][1]) >= 1, "the wrong job's refusals in Prometheus: %r" % q)
    print("prometheus: job opspulse up over https, wrong-token down: %s"
          % targets["wrong-token"]["lastError"])
    p.stop()


# ---- Chromium ------------------------------------------------------------------------

def chromium(home, url, *mode):
    profile = tempfile.mkdtemp(prefix="chromium-")
    try:
        r = subprocess.run(["chromium"] + CHROMIUM_FLAGS +
                           ["--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
                            "--window-size=1280,1600"] + list(mode) + [url],
                           capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                           env=dict(os.environ, HOME=home))
        check(r.returncode == 0, "chromium exited %d: %s" % (r.returncode, r.stderr[-2000:]))
        return r
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def check_chromium(w, c):
    """/report in a browser that trusts the test CA (an NSS database, as a
    workstation would), with Basic credentials; refused without."""
    home = c.path("browser-home")
    nssdb = "sql:" + home + "/.pki/nssdb"
    os.makedirs(home + "/.pki/nssdb")
    sh("certutil", "-d", nssdb, "-N", "--empty-password")
    sh("certutil", "-d", nssdb, "-A", "-t", "C,,", "-n", "OpsPulse web test CA", "-i", w.ca)
    url = "https://review:%s@127.0.0.1:%d/report" % (w.review_pw, w.port)
    r = chromium(home, url, "--dump-dom")
    check("OpsPulse weekly review" in r.stdout and 'id="headlines"' in r.stdout,
          "the report in Chromium: %r %s" % (r.stdout[:300], r.stderr[-1500:]))
    shot = c.path("report-https.png")
    chromium(home, url, "--screenshot=" + shot)
    with open(shot, "rb") as f:
        png = f.read()
    check(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000, "screenshot %s" % shot)
    print("chromium: /report over HTTPS as review, screenshot %s (%d bytes)" % (shot, len(png)))
    before = w.metrics().get("missing", 0)
    r = chromium(home, "https://127.0.0.1:%d/report" % w.port, "--dump-dom")
    check("OpsPulse weekly review" not in r.stdout, "the report without credentials")
    check("ERR_INVALID_AUTH_CREDENTIALS" in r.stderr, "no 401 in Chromium: %s" % r.stderr[-1500:])
    check(w.metrics().get("missing", 0) > before, "Chromium's request without credentials")
    # Without the CA the browser refuses the certificate.
    other = c.path("browser-home-no-ca")
    os.makedirs(other)
    r = chromium(other, url, "--dump-dom")
    check("ERR_CERT_AUTHORITY_INVALID" in r.stderr, "untrusted CA accepted: %s" % r.stderr[-1500:])


def test_https_and_credentials():
    with Cluster("web-tls") as c:
        w = Web(c)
        w.conf(web="web")
        agg = c.start_aggregator()
        wait_for(lambda: "http: serving" in agg.output(), 15, "the HTTP address")
        check("http: serving /report, /healthz and /metrics on 127.0.0.1:%d over HTTPS, "
              "credentials required" % w.port in agg.output(), "start line")
        check("reachable beyond this host" not in agg.output(), "warning on loopback with TLS")
        c.start_agent()
        c.agent("deploy", "record", "--service", "web-svc", "--started", "2h", "--finished",
                "1h", "--outcome", "success")
        c.flush()
        check_curl_cases(w)
        check_log_limit(w)
        check_prometheus(w, c)
        check_chromium(w, c)
        check_reload(w, agg)
        check(agg.alive(), "the aggregator died")


# ---- check-config ---------------------------------------------------------------------

def check_config(path):
    r = subprocess.run([AGGREGATOR, "-c", path, "check-config"], capture_output=True, text=True,
                       timeout=60)
    return r.returncode, r.stderr


def test_check_config():
    with Cluster("web-conf") as c:
        w = Web(c)
        good = w.conf(web="web")
        check_eq(check_config(good), (0, ""), "check-config of a good file")
        cases = [
            ('http_tls = { cert = "%s/web.pem"; key = "%s/missing.key"; };' % (w.certs, w.certs),
             "opspulse-aggregator: %s: http_tls.key %s/missing.key cannot be read: No such file "
             "or directory; check the path and that the aggregator's user may read it"
             % (good, w.certs)),
            ('http_tls = { cert = "%s/web.pem"; key = "%s/web2.key"; };' % (w.certs, w.certs),
             "opspulse-aggregator: %s: http_tls.key %s/web2.key is not the key of http_tls.cert "
             "%s/web.pem" % (good, w.certs, w.certs)),
            ('http_tls = { cert = "%s/web.key"; key = "%s/web.key"; };' % (w.certs, w.certs),
             "opspulse-aggregator: %s: http_tls.cert %s/web.key holds no PEM certificate"
             % (good, w.certs)),
            ('http_tls = { cert = "%s/web.pem"; key = "%s/web.pem"; };' % (w.certs, w.certs),
             "opspulse-aggregator: %s: http_tls.key %s/web.pem holds no PEM private key without "
             "a passphrase" % (good, w.certs)),
            ('http_tls = { cert = "%s/web.pem"; };' % w.certs,
             "opspulse-aggregator: %s: http_tls needs both cert and key (PEM files), or neither "
             "for plain HTTP" % good),
            ('http_users = ( { name = "review"; hash = "review-password"; } );',
             "error: config: %s:7: 'aggregator.http_users': line 7: the hash of user review is "
             "not a yescrypt, bcrypt or SHA-crypt hash crypt(3) can check; make one with "
             "mkpasswd -m yescrypt or htpasswd -nB review" % good),
            # DES and MD5 crypt are too weak, however well crypt(3) knows them.
            ('http_users = ( { name = "review"; hash = "%s"; } );'
             % sh("openssl", "passwd", "-1", "pw").strip(),
             "error: config: %s:7: 'aggregator.http_users': line 7: the hash of user review is "
             "not a yescrypt, bcrypt or SHA-crypt hash crypt(3) can check" % good),
            ('http_users = ( { name = "review"; hash = "$y$j9T$tooshort"; } );',
             "error: config: %s:7: 'aggregator.http_users': line 7: the hash of user review is "
             "not a yescrypt, bcrypt or SHA-crypt hash crypt(3) can check" % good),
            ('http_users = ( { name = "a"; hash = "%s"; },\n  { name = "a"; hash = "%s"; } );'
             % (w.review_hash, w.alice_hash),
             "error: config: %s:7: 'aggregator.http_users': line 8: user a is listed twice"
             % good),
            ('http_users = ( { name = "a:b"; hash = "%s"; } );' % w.review_hash,
             "error: config: %s:7: 'aggregator.http_users': line 7: each user needs a name "
             "without ':'" % good),
            ('http_tokens = [ "ok", "" ];',
             "error: config: %s:7: 'aggregator.http_tokens': line 7: token 2 is empty (anyone "
             "could use it); use a long random string of letters, digits and -._~+/ (openssl "
             "rand -hex 32)" % good),
            ('http_tokens = [ "with space" ];',
             "error: config: %s:7: 'aggregator.http_tokens': line 7: token 1 is not sendable as "
             "a bearer token; use a long random string of letters, digits and -._~+/ (openssl "
             "rand -hex 32)" % good),
        ]
        for extra, message in cases:
            w.conf(extra="  " + extra + "\n")
            rc, err = check_config(good)
            check_eq(rc, 1, "check-config of %s" % extra)
            check(message in err, "check-config of %s said %r" % (extra, err))


if __name__ == "__main__":
    run([test_check_config, test_without_new_keys, test_https_and_credentials])
