"""Incidents, postmortems and action items (SPEC §13, §14.1, §4.6): records
go in through the real agent (`incident record`, `action record`, `toil
record --incident`, import types incident, action_item, toil and
requests) and the real aggregator, and every field of `opspulse
incidents`, `incidents --by incident` and `actions` equals what this test
computes from its own input: partial updates merged in recording order,
an unresolved incident, postmortems exactly at and a minute after their
deadline, action items done, cancelled, open and overdue, toil naming an
incident recorded before and after it, an incident naming a deploy (CFR and
recovery as `deploy mark-failed` gives them on a twin service), and error
budget consumed against imported request minutes.  Re-importing changes
nothing; a file with one bad line imports nothing and names the line."""
import json
import os
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from harness import Cluster, check, check_eq, fail, free_port, percentile_cont, run, wait_for
from test_alertmanager import TOKEN, am_post, http, start_alertmanager
from test_alertmanager import iso as am_iso

ENV = dict(os.environ, USER="incident-test")
UNTIL = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=1)
SINCE = UNTIL - timedelta(days=28)
PM_DAYS = 5
TARGET = Decimal("0.99")


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(days, hours=0, minutes=0, seconds=0):
    """A time `days` before UNTIL, plus the rest."""
    return UNTIL - timedelta(days=days) + timedelta(hours=hours, minutes=minutes,
                                                    seconds=seconds)


# ---- the dataset -------------------------------------------------------------

S1 = at(20, seconds=30)          # pay P1: mid-minute start
R1 = S1 + timedelta(minutes=60)
S2 = at(15)                      # pay P2
R2 = S2 + timedelta(minutes=20)
S3 = at(1)                       # pay P3: unresolved
S4 = at(10)                      # pay P4: default severity
S5 = at(40)                      # pay P5: before the window
S6 = at(12)                      # web W1
S7 = at(2)                       # web W2: deadline after until
S8 = at(9)                       # good G1: postmortem on time
DEPLOY_END = S1 - timedelta(hours=2)


def incident_lines():
    """Records in recording order; several per incident."""
    L = []

    def inc(svc, iid, **f):
        d = {"type": "incident", "service": svc, "id": iid}
        for k, v in f.items():
            d[k] = iso(v) if isinstance(v, datetime) else v
        L.append(d)

    inc("pay", "P1", severity=2, title="db slow", started_at=S1, deploy="d-1")
    inc("pay", "P1", severity=1, detected_at=S1 + timedelta(minutes=5),
        acknowledged_at=S1 + timedelta(minutes=7))
    inc("pay", "P1", title="database down", mitigated_at=S1 + timedelta(minutes=30),
        resolved_at=R1, commander="aiko", postmortem="https://wiki/pm/P1",
        postmortem_at=R1 + timedelta(days=PM_DAYS))          # exactly at the deadline
    inc("pay", "P2", severity=2, title="queue stuck", started_at=S2,
        detected_at=S2 + timedelta(minutes=3))
    inc("pay", "P2", resolved_at=R2, postmortem="https://wiki/pm/P2",
        postmortem_at=R2 + timedelta(days=PM_DAYS, minutes=1))  # a minute late
    inc("pay", "P3", severity=1, title="still burning", started_at=S3)
    inc("pay", "P4", title="minor", started_at=S4, detected_at=S4 + timedelta(minutes=9),
        acknowledged_at=S4 + timedelta(minutes=8),   # before detected: no duration
        resolved_at=S4 + timedelta(minutes=45))
    inc("pay", "P5", severity=2, title="old", started_at=S5,
        resolved_at=S5 + timedelta(hours=1))
    inc("web", "W1", severity=2, title="web down", started_at=S6,
        resolved_at=S6 + timedelta(minutes=90))
    inc("web", "W2", severity=1, title="web slow", started_at=S7,
        resolved_at=S7 + timedelta(minutes=10))
    inc("good", "G1", severity=2, title="fixed fast", started_at=S8,
        resolved_at=S8 + timedelta(minutes=30), postmortem="https://wiki/pm/G1",
        postmortem_at=S8 + timedelta(days=1))
    return L


