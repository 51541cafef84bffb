"""Every indicator of SPEC §4 through the CLI of §5, against values computed
in indicators_data.py from the definitions, not from the SQL.

The dataset goes in through the real path: `opspulse-agent import` (JSON
Lines), the agent's spool and sender, the aggregator; the EOL test product
through `opspulse eol import`.  Teams, time zones, noise_minutes and a
scorecard target come from the aggregator's configuration."""
import csv
import io
import json
import os
import signal
import subprocess

import indicators_data as D
from harness import CLI, Cluster, check, check_close, check_eq, fail, run, wait_for

WINDOW = ["--since", "2026-09-01", "--until", "2026-09-29T00:00:00Z"]
COMMANDS = ["dora", "toil", "alerts", "eol", "maintenance", "capacity", "batches",
            "scorecard", "services", "agents"]


def aggregator_extra(teams=D.TEAMS, timezone=D.DEFAULT_TZ):
    groups = ",\n".join(
        '    { name = "%s"; members = %d; hours_per_week = %s; timezone = "%s"; services = [ %s ]; }'
        % (n, m, repr(h), tz, ", ".join('"%s"' % s for s in svcs))
        for n, m, h, tz, svcs in teams)
    targets = "; ".join("%s = %s" % kv for kv in D.TARGETS.items())
    return ('  timezone = "%s";\n  noise_minutes = %d;\n  targets = { %s; };\n'
            '  teams = (\n%s\n  );\n' % (timezone, D.NOISE_MINUTES, targets, groups))


def configure(c, **kw):
    """Writes the harness's aggregator configuration plus teams and
    settings."""
    base_path = c.path("aggregator0.base")
    if not os.path.exists(base_path):
        os.rename(c.path("aggregator0.conf"), base_path)
    with open(base_path) as f:
        base = f.read().rstrip()
    check(base.endswith("};"), "harness configuration ends with };")
    c.write("aggregator0.conf", base[:-2] + aggregator_extra(**kw) + "};\n")


def psql_status(c, sql):
    """Exit status of psql running sql in the test database."""
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", c.conninfo, "-c", sql],
                          capture_output=True).returncode


def load(c):
    lines = "\n".join(json.dumps(e) for e in D.events()) + "\n"
    r = c.agent("import", c.write("history.jsonl", lines))
    check("imported %d events" % len(D.events()) in r.stdout, "import summary: %r" % r.stdout)
    c.flush()
    later = "\n".join(json.dumps(e) for e in D.later_events()) + "\n"
    c.agent("import", c.write("later.jsonl", later))
    c.flush()
    cycles = c.write("testdb.json", json.dumps(D.TESTDB_CYCLES))
    out = json.loads(c.cli("eol", "import", "testdb", cycles, "--format", "json").stdout)
    check_eq(sorted(r["cycle"] for r in out["rows"]),
             sorted(str(x["cycle"]) for x in D.TESTDB_CYCLES), "imported cycles echoed")


def compare_row(actual, expected, what):
    check_eq(sorted(actual), sorted(k for k in expected if not k.startswith("_")),
             "%s: field names" % what)
    for k, v in expected.items():
        if k.startswith("_"):
            continue
        if isinstance(v, float) and not isinstance(v, bool):
            if not isinstance(actual[k], (int, float)) or isinstance(actual[k], bool):
                fail("%s.%s: expected a number near %r, got %r" % (what, k, v, actual[k]))
            check_close(float(actual[k]), v, "%s.%s" % (what, k))
        else:
            check_eq(actual[k], v, "%s.%s" % (what, k))


def compare_rows(out, expected, what):
    check_eq(sorted(out), ["rows", "since", "until"], "%s: top-level keys" % what)
    check_eq(len(out["rows"]), len(expected), "%s: row count (%r)" % (
        what, [tuple(r.values())[:3] for r in out["rows"]]))
    for i, (a, e) in enumerate(zip(out["rows"], expected)):
        compare_row(a, e, "%s row %d" % (what, i))


def query(c, *args):
    out = c.cli_json(*(list(args) + WINDOW))
    check_eq((out["since"], out["until"]), ("2026-09-01T00:00:00Z", "2026-09-29T00:00:00Z"),
             "window echoed by %s" % args[0])
    return out


