"""opspulse-agent import (SPEC §2 item 3, §2.1) and the explicit record
commands (§2 item 2): every event type arrives complete, defaults fill
omitted fields, a bad file is reported line by line and imports nothing,
and importing twice stores one copy.  Expected rows are built here from
the input, not read back from the agent."""
import json
import os
from datetime import datetime, timezone

from harness import Cluster, check, check_eq, run


def epoch(s):
    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


USER = "importer"          # the operator default, from $USER
ENV = dict(os.environ, USER=USER)
ENV.pop("SUDO_USER", None)
DEFAULT_SVC, HOST = "default-svc", "it-agent"   # from the harness's agent.conf

EVENTS = [
    {"type": "deploy", "service": "billing", "env": "production", "id": "d-42",
     "started_at": "2026-10-05T09:00:00Z", "finished_at": "2026-10-05T09:12:00Z",
     "outcome": "success", "version": "1.4.2", "commit_time": "2026-10-04T18:00:00+09:00",
     "hotfix": False, "operator": "aiko"},
    # no id, no service, env or operator: all defaults, and a derived id
    {"type": "deploy", "started_at": "2026-10-06T10:00:00Z",
     "finished_at": "2026-10-06T10:01:30.5Z", "outcome": "rolled_back", "hotfix": True},
    {"type": "deploy_failure", "service": "billing", "id": "d-42", "at": "2026-10-05T11:00:00Z"},
    {"type": "toil", "service": "billing", "task": "rotate TLS certificates",
     "started_at": "2026-10-05T09:30:00Z", "duration_s": 2700, "operator": "ken", "source": "manual"},
    {"type": "toil", "service": "billing", "task": "restart stuck worker",
     "started_at": "2026-10-07T02:00:00Z", "duration_s": 600},
    {"type": "batch", "service": "billing", "task": "nightly-export",
     "started_at": "2026-10-05T01:00:00Z", "duration_s": 1260, "outcome": "success"},
    {"type": "alert", "service": "billing", "alertname": "HighLatency", "fingerprint": "6f1c0a",
     "severity": "warning", "starts_at": "2026-10-05T09:40:00Z", "ends_at": "2026-10-05T09:52:00Z"},
    {"type": "alert", "service": "search", "env": "staging", "alertname": "DiskFull",
     "fingerprint": "77aa01", "starts_at": "2026-10-06T09:40:00Z", "ends_at": None},
    {"type": "component", "service": "billing", "host": "db-1", "name": "postgresql",
     "version": "13.9", "observed_at": "2026-10-05T00:00:00Z"},
    {"type": "maintenance", "service": "billing", "id": "m-7", "component": "postgresql",
     "title": "minor upgrade", "due_at": "2027-01-15T00:00:00Z", "status": "scheduled"},
    {"type": "maintenance", "service": "search", "component": "redis",
     "title": "move to 7.2", "due_at": "2026-12-01T00:00:00Z", "status": "done"},
    {"type": "capacity", "service": "billing", "host": "web-1", "at": "2026-10-05T09:00:00Z",
     "cpu_pct": 41.5, "mem_pct": 63, "mount": "/", "disk_used_bytes": 123456789,
     "disk_total_bytes": 987654321},
]


def expected_rows():
    """Rows per table as psql prints them, from EVENTS and the defaults."""
    exp = {k: [] for k in ("deploys", "failures", "toil", "batch", "alerts",
                           "components", "maintenance", "capacity")}
    for e in EVENTS:
        svc, env = e.get("service", DEFAULT_SVC), e.get("env", "production")
        host, op = e.get("host", HOST), e.get("operator", USER)
        t = e["type"]
        if t == "deploy":
            ct = e.get("commit_time")
            exp["deploys"].append([svc, env, host, op, str(epoch(e["started_at"])),
                                   "%.1f" % datetime.fromisoformat(
                                       e["finished_at"].replace("Z", "+00:00")).timestamp(),
                                   e["outcome"], e.get("version", ""),
                                   str(epoch(ct)) if ct else "", "t" if e.get("hotfix") else "f"])
        elif t == "deploy_failure":
            exp["failures"].append([svc, env, e["id"], str(epoch(e["at"])), host])
        elif t == "toil":
            exp["toil"].append([svc, env, host, op, e["task"], str(epoch(e["started_at"])),
                                str(e["duration_s"]), e.get("source", "import")])
        elif t == "batch":
            exp["batch"].append([svc, env, host, e["task"], str(epoch(e["started_at"])),
                                 str(e["duration_s"]), e["outcome"]])
        elif t == "alert":
            exp["alerts"].append([e["fingerprint"], str(epoch(e["starts_at"])), svc, env, host,
                                  e["alertname"], e.get("severity", ""),
                                  str(epoch(e["ends_at"])) if e.get("ends_at") else ""])
        elif t == "component":
            exp["components"].append([svc, env, host, e["name"], e["version"],
                                      str(epoch(e["observed_at"]))])
        elif t == "maintenance":
            exp["maintenance"].append([svc, env, host, e["component"], e["title"],
                                       str(epoch(e["due_at"])), e["status"]])
        elif t == "capacity":
            exp["capacity"].append([svc, env, host, str(epoch(e["at"])), str(e["cpu_pct"]),
                                    str(e["mem_pct"]), e["mount"], str(e["disk_used_bytes"]),
                                    str(e["disk_total_bytes"])])
    return {k: sorted(v) for k, v in exp.items()}


