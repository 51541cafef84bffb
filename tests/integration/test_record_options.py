"""The record commands' command lines (agent/cmd_opts.c, shared by toil,
component, maintenance, incident, action, check, requests and deploy):
each wrong command line gets its exact message and exit status, --help
its usage on stdout, and a right one records.  No daemon or database: a
record only goes to the spool."""
import os
import subprocess
import tempfile

from harness import AGENT, STATE, check, check_eq, run

# family, subcommand, a command line that records, its usage's first line
COMMANDS = [
    ("toil", "record", ["--service", "s", "--task", "t", "--minutes", "5"],
     "usage: opspulse-agent toil record --service S --task T (--minutes N | --seconds N)"),
    ("component", "record", ["--service", "s", "--name", "postgresql", "--version", "15.4"],
     "usage: opspulse-agent component record --service S --name PRODUCT --version V [--host H]"),
    ("maintenance", "record", ["--service", "s", "--component", "pg", "--title", "t",
                               "--due", "2027-01-15", "--status", "scheduled"],
     "usage: opspulse-agent maintenance record --service S --component C --title T --due T"),
    ("incident", "record", ["--service", "s", "--id", "INC-1"],
     "usage: opspulse-agent incident record --service S --id ID"),
    ("action", "record", ["--service", "s", "--id", "A-1", "--incident", "INC-1", "--title", "t",
                          "--owner", "o", "--due", "2027-01-15", "--status", "open"],
     "usage: opspulse-agent action record --service S --id ID --incident ID"),
    ("check", "record", ["--service", "s", "--check", "secrets_rotated", "--result", "pass"],
     "usage: opspulse-agent check record --service S --check NAME"),
    ("requests", "record", ["--service", "s", "--minute", "2026-10-05T09:31:00Z",
                            "--requests", "10", "--errors", "1"],
     "usage: opspulse-agent requests record --service S --minute T"),
    ("deploy", "record", ["--service", "s", "--started", "3m", "--finished", "2m",
                          "--outcome", "success"],
     "usage: opspulse-agent deploy record --service S --started T --finished T"),
]


def make_conf():
    os.makedirs(os.path.join(STATE, "runs"), exist_ok=True)
    d = tempfile.mkdtemp(prefix="recopts-", dir=os.path.join(STATE, "runs"))
    conf = os.path.join(d, "agent.conf")
    with open(conf, "w") as f:
        f.write('agent = { id = "recopts"; host = "recopts"; aggregators = [ "tcp://127.0.0.1:9" ];'
                ' spool = { dir = "%s/spool"; }; tls = { insecure = true; }; };\n' % d)
    return conf


CONF = make_conf()


def agent(*args):
    return subprocess.run([AGENT, "-c", CONF] + list(args), capture_output=True, text=True,
                          timeout=60)


def first_line(text):
    return text.splitlines()[0] if text else ""


def test_a_right_command_line_records():
    for family, sub, good, _ in COMMANDS:
        r = agent(family, sub, *good)
        check_eq((r.returncode, r.stderr), (0, ""), "%s %s %s" % (family, sub, good))


def test_help_prints_the_usage_on_stdout():
    for family, sub, good, usage in COMMANDS:
        for argv in ([family, sub] + good + ["--help"], [family, "--help"], [family, "help"]):
            r = agent(*argv)
            check_eq((r.returncode, first_line(r.stdout), r.stderr), (0, usage, ""),
                     " ".join(argv))


def test_unknown_option():
    """An option in no table of the command: getopt_long's message.  (The
    toil/component/maintenance table once lacked its end row, and options
    of the incident commands were read past it: --owner was taken for
    --help and exited 0, --mitigated for --host.)"""
    for family, sub, good, usage in COMMANDS:
        opts = ["--nope"]
        if family in ("toil", "component", "maintenance"):
            opts += ["--owner", "--mitigated", "--done-at"]
        for opt in opts:
            r = agent(family, sub, *(good + [opt, "x"]))
            want = "%s: unrecognized option '%s'" % (sub, opt)
            check_eq((r.returncode, first_line(r.stderr)), (1, want),
                     "%s %s %s" % (family, sub, opt))


