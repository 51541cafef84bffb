#!/usr/bin/env python3
"""End to end delivery (import, then flush; and catching up after an
outage) beside the aggregator-only ingest rate measured in the same run.

Starts a private PostgreSQL with its defaults (every commit flushed to
disk; --fsync-off for a test server) and a real aggregator with 4 workers
and, in this order:

  aggregator only  bench/ingest_load: SENDERS concurrent senders, batches
                   of 1000 new toil events straight to the aggregator, once
                   before and once after the agent runs, twice each: the
                   events of one service (the figure of the Delivery
                   section; the baseline of catching up, whose events are
                   one service's) and of SERVICES services, event i to
                   service i % SERVICES as in the imported file (the
                   baseline of end to end: the same shape of events)
  end to end       a real `opspulse-agent daemon`; `opspulse-agent import`
                   of EVENTS toil events of SERVICES services (JSON Lines),
                   then `opspulse-agent flush`: events over the wall time
                   of both commands
  catching up      the aggregator stopped, CATCHUP events recorded into the
                   spool (tests/tools/spool_fill, 1000 per fsync), the
                   aggregator started again: events over the time from its
                   listening again (after its partition maintenance) to
                   the spool's cursor reaching the end, and over the time
                   from the first acknowledgement (the difference is how
                   long the daemon took to notice the aggregator was back)

The end-to-end phase also prints the CPU seconds the import, the daemon,
the aggregator and PostgreSQL used: on a machine with few cores they
compete.

Every phase checks that PostgreSQL holds each of its events exactly once.
With --strace SECONDS the end-to-end phase runs a second time with
`strace -f -c` attached to the daemon for its first SECONDS, and prints
its summary beside the number of batches acknowledged meanwhile (strace
slows the daemon: that pass is not timed).

usage: bench/pipeline.py [--build DIR] [--events 200000] [--services 200]
                         [--catchup 1000000] [--senders 4] [--strace SECONDS]
                         [--fsync-off]
"""
import argparse
import os
import resource
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def ingest_only(h, cl, load, senders, run, events, services=1):
    """Committed events/s of ingest_load's senders (1000 per batch) over
    services services."""
    per = max(1, events // (senders * 1000))
    r = subprocess.run([load, cl.addresses[0], str(per), "1000", str(senders), str(run),
                        str(services)],
                       capture_output=True, text=True, timeout=600)
    h.check(r.returncode == 0, "ingest_load failed: " + r.stdout + r.stderr)
    return float(r.stdout.split("events/s")[0].split(":")[-1])


def write_jsonl(path, n, services, tag):
    """n distinct toil events over services services, dated 2026-01 like
    ingest_load's (a closed month: the rollups' dirty marking runs)."""
    with open(path, "w") as f:
        for i in range(n):
            f.write('{"type":"toil","service":"%s-%d","task":"t-%d",'
                    '"started_at":"2026-01-01T00:%02d:%02dZ","duration_s":600}\n'
                    % (tag, i % services, i, (i // 60) % 17, i % 60))


def busy(cl, before):
    """Aggregator batches and seconds spent in them since before (None
    when /metrics does not answer: it computes indicator gauges too)."""
    try:
        m = cl.metrics(0)
    except OSError:
        return None
    b = sum(v for k, v in m.items() if k.startswith("opspulse_ingest_batches_total"))
    s = m.get("opspulse_ingest_batch_seconds_sum", 0.0)
    if before is None:
        return b, s
    return (b - before[0], s - before[1]) if before else None


def read_cursor(spool):
    try:
        with open(os.path.join(spool, "cursor")) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def cpu_s(pid):
    return benchlib.cpu_ticks(pid) / benchlib.TICKS


def pg_cpu_s(h, cl):
    """CPU seconds of the private PostgreSQL: the postmaster and the
    processes it runs now (a backend that exits meanwhile is not counted;
    the aggregator's stay connected)."""
    data = os.path.join(h.pg_socket_dir(cl.pg_dir), "data")
    with open(os.path.join(data, "postmaster.pid")) as f:
        master = int(f.readline())
    total = 0.0
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and (int(d) == master
                                or int(benchlib._stat_fields(int(d))[1]) == master):
                total += cpu_s(int(d))
        except (OSError, ValueError):
            pass  # gone meanwhile
    return total


def end_to_end(h, cl, path, timeout):
    """(import seconds, flush seconds, CPU seconds of the import, the
    daemon, the aggregator and PostgreSQL over both)."""
    daemon, agg = cl.agent_proc.p.pid, cl.aggregators[0].p.pid
    c0 = (resource.getrusage(resource.RUSAGE_CHILDREN), cpu_s(daemon), cpu_s(agg),
          pg_cpu_s(h, cl))
    t0 = time.monotonic()
    cl.agent("import", path, timeout=timeout)
    t1 = time.monotonic()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cl.flush(timeout=timeout)
    t2 = time.monotonic()
    cpu = (ru.ru_utime + ru.ru_stime - c0[0].ru_utime - c0[0].ru_stime,
           cpu_s(daemon) - c0[1], cpu_s(agg) - c0[2], pg_cpu_s(h, cl) - c0[3])
    return t1 - t0, t2 - t1, cpu


def listening(agg):
    return agg.output().count("listening on")


def catch_up(h, cl, n, timeout):
    """Aggregator down, n events spooled, aggregator up: (seconds from its
    listening again to the end of the spool, seconds from the first ack,
    seconds it was not listening, seconds its restart took to listen)."""
    agg = cl.aggregators[0]
    agg.stop()
    down = time.monotonic()
    cl.procs.remove(agg)
    cl.fill(n, "catchup", group=1000)
    before = read_cursor(cl.spool)
    n_listen = listening(agg)
    # The log is appended to: "listening on" from the first start is in it
    # already, so wait for the new one (after partition maintenance).
    cl.start_aggregator(0, migrate=False)
    t_start = time.monotonic()
    while listening(cl.aggregators[0]) == n_listen:
        h.check(cl.aggregators[0].alive(), "the aggregator exited on its restart")
        time.sleep(0.01)
    t0 = time.monotonic()
    first = None
    fl = subprocess.Popen([h.AGENT, "-c", cl.path("agent.conf"), "flush", "--timeout",
                           str(timeout)], stdout=subprocess.DEVNULL)
    while fl.poll() is None:
        if first is None and read_cursor(cl.spool) != before:
            first = time.monotonic()
        time.sleep(0.01)
    done = time.monotonic()
    h.check(fl.returncode == 0, "flush after the outage failed")
    return done - t0, done - (first or t0), t0 - down, t0 - t_start


def strace_pass(h, cl, path, seconds, timeout):
    """Imports events, then attaches `strace -f -c` to the daemon for
    seconds while it delivers them: (summary, events stored meanwhile)."""
    out = cl.path("strace.txt")
    cl.agent("import", path, timeout=timeout)
    fl = subprocess.Popen([h.AGENT, "-c", cl.path("agent.conf"), "flush", "--timeout",
                           str(timeout)], stdout=subprocess.DEVNULL)
    st = subprocess.Popen(["strace", "-f", "-c", "-o", out, "-p", str(cl.agent_proc.p.pid)],
                          stderr=subprocess.DEVNULL)
    time.sleep(1)  # attached
    n0 = cl.count("toil", "service LIKE 'strace-%'")
    time.sleep(seconds)
    st.send_signal(signal.SIGINT)
    st.wait(timeout=60)
    n1 = cl.count("toil", "service LIKE 'strace-%'")
    h.check(fl.wait(timeout=timeout) == 0, "flush after the strace pass failed")
    with open(out) as f:
        return f.read(), n1 - n0


def report(a, res):
    agg = (res["agg1"] + res["agg2"]) / 2
    aggs = (res["agg1s"] + res["agg2s"]) / 2
    imp, fl, b, cpu = res["e2e"]
    e2e = a.events / (imp + fl)
    print("PostgreSQL: %s; load average %s" % (
        "fsync=off (--fsync-off)" if a.fsync_off else "defaults, every commit flushed",
        " ".join(open("/proc/loadavg").read().split()[:3])))
    print()
    print("| measure | events/s | against aggregator only |")
    print("|---|---:|---:|")
    print("| aggregator only, %d senders, 1 service (before, after; mean %.0f) | %.0f, %.0f "
          "| 1.00 |" % (a.senders, agg, res["agg1"], res["agg2"]))
    print("| aggregator only, %d senders, %d services (before, after; mean %.0f) | %.0f, %.0f "
          "| 1.00 |" % (a.senders, a.services, aggs, res["agg1s"], res["agg2s"]))
    print("| end to end: import %.2f s + flush %.2f s of %d events of %d services | %.0f "
          "| %.2f× (%d services), %.2f× (1 service) |"
          % (imp, fl, a.events, a.services, e2e, e2e / aggs, a.services, e2e / agg))
    print("| import alone (into the spool) | %.0f | — |" % (a.events / imp))
    if "catchup" in res:
        total, drain, down, start = res["catchup"]
        print("| catching up %d events, from the aggregator listening again (%.1f s) "
              "| %.0f | %.2f× |"
              % (a.catchup, total, a.catchup / total, a.catchup / total / agg))
        print("| catching up, from the first acknowledgement (%.1f s) | %.0f | %.2f× |"
              % (drain, a.catchup / drain, a.catchup / drain / agg))
        print()
        print("catching up: the aggregator did not listen for %.1f s (its restart took %.1f s "
              "of that); the first acknowledgement came %.1f s after it listened again"
              % (down, start, total - drain))
    print()
    print("CPU seconds during end to end (%.2f s of wall time, %d CPUs): import %.2f, "
          "daemon %.2f, aggregator %.2f, PostgreSQL %.2f"
          % (imp + fl, os.cpu_count(), cpu[0], cpu[1], cpu[2], cpu[3]))
    if b:
        print("aggregator during end to end: %d batches, %.2f s inside them over %.2f s of "
              "flush (%.0f %% of one worker)" % (b[0], b[1], fl, 100.0 * b[1] / fl if fl else 0))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(benchlib.ROOT, "build"))
    ap.add_argument("--events", type=int, default=200000)
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--catchup", type=int, default=1000000)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--strace", type=int, default=0, metavar="SECONDS",
                    help="attach strace -f -c to the daemon for SECONDS of a second flush")
    ap.add_argument("--fsync-off", action="store_true")
    a = ap.parse_args()
    if min(a.events, a.services, a.senders) < 1 or a.catchup < 0:
        sys.exit("pipeline: --events, --services and --senders must be >= 1")
    if not a.fsync_off:
        os.environ["PG_DURABLE"] = "1"  # scripts/lib/pg.sh: PostgreSQL's defaults
    h = benchlib.use_build(a.build)
    load = os.path.join(os.environ["OPSPULSE_BUILD"], "bench", "ingest_load")
    cl = h.Cluster("pipeline", private_pg=True)
    timeout = 1200
    res = {}
    try:
        cl.write("aggregator0.conf", """aggregator = {
  listen = [ "%s" ]; database = "%s"; http = "127.0.0.1:%d";
  tls = { insecure = true; }; workers = 4;
};
""" % (cl.addresses[0], cl.conninfo, cl.http_ports[0]))
        cl.write_agent_conf(max_mb=1024, sender="timeout_ms = 60000;")
        cl.start_aggregator(0)
        benchlib.progress("warm-up, then aggregator only: %d events" % a.events)
        ingest_only(h, cl, load, 2, 0, 5000)
        res["agg1"] = ingest_only(h, cl, load, a.senders, 1, a.events)
        res["agg1s"] = ingest_only(h, cl, load, a.senders, 3, a.events, a.services)

        cl.start_agent()
        path = cl.path("history.jsonl")
        write_jsonl(path, a.events, a.services, "e2e")
        benchlib.progress("end to end: import then flush of %d events" % a.events)
        b0 = busy(cl, None)
        imp, fl, cpu = end_to_end(h, cl, path, timeout)
        res["e2e"] = (imp, fl, busy(cl, b0) if b0 else None, cpu)
        h.check_eq(cl.count("toil", "service LIKE 'e2e-%'"), a.events, "end-to-end events stored")

        benchlib.progress("aggregator only, again")
        res["agg2"] = ingest_only(h, cl, load, a.senders, 2, a.events)
        res["agg2s"] = ingest_only(h, cl, load, a.senders, 4, a.events, a.services)

        if a.catchup:
            benchlib.progress("catching up: %d events spooled while the aggregator is down"
                              % a.catchup)
            res["catchup"] = catch_up(h, cl, a.catchup, timeout)
            h.check_eq(cl.count("toil", "service = 'catchup'"), a.catchup,
                       "caught-up events stored")
        report(a, res)
        if a.strace:
            benchlib.progress("end to end again, strace -f -c attached for %d s" % a.strace)
            write_jsonl(path, a.events, a.services, "strace")
            res["strace"] = strace_pass(h, cl, path, a.strace, timeout)
    finally:
        cl.stop()

    if "strace" in res:
        summary, n = res["strace"]
        print()
        print("strace -f -c of the daemon for %d s of a second flush, during which %d events "
              "were stored:" % (a.strace, n))
        print(summary)


if __name__ == "__main__":
    main()