def check_indicators(c):
    compare_rows(query(c, "dora"), [D.expected_dora(s) for s in D.SERVICES], "dora")
    compare_rows(query(c, "toil"), [D.expected_toil(s) for s in D.SERVICES], "toil")
    compare_rows(query(c, "toil", "--by", "task"), D.expected_toil_by_task(), "toil --by task")
    compare_rows(query(c, "toil", "--by", "team"), D.expected_toil_by_team(), "toil --by team")
    compare_rows(query(c, "alerts"), [D.expected_alerts(s) for s in D.SERVICES], "alerts")
    compare_rows(query(c, "alerts", "--by", "rule"), D.expected_alerts_by_rule(),
                 "alerts --by rule")
    compare_rows(query(c, "eol"), D.expected_eol(), "eol")
    compare_rows(query(c, "maintenance"), D.expected_maintenance(), "maintenance")
    compare_rows(query(c, "capacity"), D.expected_capacity(), "capacity")
    compare_rows(query(c, "batches"), D.expected_batches(), "batches")


def check_scorecard(c):
    rows = query(c, "scorecard")["rows"]
    areas = sorted(["delivery", "toil", "alerting", "incident_response", "maintenance",
                    "capacity", "knowledge_spread", "postmortem", "slo"])
    check_eq([(r["service"], r["area"]) for r in rows],
             [(s, a) for s in D.SERVICES for a in areas], "scorecard rows")
    for r in rows:
        check_eq(sorted(r), ["area", "level", "reason", "service"], "scorecard fields")
        check_eq(r["level"], D.expected_scorecard(r["service"])[r["area"]],
                 "scorecard %s/%s (%s)" % (r["service"], r["area"], r["reason"]))
        check(isinstance(r["reason"], str) and len(r["reason"]) > 10, "a reason in words: %r" % r)
    by = {(r["service"], r["area"]): r["reason"] for r in rows}
    check("0.5" in by[("alpha", "alerting")],
          "the configured noise target is used: %r" % by[("alpha", "alerting")])


def check_services_agents(c):
    rows = query(c, "services")["rows"]
    exp = D.expected_services()
    check_eq([r["service"] for r in rows], D.SERVICES, "services rows")
    for r in rows:
        check_eq(sorted(r), ["events", "first_seen", "last_event", "service", "team", "timezone"],
                 "services fields")
        check_eq((r["team"], r["timezone"], r["events"], r["last_event"]), exp[r["service"]],
                 "services %s" % r["service"])
        check(r["first_seen"].endswith("Z"), "first_seen is RFC 3339: %r" % r["first_seen"])
    rows = query(c, "agents")["rows"]
    check_eq([r["agent"] for r in rows], ["it-agent"], "agents rows")
    a = rows[0]
    check_eq(sorted(a), ["agent", "dropped", "events", "first_seen", "last_seen",
                         "skipped_by_reason", "skipped_lines", "spools", "version"],
             "agents fields")
    check_eq((a["dropped"], a["spools"], a["version"]), (0, 1, "0.1.0"), "agent counters")
    n = len(D.events()) + len(D.later_events())
    check(a["events"] >= n, "events delivered %r >= %d" % (a["events"], n))


def check_filters(c):
    out = query(c, "toil", "--team", "platform")
    check_eq([r["service"] for r in out["rows"]], ["alpha", "beta"], "--team filter")
    out = query(c, "dora", "--team", "web", "--service", "gamma", "--service", "alpha")
    check_eq([r["service"] for r in out["rows"]], ["gamma"], "--team and --service together")
    out = query(c, "alerts", "--service", "delta", "--env", "staging")
    compare_row(out["rows"][0], {"service": "delta", "fired": 1, "resolved": 1, "noise_share": 1.0,
                                 "mttr_p50_minutes": 5.0, "after_hours_share": 1.0,
                                 "flapping_rules": []}, "alerts in staging")
    out = query(c, "eol", "--env", "staging")
    check_eq([(r["host"], r["status"]) for r in out["rows"]], [("g-1", "past_eol")], "eol --env")
    out = query(c, "toil", "--by", "team", "--team", "web")
    check_eq([r["team"] for r in out["rows"]], ["web"], "toil --by team --team")
    # EOL: days count from the UTC date of until, whatever its time.
    out = c.cli_json("eol", "--service", "gamma", "--until", "2026-09-29T23:59:59Z")
    days = {r["host"]: r["days_to_eol"] for r in out["rows"]}
    check_eq((days["g-1"], days["g-2"]), (90, 180), "days_to_eol late on the until date")


