#!/usr/bin/env python3
"""Delivery benchmarks (SPEC §10), each against a baseline measured in the
same run, on a private PostgreSQL started here and stopped on exit:

  record latency   `opspulse-agent deploy record` (process start, validation,
                   encoding, fsync) vs. starting the same binary with --version
  spool append     bulk events/s with one fsync per 1000 events vs. one fsync
                   per event (what a per-metric fsync buffer does)
  ingest           committed, deduplicated events/s through a real aggregator
                   vs. per-row autocommit INSERT ... ON CONFLICT DO NOTHING
                   into the same table, each row with its content key
                   computed here (as the aggregator does), so that the
                   table's fill-in trigger does not run, and with the
                   rollups' dirty-marking trigger disabled (the aggregator
                   pays it once per batch; the baseline would pay it per
                   row); also the server's
                   CPU time per event (PostgreSQL + aggregator vs. PostgreSQL),
                   which other load on the machine disturbs less

The PostgreSQL server keeps its defaults: every commit is flushed to
disk, as in production, so the per-row baseline pays one flush per row
and a batch one per 1000 events.  --fsync-off starts it as the test
suite does (fsync=off), which favours the per-row baseline.

usage: bench/delivery.py [--fsync-off] [BUILD_DIR]      (default: build)
Prints a Markdown table; the figures go in docs/BENCHMARKS.md.
"""
import hashlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARGS = [a for a in sys.argv[1:] if a != "--fsync-off"]
DURABLE = "--fsync-off" not in sys.argv[1:]
BUILD = os.path.abspath(ARGS[0] if ARGS else os.path.join(ROOT, "build"))
AGENT = os.path.join(BUILD, "agent", "opspulse-agent")
AGGREGATOR = os.path.join(BUILD, "aggregator", "opspulse-aggregator")
LOAD = os.path.join(BUILD, "bench", "ingest_load")
FILL = os.path.join(BUILD, "tests", "tools", "spool_fill")
PG = os.path.join(ROOT, "scripts", "lib", "pg.sh")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def sh(script, *args):
    env = dict(os.environ, PG_DURABLE="1" if DURABLE else "0")
    return subprocess.run(["bash", "-c", '. "%s"; %s' % (PG, script), "bench"] + list(args),
                          check=True, capture_output=True, text=True, env=env).stdout.strip()


def progress(msg):
    print("... " + msg, file=sys.stderr, flush=True)


def record_latency(work):
    conf = os.path.join(work, "agent.conf")
    with open(conf, "w") as f:
        f.write('agent = { spool = { dir = "%s"; }; tls = { insecure = true; }; '
                'aggregators = [ "tcp://127.0.0.1:1" ]; };\n' % os.path.join(work, "spool"))

    def timed(argv, n):
        out = []
        for _ in range(n):
            t = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            out.append((time.perf_counter() - t) * 1000)
        return out

    rec = timed([AGENT, "-c", conf, "deploy", "record", "--service", "bench", "--started", "2m",
                 "--finished", "1m", "--outcome", "success"], 300)
    base = timed([AGENT, "--version"], 300)
    return rec, base, conf


