"""SLOs and error budgets (SPEC §12.4, §14.1): request minutes (import type
`requests`) and deploys go in through the real agent and aggregator, and
every field of `opspulse slo` (and `--by month`) equals what this test
computes from its own input with exact fractions and its own §12.2
buckets.  The data hits every edge of §12.4: a budget spent exactly
(remaining 0, ok), one overspent, spans without requests (null burn
rates), a page on the 1h/5m pair at exactly 14.4, a ticket at exactly 1,
a deploy finished while the trailing budget was overspent and one
finished just before it was, deploys whose whole days alone decide, latency thresholds inside a bucket, an
objective without data.  Answers are compared straight from the minutes
and from the hourly rollup.  Bad `slos` entries are refused by
check-config with their line, and a SIGHUP with one keeps the running
SLOs."""
import json
import os
import signal
import subprocess
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from harness import AGGREGATOR, Cluster, check, check_close, check_eq, fail, run, wait_for

ENV = dict(os.environ, USER="slo-test")
NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
# until cuts an hour, since another: both edges read minutes.
UNTIL = NOW.replace(minute=0) - timedelta(hours=1) + timedelta(minutes=37)
SINCE = UNTIL - timedelta(days=4) + timedelta(minutes=13)
WINDOW_DAYS = 2
# The minute of the burst that overspends "dep"'s trailing budget.
BURST = UNTIL - timedelta(days=3)

SLOS = """  teams = ( { name = "shop"; members = 2; hours_per_week = 40.0;
                services = [ "exact", "over", "pager", "ticket", "lat", "dep" ]; } );
  slo_window_days = %d;
  slos = (
    { service = "exact"; availability = 99.9; },
    { service = "over"; availability = 99; },
    { service = "pager"; availability = 99.9; },
    { service = "ticket"; availability = 99.0; },
    { service = "lat"; availability = 99.9; latency_ms = 300.0; latency_target = 99; },
    { service = "lat2"; latency_ms = 12.5; latency_target = "99.95"; },
    { service = "dep"; availability = 99; },
    { service = "empty"; availability = 99.5; latency_ms = 100; latency_target = 90.5; }
  );
""" % WINDOW_DAYS
# What the test expects the configuration to mean: (service, objective,
# target, threshold_ms).
OBJECTIVES = [
    ("dep", "availability", Fraction(99, 100), None),
    ("empty", "availability", Fraction(995, 1000), None),
    ("empty", "latency", Fraction(905, 1000), Fraction(100)),
    ("exact", "availability", Fraction(999, 1000), None),
    ("lat", "availability", Fraction(999, 1000), None),
    ("lat", "latency", Fraction(99, 100), Fraction(300)),
    ("lat2", "latency", Fraction(9995, 10000), Fraction(25, 2)),
    ("over", "availability", Fraction(99, 100), None),
    ("pager", "availability", Fraction(999, 1000), None),
    ("ticket", "availability", Fraction(99, 100), None),
]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- SPEC §12.2 and §12.4, independently ----------------------------------

def upper_us(v):
    s = max(0, v.bit_length() - 1 - 6)
    return (((v >> s) + 1) << s) - 1


