"""The restore drill of docs/OPERATIONS.md: a base backup (pg_basebackup)
plus the WAL the primary archived (archive_command), restored into a
fresh cluster up to a recovery_target_time between two loads, answers
the indicator queries as of that time: the first load's events, none of
the second's."""
import json
import os
import tempfile
import time
from datetime import datetime, timedelta, timezone

from harness import (PG_BIN, STATE, Cluster, PgServer, check_close, check_eq, pg_as_owner, run,
                     wait_for)

SVC = "drill-svc"


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def load(c, name, n, first):
    """Records n deploys, toil and batch runs through the agent; returns
    the toil durations in seconds."""
    base = datetime.now(timezone.utc) - timedelta(hours=2)
    events, toil = [], []
    for j in range(first, first + n):
        t = base + timedelta(minutes=j)
        events.append({"type": "deploy", "service": SVC, "id": "d-%d" % j, "started_at": iso(t),
                       "finished_at": iso(t + timedelta(seconds=40)), "outcome": "success"})
        events.append({"type": "toil", "service": SVC, "task": "task %d" % j,
                       "started_at": iso(t), "duration_s": 300 + j})
        events.append({"type": "batch", "service": SVC, "task": "job %d" % j,
                       "started_at": iso(t), "duration_s": 20 + j, "outcome": "success"})
        toil.append(300 + j)
    path = c.write(name, "\n".join(json.dumps(e) for e in events) + "\n")
    c.agent("import", path)
    c.flush()
    return toil


def counts(node, db):
    return {t: int(node.scalar(db, "SELECT count(*) FROM %s WHERE service = '%s'" % (t, SVC)))
            for t in ("deploys", "toil", "batch_runs")}


def test_point_in_time_restore():
    os.makedirs(os.path.join(STATE, "runs"), exist_ok=True)
    base = tempfile.mkdtemp(prefix="drill-", dir=os.path.join(STATE, "runs"))
    primary = PgServer(os.path.join(base, "primary"), "primary")
    restored = PgServer(os.path.join(base, "restored"), "restored")
    archive = os.path.join(primary.run, "archive")
    try:
        pg_as_owner(["mkdir", "-p", archive])
        primary.init("wal_level = replica\narchive_mode = on\n"
                     "archive_command = 'test ! -f %s/%%f && cp %%p %s/%%f'\n" % (archive, archive))
        primary.start()
        with Cluster("drill", pg=primary) as c:
            c.start()
            drill(c, primary, restored, archive)
    finally:
        primary.destroy()
        restored.destroy()


def drill(c, primary, restored, archive):
    db = c.db
    # The base backup: a copy of the running cluster, kept elsewhere.
    pg_as_owner([os.path.join(PG_BIN, "pg_basebackup"), "-d", primary.conninfo("postgres"), "-D", restored.data, "-X", "stream",
                 "-c", "fast"])
    first = load(c, "load1.jsonl", 40, 0)
    target = primary.scalar("postgres", "SELECT now()::text")
    time.sleep(1.5)
    load(c, "load2.jsonl", 25, 1000)
    full = counts(primary, db)
    check_eq(full["toil"], 65, "the primary has both loads")
    # Close the current WAL segment and wait until it is archived.
    seg = primary.scalar("postgres", "SELECT pg_walfile_name(pg_switch_wal())")
    wait_for(lambda: os.path.exists(os.path.join(archive, seg)), 60, "WAL segment %s archived" % seg)

    # The drill: the base backup, the archive, a target time.
    restored.configure("archive_mode = off\nrestore_command = 'cp %s/%%f %%p'\n"
                       "recovery_target_time = '%s'\nrecovery_target_action = 'promote'\n"
                       % (archive, target))
    pg_as_owner(["touch", os.path.join(restored.data, "recovery.signal")])
    restored.start()
    wait_for(lambda: restored.scalar("postgres", "SELECT pg_is_in_recovery()") == "f", 120,
             "the restored cluster to reach its target and promote")
    check_eq(counts(restored, db), {"deploys": 40, "toil": 40, "batch_runs": 40},
             "rows as of %s: the first load only" % target)

    # The indicator queries, through an aggregator on the restored copy.
    c.agent_proc.stop()
    c.aggregators[0].stop()
    c.write_confs(database=restored.conninfo(db))
    c.start_aggregator(0, migrate=False)
    # Its log still holds the first run's "listening on": ask until it answers.
    wait_for(lambda: c.cli("services", check_rc=False).returncode == 0, 30,
             "the aggregator on the restored copy")
    rows = {r["service"]: r for r in c.cli_json("services")["rows"]}
    check_eq(rows[SVC]["events"], 3 * len(first), "opspulse services on the restored copy")
    toil = {r["service"]: r for r in c.cli_json("toil")["rows"]}
    check_close(toil[SVC]["toil_hours"], sum(first) / 3600.0, "toil hours as of the target",
                rel=1e-6)
    dora = {r["service"]: r for r in c.cli_json("dora")["rows"]}
    check_close(dora[SVC]["deploys_per_week"] * 4, len(first), "deploys as of the target",
                rel=1e-6)


if __name__ == "__main__":
    run([test_point_in_time_restore])