def action_lines():
    A = []

    def act(svc, aid, inc, due, status, **f):
        d = {"type": "action_item", "service": svc, "id": aid, "incident": inc,
             "title": "fix " + aid, "owner": "owner-" + aid, "due_at": iso(due),
             "status": status}
        for k, v in f.items():
            d[k] = iso(v) if isinstance(v, datetime) else v
        A.append(d)

    act("pay", "A1", "P1", at(5), "done", done_at=at(6))
    act("pay", "A2", "P1", at(5), "cancelled")
    act("pay", "A3", "P2", UNTIL + timedelta(days=3), "open")        # open, not due
    act("pay", "A4", "P2", UNTIL + timedelta(days=3), "open")
    act("pay", "A4", "P2", at(1), "open")                             # re-recorded: overdue
    act("pay", "A5", "P5", UNTIL - timedelta(minutes=1), "open")      # older incident
    act("pay", "A6", "P1", UNTIL, "open")                             # due at until: not overdue
    act("web", "W1-a", "W1", at(3), "open")
    act("good", "G1-a", "G1", at(3), "done", done_at=at(4))
    return A


def toil_lines():
    """Toil naming incidents, imported before the incident records."""
    return [
        {"type": "toil", "service": "pay", "task": "firefight", "incident": "P1",
         "started_at": iso(S1 - timedelta(minutes=10)), "duration_s": 1800},
        {"type": "toil", "service": "pay", "task": "firefight", "incident": "P2",
         "started_at": iso(S2 + timedelta(minutes=5)), "duration_s": 900},
        {"type": "toil", "service": "pay", "task": "unrelated",
         "started_at": iso(S2), "duration_s": 600},
        {"type": "toil", "service": "quiet", "task": "chores",
         "started_at": iso(at(3)), "duration_s": 60},
    ]


def request_minutes():
    """pay's minutes: around P1, P2 and up to UNTIL for P3, plus some
    outside the window.  {minute: (requests, errors)}."""
    m = {}
    t = S1.replace(second=0) - timedelta(minutes=3)
    while t < R1 + timedelta(minutes=3):
        m[t] = (100 + t.minute, (t.minute * 7) % 11)
        t += timedelta(minutes=1)
    t = S2 - timedelta(minutes=2)
    while t <= R2:
        m[t] = (50, 1 + t.minute % 3)
        t += timedelta(minutes=1)
    t = S3 - timedelta(minutes=1)
    while t < UNTIL + timedelta(minutes=5):
        m[t] = (20, t.minute % 2)
        t += timedelta(minutes=7)
    m[SINCE - timedelta(minutes=30)] = (500, 400)
    return m


def request_lines(mins):
    return [{"type": "requests", "service": "pay", "host": "web-1", "minute": iso(t),
             "requests": r, "errors": e} for t, (r, e) in sorted(mins.items())]


def deploy_lines(svc):
    base = DEPLOY_END
    return [
        {"type": "deploy", "service": svc, "id": "d-0", "started_at": iso(base - timedelta(days=1, minutes=5)),
         "finished_at": iso(base - timedelta(days=1)), "outcome": "success"},
        {"type": "deploy", "service": svc, "id": "d-1", "started_at": iso(base - timedelta(minutes=5)),
         "finished_at": iso(base), "outcome": "success"},
        {"type": "deploy", "service": svc, "id": "d-2", "started_at": iso(base + timedelta(hours=3)),
         "finished_at": iso(base + timedelta(hours=3, minutes=4)), "outcome": "success"},
    ]


# ---- SPEC §13.2, independently -----------------------------------------------

FIELDS = ["severity", "title", "started_at", "detected_at", "acknowledged_at",
          "mitigated_at", "resolved_at", "deploy", "commander", "postmortem", "postmortem_at"]


def parse(v):
    return datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def merged(records):
    """Field-by-field merge in recording order."""
    out = {}
    for r in records:
        i = out.setdefault((r["service"], r["id"]), {"service": r["service"], "id": r["id"]})
        for f in FIELDS:
            if f in r:
                i[f] = parse(r[f]) if f.endswith("_at") else r[f]
    for i in out.values():
        i.setdefault("severity", 3)
        for f in FIELDS:
            i.setdefault(f, None)
    return out


def minutes(a, b):
    if a is None or b is None or b < a:
        return None
    return (b - a).total_seconds() / 60