def test_option_of_another_command_of_the_table():
    for family, opt in (("toil", "--due"), ("component", "--task"), ("maintenance", "--minutes"),
                        ("incident", "--owner"), ("action", "--severity")):
        good = [c for c in COMMANDS if c[0] == family][0]
        r = agent(family, "record", *(good[2] + [opt, "1"]))
        check_eq((r.returncode, r.stderr.splitlines()[:2]),
                 (1, ["opspulse-agent: %s record does not take %s" % (family, opt), good[3]]),
                 "%s record %s" % (family, opt))


def test_required_options():
    """The first required option missing (or empty), in the order the
    command lists them; deploy has messages of its own."""
    cases = [
        (["toil", "record", "--task", "t", "--minutes", "1"], "toil record needs --service", True),
        (["toil", "record", "--service", "", "--task", "t"], "toil record needs --service", True),
        (["component", "record", "--service", "s", "--name", "pg"],
         "component record needs --version", True),
        (["incident", "record", "--service", "s"], "incident record needs --id", False),
        (["action", "record", "--service", "s", "--id", "A", "--incident", "I"],
         "action record needs --title", False),
        (["check", "record", "--service", "s", "--check", "c"], "check record needs --result",
         False),
        (["requests", "record", "--service", "s", "--minute", "2026-10-05T09:31:00Z",
          "--requests", "1"], "requests record needs --errors", True),
        # an empty --service of requests and deploy is left to the event's checks
        (["requests", "record", "--service", "", "--minute", "2026-10-05T09:31:00Z",
          "--requests", "1", "--errors", "0"], "invalid requests: service is missing", False),
        (["deploy", "record", "--started", "3m"], "--service is required", False),
        (["deploy", "record", "--service", "s", "--started", "3m"],
         "deploy record needs --started, --finished and --outcome", False),
        (["deploy", "mark-failed", "--service", "s"], "mark-failed needs --id", False),
        (["deploy", "mark-failed", "--service", "s", "--id", ""], "mark-failed needs --id", False),
    ]
    for argv, message, usage_follows in cases:
        r = agent(*argv)
        lines = r.stderr.splitlines()
        check_eq((r.returncode, lines[0]), (1, "opspulse-agent: " + message), " ".join(argv))
        check_eq(len(lines) > 1 and lines[1].startswith("usage:"), usage_follows,
                 "usage after: " + " ".join(argv))


def test_bad_values_and_arguments():
    cases = [
        (["toil", "record", "--service", "s", "--task", "t", "--minutes", "1", "--at", "soon"],
         "--at 'soon' is not a time; use RFC 3339 (2026-10-05T09:30:00Z), a date, 'now' or an "
         "age like 90m"),
        (["incident", "record", "--service", "s", "--id", "I", "--resolved", "soon"],
         "--resolved 'soon' is not a time; use RFC 3339 (2026-10-05T09:30:00Z), a date, 'now' "
         "or an age like 90m"),
        (["check", "record", "--service", "s", "--check", "c", "--result", "pass", "--at", "x"],
         "--at 'x' is not a time; use RFC 3339 (2026-10-05T09:30:00Z), a date, 'now' or an age "
         "like 90m"),
        # deploy and requests read each value where it stands: the first bad one
        (["deploy", "record", "--started", "soon", "--bogus"],
         "--started 'soon' is not a time; use RFC 3339 (2026-10-05T09:30:00Z), 'now' or an age "
         "like 90m"),
        (["requests", "record", "--requests", "x", "--help"],
         "--requests 'x' must be a whole number from 0 to 1000000000000"),
        (["toil", "record", "stray", "--service", "s"], "unexpected argument 'stray'"),
        (["deploy", "record", "--service", "s", "stray"], "unexpected argument 'stray'"),
        (["toil", "show"], "unknown toil command 'show'"),
        (["deploy", "show"], "unknown deploy command 'show'"),
    ]
    for argv, message in cases:
        r = agent(*argv)
        check_eq((r.returncode, first_line(r.stderr)), (1, "opspulse-agent: " + message),
                 " ".join(argv))


if __name__ == "__main__":
    run([test_a_right_command_line_records, test_help_prints_the_usage_on_stdout,
         test_unknown_option, test_option_of_another_command_of_the_table,
         test_required_options, test_bad_values_and_arguments])
