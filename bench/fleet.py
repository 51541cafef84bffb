#!/usr/bin/env python3
"""Simulated fleets (SPEC §11): thousands of agents on loopback into one
aggregator, then into two aggregators sharing one PostgreSQL.

For each fleet size it runs bench/fleet_sim (one thread per agent, each
with its own spool and REQ socket; see fleet_sim.c) for DURATION seconds
at RATE events/s per agent, waits until every event is acknowledged, and
reports:

  committed events/s   events generated / time until the last was committed
  latency              round trip of a message (send to post-COMMIT ack),
                       and delivery (spool append to ack), p50/p95/p99
  events per message   mean, and how many messages carried <=1, <=9, <=99,
                       <=999 and more events
  CPU                  aggregator(s), PostgreSQL (postmaster, its backends
                       alive and reaped) and the simulator, % of one core
                       over the run; aggregator peak VmRSS

The baseline, measured in the same run against the same aggregator and
database, is bench/ingest_load: 4 senders sending batches of 1,000 distinct
events back to back, the best case for the aggregator (few large messages);
each fleet row gives its committed rate as a share of it.

It then compares, per event kind, the rows in PostgreSQL with what the
simulator generated, and fails loudly on any difference: every event must
be stored exactly once.

usage: bench/fleet.py [--build DIR] [--agents 100,500,1000,2000]
                      [--aggregators 1,2] [--duration 60] [--rate 5]
                      [--workers 4] [--spool-root DIR]
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

KINDS = {"toil": "toil", "capacity": "capacity", "alert": "alerts",
         "batch": "batch_runs", "deploy": "deploys", "component": "components"}


def raise_fd_limit():
    """Each simulated agent holds a socket and spool files; so does the
    aggregator per agent connection.  Children inherit the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def parse(out):
    r = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        r[k] = v.strip()
    return r


class Sampler(threading.Thread):
    """Peak VmRSS of some processes, once a second."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = {p: 0 for p in pids}
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(1.0):
            for p in self.pids:
                try:
                    self.peak[p] = max(self.peak[p], benchlib.rss_kib(p))
                except (FileNotFoundError, ProcessLookupError):
                    pass


def run_fleet(h, cl, sim, addresses, agg_pids, pm, agents, a, prefix, spool_root):
    """One fleet run; returns a dict of figures.  Fails on inexact counts."""
    root = tempfile.mkdtemp(prefix=prefix + "-", dir=spool_root)
    argv = [sim, "-a", ",".join(addresses), "-n", str(agents), "-d", str(a.duration),
            "-r", str(a.rate), "-s", root, "-p", prefix, "-w", str(a.drain)]
    before = {p: benchlib.cpu_ticks(p) for p in agg_pids}
    pg0 = benchlib.postgres_ticks(pm)
    sampler = Sampler(agg_pids)
    sampler.start()
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=a.duration + a.drain + 600)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        h.fail("fleet_sim did not finish: %s" % err[-2000:])
    finally:
        sampler.done.set()
        shutil.rmtree(root, ignore_errors=True)
    wall = time.monotonic() - t0
    sim_ticks = p_ticks_of_child()
    agg_ticks = sum(benchlib.cpu_ticks(q) - before[q] for q in agg_pids)
    pg_ticks = benchlib.postgres_ticks(pm) - pg0
    r = parse(out)
    if p.returncode != 0:
        h.fail("fleet_sim (%d agents) exited %d: %s\n%s" % (agents, p.returncode, out,
                                                           err[-3000:]))
    bad = []
    for kind, table in KINDS.items():
        want = int(r["generated_" + kind])
        got = cl.count(table, "service LIKE '%s-svc-%%'" % prefix)
        if got != want:
            bad.append("%s: generated %d, stored %d" % (kind, want, got))
    if bad:
        h.fail("%d agents: stored counts differ from what was generated: %s"
               % (agents, "; ".join(bad)))
    core = 100.0 / benchlib.TICKS / wall
    return {"agents": agents, "aggregators": len(addresses), "generated": int(r["generated"]),
            "elapsed": float(r["elapsed_s"]), "rate": int(r["generated"]) / float(r["elapsed_s"]),
            "offered": agents * a.rate, "rtt": r["round_trip_ms"], "delivery": r["delivery_ms"],
            "epm": float(r["events_per_message"]), "sizes": r["message_sizes"],
            "messages": int(r["messages"]), "failed": int(r["failed_calls"]),
            "agg_cpu": agg_ticks * core, "pg_cpu": pg_ticks * core, "sim_cpu": sim_ticks * core,
            "agg_rss": max(sampler.peak.values()) if sampler.peak else 0}


def p_ticks_of_child():
    """CPU of the simulator just reaped (it is this process's only child
    that ran since the last call)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = (ru.ru_utime + ru.ru_stime) * benchlib.TICKS
    prev = getattr(p_ticks_of_child, "prev", 0.0)
    p_ticks_of_child.prev = total
    return total - prev