def check_formats(c):
    raw = subprocess.run([CLI, "-c", c.path("cli.conf"), "toil", "--by", "task", "--format",
                          "csv"] + WINDOW, capture_output=True, check=True).stdout
    check(raw.count(b"\r\n") == raw.count(b"\n") > 1, "CSV lines end with CRLF: %r" % raw[:200])
    text = raw.decode()
    rows = list(csv.reader(io.StringIO(text)))
    check_eq(rows[0], ["service", "task", "count", "total_hours", "mean_minutes", "operators"],
             "CSV header")
    exp = D.expected_toil_by_task()
    check_eq([r[1] for r in rows[1:]], [e["task"] for e in exp], "CSV fields with quotes and commas")
    check('"rotate ""TLS"", certs"' in text, "CSV quoting: %r" % text)
    text = c.cli("alerts", "--format", "csv", *WINDOW).stdout
    rows = list(csv.reader(io.StringIO(text)))
    check_eq(json.loads(rows[1][6]), ["CPUHigh", "HighLatency"], "a JSON array in a CSV cell")
    check_eq(rows[3][3:], ["", "", "", ""], "nulls are empty CSV cells")
    md = c.cli("toil", "--by", "task", "--format", "markdown", *WINDOW).stdout.splitlines()
    check_eq(md[0], "| service | task | count | total_hours | mean_minutes | operators |",
             "Markdown header")
    check_eq(md[1], "| --- | --- | ---: | ---: | ---: | ---: |", "Markdown alignment row")
    check_eq(len(md), 2 + len(exp), "Markdown rows")
    check(any("restart \\| workers" in line for line in md), "a | inside a cell is escaped")
    for line in md:
        check(line.startswith("| ") and line.endswith(" |"), "Markdown table line: %r" % line)
    for cmd in COMMANDS:
        table = c.cli(cmd, "--format", "table", *WINDOW).stdout
        check(table.splitlines()[0].endswith("2026-09-01T00:00:00Z to 2026-09-29T00:00:00Z"),
              "%s table title: %r" % (cmd, table[:200]))


def check_usage_errors(c):
    for args, what in ((["toil", "--by", "rule"], "rule is not a toil grouping"),
                       (["dora", "--by", "task"], "dora takes no --by"),
                       (["scorecard", "--team", "nosuch"], "unknown team"),
                       (["eol", "import", "testdb"], "import without a file")):
        r = c.cli(*args, check_rc=False)
        check_eq(r.returncode, 1, "exit status: %s" % what)
        check_eq(r.stdout, "", "nothing on stdout: %s" % what)
        check(len(r.stderr.strip().splitlines()) >= 1, "a message: %s" % what)
    r = c.cli("scorecard", "--team", "nosuch", check_rc=False)
    check("platform" in r.stderr, "unknown team lists the teams: %r" % r.stderr)
    bad = [{"cycle": "1", "eol": "2026-02-30"}]
    r = c.cli("eol", "import", "testdb", c.write("bad.json", json.dumps(bad)), check_rc=False)
    check_eq(r.returncode, 1, "a bad date in an import file")
    check("element 1" in r.stderr and "eol" in r.stderr, "names element and field: %r" % r.stderr)
    r = c.cli("eol", "import", "testdb", c.write("bad2.json", "{not json"), check_rc=False)
    check_eq(r.returncode, 1, "an import file that is not JSON")
    r = c.cli("eol", "import", "Bad Name", c.path("testdb.json"), check_rc=False)
    check_eq(r.returncode, 1, "a bad product name is refused by the aggregator")
    check("product name" in r.stderr, "says why: %r" % r.stderr)


