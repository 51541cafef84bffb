"""Configuration (SPEC §8): shipped examples validate, errors carry line
numbers, unknown keys are warnings, and a bad SIGHUP reload keeps the
running configuration."""
import os
import signal
import subprocess

from harness import AGENT, AGGREGATOR, SOURCE, Cluster, check, check_eq, run, wait_for


def checkcfg(binary, path):
    return subprocess.run([binary, "check-config", path], capture_output=True, text=True)


def test_examples_validate():
    for binary, name in ((AGENT, "agent.conf"), (AGGREGATOR, "aggregator.conf")):
        r = checkcfg(binary, os.path.join(SOURCE, "config", name))
        check_eq(r.returncode, 0, "%s validates: %s" % (name, r.stderr))
        # The only warnings: the certificates it names are not on this
        # machine (check-config loads them as the daemon would).
        others = [l for l in r.stderr.splitlines()
                  if "warning" in l and "does not exist yet" not in l]
        check(others == [], "%s has no unknown keys: %s" % (name, r.stderr))


def test_errors_have_line_numbers(tmp=None):
    c = Cluster("cfgerr")
    bad = c.write("bad.conf", 'agent = {\n  spool = { max_mb = "big"; };\n  colour = "blue";\n};\n')
    r = checkcfg(AGENT, bad)
    check_eq(r.returncode, 1, "a type error fails the check")
    check("%s:2: 'agent.spool.max_mb' must be an integer" % bad in r.stderr,
          "type error with file and line: %r" % r.stderr)
    check("%s:3: unknown key 'agent.colour'" % bad in r.stderr,
          "unknown key named with file and line: %r" % r.stderr)
    syntax = c.write("syntax.conf", "aggregator = {\n  workers = 4;\n  listen = [ \"a\" \n};\n")
    r = checkcfg(AGGREGATOR, syntax)
    check_eq(r.returncode, 1, "a syntax error fails the check")
    check("%s:4:" % syntax in r.stderr, "syntax error with its line: %r" % r.stderr)
    warn = c.write("warn.conf", 'aggregator = { flavour = 4; };\n')
    r = checkcfg(AGGREGATOR, warn)
    check_eq(r.returncode, 0, "an unknown key alone is only a warning")
    check("unknown key 'aggregator.flavour' ignored" in r.stderr, "warning text: %r" % r.stderr)
    r = checkcfg(AGENT, c.path("missing.conf"))
    check_eq(r.returncode, 1, "an explicitly named missing file is an error")


def test_bad_reload_keeps_running_config():
    with Cluster("reload").start() as c:
        good = open(c.path("agent.conf")).read()
        c.write("agent.conf", "agent = { spool = { max_mb = \"x\"; }; };\n")
        c.agent_proc.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "keeping the running configuration" in c.agent_proc.output(), 10,
                 "the agent to refuse the bad reload")
        check(c.agent_proc.alive(), "the agent survived a bad reload")
        c.write("agent.conf", good)
        c.agent("deploy", "record", "--service", "reload", "--started", "3m",
                "--finished", "2m", "--outcome", "success")
        c.flush()
        check_eq(c.scalar("SELECT count(*) FROM deploys WHERE service = 'reload'"), "1",
                 "delivery continues with the old configuration")
        c.agent_proc.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in c.agent_proc.output(), 10,
                 "a good reload")


if __name__ == "__main__":
    run([test_examples_validate, test_errors_have_line_numbers, test_bad_reload_keeps_running_config])