def facts(inc, mins, toil, actions):
    out = []
    for i in sorted(inc.values(), key=lambda x: (x["service"], x["started_at"], x["id"])):
        if not (SINCE <= i["started_at"] < UNTIL):
            continue
        deadline = i["resolved_at"] + timedelta(days=PM_DAYS) if i["resolved_at"] else None
        due = i["severity"] <= 2 and deadline is not None and deadline < UNTIL
        on_time = i["postmortem_at"] is not None and deadline is not None \
            and i["postmortem_at"] <= deadline
        end = i["resolved_at"] if i["resolved_at"] and i["resolved_at"] < UNTIL else UNTIL
        errors = sum(e for t, (r, e) in mins.items()
                     if i["service"] == "pay" and i["started_at"] <= t < end)
        hours = sum(t["duration_s"] for t in toil
                    if t["service"] == i["service"] and t.get("incident") == i["id"]) / 3600
        opened = sum(1 for a in actions.values()
                     if a["service"] == i["service"] and a["incident"] == i["id"]
                     and a["status"] == "open")
        out.append(dict(i, due=due, on_time=on_time, late=due and not on_time,
                        errors=errors, hours=hours, open=opened))
    return out


def budget(svc, mins):
    if svc != "pay":
        return None
    total = sum(r for t, (r, e) in mins.items() if SINCE <= t < UNTIL)
    return (1 - TARGET) * total if total else None


def latest_actions(lines):
    out = {}
    for a in lines:
        out[(a["service"], a["id"])] = a
    return out


def expected_incidents(services, inc, mins, toil, actions):
    F = facts(inc, mins, toil, actions)
    rows = []
    for svc in services:
        f = [x for x in F if x["service"] == svc]

        def p50(key):
            return percentile_cont([v for v in (key(x) for x in f) if v is not None], 0.5)
        due = [x for x in f if x["due"]]
        opened = [a for a in actions.values() if a["service"] == svc and a["status"] == "open"]
        b = budget(svc, mins)
        rows.append({
            "service": svc, "incidents": len(f),
            "major": sum(1 for x in f if x["severity"] <= 2),
            "detect_p50_minutes": p50(lambda x: minutes(x["started_at"], x["detected_at"])),
            "acknowledge_p50_minutes": p50(lambda x: minutes(x["detected_at"],
                                                             x["acknowledged_at"])),
            "mitigate_p50_minutes": p50(lambda x: minutes(x["started_at"], x["mitigated_at"])),
            "resolve_p50_minutes": p50(lambda x: minutes(x["started_at"], x["resolved_at"])),
            "postmortems_due": len(due),
            "postmortem_on_time_share": (sum(1 for x in due if x["on_time"]) / len(due)
                                         if due else None),
            "response_hours": sum(x["hours"] for x in f),
            "action_items_open": len(opened),
            "action_items_overdue": sum(1 for a in opened if parse(a["due_at"]) < UNTIL),
            "budget_consumed_share": (float(Decimal(sum(x["errors"] for x in f)) / b)
                                      if b else None),
        })
    return rows


def expected_by_incident(inc, mins, toil, actions):
    rows = []
    for x in facts(inc, mins, toil, actions):
        b = budget(x["service"], mins)
        rows.append({
            "service": x["service"], "id": x["id"], "severity": x["severity"],
            "title": x["title"], "started": x["started_at"], "resolved": x["resolved_at"],
            "resolve_minutes": minutes(x["started_at"], x["resolved_at"]),
            "deploy": x["deploy"], "postmortem": x["postmortem"],
            "postmortem_late": x["late"], "response_hours": x["hours"],
            "budget_consumed_share": float(Decimal(x["errors"]) / b) if b else None,
            "open_actions": x["open"]})
    return rows


def expected_actions(actions):
    return [{"service": a["service"], "incident": a["incident"], "id": a["id"],
             "title": a["title"], "owner": a["owner"], "due": parse(a["due_at"]),
             "status": a["status"],
             "overdue": a["status"] == "open" and parse(a["due_at"]) < UNTIL}
            for _, a in sorted(actions.items())]


# ---- comparing -----------------------------------------------------------------

def query(c, *args):
    r = c.cli(*args, "--since", iso(SINCE), "--until", iso(UNTIL), "--format", "json")
    try:
        return json.loads(r.stdout)["rows"]
    except ValueError:
        fail("opspulse %s printed invalid JSON: %r" % (args, r.stdout[:300]))


def as_time(v):
    return None if v is None else datetime.fromisoformat(v.replace("Z", "+00:00"))


def same_rows(got, want, what):
    check_eq([(g.get("service"), g.get("id")) for g in got],
             [(w.get("service"), w.get("id")) for w in want], what + ": rows")
    for g, w in zip(got, want):
        check_eq(sorted(g), sorted(w), what + ": fields")
        for k, wv in w.items():
            gv = g[k]
            if isinstance(wv, datetime):
                gv = as_time(gv)
            if isinstance(wv, float) and gv is not None:
                check(abs(gv - wv) <= 1e-9 * max(1, abs(wv)),
                      "%s: %s of %s/%s is %r, expected %r" % (what, k, w["service"],
                                                              w.get("id"), gv, wv))
                continue
            check_eq(gv, wv, "%s: %s of %s/%s" % (what, k, w["service"], w.get("id")))


