"""Production readiness check (SPEC §14, §14.1): `opspulse readiness` and
`--by service` against values this test computes from its own input.
Backups exactly 26 h and 26 h 1 min before until, a service that never ran
a backup or restore, a failed restore, a restore older than since but
inside the cycle, alerts with and without a runbook (import field
runbook_url), manual checks 181 and 183 days old, a manual check never
recorded, exemptions of a manual and of an automatic check, records after
until ignored, and checks that flip when --until moves.  Checks that read
a scorecard area or the EOL status are compared with the scorecard's and
eol's own rows.  A real Alertmanager delivers runbook_url into the stored
episode.  check-config refuses a bad readiness block with its line, and a
SIGHUP reloads the manual checks."""
import json
import os
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone

from harness import AGGREGATOR, Cluster, check, check_eq, fail, run, wait_for
import test_alertmanager as am

ENV = dict(os.environ, USER="readiness-test")
UNTIL = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=1)
SINCE = UNTIL - timedelta(days=28)
CYCLE = 182
MANUAL = ["runbooks_reviewed", "secrets_rotated", "least_privilege_reviewed"]
AUTO = [("backup_recent", "backup"), ("restore_tested", "backup"),
        ("capacity_headroom", "capacity"), ("slo_defined", "monitoring"),
        ("alerts_quiet", "monitoring"), ("alerts_have_runbooks", "monitoring"),
        ("postmortems_on_time", "incident_response"), ("no_eol", "security"),
        ("patches_current", "security")]
SCORE_AREA = {"capacity_headroom": "capacity", "alerts_quiet": "alerting",
              "postmortems_on_time": "postmortem"}
READINESS_CONF = """  readiness = {
    cycle_days = %d;
    backup_tasks = [ "*backup*", "dump-?" ];
    restore_tasks = [ "*restore*" ];
    manual_checks = [ %s ];
  };
  slos = ( { service = "pay"; availability = 99.9; },
           { service = "web"; availability = 99.5; } );
"""


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")) if s else None


