"""Storage layout (SPEC §11, §2.1): the event tables are partitioned by
month, no event is refused for want of a partition, the aggregator creates
partitions ahead and drops those past retention_days, and deduplication
holds across partitions.  Content keys computed by the aggregator (C) match
the schema's SQL definition and an independent one written here."""
import hashlib
import json
import signal
from datetime import datetime, timedelta, timezone

from harness import AGGREGATOR, Cluster, check, check_eq, run, wait_for
import subprocess

PARTITIONED = ("toil", "batch_runs", "alerts", "components", "capacity")
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def month_name(table, t):
    return "%s_p%04d%02d" % (table, t.year, t.month)


def add_months(t, n):
    y, m = divmod(t.year * 12 + t.month - 1 + n, 12)
    return datetime(y, m + 1, 1, tzinfo=timezone.utc)


def events_at(tag, t):
    """One event of every partitioned kind at time t, tagged."""
    return [
        {"type": "toil", "service": "part", "task": tag, "started_at": rfc3339(t),
         "duration_s": 600, "operator": "ken", "source": "manual"},
        {"type": "batch", "service": "part", "task": tag, "started_at": rfc3339(t),
         "duration_s": 60, "outcome": "success"},
        {"type": "alert", "service": "part", "alertname": tag, "fingerprint": "fp-" + tag,
         "starts_at": rfc3339(t), "ends_at": None},
        {"type": "component", "service": "part", "host": tag, "name": "postgresql",
         "version": "15.4", "observed_at": rfc3339(t)},
        {"type": "capacity", "service": "part", "host": tag, "at": rfc3339(t),
         "cpu_pct": 12.5, "mem_pct": 40, "mount": "/", "disk_used_bytes": 10,
         "disk_total_bytes": 100},
    ]


# Event times: far in the past, about three years and half a year ago, last
# month, now, and nearly a day ahead (the latest the aggregator accepts).
TIMES = {
    "far-past": datetime(2001, 3, 15, 12, 0, tzinfo=timezone.utc),
    "three-years": NOW - timedelta(days=1100),
    "half-year": NOW - timedelta(days=190),
    "last-month": NOW - timedelta(days=35),
    "now": NOW - timedelta(minutes=5),
    "tomorrow": NOW + timedelta(hours=20),
}


def import_events(c, name, events):
    path = c.write(name, "".join(json.dumps(e) + "\n" for e in events))
    c.agent("import", path)
    c.flush()


def table_of(c, table, column, tag):
    """The partition holding the event tagged tag."""
    return c.scalar("SELECT p.relname FROM %s t JOIN pg_class p ON p.oid = t.tableoid "
                    "WHERE t.%s = '%s'" % (table, column, tag))


TAG_COLUMN = {"toil": "task", "batch_runs": "task", "alerts": "alertname",
              "components": "host", "capacity": "host"}


