"""A database created by an earlier build upgrades in place with `migrate`.

data/upgrade_v20.sql is a database migrated by the build before the SQL
functions moved out of the numbered migrations (schema version 20), loaded
through its aggregator and agent with the dataset of test_indicators.py
(data/make_upgrade_fixture.py wrote it).  Restored and migrated by this
build, it must get the numbered migrations after version 20, keep its
data and answer every indicator exactly as a new database migrated by this
build and loaded with the same events.  A second migrate applies no
migration and changes no function."""
import os
import re
import subprocess

from harness import Cluster, check, check_eq, run
from test_indicators import configure, load

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "upgrade_v20.sql")
WINDOW = ["--since", "2026-09-01", "--until", "2026-09-29T00:00:00Z"]
QUERIES = [["dora"], ["toil"], ["toil", "--by", "task"], ["toil", "--by", "team"],
           ["alerts"], ["alerts", "--by", "rule"], ["eol"], ["maintenance"], ["capacity"],
           ["batches"], ["scorecard"], ["services"], ["agents"],
           ["dora", "--service", "alpha"], ["toil", "--team", "platform"],
           ["alerts", "--service", "delta", "--env", "staging"], ["eol", "--env", "staging"],
           ["toil", "--by", "team", "--team", "web"], ["scorecard", "--team", "web"]]
# Times of arrival, not of events: when the fixture was made, or now.
ARRIVAL = {"services": ["first_seen"], "agents": ["first_seen", "last_seen"]}
TABLES = ["deploys", "deploy_failures", "toil", "batch_runs", "alerts", "components",
          "maintenance", "capacity", "services", "agent_spools", "teams", "settings",
          "eol_cycles", "rollup_ready", "rollup_deploys", "rollup_toil", "rollup_alerts",
          "rollup_days"]
# The numbered migrations after the fixture's version 20 (021_requests, ...).
NEWER = sorted(f[:-4] for f in os.listdir(os.path.join(os.path.dirname(os.path.abspath(
    __file__)), "..", "..", "aggregator", "sql")) if re.match(r"\d{3}_.*\.sql$", f)
    and int(f[:3]) > 20)
FUNCTIONS = ("SELECT p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid)) "
             "FROM pg_proc p WHERE p.pronamespace = 'opspulse'::regnamespace "
             "AND p.prokind = 'f' ORDER BY 1")


def restore(c):
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", c.conninfo, "-f", FIXTURE],
                       capture_output=True, text=True)
    check(r.returncode == 0, "restoring the fixture: " + r.stderr[-2000:])


def counts(c):
    return {t: c.scalar("SELECT count(*) FROM opspulse.%s" % t) for t in TABLES}


def answers(c):
    """Every indicator's JSON through the CLI, arrival times left out."""
    out = {}
    for q in QUERIES:
        res = c.cli_json(*(q + WINDOW))
        for row in res["rows"]:
            for k in ARRIVAL.get(q[0], []):
                row.pop(k, None)
        out[" ".join(q)] = res
    md = c.cli("report", "--format", "markdown", *WINDOW).stdout
    out["report"] = re.sub(r"Generated [^\n]*", "Generated (time)", md)
    return out


def test_upgrade_in_place_answers_the_same():
    with Cluster("upgrade-old") as old, Cluster("upgrade-new") as new:
        restore(old)
        check_eq(old.scalar("SELECT max(version) FROM opspulse.schema_migrations"), "20",
                 "the fixture's schema version")
        before = counts(old)
        check(int(before["deploys"]) > 0 and int(before["rollup_ready"]) > 0,
              "the fixture holds events and rollups: %r" % before)
        migrations = old.scalar("SELECT count(*) FROM opspulse.schema_migrations")

        configure(old)
        r = old.migrate()
        check_eq(re.findall(r"applied migration (\S+)", r.stdout), NEWER,
                 "the migrations after the fixture's version, in order: " + r.stdout)
        check("applied the functions" in r.stdout, "the functions are applied: " + r.stdout)
        check_eq(counts(old), before, "rows after migrate")
        migrations = str(int(migrations) + len(NEWER))
        functions = old.sql(FUNCTIONS)

        # A second migrate: no migration, the same functions, the same rows.
        r = old.migrate()
        check("applied migration" not in r.stdout and "nothing to do" in r.stdout,
              "the second migrate applies no migration: " + r.stdout)
        check_eq(old.scalar("SELECT count(*) FROM opspulse.schema_migrations"), migrations,
                 "recorded migrations")
        check_eq(old.sql(FUNCTIONS), functions, "functions after a second migrate")
        check_eq(counts(old), before, "rows after a second migrate")
        old.start_aggregator(migrate=False)

        configure(new)
        new.start()
        load(new)
        check_eq(new.sql(FUNCTIONS), functions, "functions of a new and an upgraded database")

        a, b = answers(old), answers(new)
        for q in ("dora", "toil", "alerts", "eol", "capacity", "batches", "scorecard"):
            check(a[q]["rows"], "`opspulse %s` answers with rows" % q)
        check_eq(sorted(a), sorted(b), "queries")
        for q in sorted(a):
            check_eq(a[q], b[q], "`opspulse %s` upgraded vs new" % q)
        print("%d answers identical" % len(a))


if __name__ == "__main__":
    run([test_upgrade_in_place_answers_the_same])