def write_jsonl(c, name, lines):
    return c.write(name, "".join(json.dumps(x) + "\n" for x in lines))


def snapshot(c):
    return [query(c, "incidents"), query(c, "incidents", "--by", "incident"),
            query(c, "actions"), query(c, "dora"), query(c, "scorecard")]


def test_incidents():
    with Cluster("incidents") as c:
        c.write_confs(aggregator_extra="""  postmortem_days = %d;
  slos = ( { service = "pay"; availability = 99.0; } );
""" % PM_DAYS)
        c.start()
        mins = request_minutes()
        toil = toil_lines()
        # Deploys first, then toil naming incidents not yet recorded.
        f0 = write_jsonl(c, "base.jsonl", deploy_lines("pay") + deploy_lines("twin") +
                         toil + request_lines(mins))
        c.agent("import", f0, env=ENV)
        # The incidents and actions file, then records after it.
        records = incident_lines()
        f1 = write_jsonl(c, "incidents.jsonl", records + action_lines())
        c.agent("import", f1, env=ENV)
        c.agent("toil", "record", "--service", "pay", "--task", "postmortem writing",
                "--minutes", "45", "--at", iso(R1 + timedelta(days=1)), "--incident", "P1",
                env=ENV)
        toil.append({"service": "pay", "incident": "P1", "duration_s": 2700})
        c.agent("incident", "record", "--service", "pay", "--id", "P3",
                "--detected", iso(S3 + timedelta(minutes=2)), env=ENV)
        records.append({"service": "pay", "id": "P3",
                        "detected_at": iso(S3 + timedelta(minutes=2))})
        c.agent("action", "record", "--service", "web", "--id", "W2-a", "--incident", "W2",
                "--title", "fix W2-a", "--owner", "owner-W2-a", "--due", iso(at(40)),
                "--status", "done", "--done-at", iso(at(1)), env=ENV)
        c.agent("deploy", "mark-failed", "--service", "twin", "--id", "d-1", "--at",
                iso(S1), env=ENV)
        c.flush()

        inc = merged(records)
        actions = latest_actions(action_lines() + [{
            "service": "web", "id": "W2-a", "incident": "W2", "title": "fix W2-a",
            "owner": "owner-W2-a", "due_at": iso(at(40)), "status": "done"}])
        services = sorted(r[0] for r in c.sql("SELECT service FROM opspulse.services"))
        check_eq(services, ["good", "pay", "quiet", "twin", "web"], "known services")

        same_rows(query(c, "incidents"),
                  expected_incidents(services, inc, mins, toil, actions), "incidents")
        same_rows(query(c, "incidents", "--by", "incident"),
                  expected_by_incident(inc, mins, toil, actions), "incidents --by incident")
        same_rows(query(c, "actions"), expected_actions(actions), "actions")

        # The incident naming d-1 marks it failed as mark-failed does on twin.
        dora = {r["service"]: r for r in query(c, "dora")}
        for k in dora["pay"]:
            if k != "service":
                check_eq(dora["pay"][k], dora["twin"][k], "dora %s: pay as twin" % k)
        check(abs(dora["pay"]["change_failure_rate"] - 1 / 3) < 1e-12, "CFR 1/3")
        d = {x["id"]: parse(x["finished_at"]) for x in deploy_lines("pay")}
        want = (d["d-2"] - d["d-1"]).total_seconds() / 3600
        check(abs(dora["pay"]["recovery_time_p50_hours"] - want) < 1e-9,
              "recovery %r h, expected %r" % (dora["pay"]["recovery_time_p50_hours"], want))
        check_eq(c.scalar("SELECT at FROM opspulse.deploy_failures WHERE service = 'pay'"
                          " AND deploy_id = 'd-1'") is not None, True, "pay d-1 marked")

        score = {(r["service"], r["area"]): r for r in query(c, "scorecard")}
        for svc, level, words in (("pay", 2, "1 of 2 postmortems due was late"),
                                  ("web", 2, "1 of 1 postmortem due was late"),
                                  ("good", 3, "all 1 postmortems due were on time"),
                                  ("quiet", 1, "no incidents recorded")):
            check_eq(score[(svc, "postmortem")]["level"], level, "postmortem level of " + svc)
            check(words in score[(svc, "postmortem")]["reason"],
                  "postmortem reason of %s: %r" % (svc, score[(svc, "postmortem")]["reason"]))

        for fmt in ("table", "csv", "markdown"):
            r = c.cli("incidents", "--by", "incident", "--since", iso(SINCE), "--until",
                      iso(UNTIL), "--format", fmt)
            check("postmortem_late" in r.stdout and "P1" in r.stdout,
                  "incidents --by incident --format %s: %r" % (fmt, r.stdout[:200]))

        # /metrics: the last 28 days before the scrape.
        m = c.metrics()
        now = datetime.now(timezone.utc)
        for svc in services:
            n = sum(1 for i in inc.values() if i["service"] == svc
                    and now - timedelta(days=28) <= i["started_at"] < now)
            opened = [a for a in actions.values() if a["service"] == svc
                      and a["status"] == "open"]
            for metric, want in (("opspulse_incidents", n),
                                 ("opspulse_action_items_open", len(opened)),
                                 ("opspulse_action_items_overdue",
                                  sum(1 for a in opened if parse(a["due_at"]) < now))):
                check_eq(m.get('%s{service="%s"}' % (metric, svc)), float(want),
                         "%s of %s" % (metric, svc))

        check_report(c, inc, actions)

        # Re-importing the same file changes nothing.
        before = snapshot(c)
        c.agent("import", f1, env=ENV)
        c.flush()
        check_eq(snapshot(c), before, "after re-import")

        check_bad_files(c, before)


