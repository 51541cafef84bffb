"""The aggregator down while events are recorded: once it listens again,
the daemon delivers within about its reconnect interval (nng redials at
least once a second), not after sender.timeout_ms or a backoff of up to
30 s; every event stored exactly once."""
import time

from harness import WAIT_SCALE, Cluster, check, check_eq, run, wait_for

# Far above the bound below: a delivery that waits out a request's
# timeout cannot pass.  wait_for scales the bound by WAIT_SCALE.
SENDER = "timeout_ms = 60000;"
BOUND = 10


def record_during_outage(c, service, groups, per_group):
    """Records groups of events a second apart: each wakes the daemon,
    which tries to deliver and fails (and, before, doubled its backoff)."""
    for g in range(groups):
        c.fill(per_group, service, first=g * per_group)
        time.sleep(1)


def listening(c):
    """How often the aggregator's log (appended to by every start) says it
    listens."""
    try:
        with open(c.path("aggregator0.log")) as f:
            return f.read().count("listening on")
    except FileNotFoundError:
        return 0


def delivered_within(c, service, n, what):
    """Starts the aggregator and returns how long the n events took from
    its listening."""
    before = listening(c)
    c.start_aggregator(0, migrate=False)
    wait_for(lambda: listening(c) > before, 15, "the aggregator to listen again")
    t0 = time.monotonic()
    wait_for(lambda: c.count("toil", "service = '%s'" % service) >= n, BOUND,
             "%d events %s within %d s of the aggregator listening"
             % (n, what, BOUND * WAIT_SCALE))
    return time.monotonic() - t0


def test_resume_after_outage():
    per_group, groups = 500, 12
    n = per_group * groups
    with Cluster("resume") as c:
        c.write_agent_conf(sender=SENDER)
        c.migrate()
        # The daemon starts with the aggregator down: it never connected.
        c.start_agent()
        record_during_outage(c, "first", groups, per_group)
        check("cannot deliver" in c.agent_proc.output(),
              "the daemon tried to deliver during the outage")
        took = delivered_within(c, "first", n, "recorded before the first start")
        print("first start: %d events in %.2f s" % (n, took))

        # Connected, then the aggregator stops: the connection drops.
        c.aggregators[0].stop()
        c.procs.remove(c.aggregators[0])
        record_during_outage(c, "second", groups, per_group)
        took = delivered_within(c, "second", n, "recorded during the second outage")
        print("after a restart: %d events in %.2f s" % (n, took))

        c.flush(timeout=60 * WAIT_SCALE)
        for service in ("first", "second"):
            check_eq(c.count("toil", "service = '%s'" % service), n,
                     "events of %s stored" % service)
        check_eq(int(c.scalar("SELECT count(DISTINCT (service, task)) FROM toil")), 2 * n,
                 "nothing doubled")
        check(c.agent_proc.alive(), "the agent is still running")


if __name__ == "__main__":
    run([test_resume_after_outage])
