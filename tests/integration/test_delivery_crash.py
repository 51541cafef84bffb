"""Exactly once through crashes (SPEC §3): kill -9 of the aggregator and of
the agent daemon mid-stream, and a torn record at the spool's tail."""
import glob
import os
import subprocess
import threading
import time

from harness import Cluster, check, check_eq, run, wait_for


def filler(c, n, service, group=1000):
    t = threading.Thread(target=c.fill, args=(n, service, group))
    t.start()
    return t


def check_exact(c, service, expected):
    check_eq(c.count("toil", "service = '%s'" % service), expected, "rows stored for " + service)
    check_eq(int(c.scalar("SELECT count(DISTINCT task) FROM toil WHERE service = '%s'" % service)),
             expected, "distinct events stored for " + service)


def test_aggregator_killed_twice_100k():
    n = 100000
    with Cluster("aggkill").start() as c:
        t = filler(c, n, "bulk")
        for threshold in (15000, 50000):
            wait_for(lambda: c.count("toil") >= threshold, 300, "%d rows" % threshold)
            c.aggregators[0].kill9()
            time.sleep(1)
            c.start_aggregator(0, migrate=False)
        t.join()
        c.flush(timeout=300)
        check_exact(c, "bulk", n)
        check(c.agent_proc.alive(), "the agent kept running")


def test_agent_killed_mid_send():
    """The agent dies with a batch in flight: the aggregator commits it but
    its acknowledgement is lost; the restarted agent resends it."""
    n = 30000
    with Cluster("agentkill").start() as c:
        # A lock on toil makes the aggregator's write wait inside its
        # transaction: the batch is in flight when the agent dies, and is
        # committed once the lock goes, with nobody left to take the
        # acknowledgement.  The lock is held until the agent is dead: a
        # fixed hold could end first on a slow machine.
        env = dict(os.environ, PGOPTIONS="-c search_path=opspulse")
        lock = subprocess.Popen(["psql", "-X", "-q", c.conninfo, "-c",
                                 "BEGIN; LOCK TABLE toil IN EXCLUSIVE MODE; "
                                 "SELECT pg_sleep(300); COMMIT;"],
                                env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        # Only once the lock is held may the events come.
        wait_for(lambda: c.scalar("SELECT count(*) FROM pg_locks l JOIN pg_class r "
                                  "ON r.oid = l.relation WHERE r.relname = 'toil' "
                                  "AND l.mode = 'ExclusiveLock' AND l.granted") != "0",
                 30, "the lock on toil")
        c.fill(n, "mid")
        wait_for(lambda: c.scalar("SELECT count(*) FROM pg_locks l JOIN pg_class r "
                                  "ON r.oid = l.relation WHERE r.relname = 'toil' "
                                  "AND NOT l.granted") != "0",
                 60, "a batch to wait for the lock")
        c.agent_proc.kill9()
        c.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
              "WHERE query LIKE '%pg_sleep(300)%' AND pid <> pg_backend_pid()")
        lock.wait(timeout=30)
        wait_for(lambda: c.count("toil") > 0, 60, "the in-flight batch to commit")
        stored = c.count("toil")
        check(0 < stored < n, "killed mid-stream (%d of %d stored)" % (stored, n))
        c.start_agent()
        c.flush(timeout=300)
        check_exact(c, "mid", n)
        dups = int(c.scalar("SELECT sum(events) FROM agent_spools")) - n
        check(dups >= stored, "the unacknowledged batch was sent again (%d resent)" % dups)


def newest_segment(spool):
    return sorted(glob.glob(os.path.join(spool, "seg-*.log")))[-1]


def test_torn_tail_recovered():
    with Cluster("torn") as c:
        c.start_aggregator(0)
        c.fill(10, "torn", group=1)              # ten records, one fsync each
        seg = newest_segment(c.spool)
        os.truncate(seg, os.path.getsize(seg) - 5)  # the last one is torn
        c.start_agent()
        c.flush()
        check_exact(c, "torn", 9)
        check("cutting" in c.agent_proc.output(), "the cut is logged")
        # Recording goes on after the cut.
        c.fill(1, "torn", group=1, first=100)
        c.flush()
        check_exact(c, "torn", 10)


def test_torn_record_followed_by_more():
    with Cluster("torn2") as c:
        c.start_aggregator(0)
        c.fill(10, "mid-torn", group=1)
        seg = newest_segment(c.spool)
        os.truncate(seg, os.path.getsize(seg) - 7)
        # A writer after the crash appends behind the torn record.
        c.fill(5, "mid-torn", group=1, first=100)
        c.start_agent()
        c.flush()
        check_exact(c, "mid-torn", 14)
        rows = [r[0] for r in c.sql("SELECT task FROM toil ORDER BY task")]
        check("task-9" not in rows, "the torn record is not delivered half")
        check("task-104" in rows and "task-8" in rows, "records on both sides delivered")


if __name__ == "__main__":
    run([test_torn_tail_recovered, test_torn_record_followed_by_more,
         test_agent_killed_mid_send, test_aggregator_killed_twice_100k])
