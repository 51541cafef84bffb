"""Messages an operator meets on the first day, each checked as the exact
stderr line it prints: each says what is wrong and points at the real fix
(not at a running daemon when the certificates disagree, not at
aggregator.identities when agent.host is wrong).  Run as root, the TLS
file checks also try the files as another user."""
import os
import re
import subprocess
import tempfile

from harness import (AGENT, AGGREGATOR, CLI, DEV_CERTS, Cluster, check, check_eq, fail,
                     run, wait_for)


def lines(text):
    return [l for l in text.splitlines() if l.strip()]


def check_line(text, line, what):
    check(line in lines(text), "%s: expected the line\n  %s\ngot\n  %s"
          % (what, line, "\n  ".join(lines(text))))


def dev_certs(*args):
    r = subprocess.run([DEV_CERTS] + list(args), capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail("dev-certs %s: %s" % (" ".join(args), r.stderr))


def test_cli_certificate_from_another_ca():
    """Point 3: the aggregator is up; the CLI's certificate is another
    CA's.  The TLS hint, then no 'is it running?'."""
    with Cluster("msgca").enable_tls() as c:
        c.start_aggregator()
        other = c.path("other")
        dev_certs(other, "ca", "-")
        dev_certs(other, "cli", "stranger")
        conf = c.write("stranger.conf", 'cli = { server = "%s"; tls = { ca = "%s"; '
                       'cert = "%s/stranger.pem"; key = "%s/stranger.key"; }; };\n'
                       % (c.addresses[0], c.path("certs/ca.pem"), other, other))
        r = c.cli("-c", conf, "services", check_rc=False)
        check_eq(r.returncode, 2, "exit status: cannot reach")
        check("is it running" not in r.stderr, "no 'is it running?': %r" % r.stderr)
        check_line(r.stderr, "opspulse: the aggregator at %s is reachable but the TLS "
                   "handshake failed; fix the certificates as said above, not the address"
                   % c.addresses[0], "the CLI's last line")
        check(any(l.startswith("opspulse: error: transport: TLS handshake with %s failed"
                               % c.addresses[0]) for l in lines(r.stderr)),
              "the TLS hint comes first: %r" % r.stderr)


def test_agent_certificate_for_another_host():
    """Point 4 (and 5's CN check): agent.host it-agent, certificate CN
    wrong-cn.  check-config refuses it; the aggregator's refusal names the
    real fix; status shows the refusals; flush says why it waits."""
    with Cluster("msgcn").enable_tls() as c:
        c.make_cert("agent", "wrong-cn")
        conf = open(c.path("agent.conf")).read().replace("/it-agent.", "/wrong-cn.")
        c.write("agent.conf", conf)
        r = subprocess.run([AGENT, "check-config", c.path("agent.conf"), "--user", "root"],
                           capture_output=True, text=True)
        check_eq(r.returncode, 1, "check-config fails: %r" % r.stderr)
        check_line(r.stderr, 'opspulse-agent: error: config: the certificate %s is for '
                   '"wrong-cn" but agent.host is "it-agent": the aggregator refuses events '
                   'for a host other than the certificate\'s CN; set agent.host = "wrong-cn" '
                   'or issue a certificate for it-agent' % c.path("certs/wrong-cn.pem"),
                   "check-config on a CN that is not agent.host")
        c.start()
        c.agent("deploy", "record", "--service", "cn", "--started", "3m", "--finished", "2m",
                "--outcome", "success")
        reason = ('event 0 is for host "it-agent" but the sender\'s certificate is for '
                  '"wrong-cn": set agent.host to the certificate\'s CN or issue a certificate '
                  'for the host (aggregator.identities is for importers writing for other hosts)')
        wait_for(lambda: reason in c.aggregators[0].output(), 30, "the refusal")
        r = c.agent("flush", "--timeout", "3", check_rc=False)
        check_eq(r.returncode, 1, "flush fails")
        refusal = r.stderr.strip()
        m = re.match(r"opspulse-agent: flush timed out after 3 s: the aggregator refused the "
                     r"last batch: (.*); the events stay in (.*) until that is fixed$", refusal)
        check(m is not None, "flush names the refusal: %r" % r.stderr)
        check(m.group(1).endswith(reason), "flush gives the aggregator's reason: %r" % m.group(1))
        check_eq(m.group(2), c.spool, "flush names the spool")
        st = c.agent("status").stdout
        ref = [l for l in st.splitlines() if l.startswith("refused:")]
        check(len(ref) == 1 and re.match(r"refused: +\d+ batch(es)?, the last at \S+ "
                                         r"\(not delivered since\): .*" + re.escape(reason),
                                         ref[0]), "status shows the refusals: %r" % st)
        check_eq(c.count("deploys"), 0, "nothing stored")


def test_check_config_loads_tls_as_the_daemon():
    """Point 5: a key the daemon's user cannot read fails check-config,
    not only serve/daemon."""
    if os.geteuid() != 0:
        print("not root: the --user check is not exercised")
        return
    with Cluster("msgkey").enable_tls() as c:
        for binary, conf, key, user in (
                (AGENT, "agent.conf", "it-agent.key", "nobody"),
                (AGGREGATOR, "aggregator0.conf", "aggregator.key", "nobody")):
            path = c.path("certs/" + key)
            for d in (c.dir, c.path("certs")):
                os.chmod(d, 0o755)
            for f in os.listdir(c.path("certs")):
                os.chmod(c.path("certs/" + f), 0o644)
            os.chmod(path, 0o600)  # root's alone
            r = subprocess.run([binary, "check-config", c.path(conf), "--user", user],
                               capture_output=True, text=True)
            name = os.path.basename(binary)
            check_eq(r.returncode, 1, "%s check-config fails: %r" % (name, r.stderr))
            check_line(r.stderr, "%s: error: config: tls.key %s cannot be read by user %s, "
                       "whom the daemon runs as: Permission denied; chown or chmod it (root "
                       "can read it, so check-config as root alone would not notice)"
                       % (name, path, user), name)
            os.chmod(path, 0o644)
            r = subprocess.run([binary, "check-config", c.path(conf), "--user", user],
                               capture_output=True, text=True)
            check_eq(r.returncode, 0, "%s check-config passes when readable: %r"
                     % (name, r.stderr))
        # A key that is not the certificate's fails as it would at start.
        c.make_cert("agent", "spare")
        conf = open(c.path("agent.conf")).read().replace("it-agent.key", "spare.key")
        c.write("agent.conf", conf)
        r = subprocess.run([AGENT, "check-config", c.path("agent.conf"), "--user", "nobody"],
                           capture_output=True, text=True)
        check_eq(r.returncode, 1, "a key of another certificate fails: %r" % r.stderr)
        check(any(l.startswith("opspulse-agent: error: ") and "spare.key" in l
                  for l in lines(r.stderr)), "the key is named: %r" % r.stderr)
        # Files not there yet (a new install): a warning, not OK silently.
        conf = open(c.path("agent.conf")).read().replace("spare.key", "absent.key")
        c.write("agent.conf", conf)
        r = subprocess.run([AGENT, "check-config", c.path("agent.conf")],
                           capture_output=True, text=True)
        check_eq(r.returncode, 0, "missing files are a warning")
        check_line(r.stderr, 'opspulse-agent: warning: config: %s does not exist yet: the '
                   'daemon cannot start without it (README, "Production certificates")'
                   % c.path("certs/absent.key"), "a missing key")


def test_cli_without_a_config_file():
    """Point 6: no ~/.config/opspulse/cli.conf: say which file was looked
    for and where the example is."""
    home = tempfile.mkdtemp(prefix="home-")
    r = subprocess.run([CLI, "dora"], capture_output=True, text=True,
                       env=dict(os.environ, HOME=home))
    check_eq(r.returncode, 1, "exit status")
    check_line(r.stderr, "opspulse: there is no configuration file %s/.config/opspulse/cli.conf "
               "(-c FILE names another); copy /usr/share/doc/opspulse-aggregator/examples/"
               "cli.conf there and set cli.server and cli.tls to your certificate" % home,
               "no configuration file")
    os.rmdir(home)


def test_unknown_service():
    """Point 7: --service nosuch lists the known services, as --team
    does for teams."""
    with Cluster("msgsvc").start() as c:
        for svc in ("billing", "search"):
            c.agent("deploy", "record", "--service", svc, "--started", "3m",
                    "--finished", "2m", "--outcome", "success")
        c.flush()
        known = sorted(r[0] for r in c.sql("SELECT service FROM services"))
        r = c.cli("dora", "--service", "nosuch", "--service", "search", check_rc=False)
        check_eq(r.returncode, 1, "exit status: bad input")
        check_eq(r.stderr.strip(), "opspulse: unknown service 'nosuch'; known services: %s "
                 "(opspulse services lists them)" % ", ".join(known), "the message")
        check_eq(len(c.cli_json("dora", "--service", "search")["rows"]), 1,
                 "a known service still answers")


def test_typo_in_a_key():
    """Point 8: a key one or two edits from a known one is an error that
    names it; others stay warnings."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "agent.conf")
        with open(path, "w") as f:
            f.write('agent = {\n  aggregaters = [ "tcp://10.0.0.1:7410" ];\n'
                    '  spool = { max_bb = 5; };\n  colour = "blue";\n};\n')
        r = subprocess.run([AGENT, "check-config", path], capture_output=True, text=True)
        check_eq(r.returncode, 1, "a typo fails the check")
        check_line(r.stderr, "opspulse-agent: error: config: %s:2: unknown key "
                   "'agent.aggregaters'; did you mean 'aggregators'?" % path, "top level")
        check_line(r.stderr, "opspulse-agent: error: config: %s:3: unknown key "
                   "'agent.spool.max_bb'; did you mean 'max_mb'?" % path, "nested")
        check_line(r.stderr, "opspulse-agent: warning: config: %s:4: unknown key "
                   "'agent.colour' ignored" % path, "no near key: a warning")


def test_import_names_the_fields():
    """Point 9: import --help lists each type's fields, and a line with
    the CLI's words (started, minutes) is refused naming the fields its
    type takes."""
    c = Cluster("msgimp")
    c.write_agent_conf()
    help_text = c.agent("import", "--help").stdout
    toil = re.search(r"^  toil +(.*)$", help_text, re.M)
    check(toil is not None, "import --help lists toil's fields: %r" % help_text)
    fields = toil.group(1)
    for f in ("task*", "started_at*", "duration_s*", "source"):
        check(f in fields.split(", "), "toil takes %s: %r" % (f, fields))
    path = c.write("guess.jsonl",
                   '{"type":"toil","task":"x","started":"2026-10-05T09:30:00Z","minutes":45}\n'
                   '{"type":"toil","task":"x","started_at":"2026-10-05T09:30:00Z"}\n')
    r = c.agent("import", "--dry-run", path, check_rc=False)
    check_eq(r.returncode, 1, "refused")
    check_line(r.stderr, '%s:1: unknown field "started" for toil; toil takes %s (* required) '
               "and service, env, host, operator" % (path, fields), "an unknown field")
    check_line(r.stderr, "%s:2: duration_s is missing; toil takes %s (* required)"
               % (path, fields), "a missing field")


if __name__ == "__main__":
    run([test_cli_certificate_from_another_ca, test_agent_certificate_for_another_host,
         test_check_config_loads_tls_as_the_daemon, test_cli_without_a_config_file,
         test_unknown_service, test_typo_in_a_key, test_import_names_the_fields])