def check_report(c, inc, actions):
    """The review page lists the window's incidents, the late postmortems
    and the overdue action items with owner and due date."""
    def due_text(t):
        return t.strftime("%Y-%m-%d %H:%M UTC")
    for fmt in ("html", "markdown"):
        page = c.cli("report", "--since", iso(SINCE), "--until", iso(UNTIL),
                     "--format", fmt).stdout
        c.write("report." + fmt, page)
        for i in inc.values():
            if SINCE <= i["started_at"] < UNTIL:
                check(i["id"] in page, "%s report: incident %s" % (fmt, i["id"]))
        for i in inc.values():
            late = (i["severity"] <= 2 and i["resolved_at"] is not None
                    and i["resolved_at"] + timedelta(days=PM_DAYS) < UNTIL
                    and SINCE <= i["started_at"] < UNTIL
                    and not (i["postmortem_at"] and i["postmortem_at"]
                             <= i["resolved_at"] + timedelta(days=PM_DAYS)))
            text = "postmortem of incident %s (%s) \u2013 owner %s, due %s" % (
                i["id"], i["title"], i["commander"] or "nobody named",
                due_text(i["resolved_at"] + timedelta(days=PM_DAYS)) if i["resolved_at"] else "")
            check_eq(text in page, bool(late), "%s report: late postmortem of %s" % (fmt, i["id"]))
        for a in actions.values():
            overdue = a["status"] == "open" and parse(a["due_at"]) < UNTIL
            text = "action item %s (%s) of incident %s \u2013 owner %s, due %s" % (
                a["id"], a["title"], a["incident"], a["owner"], due_text(parse(a["due_at"])))
            check_eq(text in page, overdue, "%s report: overdue action %s" % (fmt, a["id"]))


BAD = [
    ({"type": "incident", "service": "pay", "id": "B1", "started_at": "2026-01-01T10:00:00Z",
      "detected_at": "2026-01-01T09:59:00Z"},
     "detected_at is before started_at; an incident is detected, acknowledged, "
     "mitigated and resolved after it starts"),
    ({"type": "incident", "service": "pay", "id": "B2", "severity": 5},
     "severity must be 1, 2, 3 or 4 (1 is the worst)"),
    ({"type": "action_item", "service": "pay", "id": "B3", "incident": "P1", "title": "t",
      "owner": "o", "due_at": "2026-01-01T00:00:00Z", "status": "later"},
     "status must be open, done or cancelled"),
    ({"type": "action_item", "service": "pay", "id": "B4", "incident": "P1", "title": "t",
      "owner": "o", "due_at": "2099-01-01T00:00:00Z", "status": "open"},
     "due_at is outside 2000-01-01 .. ten years from now"),
]


