#!/usr/bin/env python3
"""Delivery benchmarks (SPEC §10), each against a baseline measured in the
same run, on a private PostgreSQL started here and stopped on exit:

  record latency   `opspulse-agent deploy record` (process start, validation,
                   encoding, fsync) vs. starting the same binary with --version
  spool append     bulk events/s with one fsync per 1000 events vs. one fsync
                   per event (what a per-metric fsync buffer does)
  ingest           committed, deduplicated events/s through a real aggregator
                   vs. per-row autocommit INSERT ... ON CONFLICT DO NOTHING
                   into the same table

usage: bench/delivery.py [BUILD_DIR]      (default: build)
Prints a Markdown table; the figures go in docs/BENCHMARKS.md.
"""
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
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
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
    return subprocess.run(["bash", "-c", '. "%s"; %s' % (PG, script), "bench"] + list(args),
                          check=True, capture_output=True, text=True).stdout.strip()


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
        subprocess.run([LOAD, addr, "5", "1000", "2", "0"], check=True, capture_output=True)
        out = subprocess.run([LOAD, addr, "50", "1000", "4", "1"], check=True,
                             capture_output=True, text=True).stdout
        ingest = float(out.split("events/s")[0].split(":")[-1])
        dup = subprocess.run([LOAD, addr, "50", "1000", "4", "1"], check=True,
                             capture_output=True, text=True).stdout
        ingest_dup = float(dup.split("events/s")[0].split(":")[-1])

        progress("baseline: 20,000 per-row autocommit INSERTs")
        sql = os.path.join(work, "rows.sql")
        with open(sql, "w") as f:
            for i in range(20000):
                f.write("INSERT INTO opspulse.toil (service, env, host, task, started_at, "
                        "duration_s, source, agent_id) VALUES ('base', 'production', 'h', "
                        "'t%d', '2026-01-01T00:00:00Z'::timestamptz + %d * interval '1 s', 60, "
                        "'manual', 'a') ON CONFLICT DO NOTHING;\n" % (i, i))
        t = time.perf_counter()
        subprocess.run(["psql", "-X", "-q", conninfo, "-f", sql], check=True,
                       stdout=subprocess.DEVNULL)
        per_row = 20000 / (time.perf_counter() - t)
        stored = subprocess.run(["psql", "-X", "-At", conninfo, "-c",
                                 "SELECT count(*) FROM opspulse.toil WHERE service = 'bench'"],
                                check=True, capture_output=True, text=True).stdout.strip()
    finally:
        if agg:
            agg.send_signal(signal.SIGTERM)
            agg.wait(timeout=30)
        sh('pg_stop "$1"', pgdir)
        shutil.rmtree(work, ignore_errors=True)

    med = statistics.median(rec)
    p95 = statistics.quantiles(rec, n=20)[18]
    bmed = statistics.median(base)
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


if __name__ == "__main__":
    main()
