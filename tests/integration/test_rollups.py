"""Monthly rollups (aggregator/sql/functions/rollups.sql): every indicator gives the same answer
whether it reads the rollups or the events, for windows of whole months,
partial months and the current month, and stays right while events
arrive late, after a configuration change and after retention.

The dataset of test_indicators goes in through the real agent and
aggregator; the aggregator rolls up the closed months by itself.  Each
comparison runs a function with the rollups (the default) and with them
off for the session (`SET opspulse.rollups = off`), and a planted change
to a rollup row shows that the CLI reads it."""
import json
import math
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone

import indicators_data as D
from harness import Cluster, check, check_eq, fail, run, wait_for
from test_indicators import configure, load

NOW = datetime.now(timezone.utc)
CURRENT_MONTH = NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)

# (since, until): whole months, partial months on both sides with weeks
# cutting days, the test_indicators window, and up to now.
WINDOWS = [
    ("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z"),
    ("2026-08-01T00:00:00Z", "2026-11-01T00:00:00Z"),
    ("2026-08-20T06:00:00Z", "2026-10-10T06:30:00Z"),
    ("2026-09-01T00:00:00Z", "2026-09-29T00:00:00Z"),
    ("2026-05-01T00:00:00Z", NOW.strftime("%Y-%m-%dT%H:%M:%SZ")),
]

# The functions the CLI and the report call, with the arguments after
# (since, until).
FUNCTIONS = [
    ("dora", ""), ("dora", ", 'production', '{gamma}'"), ("dora", ", 'staging'"),
    ("toil", ""), ("toil", ", 'production', NULL, 'platform'"),
    ("toil_by_task", ""), ("toil_by_team", ""),
    ("alerts", ""), ("alerts", ", 'staging'"), ("alerts", ", 'production', '{alpha}'"),
    ("alerts", ", 'production', NULL, NULL, 1"),
    ("alerts_by_rule", ""), ("alerts_by_rule", ", 'production', NULL, NULL, 1"),
    ("capacity", ""), ("capacity", ", 'production', NULL, 'web'"),
    ("scorecard", ""), ("service_list", ""), ("service_list", ", 'staging'"),
    ("weekly", ""), ("weekly", ", 'production', NULL, 'platform'"),
    ("toil_trend", ", 'production'"),
]


def results(c, since, until, rollups):
    """Every function's rows over one window as JSON objects, in the
    function's order (sorted for the one that has none)."""
    parts = ", ".join(
        "'%d', (SELECT coalesce(json_agg(x), '[]') FROM opspulse.%s('%s', '%s'%s) x)"
        % (i, fn, since, until, args) for i, (fn, args) in enumerate(FUNCTIONS))
    sql = "SET opspulse.rollups = '%s'; SELECT json_build_object(%s)" % (rollups, parts)
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", c.conninfo,
                          "-c", sql], capture_output=True, text=True)
    if out.returncode != 0:
        fail("psql failed on %r: %s" % (sql, out.stderr.strip()))
    got = json.loads(out.stdout)
    return [sorted(got[str(i)], key=json.dumps) if fn == "toil_trend" else got[str(i)]
            for i, (fn, _) in enumerate(FUNCTIONS)]


def same(a, b):
    """Equal, numbers to 1e-9 relative (sums of doubles in another order)."""
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, (int, float)) and isinstance(b, (int, float))
                and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def check_equivalent(c, what):
    """Every function over every window: the same with and without rollups."""
    compared = 0
    for since, until in WINDOWS:
        ons = results(c, since, until, "on")
        offs = results(c, since, until, "off")
        for (fn, args), on, off in zip(FUNCTIONS, ons, offs):
            if not same(on, off):
                diff = [(x, y) for x, y in zip(on, off) if not same(x, y)][:3]
                fail("%s: opspulse.%s('%s', '%s'%s) differs with rollups: %d vs %d rows, "
                     "first differences %r" % (what, fn, since, until, args, len(on), len(off),
                                               diff))
            compared += len(on)
    check(compared > 1000, "%s: compared %d rows" % (what, compared))


