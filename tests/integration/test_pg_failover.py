"""The database server dies under load (docs/OPERATIONS.md): a primary and
a hot standby with synchronous streaming replication, several agents
recording; the primary killed with pg_ctl stop -m immediate, the standby
promoted with pg_ctl promote, the old primary re-attached with pg_rewind.
The aggregator runs throughout with a multi-host ingest string and finds
the new primary by itself; every event is stored exactly once, the
spools drain, queries go to the standby (query_database) before and to
the promoted server after, /healthz says why while no primary answers,
/metrics counts the reconnections."""
import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from harness import (AGENT, PG_BIN, STATE, Cluster, PgServer, Proc, check, check_eq,
                     pg_as_owner, run, wait_for)

# Both servers carry the same settings, so that either can be the primary.
# ANY 1 of the two names: the primary waits for the other one, whichever
# it is.  fsync off: servers are killed here, never the host.
REPLICATION = """wal_level = replica
max_wal_senders = 10
wal_log_hints = on
wal_keep_size = '512MB'
hot_standby = on
synchronous_commit = on
synchronous_standby_names = 'ANY 1 (node1, node2)'
fsync = off
max_connections = 100
"""

AGENTS = ["fo-a", "fo-b", "fo-c"]
KINDS = {"deploy": "deploys", "toil": "toil", "batch": "batch_runs"}


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chunk(agent, k, n, base):
    """n distinct events of every kind in KINDS, for round k of agent."""
    out = []
    for j in range(n):
        t = base - timedelta(minutes=k * n + j)
        svc = "svc-" + agent
        out.append({"type": "deploy", "service": svc, "id": "%s-%d-%d" % (agent, k, j),
                    "started_at": iso(t), "finished_at": iso(t + timedelta(seconds=30)),
                    "outcome": "success"})
        out.append({"type": "toil", "service": svc, "task": "task %d-%d" % (k, j),
                    "started_at": iso(t), "duration_s": 60 + j})
        out.append({"type": "batch", "service": svc, "task": "job %d-%d" % (k, j),
                    "started_at": iso(t), "duration_s": 10 + j, "outcome": "success"})
    return out