def ms_to_us(text):
    return int((Decimal(text) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rec(svc, minute, requests, errors, pairs=()):
    return {"service": svc, "minute": minute, "requests": requests, "errors": errors,
            "pairs": list(pairs)}


def counts(records, svc, objective, threshold, lo, hi):
    """(total, bad) of an objective over the minutes in [lo, hi)."""
    total = bad = 0
    for r in records:
        if r["service"] != svc or not (lo <= r["minute"] < hi):
            continue
        if objective == "availability":
            total += r["requests"]
            bad += r["errors"]
            continue
        for text, n in r["pairs"]:
            total += n
            if upper_us(ms_to_us(text)) > threshold * 1000:
                bad += n
    return total, bad


def burn(tb, target):
    total, bad = tb
    return None if total == 0 else Fraction(bad, total) / (1 - target)


def expected_alert(b, total):
    if total == 0:
        return None

    def ge(x, k):
        return x is not None and x >= k
    if (ge(b["1h"], Fraction(144, 10)) and ge(b["5m"], Fraction(144, 10))) or \
            (ge(b["6h"], 6) and ge(b["30m"], 6)):
        return "page"
    if ge(b["3d"], 1) and ge(b["6h"], 1):
        return "ticket"
    return "none"


SPANS = {"5m": timedelta(minutes=5), "30m": timedelta(minutes=30), "1h": timedelta(hours=1),
         "6h": timedelta(hours=6), "3d": timedelta(days=3)}


def expected_rows(records, deploys, since, until, services=None):
    rows = []
    for svc, obj, target, thr in OBJECTIVES:
        if services is not None and svc not in services:
            continue
        total, bad = counts(records, svc, obj, thr, since, until)
        b = {k: burn(counts(records, svc, obj, thr, until - d, until), target)
             for k, d in SPANS.items()}
        n = 0
        for d in deploys:
            if d["service"] != svc or d["outcome"] == "cancelled" or d["env"] != "production":
                continue
            if not (since <= d["finished"] < until):
                continue
            t, x = counts(records, svc, obj, thr, d["finished"] - timedelta(days=WINDOW_DAYS),
                          d["finished"])
            n += t > 0 and x > (1 - target) * t
        rows.append({
            "service": svc, "objective": obj, "target": target, "threshold_ms": thr,
            "total": total, "bad": bad,
            "achieved": None if total == 0 else 1 - Fraction(bad, total),
            "budget_remaining": None if total == 0 else 1 - Fraction(bad) / ((1 - target) * total),
            **{"burn_rate_" + k: v for k, v in b.items()},
            "status": None if total == 0 else
            ("exhausted" if bad > (1 - target) * total else "ok"),
            "alert": expected_alert(b, total),
            "deploys_while_exhausted": n,
        })
    return rows


def month_rows(records, since, until):
    starts, m = [], datetime(since.year, since.month, 1, tzinfo=timezone.utc)
    while m < until:
        if m >= since:
            starts.append(m)
        m = datetime(m.year + m.month // 12, m.month % 12 + 1, 1, tzinfo=timezone.utc)
    rows = []
    for svc, obj, target, thr in OBJECTIVES:
        for lo in starts:
            nxt = datetime(lo.year + lo.month // 12, lo.month % 12 + 1, 1, tzinfo=timezone.utc)
            total, bad = counts(records, svc, obj, thr, lo, min(nxt, until))
            rows.append({"service": svc, "objective": obj, "month": lo.strftime("%Y-%m"),
                         "target": target, "threshold_ms": thr, "total": total, "bad": bad,
                         "achieved": None if total == 0 else 1 - Fraction(bad, total),
                         "met": None if total == 0 else bad <= (1 - target) * total})
    return rows


# ---- the dataset -----------------------------------------------------------

def dataset():
    out = []
    # exact: 1000 requests, 1 error at 99.9 %: the budget spent exactly.
    # Two days back, so the 5m-6h spans have no requests.
    for i in range(10):
        out.append(rec("exact", UNTIL - timedelta(days=2, minutes=7 * i), 100, 1 if i == 3 else 0))
    # over: 1000 requests, 11 errors at 99 %, some in the last hours.
    for i in range(10):
        out.append(rec("over", UNTIL - timedelta(minutes=45 * i + 1), 100,
                       2 if i % 2 else 1 if i == 0 else 0))
    out.append(rec("over", SINCE - timedelta(minutes=1), 500, 500))   # before the window
    # pager: 5000 requests in the last hour, 72 errors (1h burn exactly
    # 14.4), 4 of them in the last 5 minutes (burn 16), 30m burn 2.
    for i in range(60):
        minute = UNTIL - timedelta(minutes=60 - i)
        out.append(rec("pager", minute, 100 if i < 40 else 50,
                       68 if i == 0 else 4 if i == 57 else 0))
    # ticket: every half hour for three days, 1 % errors: 3d and 6h burn
    # exactly 1; before that, clean traffic in the window.
    for k in range(1, 145):
        out.append(rec("ticket", UNTIL - timedelta(minutes=30 * k), 100, 1))
    for k in range(145, 180):
        out.append(rec("ticket", UNTIL - timedelta(minutes=30 * k), 100, 0))
    # lat: threshold 300 ms.  299.5 ms lies in the bucket up to 303.103 ms:
    # slow; 299 ms in the one up to 299.007 ms: not; 300 ms exactly: slow.
    for i in range(12):
        out.append(rec("lat", UNTIL - timedelta(hours=2 * i, minutes=3), 400, i % 3,
                       [("299.5", 1 + i % 2), ("299", 150), ("300", 1 if i == 5 else 0),
                        ("12", 200)] if i != 7 else []))
    # lat2: threshold 12.5 ms; 12.4 ms -> bucket up to 12.415 ms, 12.45 ms
    # -> up to 12.543 ms (slow), 12.5 ms -> the same bucket (slow).
    for i in range(6):
        out.append(rec("lat2", UNTIL - timedelta(minutes=17 * i + 2), 3000, 0,
                       [("12.4", 2000), ("12.45", 1 if i < 2 else 0), ("12.5", 1 if i == 4 else 0),
                        ("0.5", 900)]))
    # dep: clean traffic, then a burst of errors at BURST.
    for i in range(1, 51):
        out.append(rec("dep", BURST - timedelta(minutes=i), 100, 0))
    out.append(rec("dep", BURST, 100, 100))
    for i in range(1, 30):
        out.append(rec("dep", BURST + timedelta(days=WINDOW_DAYS, minutes=i), 10, 0))
    for r in out:
        r["pairs"] = [(t, n) for t, n in r["pairs"] if n > 0]
    return out


def deploys():
    def d(ident, finished, outcome="success", env="production"):
        return {"service": "dep", "id": ident, "finished": finished, "outcome": outcome,
                "env": env}
    w = timedelta(days=WINDOW_DAYS)
    m = timedelta(minutes=1)
    return [
        d("before-burst", BURST),                # [BURST - 2d, BURST): clean
        d("after-burst", BURST + m),             # holds the burst: overspent
        d("cancelled", BURST + 2 * m, "cancelled"),
        d("staging", BURST + 2 * m, env="staging"),
        d("failed", BURST + 3 * m, "failed"),    # counts: outcome is not cancelled
        d("last-in-span", BURST + w),            # [BURST, BURST + 2d): overspent
        d("burst-left", BURST + w + m),          # the burst has left the span
        # Decided from whole UTC days alone: the days inside the span hold
        # the burst (overspent); the days around it hold no error (not).
        d("burst-inside", BURST + timedelta(days=1)),
        d("day-before", BURST.replace(hour=0, minute=0) - m),
        d("outside", SINCE - 3 * m),             # before the window
    ]


def import_lines(records, deps):
    lines = []
    for r in records:
        lines.append(json.dumps({
            "type": "requests", "service": r["service"], "host": "h1", "env": "production",
            "minute": iso(r["minute"]), "requests": r["requests"], "errors": r["errors"],
            "latency_ms": [[t, n] for t, n in r["pairs"]]}))
    for d in deps:
        lines.append(json.dumps({
            "type": "deploy", "service": d["service"], "env": d["env"], "id": d["id"],
            "started_at": iso(d["finished"] - timedelta(minutes=1)),
            "finished_at": iso(d["finished"]), "outcome": d["outcome"]}))
    return lines


# ---- comparing ---------------------------------------------------------------

def to_fraction(v):
    return None if v is None else Fraction(v)


def same(got, want, what):
    """Numbers equal to want exactly, or within 1e-15 for a quotient that
    numeric division rounds; the rest equal."""
    check_eq(len(got), len(want), "%s: rows %r" % (what, [(g["service"], g["objective"])
                                                          for g in got]))
    for g, w in zip(got, want):
        check_eq(sorted(g), sorted(w), "%s: fields" % what)
        key = "%s %s %s" % (what, w["service"], w["objective"])
        for k, wv in w.items():
            gv = g[k]
            if isinstance(wv, Fraction):
                check(gv is not None and abs(to_fraction(gv) - wv) <= Fraction(1, 10 ** 15),
                      "%s: %s expected %s, got %r" % (key, k, float(wv), gv))
            else:
                check_eq(gv, wv, "%s: %s" % (key, k))


def slo_cli(c, *args):
    r = c.cli("slo", "--format", "json", *args)
    return json.loads(r.stdout, parse_float=Decimal)["rows"]


def slo_sql(c, fn, since, until, rollups):
    out = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", c.conninfo, "-c",
         "SET opspulse.rollups = '%s'; SELECT coalesce(json_agg(s), '[]') FROM "
         "opspulse.%s('%s', '%s') s" % (rollups, fn, iso(since), iso(until))],
        capture_output=True, text=True)
    if out.returncode != 0:
        fail("psql: %s" % out.stderr)
    return json.loads(out.stdout, parse_float=Decimal)


def edges_hit(rows):
    """The §12.4 edges this dataset is built to reach, by row."""
    by = {(r["service"], r["objective"]): r for r in rows}
    check_eq(by[("exact", "availability")]["budget_remaining"], 0, "exact: budget 0")
    check_eq(by[("exact", "availability")]["status"], "ok", "exact: ok")
    check_eq(by[("exact", "availability")]["burn_rate_5m"], None, "exact: 5m null")
    check_eq(by[("over", "availability")]["status"], "exhausted", "over: exhausted")
    check_eq(by[("pager", "availability")]["burn_rate_1h"], Fraction(144, 10), "pager 1h")
    check_eq(by[("pager", "availability")]["alert"], "page", "pager: page")
    check(by[("pager", "availability")]["burn_rate_30m"] < 6, "pager: 30m below 6")
    check_eq(by[("ticket", "availability")]["alert"], "ticket", "ticket")
    check_eq(by[("dep", "availability")]["deploys_while_exhausted"], 4, "dep: deploys")
    check_eq(by[("empty", "latency")]["total"], 0, "empty: no data")
    # 299.5 ms and 300 ms are slow (their buckets reach past 300 ms), 299 ms
    # is not.
    check_eq(by[("lat", "latency")]["bad"], sum(1 + i % 2 for i in range(12) if i != 7) + 1,
             "lat: slow inside a bucket")
    check_eq(by[("lat2", "latency")]["bad"], 3, "lat2: slow inside a bucket")


def test_slo_matches_independent_computation():
    records, deps = dataset(), deploys()
    with Cluster("slo") as c:
        c.write_confs(SLOS)
        c.start()
        path = c.write("slo.jsonl", "\n".join(import_lines(records, deps)) + "\n")
        c.agent("import", path, env=ENV)
        c.flush()
        want = expected_rows(records, deps, SINCE, UNTIL)
        edges_hit(want)
        # Straight from the minutes, then through the CLI from the rollup.
        same(slo_sql(c, "slo", SINCE, UNTIL, "off"), want, "minutes")
        wait_for(lambda: c.scalar("SELECT count(*) FROM request_hours_dirty") == "0", 60,
                 "the hourly rollup")
        same(slo_cli(c, "--since", iso(SINCE), "--until", iso(UNTIL)), want, "rollup")
        # Whole-hour window edges, and a window ending at the burst.
        for since, until in ((SINCE.replace(minute=0), UNTIL.replace(minute=0)),
                             (BURST - timedelta(hours=5), BURST + timedelta(minutes=1))):
            same(slo_cli(c, "--since", iso(since), "--until", iso(until)),
                 expected_rows(records, deps, since, until), "[%s, %s)" % (since, until))
        same(slo_cli(c, "--since", iso(SINCE), "--until", iso(UNTIL), "--service", "dep",
                     "--service", "empty"),
             expected_rows(records, deps, SINCE, UNTIL, {"dep", "empty"}), "--service")
        same(slo_cli(c, "--since", iso(SINCE), "--until", iso(UNTIL), "--team", "shop"),
             expected_rows(records, deps, SINCE, UNTIL,
                           {"exact", "over", "pager", "ticket", "lat", "dep"}), "--team")
        # Calendar months: from the start of last month, cut at UNTIL.
        msince = (SINCE.replace(day=1, hour=0, minute=0) - timedelta(days=1)).replace(day=1)
        same(slo_cli(c, "--since", iso(msince - timedelta(hours=5)), "--until", iso(UNTIL),
                     "--by", "month"),
             month_rows(records, msince - timedelta(hours=5), UNTIL), "--by month")
        same(slo_sql(c, "slo_by_month", msince, UNTIL, "off"),
             month_rows(records, msince, UNTIL), "--by month from the minutes")
        check_scorecard(c, want)
        check_report(c, want)
        check_metrics(c, records, deps)
        for fmt in ("table", "csv", "markdown"):
            out = c.cli("slo", "--since", iso(SINCE), "--until", iso(UNTIL), "--format",
                        fmt).stdout
            check("pager" in out and "page" in out and "exhausted" in out,
                  "slo --format %s shows the rows: %r" % (fmt, out[:300]))


def check_scorecard(c, want):
    """Area slo: 1 without requests, 3 when every objective's budget is
    >= 0 (the reason names each), else 2 (it names those that fall
    short)."""
    rows = c.cli_json("scorecard", "--since", iso(SINCE), "--until", iso(UNTIL))["rows"]
    got = {r["service"]: r for r in rows if r["area"] == "slo"}
    services = {r["service"] for r in rows}
    check_eq(sorted(got), sorted(services), "an slo area per service")
    for svc in sorted(services):
        objs = [w for w in want if w["service"] == svc]
        if not objs:
            level = 1
        elif sum(w["total"] for w in objs) == 0:
            level = 1
        elif all(w["budget_remaining"] is not None and w["budget_remaining"] >= 0
                 for w in objs):
            level = 3
        else:
            level = 2
        check_eq(got[svc]["level"], level, "scorecard slo of %s (%s)" % (svc, got[svc]["reason"]))
        named = objs if level == 3 else [w for w in objs if w["budget_remaining"] is None
                                             or w["budget_remaining"] < 0]
        for w in named if level > 1 else []:
            check(w["objective"] in got[svc]["reason"],
                  "reason names %s: %r" % (w["objective"], got[svc]["reason"]))
    check("-1340 %" in got["pager"]["reason"], "pager's reason: %r" % got["pager"]["reason"])


def check_metrics(c, records, deps):
    """/metrics: budgets over the last 28 days (which hold every record)
    equal this test's; burn rates equal opspulse slo's over the same
    default window (read between two equal scrapes)."""
    want = expected_rows(records, deps, SINCE - timedelta(days=1), NOW + timedelta(hours=1))
    def slo_metrics():
        return {k: v for k, v in c.metrics().items() if k.startswith("opspulse_slo_")}
    for _ in range(5):
        before, rows, after = slo_metrics(), slo_cli(c), slo_metrics()
        if before == after:
            break
    check_eq(before, after, "two scrapes around opspulse slo")
    for w in want:
        key = 'opspulse_slo_budget_remaining{service="%s",objective="%s"}' % (
            w["service"], w["objective"])
        if w["total"] == 0:
            check(key not in before, "no sample without data: %s" % key)
        else:
            check_close(before.get(key), float(w["budget_remaining"]), key)
    check_eq(len(rows), len(OBJECTIVES), "opspulse slo rows over the default window")
    samples = 0
    for r in rows:
        for span in SPANS:
            key = 'opspulse_slo_burn_rate{service="%s",objective="%s",window="%s"}' % (
                r["service"], r["objective"], span)
            v = r["burn_rate_" + span]
            if v is None:
                check(key not in before, "no sample for a span without requests: %s" % key)
            else:
                check_close(before.get(key), float(v), key)
                samples += 1
    check(samples >= 10, "burn rate samples: %d" % samples)


def block(html, ident):
    start = html.find('id="%s"' % ident)
    check(start >= 0, "report: no %s" % ident)
    return html[start:html.find("</div>", start)]


def pct(v):
    """A fraction as the report writes it: at most three decimals."""
    return ("%.3f" % (float(v) * 100)).rstrip("0").rstrip(".") + " %"


def check_report(c, want):
    """The review page: a row per objective with its bar, and an action
    per exhausted budget, page or ticket, and deploys while exhausted."""
    html = c.cli("report", "--since", iso(SINCE), "--until", iso(UNTIL), "--format",
                 "html").stdout
    with open(os.path.join(c.dir, "slo-report.html"), "w") as f:
        f.write(html)
    section = html[html.find('<section id="slo"'):]
    section = section[:section.find("</section>")]
    check_eq(section.count("<tr>") - 1, len(want), "report: SLO rows")
    check_eq(section.count('<svg class="bar"'), sum(w["total"] > 0 for w in want),
             "report: a budget bar per measured objective")
    for w in want:
        if w["total"]:
            check(pct(w["budget_remaining"]) in section,
                  "report: budget of %s %s (%s)" % (w["service"], w["objective"],
                                                    pct(w["budget_remaining"])))
    exhausted = block(html, "act-slo-exhausted")
    burn = block(html, "act-slo-burn")
    deps = block(html, "act-slo-deploys")
    for w in want:
        name = "<b>%s</b> %s" % (w["service"], w["objective"])
        check_eq(name in exhausted, w["status"] == "exhausted",
                 "report: %s %s listed as exhausted" % (w["service"], w["objective"]))
        check_eq(name in burn, w["alert"] in ("page", "ticket"),
                 "report: %s %s listed as burning" % (w["service"], w["objective"]))
        check_eq(name in deps, w["deploys_while_exhausted"] > 0,
                 "report: %s %s listed with deploys" % (w["service"], w["objective"]))
    check("<b>4 deploys</b>" in deps, "report: deploys counted: %r" % deps)
    check("<b>page</b>" in burn and "<b>ticket</b>" in burn,
          "report: page and ticket: %r" % burn)
    md = c.cli("report", "--since", iso(SINCE), "--until", iso(UNTIL), "--format",
               "markdown").stdout
    check("Service level objectives" in md and "`!!!" in md,
          "markdown report: SLO table with an overspent bar")


# ---- configuration -------------------------------------------------------------

BAD = [
    ('{ availability = 99.9; }',
     "line %d: each slo needs a service: { service = \"billing\"; availability = 99.9; }"),
    ('{ service = "a"; availability = 100; }',
     "line %d: slo of a: availability 100 is outside (0, 100); write the target as a "
     "percentage such as 99.9"),
    ('{ service = "a"; latency_ms = 300.0; latency_target = 0.0; }',
     "line %d: slo of a: latency_target 0 is outside (0, 100); write the target as a "
     "percentage such as 99.9"),
    ('{ service = "a"; availabilty = 99.9; }',
     "line %d: slo of a: unknown key 'availabilty'; the keys are service, availability, "
     "latency_ms and latency_target"),
    ('{ service = "a"; latency_ms = 300.0; }',
     "line %d: slo of a: latency_ms and latency_target go together (latency_ms = 300.0; "
     "latency_target = 99.0;)"),
    ('{ service = "a"; }',
     "line %d: slo of a names no objective; set availability, or latency_ms with "
     "latency_target"),
    ('{ service = "a"; availability = "99.9x"; }',
     "line %d: slo of a: availability must be a number such as 99.9"),
    ('{ service = "a"; latency_ms = -1.0; latency_target = 99.0; }',
     "line %d: slo of a: latency_ms -1 must be above 0"),
]


def slos_conf(entry):
    """An aggregator.conf whose slos list holds a good entry and entry, on
    line 5; the list opens on line 3."""
    return ('aggregator = {\n  database = "dbname=x";\n  slos = (\n'
            '    { service = "web"; availability = 99.9; },\n    %s\n  );\n};\n' % entry)


def test_check_config_refuses_bad_entries():
    with Cluster("slocfg") as c:
        for entry, msg in BAD:
            path = c.write("bad.conf", slos_conf(entry))
            r = subprocess.run([AGGREGATOR, "check-config", path], capture_output=True, text=True)
            check_eq(r.returncode, 1, "check-config of %s" % entry)
            want = "%s:3: 'aggregator.slos': %s" % (path, msg % 5)
            check(want in r.stderr, "expected %r in %r" % (want, r.stderr))
        path = c.write("dup.conf", slos_conf('{ service = "web"; latency_ms = 1; '
                                             'latency_target = 99; }'))
        r = subprocess.run([AGGREGATOR, "check-config", path], capture_output=True, text=True)
        want = ("line 5: slo of web: the service already has one at line 4; put both "
                "objectives in one entry")
        check(r.returncode == 1 and want in r.stderr, "duplicate: %r" % r.stderr)
        # A service no team lists: a warning with its line; the file is valid.
        path = c.write("warn.conf", slos_conf('{ service = "srch"; availability = 99.5; }')
                       .replace("  slos", '  teams = ( { name = "t"; services = [ "web" ]; } );'
                                '\n  slos'))
        r = subprocess.run([AGGREGATOR, "check-config", path], capture_output=True, text=True)
        check_eq(r.returncode, 0, "check-config with an unknown service")
        want = ("%s:6: slo service 'srch' is in no team's services; is it spelled as the "
                "agents send it?" % path)
        check(want in r.stderr, "expected %r in %r" % (want, r.stderr))
        check("OK (with warnings above)" in r.stdout, "OK with warnings: %r" % r.stdout)


def test_sighup_with_a_bad_entry_keeps_the_running_slos():
    with Cluster("slohup") as c:
        good = '  slos = ( { service = "web"; availability = 99.9; } );\n'
        c.write_confs(good)
        c.start_aggregator(0)
        p = c.aggregators[0]
        wait_for(lambda: "1 SLOs of" in p.output(), 15, "the SLOs written")
        check_eq(c.sql("SELECT service, objective, target FROM slos"),
                 [["web", "availability", "0.999"]], "slos table")
        c.write_confs('  slos = ( { service = "web"; availability = 100.5; } );\n')
        p.p.send_signal(signal.SIGHUP)
        line = open(c.path("aggregator0.conf")).read().split("\n").index(
            '  slos = ( { service = "web"; availability = 100.5; } );') + 1
        want = "line %d: slo of web: availability 100.5 is outside (0, 100)" % line
        wait_for(lambda: want in p.output() and "keeping the running configuration"
                 in p.output(), 15, "the bad reload refused")
        check(p.alive(), "the aggregator survived the bad reload")
        check_eq(c.sql("SELECT service, objective, target FROM slos"),
                 [["web", "availability", "0.999"]], "the running SLOs kept")
        rows = slo_cli(c)
        check_eq([(r["service"], r["target"]) for r in rows], [("web", Decimal("0.999"))],
                 "opspulse slo after the bad reload")
        c.write_confs('  slos = ( { service = "web"; availability = 99.95; latency_ms = 250; '
                      'latency_target = 99; } );\n  slo_window_days = 7;\n')
        p.p.send_signal(signal.SIGHUP)
        wait_for(lambda: c.sql("SELECT count(*) FROM slos") == [["2"]], 15, "the good reload")
        check_eq(c.sql("SELECT service, objective, target, threshold_ms FROM slos "
                       "ORDER BY objective"),
                 [["web", "availability", "0.9995", ""], ["web", "latency", "0.99", "250"]],
                 "the reloaded SLOs")
        check_eq(c.scalar("SELECT value FROM settings WHERE key = 'slo_window_days'"), "7",
                 "slo_window_days reloaded")
        check("no events of service 'web' have been received yet" in p.output(),
              "an SLO of an unseen service is warned about")


if __name__ == "__main__":
    run([test_check_config_refuses_bad_entries, test_sighup_with_a_bad_entry_keeps_the_running_slos,
         test_slo_matches_independent_computation])