def test_every_indicator_against_the_definitions():
    with Cluster("indicators") as c:
        configure(c)
        c.start()
        load(c)
        check_indicators(c)
        check_scorecard(c)
        check_services_agents(c)
        check_filters(c)
        check_formats(c)
        check_usage_errors(c)
        # Importing everything again changes nothing.
        load(c)
        check_indicators(c)


def test_reload_and_reader_role():
    with Cluster("indreload") as c:
        configure(c)
        c.start()
        load(c)
        before = query(c, "toil", "--service", "alpha")["rows"][0]["after_hours_share"]
        check_close(before, D.expected_toil("alpha")["after_hours_share"], "Tokyo business hours")
        # Move platform to UTC and reload: business hours follow at once.
        teams = [("platform", 2, 40.0, "UTC", ["alpha", "beta"])] + list(D.TEAMS[1:])
        configure(c, teams=teams)
        c.aggregators[0].p.send_signal(signal.SIGHUP)
        wait_for(lambda: c.scalar("SELECT timezone FROM teams WHERE name = 'platform'") == "UTC",
                 15, "the reload to reach the teams table")
        D.TEAMS[0] = teams[0]
        try:
            after = query(c, "toil", "--service", "alpha")["rows"][0]["after_hours_share"]
            check_close(after, D.expected_toil("alpha")["after_hours_share"], "UTC business hours")
        finally:
            D.TEAMS[0] = ("platform", 2, 40.0, "Asia/Tokyo", ["alpha", "beta"])
        check(abs(after - before) > 0.01, "the share changed: %r -> %r" % (before, after))
        # An unknown time zone is refused and the teams stay as they were.
        configure(c, teams=[("platform", 2, 40.0, "Asia/Tokio", ["alpha"])])
        c.aggregators[0].p.send_signal(signal.SIGHUP)
        wait_for(lambda: "Asia/Tokio" in c.aggregators[0].output(), 15, "the refusal in the log")
        check_eq(c.scalar("SELECT timezone FROM teams WHERE name = 'platform'"), "UTC",
                 "teams unchanged after a refused reload")
        # The read-only role reads every indicator and writes nothing.
        check_eq(c.scalar("SELECT count(*) FROM pg_roles WHERE rolname = 'opspulse_reader' "
                          "AND NOT rolcanlogin"), "1", "role opspulse_reader exists, NOLOGIN")
        rows = c.sql("SET ROLE opspulse_reader; SELECT service, level FROM opspulse.scorecard("
                     "'2026-09-01', '2026-09-29') WHERE area = 'delivery' ORDER BY 1")
        rows = [r for r in rows if r != ["SET"]]
        check_eq(len(rows), len(D.SERVICES), "the reader role runs the scorecard")
        r = psql_status(c, "SET ROLE opspulse_reader; DELETE FROM opspulse.deploys")
        check(r != 0, "the reader role cannot delete")


def test_teams_written_once_the_database_is_back():
    with Cluster("indpgdown", private_pg=True) as c:
        configure(c)
        c.migrate()
        c.pg_stop()
        agg = c.start_aggregator(migrate=False)
        wait_for(lambda: "cannot write teams and settings yet" in agg.output(), 30,
                 "the aggregator to say it will retry")
        check(agg.alive(), "the aggregator keeps running without its database")
        r = c.cli("toil", check_rc=False)
        check_eq(r.returncode, 3, "exit status of a query while the database is down")
        check("try again" in r.stderr and len(r.stderr.splitlines()) == 1,
              "one line saying what to do: %r" % r.stderr)
        c.pg_start()
        wait_for(lambda: "3 teams and the settings" in agg.output(), 60,
                 "the teams to be written once the database is back")
        check_eq(sorted(r[0] for r in c.sql("SELECT name FROM teams")),
                 sorted(t[0] for t in D.TEAMS), "teams in the database")
        check_eq(c.scalar("SELECT value FROM settings WHERE key = 'noise_minutes'"),
                 str(D.NOISE_MINUTES), "settings in the database")


if __name__ == "__main__":
    run([test_every_indicator_against_the_definitions, test_reload_and_reader_role,
         test_teams_written_once_the_database_is_back])