def rollup_months(c, since, until, env="production"):
    """The months a window reads from rollups, as YYYY-MM,YYYY-MM."""
    return c.scalar("SELECT coalesce(string_agg(to_char(m AT TIME ZONE 'UTC', 'YYYY-MM'), ','), "
                    "'') FROM unnest(opspulse.rollup_months('%s', '%s', '%s', NULL)) m"
                    % (since, until, env)) or ""


def wait_rolled_up(c, what):
    """Until every closed month with events is rolled up and nothing is
    dirty."""
    def done():
        return c.scalar(
            "SELECT count(*) FROM generate_series(opspulse.first_event_month(), "
            "opspulse.month_start(now() - interval '2 hours') - interval '1 day', "
            "interval '1 month') m WHERE NOT EXISTS (SELECT 1 FROM rollup_ready r "
            "WHERE r.month = opspulse.month_start(m) AND r.zones = opspulse.rollup_zones())"
        ) == "0" and c.scalar("SELECT count(*) FROM rollup_dirty") == "0"
    try:
        wait_for(done, 90, "the aggregator to roll up the closed months (%s)" % what)
    except AssertionError:
        fail("%s; ready: %r; dirty: %r" % (what, c.sql("SELECT month, zones FROM rollup_ready"),
                                           c.sql("SELECT DISTINCT * FROM rollup_dirty")))


class RefreshHeld:
    """Holds the refresh's advisory lock, so that dirty months stay dirty."""

    def __init__(self, c):
        self.c = c
        self.p = subprocess.Popen(
            ["psql", "-X", "-q", c.conninfo, "-c",
             "SELECT pg_advisory_lock(hashtext('opspulse.refresh_rollups')); "
             "SELECT pg_sleep(600)"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: c.scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted") != "0",
            15, "the advisory lock to be held")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # The server does not notice a gone client while it sleeps.
        self.c.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   "WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()")
        self.p.wait(15)


def import_events(c, name, events):
    c.agent("import", c.write(name, "\n".join(json.dumps(e) for e in events) + "\n"))
    c.flush()


def dora_row(c, service, since, until):
    out = c.cli_json("dora", "--service", service, "--since", since, "--until", until)
    check_eq(len(out["rows"]), 1, "one dora row for %s" % service)
    return out["rows"][0]