def toil_key(service, env, host, operator, task, started_us, duration_s, source):
    """The content key of a toil event (aggregator/sql/functions/content_keys.sql)."""
    def text(v):
        if v is None:
            return b"\0"
        b = v.encode()
        return b"\1" + len(b).to_bytes(4, "big") + b

    def integer(v):
        return b"\1" + v.to_bytes(8, "big", signed=True)

    canon = (text("toil") + text(service) + text(env) + text(host) + text(operator)
             + text(task) + integer(started_us) + integer(duration_s) + text(source))
    h = hashlib.sha256(canon).hexdigest()[:32]
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def proc_ticks(pid, children=False):
    """CPU clock ticks of a process (and of the children it has reaped)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(x) for x in rest[11:15 if children else 13])


def server_cpu(postmaster, aggregator):
    """CPU seconds used so far by PostgreSQL (every backend, live or ended)
    and the aggregator."""
    kids = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True,
                          text=True).stdout.split()
    ticks = proc_ticks(postmaster, True) + proc_ticks(aggregator)
    ticks += sum(proc_ticks(int(k)) for k in kids)
    return ticks / os.sysconf("SC_CLK_TCK")


def spool_rate(conf, n, group, first):
    t = time.perf_counter()
    subprocess.run([FILL, conf, str(n), "spool-bench", str(group), str(first)], check=True)
    return n / (time.perf_counter() - t)


def main():
    for f in (AGENT, AGGREGATOR, LOAD, FILL):
        if not os.path.exists(f):
            sys.exit("missing %s: build first (cmake --build %s)" % (f, BUILD))
    work = tempfile.mkdtemp(prefix="opspulse-bench-")
    os.chmod(work, 0o755)
    pgdir, pgport = os.path.join(work, "pg"), free_port()
    agg = None
    try:
        progress("starting PostgreSQL")
        sh('pg_start "$1" "$2"', pgdir, str(pgport))
        admin = sh('pg_conninfo "$1" "$2" postgres', pgdir, str(pgport))
        conninfo = sh('pg_conninfo "$1" "$2" bench', pgdir, str(pgport))
        subprocess.run(["psql", "-X", "-q", admin, "-c", "CREATE DATABASE bench"], check=True)
        port = free_port()
        aconf = os.path.join(work, "aggregator.conf")
        with open(aconf, "w") as f:
            f.write('aggregator = { listen = [ "tcp://127.0.0.1:%d" ]; database = "%s"; '
                    'tls = { insecure = true; }; workers = 4; };\n' % (port, conninfo))
        subprocess.run([AGGREGATOR, "-c", aconf, "migrate"], check=True, capture_output=True)
        agg = subprocess.Popen([AGGREGATOR, "-c", aconf, "serve"], stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        addr = "tcp://127.0.0.1:%d" % port

        progress("record latency (300 commands)")
        rec, base, agent_conf = record_latency(work)
        progress("spool append")
        bulk = spool_rate(agent_conf, 200000, 1000, 0)
        single = spool_rate(agent_conf, 3000, 1, 1000000)

        progress("ingest (warm-up, then 200,000 events from 4 senders)")
        with open(os.path.join(sh('pg_socket_dir "$1"', pgdir), "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
        subprocess.run([LOAD, addr, "5", "1000", "2", "0"], check=True, capture_output=True)
        cpu0 = server_cpu(postmaster, agg.pid)
        out = subprocess.run([LOAD, addr, "50", "1000", "4", "1"], check=True,
                             capture_output=True, text=True).stdout
        ingest_cpu_us = (server_cpu(postmaster, agg.pid) - cpu0) / 200000 * 1e6
        ingest = float(out.split("events/s")[0].split(":")[-1])
        dup = subprocess.run([LOAD, addr, "50", "1000", "4", "1"], check=True,
                             capture_output=True, text=True).stdout
        ingest_dup = float(dup.split("events/s")[0].split(":")[-1])

        progress("baseline: 20,000 per-row autocommit INSERTs")
        sql = os.path.join(work, "rows.sql")
        with open(sql, "w") as f:
            t0 = 1767225600 * 1000000   # 2026-01-01T00:00:00Z
            for i in range(20000):
                key = toil_key("base", "production", "h", None, "t%d" % i, t0 + i * 1000000,
                               60, "manual")
                f.write("INSERT INTO opspulse.toil (service, env, host, task, started_at, "
                        "duration_s, source, agent_id, content_key) VALUES ('base', "
                        "'production', 'h', 't%d', '2026-01-01T00:00:00Z'::timestamptz + "
                        "%d * interval '1 s', 60, 'manual', 'a', '%s') ON CONFLICT DO NOTHING;\n"
                        % (i, i, key))
        # The baseline writes the bare table: without the statement trigger
        # that marks rolled-up months dirty, which the aggregator's batches
        # pay once per batch and single-row INSERTs would pay per row.
        subprocess.run(["psql", "-X", "-q", conninfo, "-c",
                        "ALTER TABLE opspulse.toil DISABLE TRIGGER rollup_insert"], check=True)
        t = time.perf_counter()
        cpu0 = server_cpu(postmaster, agg.pid)
        subprocess.run(["psql", "-X", "-q", conninfo, "-f", sql], check=True,
                       stdout=subprocess.DEVNULL)
        per_row = 20000 / (time.perf_counter() - t)
        per_row_cpu_us = (server_cpu(postmaster, agg.pid) - cpu0) / 20000 * 1e6
        subprocess.run(["psql", "-X", "-q", conninfo, "-c",
                        "ALTER TABLE opspulse.toil ENABLE TRIGGER rollup_insert"], check=True)
        stored = subprocess.run(["psql", "-X", "-At", conninfo, "-c",
                                 "SELECT count(*) FROM opspulse.toil WHERE service = 'bench'"],
                                check=True, capture_output=True, text=True).stdout.strip()
        # The aggregator's keys (C) and the baseline's (Python) must be
        # the ones the schema's SQL functions compute.
        wrong = subprocess.run(["psql", "-X", "-At", conninfo, "-c",
                                "SELECT count(*) FROM opspulse.toil WHERE content_key <> "
                                "opspulse.toil_key(service, env, host, operator, task, "
                                "started_at, duration_s, source)"],
                               check=True, capture_output=True, text=True).stdout.strip()
        if wrong != "0":
            sys.exit("%s rows have a content key the schema does not compute" % wrong)
    finally:
        if agg:
            agg.send_signal(signal.SIGTERM)
            agg.wait(timeout=30)
        sh('pg_stop "$1"', pgdir)
        shutil.rmtree(work, ignore_errors=True)

    med = statistics.median(rec)
    p95 = statistics.quantiles(rec, n=20)[18]
    bmed = statistics.median(base)
    print("PostgreSQL: %s; load average %s" % (
        "defaults, every commit flushed (fsync on)" if DURABLE else "fsync=off (--fsync-off)",
        " ".join(open("/proc/loadavg").read().split()[:3])))
    print()
    print("| measure | OpsPulse | baseline (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    print("| record command latency, median (p95) | %.2f ms (%.2f ms) | %.2f ms: same binary, `--version` | +%.2f ms for validation, encoding and fsync | ≤ 5 ms median |"
          % (med, p95, bmed, med - bmed))
    print("| spool append, bulk | %.0f events/s | %.0f events/s: one fsync per event | %.0f× | ≥ 20k events/s |"
          % (bulk, single, bulk / single))
    print("| aggregator ingest, committed | %.0f events/s (%s rows stored) | %.0f events/s: per-row autocommit INSERT | %.1f× | ≥ 100k/s, ≥ 20× |"
          % (ingest, stored, per_row, ingest / per_row))
    print("| aggregator ingest, all duplicates | %.0f events/s | %.0f events/s | %.1f× | — |"
          % (ingest_dup, per_row, ingest_dup / per_row))
    print("| ingest, server CPU per new event | %.1f µs: PostgreSQL + aggregator | %.1f µs: PostgreSQL, per-row INSERT | %.1f× less | — |"
          % (ingest_cpu_us, per_row_cpu_us, per_row_cpu_us / ingest_cpu_us))


if __name__ == "__main__":
    main()
