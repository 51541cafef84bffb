"""Mutual TLS, identities and roles, and hostile strings (SPEC §7, §3).

Every certificate is made by scripts/dev-certs with openssl: a CA of the
cluster, another CA, an expired certificate, agent (OU=agent) and CLI
(OU=cli) certificates."""
import datetime
import json
import subprocess

from harness import AGGREGATOR, Cluster, check, check_eq, run, wait_for


def rejected(c, reason):
    """The aggregator's opspulse_requests_rejected_total{reason=...}."""
    return c.metrics().get('opspulse_requests_rejected_total{reason="%s"}' % reason, 0.0)


def test_refused_connections():
    """No client certificate, another CA's, an expired one: the handshake
    fails, the client says so, the aggregator keeps serving."""
    with Cluster("tlsrefuse").enable_tls() as c:
        agg = c.start_aggregator()
        check_eq(c.wire("good", "tls-ok", "it-agent", cert="it-agent"), "ack 1 0",
                 "a batch with the agent's own certificate")

        # Another CA, with the same names in it.
        other = c.path("other")
        saved, c.certs = c.certs, other
        c.make_cert("ca", "-")
        c.make_cert("agent", "it-agent")
        c.certs = saved
        ca = c.path("certs/ca.pem")
        cases = {
            "another CA": (ca, other + "/it-agent.pem", other + "/it-agent.key"),
        }
        c.make_cert("agent", "it-agent", "--expired", "--out", "expired")
        cases["expired"] = (ca, c.path("certs/expired.pem"), c.path("certs/expired.key"))
        for what, cert in cases.items():
            r = c.wire("good", "tls-" + what.replace(" ", "-"), "it-agent", cert=cert)
            check(r.startswith("no-answer"), "%s: refused at the handshake: %r" % (what, r))
            check(agg.alive(), "%s: the aggregator is still running" % what)

        # No certificate at all: plain tcp:// to the TLS port, and a client
        # that offers TLS without a certificate (the CLI with none set).
        r = c.wire("good", "tls-plain", address=c.addresses[0].replace("tls+", ""))
        check(r.startswith("no-answer"), "plaintext to a TLS listener: %r" % r)
        port = c.addresses[0].rsplit(":", 1)[1]
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:" + port,
                            "-CAfile", ca, "-verify_return_error"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        # mbedTLS closes the connection without an alert.
        check(r.returncode != 0 and "SSL routines" in r.stderr,
              "a TLS client without a certificate is refused: %r" % r.stderr[-500:])
        conf = c.write("nocert.conf", 'cli = { server = "%s"; tls = { ca = "%s"; }; };\n'
                       % (c.addresses[0], ca))
        r = c.cli("-c", conf, "services", check_rc=False)
        check(r.returncode != 0, "a CLI without a certificate is refused: %r" % r.stdout)
        check("tls.cert" in r.stderr, "and says what is missing: %r" % r.stderr)

        # The agent daemon with another CA's certificate logs why it
        # cannot deliver, and keeps its events.
        c.certs = other
        c.write_agent_conf()
        c.certs = saved
        c.agent("toil", "record", "--service", "tls-spooled", "--task", "t", "--minutes", "5")
        agent = c.start_agent()
        wait_for(lambda: "TLS handshake with %s failed" % c.addresses[0] in agent.output(),
                 30, "the agent to log the refused handshake")
        check_eq(c.count("toil"), 0, "nothing arrived from the refused agent")

        # nng reports no refused handshake to the aggregator as it happens;
        # the aggregator logs its listener's count of them within seconds.
        # Its count can be split over several lines when the refusals
        # straddle a logging period: add them up until all five are there.
        def logged_refusals():
            return sum(int(line.split("refused ")[1].split()[0])
                       for line in agg.output().splitlines()
                       if "connection(s) to %s in the TLS handshake" % c.addresses[0] in line)
        wait_for(lambda: logged_refusals() >= 5, 30,
                 "the aggregator to log all five refused handshakes")
        logged = logged_refusals()
        wait_for(lambda: c.metrics().get("opspulse_tls_handshakes_refused_total", 0) >= logged,
                 20, "/metrics to count the refused handshakes")
        check(agg.alive(), "the aggregator survived every refused connection")
        check_eq(c.wire("good", "tls-ok-2", "it-agent", cert="it-agent"), "ack 1 0",
                 "the aggregator still serves a good client")
        check_eq(c.count("deploys"), 2, "only the two good batches were stored")