def partitions(c, table):
    return {r[0] for r in c.sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'opspulse.%s'::regclass" % table)}


def counts(c):
    return {t: c.count(t, "service = 'part'") for t in PARTITIONED}


def set_retention(c, days):
    conf = c.path("aggregator0.conf")
    with open(conf) as f:
        text = f.read()
    lines = [l for l in text.splitlines() if "retention_days" not in l]
    lines.insert(len(lines) - 1, "  retention_days = %d;" % days)
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")


def test_partitions_ahead_default_and_retention():
    with Cluster("parts").start() as c:
        agg = c.aggregators[0]
        this_month = datetime(NOW.year, NOW.month, 1, tzinfo=timezone.utc)
        # Maintenance runs once the aggregator listens.
        ahead = month_name(PARTITIONED[-1], add_months(this_month, 3))
        wait_for(lambda: ahead in partitions(c, PARTITIONED[-1]), 30,
                 "maintenance to make the months ahead")
        for t in PARTITIONED:
            have = partitions(c, t)
            check(t + "_default" in have, "%s has a default partition: %s" % (t, sorted(have)))
            for n in range(4):
                name = month_name(t, add_months(this_month, n))
                check(name in have, "%s exists ahead (%s)" % (name, sorted(have)))

        events = [e for tag, t in TIMES.items() for e in events_at(tag, t)]
        import_events(c, "events.jsonl", events)
        check_eq(counts(c), {t: len(TIMES) for t in PARTITIONED},
                 "every event is stored, however old or new")
        for t in PARTITIONED:
            col = TAG_COLUMN[t]
            check_eq(table_of(c, t, col, "far-past"), "%s_default" % t,
                     "%s: a month without a partition goes to the default one" % t)
            check_eq(table_of(c, t, col, "tomorrow"),
                     month_name(t, TIMES["tomorrow"]),
                     "%s: tomorrow's event goes to a partition made ahead" % t)

        # Sent again while the old ones sit in the default partition.
        import_events(c, "again1.jsonl", events)
        check_eq(counts(c), {t: len(TIMES) for t in PARTITIONED},
                 "re-sent events are duplicates, in the default partition too")

        # A reload runs maintenance at once: the default partition's
        # months get partitions of their own.
        agg.p.send_signal(signal.SIGHUP)
        wait_for(lambda: month_name("capacity", TIMES["far-past"]) in partitions(c, "capacity"),
                 30, "maintenance to give the far past a partition")
        for t in PARTITIONED:
            for tag in ("far-past", "three-years", "half-year"):
                check_eq(table_of(c, t, TAG_COLUMN[t], tag),
                         month_name(t, TIMES[tag]),
                         "%s: %s moved to its month's partition" % (t, tag))
            check_eq(c.count(t + "_default"), 0, "%s: the default partition is empty" % t)
        check("created" in agg.output() and "monthly event partitions" in agg.output(),
              "maintenance logs what it created")

        # Re-sent once the partitions exist: still duplicates.  An alert
        # that resolves updates its episode in its partition.
        resolved = dict(events_at("three-years", TIMES["three-years"])[2])
        resolved["ends_at"] = rfc3339(TIMES["three-years"] + timedelta(minutes=30))
        import_events(c, "again2.jsonl", events + [resolved])
        check_eq(counts(c), {t: len(TIMES) for t in PARTITIONED},
                 "re-sent events are duplicates after their partitions exist")
        check_eq(c.scalar("SELECT ends_at - starts_at FROM alerts WHERE alertname = "
                          "'three-years'"), "00:30:00", "the resolved episode is closed")

        # Retention: 400 days drops the months that ended before then.
        set_retention(c, 400)
        agg.p.send_signal(signal.SIGHUP)
        wait_for(lambda: month_name("capacity", TIMES["three-years"])
                 not in partitions(c, "capacity"), 30, "retention to drop old months")
        kept = ("half-year", "last-month", "now", "tomorrow")
        for t in PARTITIONED:
            have = partitions(c, t)
            for tag in ("far-past", "three-years"):
                check(month_name(t, TIMES[tag]) not in have,
                      "%s: the %s partition is dropped" % (t, tag))
            tags = sorted(r[0] for r in c.sql("SELECT %s FROM %s WHERE service = 'part'"
                                              % (TAG_COLUMN[t], t)))
            check_eq(tags, sorted(kept), "%s: only events newer than retention remain" % t)
            check(month_name(t, TIMES["half-year"]) in have,
                  "%s: the half-year-old month is kept" % t)
        check("dropped" in agg.output() and "retention_days = 400" in agg.output(),
              "retention logs what it dropped")
        check(agg.alive(), "the aggregator is still running")


def canonical_toil_key(e, env, host):
    def text(v):
        if v is None:
            return b"\0"
        b = v.encode()
        return b"\1" + len(b).to_bytes(4, "big") + b

    def integer(v):
        return b"\1" + v.to_bytes(8, "big", signed=True)

    started = datetime.fromisoformat(e["started_at"].replace("Z", "+00:00"))
    us = int(started.timestamp()) * 1000000 + started.microsecond
    canon = (text("toil") + text(e["service"]) + text(env) + text(host) + text(e.get("operator"))
             + text(e["task"]) + integer(us) + integer(e["duration_s"]) + text(e["source"]))
    return hashlib.sha256(canon).hexdigest()[:32]


def test_content_keys():
    with Cluster("ckeys").start() as c:
        t = NOW - timedelta(days=3)
        toil = [
            {"type": "toil", "service": "ck", "task": "with operator", "started_at": rfc3339(t),
             "duration_s": 60, "operator": "aiko", "source": "manual"},
            {"type": "toil", "service": "ck", "task": "t\u00e2che \"quoted\"",
             "started_at": "2020-02-29T23:59:59.123456Z", "duration_s": 0, "operator": "",
             "source": "import"},
        ]
        events = toil + [
            {"type": "batch", "service": "ck", "task": "nightly", "started_at": rfc3339(t),
             "duration_s": 5, "outcome": "failed"},
            {"type": "component", "service": "ck", "host": "db-1", "name": "redis",
             "version": "7.2", "observed_at": rfc3339(t)},
            {"type": "capacity", "service": "ck", "host": "web-1", "at": rfc3339(t),
             "cpu_pct": 0.1, "mem_pct": -0.0},
            {"type": "capacity", "service": "ck", "host": "web-1", "at": rfc3339(t),
             "cpu_pct": 99.5, "mem_pct": 3, "mount": "/var", "disk_used_bytes": 2 ** 40,
             "disk_total_bytes": 2 ** 41},
        ]
        import_events(c, "keys.jsonl", events)
        checks = {
            "toil": "toil_key(service, env, host, operator, task, started_at, duration_s, source)",
            "batch_runs": "batch_run_key(service, env, host, task, started_at, duration_s, "
                          "outcome)",
            "components": "component_key(service, env, host, name, version, observed_at)",
            "capacity": "capacity_key(service, env, host, at, cpu_pct, mem_pct, mount, "
                        "disk_used_bytes, disk_total_bytes)",
        }
        for table, fn in checks.items():
            rows = c.sql("SELECT content_key = %s FROM %s WHERE service = 'ck'" % (fn, table))
            check(len(rows) > 0, "%s has rows" % table)
            check_eq([r[0] for r in rows], ["t"] * len(rows),
                     "%s: the aggregator's keys are the schema's" % table)
        # The operator default and the host come from the agent.
        keys = {r[0]: r[1].replace("-", "") for r in
                c.sql("SELECT task, content_key FROM toil WHERE service = 'ck'")}
        for e in toil:
            op = e["operator"] or None
            check_eq(keys[e["task"]], canonical_toil_key(dict(e, operator=op), "production",
                                                         c.agent_id),
                     "toil %r: the key of the documented canonical form" % e["task"])

        # A row inserted by SQL without a key gets the same one.
        c.sql("INSERT INTO toil (service, env, host, operator, task, started_at, duration_s, "
              "source, agent_id) SELECT service, env, host, operator, task || ' by SQL', "
              "started_at, duration_s, source, agent_id FROM toil WHERE task = 'with operator'")
        check_eq(c.scalar("SELECT count(*) FROM toil WHERE task = 'with operator by SQL' AND "
                          "content_key = toil_key(service, env, host, operator, task, "
                          "started_at, duration_s, source)"), "1",
                 "the trigger fills the key of a row inserted without one")


def test_retention_setting_checked():
    with Cluster("retcfg") as c:
        for value, ok in (("400", True), ("0", True), ("-1", False)):
            set_retention(c, int(value))
            r = subprocess.run([AGGREGATOR, "-c", c.path("aggregator0.conf"), "check-config"],
                               capture_output=True, text=True)
            check_eq(r.returncode == 0, ok, "check-config with retention_days = %s: %s%s"
                     % (value, r.stdout, r.stderr))
            check("unknown" not in (r.stdout + r.stderr).lower(),
                  "retention_days is a known key: %s" % r.stderr)
            if not ok:
                check("retention_days" in r.stderr, "the error names the key: %r" % r.stderr)


if __name__ == "__main__":
    run([test_partitions_ahead_default_and_retention, test_content_keys,
         test_retention_setting_checked])