def check_bad_files(c, before):
    good = {"type": "incident", "service": "pay", "id": "NEW", "started_at": iso(at(3))}
    n = c.count("opspulse.incident_records")
    for line, message in BAD:
        f = write_jsonl(c, "bad.jsonl", [good, line, good])
        r = c.agent("import", f, env=ENV, check_rc=False)
        check_eq(r.returncode, 1, "import of a bad file exits 1")
        check_eq(r.stderr.strip().splitlines()[0], "%s:2: %s" % (f, message),
                 "the bad line named")
    c.flush()
    check_eq(c.count("opspulse.incident_records"), n, "nothing imported from bad files")
    check_eq(snapshot(c), before, "after bad files")
    r = c.agent("incident", "record", "--service", "pay", "--id", "X", "--severity", "0",
                env=ENV, check_rc=False)
    check_eq((r.returncode, r.stderr.strip()),
             (1, "opspulse-agent: --severity '0' must be 1, 2, 3 or 4 (1 is the worst)"),
             "incident record --severity 0")
    r = c.agent("incident", "record", "--service", "pay", "--id", "X", "--started",
                iso(at(2)), "--resolved", iso(at(3)), env=ENV, check_rc=False)
    check_eq((r.returncode, r.stderr.strip()),
             (1, "opspulse-agent: invalid incident: resolved_at is before started_at; an "
                 "incident is detected, acknowledged, mitigated and resolved after it "
                 "starts"), "incident record resolved before started")


def test_alertmanager_opens_and_resolves_one_incident():
    """A real Alertmanager firing and then resolving a severity=critical
    alert opens and then resolves exactly one incident; a warning opens
    none."""
    with Cluster("incidents-am") as c:
        c.hook_port = free_port()
        c.hook_url = "http://127.0.0.1:%d/alertmanager" % c.hook_port
        c.write_agent_conf(collectors=True, extra="""
  probes = { enabled = false; };
  capacity = { enabled = false; };
  webhook = { listen = "127.0.0.1:%d"; token = "%s";
              incident_severities = { critical = 1; }; };
""" % (c.hook_port, TOKEN))
        c.start()
        wait_for(lambda: "Alertmanager webhook on" in c.agent_proc.output(), 15,
                 "the webhook to listen")
        base = start_alertmanager(c)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        starts = now - timedelta(minutes=10, seconds=30)
        crit = {"alertname": "PaymentsDown", "service": "pay", "severity": "critical"}
        warn = {"alertname": "DiskFilling", "service": "pay", "severity": "warning"}
        am_post(base, [{"labels": crit, "startsAt": am_iso(starts)},
                       {"labels": warn, "startsAt": am_iso(starts)}])
        fps = {}
        for a in json.loads(http("GET", base + "/api/v2/alerts")[1]):
            fps[a["labels"]["alertname"]] = a["fingerprint"]
        iid = "am-%s-%d" % (fps["PaymentsDown"], int(starts.timestamp()))

        def rows():
            c.flush()
            return query_am(c)
        deadline = time.time() + 60
        while time.time() < deadline and not rows():
            time.sleep(0.5)
        got = rows()
        check_eq([(r["service"], r["id"], r["severity"], r["title"], as_time(r["started"]),
                   r["resolved"]) for r in got],
                 [("pay", iid, 1, "PaymentsDown", starts, None)], "one open incident")
        ends = now - timedelta(minutes=1)
        am_post(base, [{"labels": crit, "startsAt": am_iso(starts), "endsAt": am_iso(ends)}])
        deadline = time.time() + 60
        while time.time() < deadline and not (rows() and rows()[0]["resolved"]):
            time.sleep(0.5)
        got = rows()
        check_eq([(r["id"], as_time(r["started"]), as_time(r["resolved"]),
                   r["resolve_minutes"]) for r in got],
                 [(iid, starts, ends, (ends - starts).total_seconds() / 60)],
                 "the incident resolved at endsAt")
        detected = c.sql("SELECT DISTINCT detected_at = started_at FROM opspulse.incident_records")
        check_eq(detected, [["t"]], "detected = started = startsAt")
        check_eq(c.scalar("SELECT count(DISTINCT incident_id) FROM opspulse.incident_records"),
                 "1", "exactly one incident")


def query_am(c):
    now = datetime.now(timezone.utc)
    r = c.cli("incidents", "--by", "incident", "--since", iso(now - timedelta(days=1)),
              "--until", iso(now + timedelta(minutes=5)), "--format", "json")
    return json.loads(r.stdout)["rows"]


if __name__ == "__main__":
    run([test_incidents, test_alertmanager_opens_and_resolves_one_incident])