def test_plaintext_needs_insecure():
    """tcp:// is refused by every binary unless tls.insecure is set, and
    then the daemons warn at start."""
    with Cluster("plain") as c:
        plain = c.addresses[0]
        c.write("strict.conf", """aggregator = {
  listen = [ "%s" ];
  database = "%s";
  http = "";
  tls = { ca = "/nonexistent"; };
};
""" % (plain.replace("127.0.0.1", "0.0.0.0"), c.conninfo))
        c.migrate()
        r = subprocess.run([AGGREGATOR, "-c", c.path("strict.conf"), "serve"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode != 0 and "is not encrypted; use tls+tcp://" in r.stderr,
              "the aggregator refuses a plain listener: %d %r" % (r.returncode, r.stderr))
        c.write("cli-strict.conf", 'cli = { server = "%s"; };\n' % plain)
        r = c.cli("-c", c.path("cli-strict.conf"), "services", check_rc=False)
        check(r.returncode != 0 and "is not encrypted" in r.stderr,
              "the CLI refuses a plain address: %r" % r.stderr)
        agg = c.start_aggregator()
        check("tls.insecure is set" in agg.output(), "the aggregator warns: " + agg.output())
        agent = c.start_agent()
        check("tls.insecure is set" in agent.output(), "the agent warns: " + agent.output())


def test_identity_and_roles():
    """An agent writes only its own host, or what aggregator.identities
    allows; agents cannot query, CLI users cannot ingest."""
    extra = '  identities = ( { name = "importer"; hosts = [ "*" ]; },\n' \
            '                 { name = "proxy-1"; hosts = [ "aurora-*" ]; } );\n'
    with Cluster("tlsid", agent_id="host-a").enable_tls(extra) as c:
        agg = c.start_aggregator()
        for name in ("host-b", "importer", "proxy-1"):
            c.make_cert("agent", name)
        c.make_cert("agent", "no-role", "--ou", "ops")  # a client, but no known role
        host_before = rejected(c, "host_not_allowed")
        role_before = rejected(c, "role")
        check_eq((host_before, role_before), (0.0, 0.0), "no refusal counted yet")

        r = c.wire("good", "svc-b", "host-b", cert="host-a")
        check(r.startswith("error 5 ") and "host-b" in r and "host-a" in r,
              "host-a's certificate writing for host-b is FORBIDDEN: %r" % r)
        check_eq(c.count("deploys"), 0, "nothing stored for host-b")
        check("rejected a batch from agent wire-test (host-a)" in agg.output(),
              "the refusal is logged with the identity")
        check_eq(c.wire("good", "svc-b", "host-b", cert="host-b"), "ack 1 0",
                 "host-b's own certificate may")
        check_eq(c.wire("good", "svc-a", "host-a", cert="host-a"), "ack 1 0",
                 "host-a's own host")
        check_eq(c.wire("good", "svc-i", "anything.example", cert="importer"), "ack 1 0",
                 "an importer allowed \"*\"")
        check_eq(c.wire("good", "svc-p", "aurora-7", cert="proxy-1"), "ack 1 0",
                 "proxy-1 for a managed component aurora-7")
        r = c.wire("good", "svc-p2", "mysql-1", cert="proxy-1")
        check(r.startswith("error 5 "), "proxy-1 outside its patterns: %r" % r)
        check_eq(c.scalar("SELECT string_agg(service, ',' ORDER BY service) FROM deploys"),
                 "svc-a,svc-b,svc-i,svc-p", "exactly the allowed batches are stored")

        # Roles.
        r = c.wire("query", cert="host-a")
        check(r.startswith("error 5 ") and "OU=cli" in r,
              "an agent certificate running a query is FORBIDDEN: %r" % r)
        check_eq(c.wire("query", cert="it-user"), "result 4", "a CLI certificate may query")
        r = c.wire("good", "svc-cli", "it-user", cert="it-user")
        check(r.startswith("error 5 ") and "OU=agent" in r,
              "a CLI certificate sending a batch is FORBIDDEN: %r" % r)
        r = c.wire("query", cert="no-role")
        check(r.startswith("error 5 "), "a certificate without a role may not query: %r" % r)
        check_eq(c.count("deploys"), 4, "the CLI's batch stored nothing")
        check("refused a request from host-a over TLS" in agg.output(),
              "role refusals are logged with the identity")

        # The real programs: the CLI with its certificate works; the CLI
        # with the agent's certificate is refused with a clear message.
        rows = c.cli_json("services")["rows"]
        check_eq(sorted(x["service"] for x in rows), ["svc-a", "svc-b", "svc-i", "svc-p"],
                 "opspulse services over mutual TLS")
        conf = c.write("agentcert.conf", "cli = { server = \"%s\"; tls = %s; };\n"
                       % (c.addresses[0], c.tls_conf("host-a")))
        r = c.cli("-c", conf, "services", check_rc=False)
        check(r.returncode != 0 and "OU=cli" in r.stderr,
              "the CLI with an agent certificate: %r" % r.stderr)
        c.start_agent()
        c.agent("toil", "record", "--service", "svc-agent", "--task", "t", "--minutes", "5")
        c.flush()
        check_eq(c.count("toil", "host = 'host-a'"), 1, "the agent daemon delivers over TLS")

        check_eq(rejected(c, "host_not_allowed") - host_before, 2.0,
                 "host_not_allowed counted twice")
        check_eq(rejected(c, "role") - role_before, 4.0, "role refusals counted")
        check(agg.alive(), "the aggregator is still running")


HOSTILE = [
    "x'); DROP TABLE opspulse.toil; --",
    "Robert\"); DELETE FROM deploys WHERE ('1'='1",
    "quotes ' \" ` and a backslash \\ and $1 $$dollar$$",
    "ctl\x01\x02\x07\x08\t\n\r\x0b\x0c\x1b[31m\x1f\x7f end",
    "émoji 🚀 and ünïcödé; SELECT pg_sleep(10);",
]


def ago(hours):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def hexdump(s):
    return s.encode().hex()


def test_hostile_strings():
    """SQL, quotes and control characters are stored verbatim; 10 KB
    strings are refused with a message naming the field and the limit."""
    with Cluster("hostile").start() as c:
        lines = []
        for i, s in enumerate(HOSTILE):
            svc = ("svc-%d " % i) + s[:100]
            lines.append(json.dumps({"type": "toil", "service": svc, "task": s,
                                     "operator": s[:100], "started_at": ago(2),
                                     "duration_s": 300}))
            lines.append(json.dumps({"type": "alert", "service": svc, "alertname": s,
                                     "fingerprint": "fp-%d" % i, "severity": s[:100],
                                     "starts_at": ago(3), "ends_at": ago(2)}))
        c.write("hostile.jsonl", "\n".join(lines) + "\n")
        r = c.agent("import", c.path("hostile.jsonl"), check_rc=False)
        check_eq(r.returncode, 0, "import of hostile strings: %s" % r.stderr)
        c.flush()
        check_eq(c.count("toil"), len(HOSTILE), "every toil event stored (no table dropped)")
        got = {row[0] for row in c.sql("SELECT encode(convert_to(task, 'UTF8'), 'hex') FROM toil")}
        check_eq(got, {hexdump(s) for s in HOSTILE}, "tasks stored byte for byte")
        got = {row[0] for row in c.sql(
            "SELECT encode(convert_to(service, 'UTF8'), 'hex') FROM toil")}
        check_eq(got, {hexdump(("svc-%d " % i) + s[:100]) for i, s in enumerate(HOSTILE)},
                 "service names stored byte for byte")
        got = {row[0] for row in c.sql(
            "SELECT encode(convert_to(alertname || '|' || severity, 'UTF8'), 'hex') FROM alerts")}
        check_eq(got, {hexdump(s + "|" + s[:100]) for s in HOSTILE},
                 "alert names and severities stored byte for byte")
        rows = c.cli_json("toil", "--by", "task")["rows"]
        check_eq(sorted(x["task"] for x in rows), sorted(HOSTILE),
                 "the CLI returns the same strings")

        # 10 KB: refused where it enters, never cut short.
        big = "A" * 10240
        r = c.agent("toil", "record", "--service", "big", "--task", big, "--minutes", "5",
                    check_rc=False)
        check(r.returncode != 0 and "task is 10240 bytes long; the limit is 1024" in r.stderr,
              "a 10 KB task is refused by the record command: %r" % r.stderr[:300])
        r = c.agent("toil", "record", "--service", big, "--task", "t", "--minutes", "5",
                    check_rc=False)
        check(r.returncode != 0 and "service is 10240 bytes long; the limit is 128" in r.stderr,
              "a 10 KB service name is refused: %r" % r.stderr[:300])
        before = rejected(c, "string_length")
        r = c.wire("long-task", "10240")
        check(r.startswith("error 2 ") and "task is 10240 bytes long; the limit is 1024" in r,
              "the aggregator refuses a 10 KB task sent past the agent: %r" % r)
        check_eq(c.count("toil", "service = 'wire-long'"), 0, "nothing of it stored")
        check_eq(c.wire("long-task", "1024"), "ack 1 0", "a task of exactly the limit is stored")
        check_eq(c.scalar("SELECT length(task) FROM toil WHERE service = 'wire-long'"), "1024",
                 "whole, not truncated")
        check_eq(rejected(c, "string_length") - before, 1.0, "string_length counted")


if __name__ == "__main__":
    run([test_refused_connections, test_plaintext_needs_insecure, test_identity_and_roles,
         test_hostile_strings])