def baseline(h, address, run):
    """Committed events/s of 4 senders x 20 batches of 1,000 events."""
    load = os.path.join(os.environ["OPSPULSE_BUILD"], "bench", "ingest_load")
    r = subprocess.run([load, address, "20", "1000", "4", str(run)], capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        h.fail("ingest_load failed: %s%s" % (r.stdout, r.stderr))
    return float(r.stdout.split("events/s")[0].split(":")[-1])


def write_aggregator_conf(h, cl, i, workers):
    cl.write("aggregator%d.conf" % i, """aggregator = {
  listen = [ "%s" ];
  database = "%s";
  http = "127.0.0.1:%d";
  tls = { insecure = true; };
  workers = %d;
};
""" % (cl.addresses[i], cl.conninfo, h.free_port(), workers))


def print_table(rows, base):
    print("baseline (same run): bench/ingest_load, 4 senders, batches of 1,000: "
          "%.0f events/s committed" % base)
    print()
    print("| aggregators | agents | offered (events/s) | committed (events/s) | events | "
          "round trip p50/p95/p99 (ms) | delivery p50/p95/p99 (ms) | events/message | "
          "of baseline | aggregator CPU (% core) | PostgreSQL CPU (% core) | simulator CPU (% core) | "
          "aggregator peak RSS (MiB) |")
    print("|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %d | %d | %.0f | %.0f | %d | %s | %s | %.1f | %.0f %% | %.0f | %.0f | %.0f | %.1f |" % (
            r["aggregators"], r["agents"], r["offered"], r["rate"], r["generated"],
            r["rtt"].replace(" ", " / "), r["delivery"].replace(" ", " / "), r["epm"],
            100.0 * r["rate"] / base, r["agg_cpu"], r["pg_cpu"], r["sim_cpu"], benchlib.mib(r["agg_rss"])))
    print()
    print("messages by events carried (<=1, <=9, <=99, <=999, more):")
    for r in rows:
        print("  %d aggregator(s), %d agents: %s (%d messages, %d failed calls retried)" % (
            r["aggregators"], r["agents"], r["sizes"], r["messages"], r["failed"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(benchlib.ROOT, "build"))
    ap.add_argument("--agents", default="100,500,1000,2000")
    ap.add_argument("--aggregators", default="1,2")
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--rate", type=float, default=5, help="events/s per agent")
    ap.add_argument("--workers", type=int, default=4, help="per aggregator")
    ap.add_argument("--drain", type=int, default=600, help="seconds allowed to drain")
    ap.add_argument("--spool-root", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="where the simulated spools go (default: /dev/shm, so that the "
                         "fleet's fsyncs do not share one disk)")
    a = ap.parse_args()
    try:
        sizes = [int(x) for x in a.agents.split(",")]
        naggs = [int(x) for x in a.aggregators.split(",")]
    except ValueError:
        sys.exit("fleet.py: --agents and --aggregators take comma-separated numbers")
    if min(sizes) < 1 or not set(naggs) <= {1, 2} or a.duration <= 0 or a.rate <= 0:
        sys.exit("fleet.py: agents >= 1, aggregators 1 or 2, duration and rate > 0")
    h = benchlib.use_build(a.build)
    sim = os.path.join(os.environ["OPSPULSE_BUILD"], "bench", "fleet_sim")
    if not os.path.exists(sim):
        sys.exit("missing %s: build first" % sim)
    raise_fd_limit()
    cl = h.Cluster("fleet", n_aggregators=2, private_pg=True)
    rows = []
    try:
        for i in range(2):
            write_aggregator_conf(h, cl, i, a.workers)
        aggs = [cl.start_aggregator(0)]
        pm = benchlib.postmaster_pid(h, cl.pg_dir)
        benchlib.progress("baseline: bench/ingest_load")
        base = baseline(h, cl.addresses[0], 1)
        run = 0
        for n_agg in sorted(set(naggs)):
            if n_agg == 2 and len(aggs) == 1:
                aggs.append(cl.start_aggregator(1, migrate=False))
            for n in sizes:
                run += 1
                benchlib.progress("%d agents into %d aggregator(s), %gs at %g events/s each"
                                  % (n, n_agg, a.duration, a.rate))
                rows.append(run_fleet(h, cl, sim, cl.addresses[:n_agg],
                                      [x.p.pid for x in aggs[:n_agg]], pm, n, a,
                                      "f%d" % run, a.spool_root))
                benchlib.progress("  %.0f events/s committed, all %d stored exactly once"
                                  % (rows[-1]["rate"], rows[-1]["generated"]))
    finally:
        cl.stop()
    print("fleet: %g s at %g events/s per agent, %d workers per aggregator; "
          "every event stored exactly once (per-kind counts checked)" % (
              a.duration, a.rate, a.workers))
    print_table(rows, base)


if __name__ == "__main__":
    main()
