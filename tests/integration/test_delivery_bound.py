"""The spool's bound and concurrent writers (SPEC §3): the oldest events are
dropped and counted exactly; 50 concurrent record commands lose nothing."""
import subprocess
import threading

from harness import AGENT, SANITIZED, Cluster, check, check_eq, run


def test_full_spool_drops_oldest_and_counts_them():
    n = 40000
    with Cluster("bound") as c:
        c.write_agent_conf(max_mb=1)
        c.fill(n, "full", group=500)            # the aggregator is not running
        st = c.agent("status").stdout
        dropped = int(st.split("dropped events:")[1].split()[0])
        check(dropped > 0, "the spool dropped events: %s" % st)
        c.start_aggregator(0)
        c.start_agent()
        c.flush(timeout=120)
        stored = c.count("toil", "service = 'full'")
        check_eq(stored + dropped, n, "stored %d + dropped %d = recorded" % (stored, dropped))
        # The oldest went first: what is stored is the newest run.
        low = int(c.scalar("SELECT min(substr(task, 6)::int) FROM toil"))
        check_eq(low, n - stored, "the newest events survived")
        check_eq(int(c.scalar("SELECT sum(dropped_total) FROM agent_spools")), dropped,
                 "the exact drop count reached the aggregator")
        agents = c.cli_json("agents")["rows"]
        check_eq([(a["agent"], a["dropped"]) for a in agents], [(c.agent_id, dropped)],
                 "opspulse agents shows the drop count")


def test_concurrent_record_commands():
    procs, per = 50, 40 if SANITIZED else 100
    with Cluster("concurrent").start() as c:
        script = ('for i in $(seq 1 %d); do "$0" -c "$1" deploy record --service conc '
                  '--id "p$2-$i" --started 10m --finished 5m --outcome success || exit 1; done' % per)
        ps = [subprocess.Popen(["bash", "-c", script, AGENT, c.path("agent.conf"), str(k)])
              for k in range(procs)]
        rcs = [p.wait(timeout=600) for p in ps]
        check_eq(rcs, [0] * procs, "every record command succeeded")
        c.flush(timeout=300)
        check_eq(c.count("deploys", "service = 'conc'"), procs * per, "every event arrived")
        out = c.agent_proc.output()
        check("damaged" not in out and "torn" not in out and "not an event" not in out,
              "no record was corrupt: %s" % out[-2000:])


if __name__ == "__main__":
    run([test_full_spool_drops_oldest_and_counts_them, test_concurrent_record_commands])