QUERIES = {
    "deploys": "SELECT service, env, host, coalesce(operator, ''), extract(epoch FROM started_at)::bigint, "
               "to_char(extract(epoch FROM finished_at), 'FM9999999999.0'), outcome, coalesce(version, ''), "
               "coalesce(extract(epoch FROM commit_time)::bigint::text, ''), hotfix FROM deploys",
    "failures": "SELECT service, env, deploy_id, extract(epoch FROM at)::bigint, host FROM deploy_failures",
    "toil": "SELECT service, env, host, coalesce(operator, ''), task, extract(epoch FROM started_at)::bigint, "
            "duration_s, source FROM toil",
    "batch": "SELECT service, env, host, task, extract(epoch FROM started_at)::bigint, duration_s, outcome "
             "FROM batch_runs",
    "alerts": "SELECT fingerprint, extract(epoch FROM starts_at)::bigint, service, env, host, alertname, "
              "coalesce(severity, ''), coalesce(extract(epoch FROM ends_at)::bigint::text, '') FROM alerts",
    "components": "SELECT service, env, host, name, version, extract(epoch FROM observed_at)::bigint "
                  "FROM components",
    "maintenance": "SELECT service, env, host, component, title, extract(epoch FROM due_at)::bigint, status "
                   "FROM maintenance",
    "capacity": "SELECT service, env, host, extract(epoch FROM at)::bigint, cpu_pct, mem_pct, "
                "coalesce(mount, ''), disk_used_bytes, disk_total_bytes FROM capacity",
}


def table_rows(c):
    return {k: sorted(c.sql(q)) for k, q in QUERIES.items()}


def write_jsonl(c, name, events, bad=None):
    """Writes events one per line; bad maps a 1-based line number to raw
    text put there instead."""
    lines = [json.dumps(e) for e in events]
    for n, text in sorted((bad or {}).items()):
        lines.insert(n - 1, text)
    return c.write(name, "\n".join(lines) + "\n")