class Load:
    """Each agent records a chunk every quarter second until stopped;
    recorded[agent][kind] counts what its import command accepted."""

    def __init__(self, c):
        self.c = c
        self.stop = threading.Event()
        self.recorded = {a: {k: 0 for k in KINDS} for a in AGENTS}
        self.errors = []
        self.base = datetime.now(timezone.utc) - timedelta(hours=1)
        self.threads = [threading.Thread(target=self.record, args=(a,)) for a in AGENTS]

    def record(self, agent):
        k = 0
        while not self.stop.is_set():
            events = chunk(agent, k, 20, self.base)
            path = self.c.write("%s-%d.jsonl" % (agent, k),
                                "\n".join(json.dumps(e) for e in events) + "\n")
            r = subprocess.run([AGENT, "-c", self.c.path(agent + ".conf"), "import", path],
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                self.errors.append(r.stderr)
                return
            for e in events:
                self.recorded[agent][e["type"]] += 1
            k += 1
            time.sleep(0.25)

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()
        check(not self.errors, "every import succeeded: %r" % self.errors[:1])


def get(c, path):
    url = "http://127.0.0.1:%d%s" % (c.http_ports[0], path)
    try:
        with urllib.request.urlopen(url, timeout=30) as f:
            return f.status, f.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def query_sessions(node, db):
    return int(node.scalar(db, "SELECT count(*) FROM pg_stat_activity "
                               "WHERE application_name = 'opspulse-aggregator-query'"))


def services(c, standby):
    """opspulse services: events per service, as the CLI reads them;
    checks whether the answer says it came from a standby."""
    out = c.cli_json("services")
    if standby:
        check(out.get("from_standby") is True and out.get("replay_lag_seconds") >= 0,
              "a standby's answer carries its replay lag: %r" % {k: v for k, v in out.items()
                                                                  if k != "rows"})
    else:
        check("from_standby" not in out, "a primary's answer is not marked: %r" % out.keys())
    return {r["service"]: r["events"] for r in out["rows"]}


def rewind(old, new):
    """Re-attaches the crashed old primary as a standby of new: pg_rewind
    takes back what it wrote after the fork and -R writes the recovery
    settings; its own address and name are appended again, as pg_rewind
    copied new's configuration files."""
    new.sql("postgres", "CHECKPOINT")  # the promotion's timeline, on disk
    pg_as_owner([os.path.join(PG_BIN, "pg_rewind"), "-D", old.data,
                 "--source-server", new.conninfo("postgres"), "-R"])
    old.configure()
    old.start()


def test_failover_exactly_once():
    os.makedirs(os.path.join(STATE, "runs"), exist_ok=True)
    base = tempfile.mkdtemp(prefix="pgfo-", dir=os.path.join(STATE, "runs"))
    node1 = PgServer(os.path.join(base, "node1"), "node1")
    node2 = PgServer(os.path.join(base, "node2"), "node2")
    try:
        node1.init(REPLICATION).start()
        node2.basebackup(node1).start()
        wait_for(lambda: node1.scalar("postgres", "SELECT sync_state FROM pg_stat_replication "
                                                  "WHERE application_name = 'node2'") == "quorum",
                 60, "node2 to replicate synchronously")
        with Cluster("pgfo", pg=node1) as c:
            run_failover(c, node1, node2)
    finally:
        node1.destroy()
        node2.destroy()


def run_failover(c, node1, node2):
    db = c.db
    hosts = "host=127.0.0.1,127.0.0.1 user=postgres dbname=%s connect_timeout=5" % db
    ingest = "%s port=%d,%d target_session_attrs=read-write" % (hosts, node1.port, node2.port)
    # The queries' server is the standby that will be promoted: it answers
    # as a standby before the failover and as the primary after, whichever
    # worker's session asks (a second host here would let a session opened
    # after the old primary is re-attached as a standby go there).
    query = ("host=127.0.0.1 user=postgres dbname=%s connect_timeout=5 port=%d "
             "target_session_attrs=prefer-standby" % (db, node2.port))
    c.write_confs('  query_database = "%s";\n' % query, database=ingest)
    c.start_aggregator(0)
    agents = []
    for a in AGENTS:
        c.write_agent_conf(name=a + ".conf", agent_id=a, spool=c.path("spool-" + a),
                           sender="timeout_ms = 2000;")
        p = Proc(a, [AGENT, "-c", c.path(a + ".conf"), "daemon"], c.dir)
        c.procs.append(p)
        agents.append(p)
        wait_for(lambda: "started" in p.output() or not p.alive(), 15, a + " to start")
    load = Load(c)
    load.start()
    try:
        before_failover(c, node1, node2)
        during_outage(c, node1, node2)
        node2.promote()
        wait_for(lambda: get(c, "/healthz")[0] == 200, 60, "/healthz 200 after the promotion")
        rewind(node1, node2)
        time.sleep(3)  # load on the new primary, replicated to the old one
    finally:
        load.finish()
    for a in AGENTS:
        c.agent("flush", "--timeout", "240", timeout=300, conf=a + ".conf")
    after_failover(c, node1, node2, load)


def before_failover(c, node1, node2):
    db = c.db
    wait_for(lambda: int(node1.scalar(db, "SELECT count(*) FROM toil")) >= 100, 120,
             "events on the primary")
    got = services(c, standby=True)
    check(all("svc-" + a in got for a in AGENTS), "services answered from the standby: %r" % got)
    check(query_sessions(node2, db) > 0, "the queries' session is on the standby")
    check_eq(query_sessions(node1, db), 0, "query sessions on the primary")
    wait_for(lambda: c.metrics().get("opspulse_query_database_standby") == 1, 30,
             "/metrics to say queries come from a standby")
    check("opspulse_query_database_replay_lag_seconds" in c.metrics(), "the replay lag is on /metrics")


def during_outage(c, node1, node2):
    db = c.db
    node1.stop("immediate")
    down = time.time()
    wait_for(lambda: get(c, "/healthz")[0] == 503, 30, "/healthz 503 without a primary")
    status, body = get(c, "/healthz")
    check(status == 503 and "database unreachable" in body and "read-only" in body,
          "/healthz says why: %d %r" % (status, body))
    print("healthz while no primary: %s" % body.strip())
    # The standby still answers queries: they come from it.
    got = services(c, standby=True)
    on_standby = {r[0]: int(r[1]) for r in node2.sql(
        db, "SELECT service, count(*) FROM toil GROUP BY service")}
    check(all(got.get("svc-" + a, 0) >= on_standby.get("svc-" + a, 0) for a in AGENTS),
          "queries answered from the standby during the outage: %r vs %r" % (got, on_standby))
    time.sleep(max(0, 3 - (time.time() - down)))  # agents retry against no primary


def after_failover(c, node1, node2, load):
    db = c.db
    check_eq(node2.scalar(db, "SELECT pg_is_in_recovery()"), "f", "node2 is the primary")
    check_eq(node1.scalar(db, "SELECT pg_is_in_recovery()"), "t", "node1 is its standby")
    for a in AGENTS:
        st = c.agent("status", conf=a + ".conf").stdout
        check("unsent events:  0\n" in st, "%s's spool is empty: %s" % (a, st))
        for kind, table in KINDS.items():
            where = "service = 'svc-%s'" % a
            n = int(node2.scalar(db, "SELECT count(*) FROM %s WHERE %s" % (table, where)))
            check_eq(n, load.recorded[a][kind], "%s %s stored exactly once" % (a, kind))
    key = {"deploys": "deploy_id", "toil": "task", "batch_runs": "task"}
    for table, col in key.items():
        dup = node2.scalar(db, "SELECT count(*) - count(DISTINCT (service, %s)) FROM %s"
                               % (col, table))
        check_eq(dup, "0", "no %s doubled" % table)
    # Queries now come from the promoted server: the query sessions stayed
    # on it, and it answers with every event.
    got = services(c, standby=False)
    for a in AGENTS:
        check_eq(got.get("svc-" + a), sum(load.recorded[a].values()),
                 "opspulse services on the new primary, %s" % a)
    check(query_sessions(node2, db) > 0, "the queries' session is on the new primary")
    wait_for(lambda: c.metrics().get("opspulse_query_database_standby") == 0, 30,
             "/metrics to say queries come from a primary")
    m = c.metrics()
    check(m.get("opspulse_database_reconnections_total", 0) > 0,
          "reconnections counted: %r" % m.get("opspulse_database_reconnections_total"))
    status, body = get(c, "/healthz")
    check_eq((status, body.strip()), (200, "ok"), "/healthz after the failover")
    log = c.aggregators[0].output()
    check("database connection restored (127.0.0.1 port %d" % node2.port in log,
          "the reconnection to the new primary is logged")
    print("recorded %r; reconnections %d; duplicates acknowledged %d" % (
        load.recorded, m["opspulse_database_reconnections_total"],
        m.get('opspulse_ingest_events_total{result="duplicate"}', 0)))


if __name__ == "__main__":
    run([test_failover_exactly_once])