def test_rollups_answer_as_the_events():
    with Cluster("rollups") as c:
        configure(c)
        c.start()
        load(c)
        wait_rolled_up(c, "after the load")
        sept = ("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z")
        check_eq(rollup_months(c, *sept), "2026-09",
                 "September is read from its rollup")
        check_eq(rollup_months(c, "2026-09-01T00:00:00Z", "2026-09-29T00:00:00Z"), "",
                 "a window without a whole month reads no rollup")
        check_eq(c.scalar("SELECT count(*) FROM rollup_ready WHERE month >= '%s'"
                          % CURRENT_MONTH.isoformat()), "0",
                 "the current month is not rolled up")
        check_equivalent(c, "after the load")

        # The CLI reads the rollup: a planted change shows, and goes.
        before = dora_row(c, "alpha", *sept)
        c.sql("UPDATE rollup_deploys SET deploys = deploys + 100 "
              "WHERE service = 'alpha' AND env = 'production' AND month = '2026-09-01Z'")
        check_eq(dora_row(c, "alpha", *sept)["deploys"], before["deploys"] + 100,
                 "dora over September reads the rollup row")
        c.sql("UPDATE rollup_deploys SET deploys = deploys - 100 "
              "WHERE service = 'alpha' AND env = 'production' AND month = '2026-09-01Z'")

        # Late events for rolled-up months, through the agent, while the
        # refresh is held: their months are dirty and read from the events.
        with RefreshHeld(c):
            toil_before = c.cli_json("toil", "--service", "beta", "--since", sept[0],
                                     "--until", sept[1])["rows"][0]["entries"]
            import_events(c, "late.jsonl", [
                {"type": "toil", "service": "beta", "env": "production", "operator": "zed",
                 "task": "late entry", "started_at": "2026-09-20T10:00:00Z",
                 "duration_s": 600, "source": "import"},
                # gamma's g1 failed on 2026-09-04 and never recovered: a
                # success now recovers it, and dirties September.
                {"type": "deploy", "service": "gamma", "env": "production", "id": "g-late",
                 "started_at": (NOW - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "finished_at": (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "outcome": "success", "hotfix": False, "operator": "deployer"},
            ])
            dirty = sorted(tuple(r) for r in c.sql(
                "SELECT DISTINCT service, env, to_char(month AT TIME ZONE 'UTC', 'YYYY-MM') "
                "FROM rollup_dirty"))
            check(("beta", "production", "2026-09") in dirty, "late toil dirties: %r" % dirty)
            check(("gamma", "production", "2026-09") in dirty,
                  "a success dirties the month of the failure it recovers: %r" % dirty)
            check(("gamma", "production", "2026-10") in dirty,
                  "and the months up to it: %r" % dirty)
            check_eq(rollup_months(c, *sept), "", "dirty September is read from the events")
            check_eq(c.cli_json("toil", "--service", "beta", "--since", sept[0], "--until",
                                sept[1])["rows"][0]["entries"], toil_before + 1,
                     "the late toil entry counts at once")
            g = dora_row(c, "gamma", *sept)
            check(g["recovery_time_p50_hours"] is not None and
                  g["recovery_time_p50_hours"] > 24 * 40,
                  "gamma's failure recovered by today's deploy: %r" % g)
            check_equivalent(c, "with dirty months")
        wait_rolled_up(c, "after the late events")
        check_eq(rollup_months(c, *sept), "2026-09",
                 "September is read from its rollup again")
        check_eq(dora_row(c, "gamma", *sept), g, "the same gamma row from the rollup")
        check_equivalent(c, "after the late events are rolled up")

        # Another time zone: months rolled up under the old one are read
        # from the events until they are rolled up again.
        with RefreshHeld(c):
            teams = [("platform", 2, 40.0, "UTC", ["alpha", "beta"])] + list(D.TEAMS[1:])
            configure(c, teams=teams)
            c.aggregators[0].p.send_signal(signal.SIGHUP)
            wait_for(lambda: c.scalar("SELECT timezone FROM teams WHERE name = 'platform'")
                     == "UTC", 15, "the reload to reach the teams table")
            check_eq(rollup_months(c, *sept), "",
                     "months rolled up in the old time zone are not read")
            check_equivalent(c, "after a time zone change")
        wait_rolled_up(c, "after the time zone change")
        check_equivalent(c, "rolled up in the new time zone")

        # Retention drops August's event partitions: its rollup goes too,
        # and comes back from what is left (deploys are kept).
        days = (NOW - datetime(2026, 9, 1, tzinfo=timezone.utc)).days
        with RefreshHeld(c):
            c.sql("SELECT * FROM opspulse.maintain_partitions(%d)" % days)
            check_eq(c.scalar("SELECT count(*) FROM rollup_ready WHERE month < '2026-09-01Z'"),
                     "0", "retention removed the rollups of the months it dropped")
            check_equivalent(c, "after retention")
        wait_rolled_up(c, "after retention")
        check_eq(c.scalar("SELECT count(*) FROM rollup_alerts WHERE month = '2026-08-01Z'"), "0",
                 "August's alerts are gone from its rollup")
        check_equivalent(c, "after retention, rolled up again")


if __name__ == "__main__":
    run([test_rollups_answer_as_the_events])