def test_every_type_arrives_complete_and_once():
    with Cluster("import").start() as c:
        path = write_jsonl(c, "history.jsonl", EVENTS)
        # Written by an editor that puts a byte order mark first and ends
        # lines with CRLF.
        with open(path, "rb") as f:
            raw = f.read()
        with open(path, "wb") as f:
            f.write(b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"))
        r = c.agent("import", path, env=ENV)
        check("imported %d events" % len(EVENTS) in r.stdout, "summary: %r" % r.stdout)
        c.flush()
        exp = expected_rows()
        got = table_rows(c)
        for k in exp:
            check_eq(got[k], exp[k], "%s rows" % k)
        # The deploy without an id got a derived one.
        ids = [x[0] for x in c.sql("SELECT deploy_id FROM deploys WHERE service = '%s'" % DEFAULT_SVC)]
        check(len(ids) == 1 and ids[0].startswith("auto-"), "derived deploy id: %r" % ids)
        mids = [x[0] for x in c.sql("SELECT maint_id FROM maintenance WHERE service = 'search'")]
        check(len(mids) == 1 and mids[0].startswith("auto-"), "derived maintenance id: %r" % mids)

        # Importing the same file again (and once more through stdin)
        # stores nothing new.
        c.agent("import", path, env=ENV)
        with open(path) as f:
            c.agent("import", "-", input=f.read(), env=ENV)
        c.flush()
        check_eq(table_rows(c), got, "rows after importing the same file twice more")
        check_eq(c.scalar("SELECT count(*) FROM toil"), "2", "toil entries stored once")


def test_bad_lines_reported_and_nothing_imported():
    with Cluster("importbad").start() as c:
        toil = [dict(e, service="badfile") for e in EVENTS if e["type"] == "toil"][0]
        good = [dict(toil, task="task %d" % i) for i in range(6)]
        bad = {2: '{"type":"toil","service":"badfile","task":"x","started_at":"yesterday","duration_s":5}',
               5: '{"type":"deploy","service":"badfile", not json',
               8: '{"type":"toil","service":"badfile","task":"y","started_at":"2026-10-05T09:30:00Z",'
                  '"duration_s":-3}'}
        path = write_jsonl(c, "bad.jsonl", good, bad)
        r = c.agent("import", path, check_rc=False, env=ENV)
        check_eq(r.returncode, 1, "exit status with bad lines")
        reported = [l for l in r.stderr.splitlines() if l.startswith(path + ":")]
        check_eq([int(l.split(":")[1]) for l in reported], [2, 5, 8], "bad line numbers: %r" % r.stderr)
        check("started_at" in reported[0], "reason names the field: %r" % reported[0])
        check("duration_s" in reported[2], "reason names the field: %r" % reported[2])
        check("nothing imported" in r.stderr, "says nothing was imported: %r" % r.stderr)

        # --dry-run on the same file: the same report; on a good file, ok.
        r = c.agent("import", "--dry-run", path, check_rc=False, env=ENV)
        check_eq(r.returncode, 1, "dry run of a bad file")
        good_path = write_jsonl(c, "good.jsonl", good)
        r = c.agent("import", "--dry-run", good_path, env=ENV)
        check("6 valid events" in r.stdout, "dry run summary: %r" % r.stdout)
        c.flush()
        check_eq(c.scalar("SELECT count(*) FROM toil"), "0", "nothing stored by failed or dry runs")

        # --skip-invalid imports the good lines and still reports the bad.
        r = c.agent("import", "--skip-invalid", path, env=ENV)
        check_eq(len([l for l in r.stderr.splitlines() if l.startswith(path + ":")]), 3,
                 "bad lines reported with --skip-invalid")
        c.flush()
        check_eq(sorted(x[0] for x in c.sql("SELECT task FROM toil")),
                 sorted(g["task"] for g in good), "the good lines were imported")


def test_progress_on_large_input():
    with Cluster("importbig") as c:
        n = 120000
        line = '{"type":"toil","service":"big","task":"t%d","started_at":"2026-10-05T09:30:00Z","duration_s":60}\n'
        path = c.write("big.jsonl", "".join(line % i for i in range(n)))
        r = c.agent("import", "--dry-run", "--progress", path, env=ENV)
        check("import: lines read 100000" in r.stderr, "progress line: %r" % r.stderr[-500:])
        check("%d valid events" % n in r.stdout, "all lines valid: %r" % r.stdout)
        r = c.agent("import", "--dry-run", path, env=ENV)
        check("lines read" not in r.stderr, "no progress when stderr is not a terminal")


def test_record_commands():
    with Cluster("records").start() as c:
        c.agent("toil", "record", "--service", "ops", "--task", "patch hosts", "--minutes", "45",
                "--at", "2026-10-05T09:00:00Z", "--operator", "mika", env=ENV)
        c.agent("toil", "record", "--service", "ops", "--task", "restart", "--seconds", "90",
                "--at", "2026-10-05T10:00:00Z", env=ENV)
        c.agent("component", "record", "--service", "ops", "--name", "amazon-aurora-postgresql",
                "--version", "15.4", "--host", "aurora-prod", "--at", "2026-10-05T00:00:00Z", env=ENV)
        c.agent("maintenance", "record", "--service", "ops", "--component", "redis",
                "--title", "upgrade to 7.2", "--due", "2027-02-01", "--status", "scheduled", env=ENV)
        c.flush()
        check_eq(sorted(c.sql("SELECT task, operator, extract(epoch FROM started_at)::bigint, duration_s, "
                              "source FROM toil")),
                 sorted([["patch hosts", "mika", str(epoch("2026-10-05T09:00:00Z")), "2700", "manual"],
                         ["restart", USER, str(epoch("2026-10-05T10:00:00Z")), "90", "manual"]]),
                 "toil records")
        check_eq(c.sql("SELECT host, name, version FROM components"),
                 [["aurora-prod", "amazon-aurora-postgresql", "15.4"]], "component record")
        # Recording the item again, done, updates it (same derived id).
        c.agent("maintenance", "record", "--service", "ops", "--component", "redis",
                "--title", "upgrade to 7.2", "--due", "2027-02-01", "--status", "done", env=ENV)
        c.flush()
        check_eq(c.sql("SELECT component, title, extract(epoch FROM due_at)::bigint, status FROM maintenance"),
                 [["redis", "upgrade to 7.2", str(epoch("2027-02-01T00:00:00Z")), "done"]],
                 "maintenance item updated in place")
        r = c.agent("toil", "record", "--service", "ops", "--task", "x", check_rc=False)
        check_eq(r.returncode, 1, "toil without a duration is refused")
        r = c.agent("maintenance", "record", "--service", "ops", "--component", "c", "--title", "t",
                    "--due", "2027-01-01", "--status", "later", check_rc=False)
        check_eq(r.returncode, 1, "an unknown status is refused")


if __name__ == "__main__":
    run([test_every_type_arrives_complete_and_once, test_bad_lines_reported_and_nothing_imported,
         test_progress_on_large_input, test_record_commands])