def words(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") + " UTC"


def ago(days=0, hours=0, minutes=0):
    return UNTIL - timedelta(days=days, hours=hours, minutes=minutes)


# ---- the dataset ---------------------------------------------------------------

BATCHES = [
    # pay: a backup exactly 26 h before until (pass), a failed restore (fail)
    ("pay", "nightly-backup", ago(hours=26), "success"),
    ("pay", "nightly-backup", ago(hours=50), "failed"),
    ("pay", "db-restore-drill", ago(days=10), "failed"),
    # web: its backup 26 h 1 min before until (fail; passes a minute
    # earlier), no restore task at all (unknown), a task no glob matches
    ("web", "dump-1", ago(hours=26, minutes=1), "success"),
    ("web", "compact", ago(hours=2), "success"),
    # batch: a restore 100 days back, before since, inside the cycle (pass),
    # its only backup failed (fail); a successful backup after until
    ("batch", "weekly-backup", ago(days=3), "failed"),
    ("batch", "restore-test", ago(days=100), "success"),
    ("batch", "weekly-backup", UNTIL + timedelta(minutes=5), "success"),
    # quiet: no backup or restore task ever (unknown)
    ("quiet", "report-gen", ago(days=1), "success"),
]

ALERTS = [
    # pay: two long alerts, one without a runbook (quiet, runbooks fail)
    ("pay", "f1", "DiskSlow", ago(days=5), ago(days=5) + timedelta(hours=1), "https://rb/disk"),
    ("pay", "f2", "QueueLag", ago(days=4), ago(days=4) + timedelta(hours=2), None),
    # web: noisy alerts, every one with a runbook
    ("web", "f3", "Flap", ago(days=3), ago(days=3) + timedelta(minutes=2), "https://rb/flap"),
    ("web", "f4", "Flap", ago(days=2), ago(days=2) + timedelta(minutes=3), "https://rb/flap"),
    # before the window: not judged
    ("batch", "f5", "Old", ago(days=40), ago(days=40) + timedelta(hours=1), None),
]

CHECKS = [
    # (service, check, result, evidence, at)
    ("pay", "runbooks_reviewed", "pass", "reviewed with the on-call team", ago(days=181)),
    ("pay", "secrets_rotated", "pass", "rotated in vault", ago(days=183)),
    ("web", "runbooks_reviewed", "pass", "first review", ago(days=30)),
    ("web", "runbooks_reviewed", "fail", "two runbooks out of date", ago(days=5)),
    ("web", "secrets_rotated", "exempt", "no secrets: static site", ago(days=20)),
    ("web", "capacity_headroom", "exempt", "serverless: no hosts to size", ago(days=10)),
    ("batch", "least_privilege_reviewed", "pass", "after until", UNTIL + timedelta(minutes=1)),
    ("batch", "alerts_quiet", "exempt", "expired exemption", ago(days=CYCLE + 1)),
]


def lines():
    L = []
    for svc, task, t, outcome in BATCHES:
        L.append({"type": "batch", "service": svc, "task": task, "started_at": iso(t),
                  "duration_s": 60, "outcome": outcome})
    for svc, fp, name, s, e, rb in ALERTS:
        d = {"type": "alert", "service": svc, "alertname": name, "fingerprint": fp,
             "starts_at": iso(s), "ends_at": iso(e)}
        if rb:
            d["runbook_url"] = rb
        L.append(d)
    # Capacity: pay within targets, batch CPU too high; web none.
    for day in range(3):
        for svc, cpu in (("pay", 40.0), ("batch", 95.0)):
            L.append({"type": "capacity", "service": svc, "at": iso(ago(days=day + 1)),
                      "cpu_pct": cpu, "mem_pct": 50.0, "mount": "/",
                      "disk_used_bytes": 1000, "disk_total_bytes": 100000})
    # Requests for pay only: web has an SLO and no requests.
    L.append({"type": "requests", "service": "pay", "minute": iso(ago(days=1)),
              "requests": 1000, "errors": 0})
    # Incidents: pay's postmortem on time, web's missing.
    for svc, pm in (("pay", True), ("web", False)):
        d = {"type": "incident", "service": svc, "id": svc + "-1", "severity": 1,
             "started_at": iso(ago(days=20)), "resolved_at": iso(ago(days=20) + timedelta(hours=1))}
        if pm:
            d["postmortem"] = "https://wiki/pm"
            d["postmortem_at"] = iso(ago(days=19))
        L.append(d)
    # Components: pay on a cycle but behind its latest, web past end of life,
    # batch on nothing the catalog knows.
    for svc, name, version in (("pay", "postgresql", "15.1"), ("web", "postgresql", "9.6.1"),
                               ("batch", "acme-db", "1.0")):
        L.append({"type": "component", "service": svc, "name": name, "version": version,
                  "observed_at": iso(ago(days=1))})
    for svc, chk, result, ev, t in CHECKS:
        L.append({"type": "check", "service": svc, "check": chk, "result": result,
                  "evidence": ev, "at": iso(t)})
    return L


# ---- the independent computation ------------------------------------------------

def glob_match(task, globs):
    import fnmatch
    return any(fnmatch.fnmatchcase(task, g) for g in globs)


def runs_check(svc, until, globs, span, what, span_words):
    runs = [b for b in BATCHES if b[0] == svc and b[2] < until and glob_match(b[1], globs)]
    ok = sorted([b for b in runs if b[3] == "success" and until - span <= b[2]],
                key=lambda b: b[2])
    if ok:
        return "pass", "%s succeeded %s" % (ok[-1][1], words(ok[-1][2]))
    if runs:
        last = max(runs, key=lambda b: b[2])
        out = "succeeded" if last[3] == "success" else last[3]
        return "fail", ("no successful %s run in the %s before %s; last run: %s %s %s"
                        % (what, span_words, words(until), last[1], out, words(last[2])))
    return "unknown", "no %s task (%s) ever ran before %s" % (what, ", ".join(globs),
                                                              words(until))


def runbooks_check(svc, since, until):
    a = [x for x in ALERTS if x[0] == svc and since <= x[3] < until]
    missing = sorted({x[2] for x in a if not x[5]})
    if not a:
        return "unknown", "no alerts in the window"
    if not missing:
        return "pass", "all %d alerts have a runbook" % len(a)
    return "fail", "%d of %d alerts have no runbook: %s" % (
        len([x for x in a if not x[5]]), len(a), ", ".join(missing))


def eol_checks(svc, eol_rows):
    rows = [r for r in eol_rows if r["service"] == svc and r["cycle"] is not None]
    if not rows:
        w = "no component matched to an EOL catalog cycle"
        return ("unknown", w), ("unknown", w)
    bad = [r for r in rows if r["status"] in ("past_eol", "urgent")]
    behind = [r for r in rows if r["patch_behind"]]
    no_eol = ("fail", "; ".join("%s %s on %s: %s" % (r["component"], r["version"], r["host"],
                                                   r["status"].replace("_", " ")) for r in bad)) \
        if bad else ("pass", "%d components, none past end of life or within 90 days of it"
                     % len(rows))
    patches = ("fail", "; ".join("%s %s on %s is behind %s" % (r["component"], r["version"],
                                                            r["host"], r["latest"])
                                  for r in behind)) \
        if behind else ("pass", "%d components on their cycle's latest release" % len(rows))
    return no_eol, patches


def latest_record(svc, chk, until):
    recs = [r for r in CHECKS if r[0] == svc and r[1] == chk and r[4] < until]
    return max(recs, key=lambda r: r[4]) if recs else None


def verb(result):
    return {"pass": "passed", "fail": "failed", "exempt": "exempted"}[result]


def expected(services, since, until, score, eol_rows, manual):
    cyc = timedelta(days=CYCLE)
    out = []
    for svc in services:
        auto = {
            "backup_recent": runs_check(svc, until, ["*backup*", "dump-?"],
                                        timedelta(hours=26), "backup", "26 h"),
            "restore_tested": runs_check(svc, until, ["*restore*"], cyc, "restore",
                                         "%d days" % CYCLE),
            "alerts_have_runbooks": runbooks_check(svc, since, until),
        }
        for chk, area in SCORE_AREA.items():
            s = score[(svc, area)]
            st = {3: "pass", 2: "fail", 1: "unknown"}[s["level"]]
            auto[chk] = (st, "scorecard %s level %d: %s" % (area, s["level"], s["reason"]))
        s = score[(svc, "slo")]
        auto["slo_defined"] = ("pass" if s["level"] >= 2 else "fail", s["reason"])
        auto["no_eol"], auto["patches_current"] = eol_checks(svc, eol_rows)
        for chk, area in AUTO:
            st, ev = auto[chk]
            row = {"service": svc, "check": chk, "area": area, "kind": "auto", "status": st,
                   "evidence": ev, "checked_at": until, "expires_at": None}
            rec = latest_record(svc, chk, until)
            if rec and rec[2] == "exempt" and until < rec[4] + cyc:
                row.update(status="exempt", evidence="exempt: " + rec[3],
                           checked_at=rec[4], expires_at=rec[4] + cyc)
            out.append(row)
        for chk in manual:
            rec = latest_record(svc, chk, until)
            row = {"service": svc, "check": chk, "area": None, "kind": "manual",
                   "status": "unknown", "evidence": "never recorded", "checked_at": None,
                   "expires_at": None}
            if rec:
                row.update(checked_at=rec[4], expires_at=rec[4] + cyc)
                if until < rec[4] + cyc:
                    row.update(status=rec[2], evidence="%s %s: %s" % (verb(rec[2]),
                                                                    words(rec[4]), rec[3]))
                else:
                    row.update(status="expired", evidence="%s %s, expired %s: %s" % (
                        verb(rec[2]), words(rec[4]), words(rec[4] + cyc), rec[3]))
            out.append(row)
    return sorted(out, key=lambda r: (r["service"], r["check"]))


def by_service(rows):
    out = {}
    for r in rows:
        d = out.setdefault(r["service"], {"service": r["service"], "passed": 0, "failed": 0,
                                          "unknown": 0, "exempt": 0, "expired": 0, "total": 0})
        key = {"pass": "passed", "fail": "failed"}.get(r["status"], r["status"])
        d[key] += 1
        d["total"] += 1
    for d in out.values():
        n = d["total"] - d["exempt"]
        d["ready_share"] = d["passed"] / n if n else None
    return [out[k] for k in sorted(out)]


def cli_rows(c, *args):
    return c.cli_json(*args)["rows"]


def query(c, since, until, *extra):
    return cli_rows(c, "readiness", "--since", iso(since), "--until", iso(until), *extra)


def compare(got, want, what):
    check_eq(len(got), len(want), what + ": rows")
    for g, w in zip(got, want):
        check_eq(sorted(g), sorted(w), what + ": fields")
        for k, wv in w.items():
            gv = g[k]
            if k in ("checked_at", "expires_at"):
                gv = parse(gv)
            if isinstance(wv, float) and gv is not None:
                check(abs(gv - wv) < 1e-12, "%s: %s of %s is %r, expected %r"
                      % (what, k, w["service"], gv, wv))
                continue
            check_eq(gv, wv, "%s: %s of %s/%s" % (what, k, w["service"], w.get("check")))


def judge(c, since, until, manual, what):
    score = {(r["service"], r["area"]): r for r in cli_rows(c, 
        "scorecard", "--since", iso(since), "--until", iso(until))}
    eol_rows = cli_rows(c, "eol", "--since", iso(since), "--until", iso(until))
    services = sorted({s for s, _ in score})
    want = expected(services, since, until, score, eol_rows, manual)
    got = query(c, since, until)
    compare(got, want, what)
    compare(query(c, since, until, "--by", "service"), by_service(want), what + " --by service")
    return got


def status_of(rows, svc, chk):
    return [r["status"] for r in rows if r["service"] == svc and r["check"] == chk][0]


def test_readiness():
    with Cluster("readiness") as c:
        c.write_confs(READINESS_CONF % (CYCLE, ", ".join('"%s"' % m for m in MANUAL)))
        c.start()
        # quiet runs the latest release of a PostgreSQL cycle (patches pass).
        latest = c.scalar("SELECT latest FROM opspulse.eol_cycles WHERE product = "
                          "'postgresql' AND latest IS NOT NULL ORDER BY eol_date DESC "
                          "NULLS LAST LIMIT 1")
        extra = [{"type": "component", "service": "quiet", "name": "postgresql",
                  "version": latest, "observed_at": iso(ago(days=1))}]
        f = c.write("r.jsonl", "".join(json.dumps(x) + "\n" for x in lines() + extra))
        c.agent("import", f, env=ENV)
        c.agent("check", "record", "--service", "batch", "--check", "runbooks_reviewed",
                "--result", "fail", "--evidence", "no runbooks yet", "--at", iso(ago(days=2)),
                env=ENV)
        CHECKS.append(("batch", "runbooks_reviewed", "fail", "no runbooks yet", ago(days=2)))
        c.flush()
        check_eq(c.sql("SELECT fingerprint, coalesce(runbook_url, '') FROM alerts "
                       "ORDER BY 1"),
                 [[x[1], x[5] or ""] for x in sorted(ALERTS, key=lambda x: x[1])],
                 "runbooks stored with the episodes")

        rows = judge(c, SINCE, UNTIL, MANUAL, "readiness")
        statuses = {(r["check"], r["status"]) for r in rows}
        missing = [(chk, st) for chk, _ in AUTO for st in ("pass", "fail", "unknown")
                   if (chk, st) not in statuses and
                   not (chk == "slo_defined" and st == "unknown")]
        check_eq(missing, [], "automatic checks not seen in some status")
        check(("capacity_headroom", "exempt") in statuses, "an exempted automatic check")
        for st in ("pass", "fail", "unknown", "exempt", "expired"):
            check(any(r["status"] == st and r["kind"] == "manual" for r in rows),
                  "a manual check is " + st)
        check_eq(status_of(rows, "pay", "backup_recent"), "pass", "backup 26 h before")
        check_eq(status_of(rows, "web", "backup_recent"), "fail", "backup 26 h 1 min before")
        check_eq(status_of(rows, "pay", "runbooks_reviewed"), "pass", "181 days")
        check_eq(status_of(rows, "pay", "secrets_rotated"), "expired", "183 days")

        # A minute earlier web's backup is exactly 26 h old; two days
        # earlier pay's secrets_rotated is 181 days old.
        early = judge(c, SINCE, UNTIL - timedelta(minutes=1), MANUAL, "a minute earlier")
        check_eq(status_of(early, "web", "backup_recent"), "pass", "web backup a minute earlier")
        old = judge(c, SINCE - timedelta(days=2), UNTIL - timedelta(days=2), MANUAL, "2 days earlier")
        check_eq(status_of(old, "pay", "secrets_rotated"), "pass", "secrets two days earlier")
        # Exactly cycle_days old is expired; a minute younger it is valid.
        edge = ago(days=183) + timedelta(days=CYCLE)
        exact = judge(c, SINCE, edge, MANUAL, "exactly cycle_days")
        check_eq(status_of(exact, "pay", "secrets_rotated"), "expired", "exactly 182 days")
        young = judge(c, SINCE, edge - timedelta(minutes=1), MANUAL, "a minute before")
        check_eq(status_of(young, "pay", "secrets_rotated"), "pass", "a minute under 182 days")

        for fmt in ("table", "csv", "markdown"):
            r = c.cli("readiness", "--since", iso(SINCE), "--until", iso(UNTIL), "--format", fmt)
            check("alerts_have_runbooks" in r.stdout and "expires_at" in r.stdout,
                  "readiness --format %s: %r" % (fmt, r.stdout[:200]))

        check_report(c, rows)
        check_bad_records(c)
        check_sighup(c)


def check_report(c, rows):
    """The report's readiness section and actions, from the rows above."""
    md = c.cli("report", "--since", iso(SINCE), "--until", iso(UNTIL), "--format",
               "markdown").stdout
    html = c.cli("report", "--since", iso(SINCE), "--until", iso(UNTIL), "--format",
                 "html").stdout
    with open(c.path("report.html"), "w") as fp:
        fp.write(html)
    section = md[md.index("Production readiness"):]
    for d in by_service(rows):
        n = d["total"] - d["exempt"]
        score = "%d/%d" % (d["passed"], d["total"])
        if n:
            score += " (%.0f %%)" % (100 * d["passed"] / n)
        parts = []
        for st, label in (("fail", "failing"), ("unknown", "unknown"), ("expired", "expired")):
            names = sorted(r["check"] for r in rows
                           if r["service"] == d["service"] and r["status"] == st)
            if names:
                parts.append("%s: %s" % (label, ", ".join(names)))
        want = "| %s | %s | %s |" % (d["service"], score, "; ".join(parts) or "\u2013")
        check(want in section, "report readiness row %r in %r" % (want, section[:1500]))
    for svc in sorted({r["service"] for r in rows if r["status"] == "fail"}):
        item = "**%s**: %s" % (svc, "; ".join("%s (%s)" % (r["check"], r["evidence"])
                                              for r in rows
                                              if r["service"] == svc and r["status"] == "fail"))
        check(item in section, "report action %r in %r" % (item, section[-2500:]))
    renew = [r for r in rows if r["status"] in ("pass", "exempt") and r["expires_at"]
             and parse(r["expires_at"]) <= UNTIL + timedelta(days=30)]
    check_eq([(r["service"], r["check"]) for r in renew], [("pay", "runbooks_reviewed")],
             "records expiring within 30 days")
    for r in renew:
        left = (parse(r["expires_at"]) - UNTIL).days
        item = "**%s** %s: **expires in %d %s** (%s)" % (
            r["service"], r["check"], left, "day" if left == 1 else "days",
            words(parse(r["expires_at"])))
        check(item in section, "report renew item %r in %r" % (item, section[-1500:]))
    check("Production readiness" in html and "act-readiness-fail" in html,
          "the HTML report has the readiness section and actions")


def check_bad_records(c):
    n = c.count("opspulse.readiness_checks")
    bad = [({"type": "check", "service": "pay", "check": "x", "result": "exempt",
             "at": iso(ago(days=1))},
            "an exemption needs evidence: give the reason the check does "
            "not apply"),
           ({"type": "check", "service": "pay", "check": "x", "result": "maybe",
             "at": iso(ago(days=1))},
            "result must be pass, fail or exempt")]
    for line, message in bad:
        f = c.write("bad.jsonl", json.dumps(line) + "\n")
        r = c.agent("import", f, env=ENV, check_rc=False)
        check_eq(r.returncode, 1, "import of a bad check exits 1")
        check_eq(r.stderr.strip().splitlines()[0], "%s:1: %s" % (f, message),
                 "the bad check line named")
    r = c.agent("check", "record", "--service", "pay", "--check", "x", "--result", "exempt",
                env=ENV, check_rc=False)
    check_eq((r.returncode, r.stderr.strip()),
             (1, "opspulse-agent: --result exempt needs --evidence with the reason the "
                 "check does not apply"), "check record exempt without evidence")
    c.flush()
    check_eq(c.count("opspulse.readiness_checks"), n, "nothing stored from bad records")


def check_sighup(c):
    p = c.aggregators[0]
    c.write_confs(READINESS_CONF % (CYCLE, '"dr_drill"'))
    p.p.send_signal(signal.SIGHUP)

    def reloaded():
        rows = query(c, SINCE, UNTIL)
        return sorted({r["check"] for r in rows if r["kind"] == "manual"}) == ["dr_drill"]
    wait_for(reloaded, 15, "the manual checks reloaded")
    judge(c, SINCE, UNTIL, ["dr_drill"], "after SIGHUP")


def check_config(text):
    path = "/tmp/readiness-%d.conf" % os.getpid()
    with open(path, "w") as fp:
        fp.write(text)
    try:
        r = subprocess.run([AGGREGATOR, "-c", path, "check-config"], capture_output=True,
                           text=True)
    finally:
        os.unlink(path)
    return path, r


def test_check_config():
    head = 'aggregator = {\n  database = "dbname=x";\n  readiness = {\n'
    cases = [
        ("    cycle_days = -5;\n", 4,
         "readiness.cycle_days must be a whole number of days from 1 to 3650 (how long a "
         "manual check stays valid), such as 182"),
        ('    cycle_days = 182;\n    backup_tasks = [ "*backup*",\n      "[ab]*" ];\n', 6,
         "readiness.backup_tasks: '[ab]*' is not a glob OpsPulse reads; write the task name "
         "with * for any text and ? for one character (no [ ] or \\)"),
        ('    restore_tasks = [ "" ];\n', 4,
         "readiness.restore_tasks: '' is not a glob OpsPulse reads; write the task name "
         "with * for any text and ? for one character (no [ ] or \\)"),
        ('    manual_checks = [ "a",\n "a" ];\n', 5,
         "readiness.manual_checks: 'a' is listed twice; list each check once"),
        ('    cycle_day = 5;\n', 4,
         "readiness: unknown key 'cycle_day'; the keys are cycle_days, backup_tasks, "
         "restore_tasks and manual_checks"),
    ]
    for body, line, msg in cases:
        path, r = check_config(head + body + "  };\n};\n")
        check_eq(r.returncode, 1, "check-config of a bad readiness block exits 1")
        want = ("opspulse-aggregator: error: config: %s:3: 'aggregator.readiness': "
                "line %d: %s" % (path, line, msg))
        check_eq(r.stderr.strip().splitlines()[0], want, "check-config message")
    path, r = check_config(head + '    cycle_days = 90;\n    manual_checks = [ "x" ];\n  };\n};\n')
    check_eq(r.returncode, 0, "a good readiness block: " + r.stderr)


def test_alertmanager_runbook():
    with am.webhook_cluster("readiness-am") as c:
        base = am.start_alertmanager(c)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        am.am_post(base, [
            {"labels": {"alertname": "WithRunbook", "service": "billing"},
             "annotations": {"runbook_url": "https://runbooks.example/with",
                             "summary": "s"},
             "startsAt": am.iso(now - timedelta(minutes=3))},
            {"labels": {"alertname": "NoRunbook", "service": "billing"},
             "annotations": {"summary": "none"},
             "startsAt": am.iso(now - timedelta(minutes=2))}])
        deadline = time.time() + 60
        got = []
        while time.time() < deadline and len(got) < 2:
            c.flush()
            got = c.sql("SELECT alertname, coalesce(runbook_url, '') FROM alerts ORDER BY 1")
            time.sleep(0.5)
        check_eq(got, [["NoRunbook", ""], ["WithRunbook", "https://runbooks.example/with"]],
                 "runbook_url delivered into the stored episodes")
        rows = cli_rows(c, "readiness", "--since", iso(now - timedelta(hours=1)),
                          "--until", iso(now + timedelta(minutes=1)))
        r = [x for x in rows if x["service"] == "billing" and
             x["check"] == "alerts_have_runbooks"][0]
        check_eq((r["status"], r["evidence"]),
                 ("fail", "1 of 2 alerts have no runbook: NoRunbook"), "alerts_have_runbooks")


if __name__ == "__main__":
    run([test_check_config, test_readiness, test_alertmanager_runbook])
