"""PostgreSQL down for 30 s in the middle of a stream: the aggregator stops
acknowledging, never exits, resumes on its own; nothing lost or doubled."""
import threading
import time

from harness import Cluster, check, check_eq, run, wait_for


def test_database_down_30s():
    n, groups = 20000, 20
    with Cluster("pgdown", private_pg=True).start() as c:
        def stream():
            for g in range(groups):
                c.fill(n // groups, "stream", first=g * (n // groups))
                time.sleep(2)
        t = threading.Thread(target=stream)
        t.start()
        wait_for(lambda: c.count("toil") > 0, 60, "the stream to start")
        c.pg_stop()
        down_at = time.time()
        time.sleep(30)
        agg = c.aggregators[0]
        check(agg.alive(), "the aggregator kept running while PostgreSQL was down")
        check("database unavailable" in agg.output(), "the outage is logged")
        c.pg_start()
        check(time.time() - down_at >= 30, "PostgreSQL was down 30 s")
        t.join()
        c.flush(timeout=300)
        check_eq(c.count("toil", "service = 'stream'"), n, "rows after the outage")
        check_eq(int(c.scalar("SELECT count(DISTINCT task) FROM toil")), n, "distinct events")
        check(agg.alive(), "the aggregator is still running")
        check("database connection restored" in agg.output(), "the recovery is logged")


if __name__ == "__main__":
    run([test_database_down_30s])
