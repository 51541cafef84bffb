#!/usr/bin/env python3
"""A simulated fleet (bench/fleet_sim: one thread per agent, each with its
own spool and REQ socket) into two aggregators sharing one database: every
event is stored exactly once, per kind, and the fleet used both
aggregators.  Not timed: the simulator is given ample time to drain."""
import os
import resource
import subprocess
import time

from harness import BUILD, Cluster, check, check_eq, fail, run

FLEET_SIM = os.path.join(BUILD, "bench", "fleet_sim")
AGENTS, SECONDS, RATE = 200, 20, 2
KINDS = {"toil": "toil", "capacity": "capacity", "alert": "alerts",
         "batch": "batch_runs", "deploy": "deploys", "component": "components"}


def established(port):
    """Established TCP connections accepted on 127.0.0.1:port."""
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].split(":")[1], 16) == port:
                n += 1
    return n


def simulate(c, prefix, addresses, ports):
    """Runs the fleet; returns its report and the most connections each
    port held at once."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    p = subprocess.Popen([FLEET_SIM, "-a", ",".join(addresses), "-n", str(AGENTS),
                          "-d", str(SECONDS), "-r", str(RATE), "-s", c.path("spools"),
                          "-p", prefix, "-w", "400"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = {port: 0 for port in ports}
    try:
        deadline = time.time() + 550
        while p.poll() is None and time.time() < deadline:
            for port in ports:
                peak[port] = max(peak[port], established(port))
            time.sleep(0.5)
        if p.poll() is None:
            fail("fleet_sim did not finish")
        out, err = p.communicate()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if p.returncode != 0:
        fail("fleet_sim exited %d: %s%s" % (p.returncode, out, err[-3000:]))
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line), peak


def test_fleet_two_aggregators_exact_counts():
    with Cluster("fleet", n_aggregators=2) as c:
        c.start_aggregator(0)
        c.start_aggregator(1, migrate=False)
        os.makedirs(c.path("spools"))
        out, peak = simulate(c, "fl", c.addresses, c.ports)
        generated = int(out["generated"])
        check_eq(generated, AGENTS * SECONDS * RATE, "events generated")
        check_eq(int(out["acknowledged"]), generated, "events acknowledged")
        check_eq(int(out["agents_done"]), AGENTS, "agents that drained their spool")
        total = 0
        for kind, table in KINDS.items():
            want = int(out["generated_" + kind])
            check(want > 0, "the mix has %s events" % kind)
            check_eq(c.count(table, "service LIKE 'fl-svc-%'"), want, "%s rows" % kind)
            total += want
        check_eq(total, generated, "events over all kinds")
        check_eq(c.count("agent_spools", "agent_id LIKE 'fl-%'"), AGENTS, "agents registered")
        # Agents list the addresses rotated: half the fleet connects to
        # each first (more only if some failed over on a slow machine).
        for i, port in enumerate(c.ports):
            check(peak[port] >= AGENTS // 2,
                  "aggregator %d held %d agents' connections at most, expected %d"
                  % (i, peak[port], AGENTS // 2))
            check(c.aggregators[i].alive(), "aggregator %d still running" % i)


if __name__ == "__main__":
    run([test_fleet_two_aggregators_exact_counts])
