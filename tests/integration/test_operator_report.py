"""The report and the CLI's tables as an operator reads them (issue:
reasons visible on paper).  One service's month goes in through the real
path (agent import); then:

- the scorecard's reasons below level 3 are printed under the grid, not
  only in hover titles (HTML and Markdown; headless Chromium renders the
  page and its screenshot path is printed);
- every trend chart states its scale and its first and last week;
- the noise item states the threshold;
- a value reads the same in the report and in `opspulse` tables (one
  rounding rule per unit);
- tables: lists without JSON brackets, window edges without
  microseconds, singular counts, a percentage with one decimal, and the
  bus-factor reason true at a 100 % share; `toil record --minutes -5`
  says what the range is in minutes."""
import json
import re
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone

from harness import Cluster, check, check_eq, fail, run
from test_report import Tree, chromium, get, parse

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def events():
    d = NOW - timedelta(days=10)
    return [
        # A deploy, then one that failed and was never recovered from.
        {"type": "deploy", "service": "web", "id": "d-0", "started_at": iso(d - timedelta(days=5)),
         "finished_at": iso(d - timedelta(days=5) + timedelta(minutes=10)),
         "outcome": "success"},
        {"type": "deploy", "service": "web", "id": "d-1", "started_at": iso(d),
         "finished_at": iso(d + timedelta(minutes=10)), "outcome": "failed"},
        # 45 minutes of toil by one person: 0.75 h, bus factor 1 at 100 %.
        {"type": "toil", "service": "web", "task": "restart", "operator": "ken",
         "started_at": iso(d), "duration_s": 2700},
        # One alert that resolved itself in 5 minutes: noise.
        {"type": "alert", "service": "web", "alertname": "Flaky", "fingerprint": "f-1",
         "starts_at": iso(d), "ends_at": iso(d + timedelta(minutes=5))},
        # CPU p95 31.145 %.
        {"type": "capacity", "service": "web", "at": iso(d), "cpu_pct": 31.145,
         "mem_pct": 40.0, "mount": "/", "disk_used_bytes": 1000, "disk_total_bytes": 100000},
    ]


def fmt_num(v):
    a = abs(v)
    return "%.*f" % (2 if a < 9.995 else 1 if a < 99.95 else 0, v)


def table(c, *args):
    return c.cli(*args, "--format", "table").stdout


def column(out, name):
    """The values of column name in a table, by the header's offsets."""
    lines = [l for l in out.splitlines() if l.strip()]
    head = next(i for i, l in enumerate(lines) if re.match(r"^service\b", l))
    names = lines[head].split()
    k = names.index(name)
    return [re.split(r"  +", l.strip())[k] for l in lines[head + 1:] if l != "(no rows)"]


def check_tables(c):
    dora = table(c, "dora")
    first = dora.splitlines()[0]
    check(re.search(r"\d\d:\d\d:\d\dZ to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", first) is not None,
          "window edges to the second, no microseconds: %r" % first)
    per_week = c.cli_json("dora")["rows"][0]["deploys_per_week"]
    check(per_week and 0 < per_week < 10 and fmt_num(per_week) != "%.1f" % per_week,
          "the data gives a value the old rules round apart: %r" % per_week)
    check_eq(column(dora, "deploys_per_week"), [fmt_num(per_week)], "deploys/week in the table")
    toil = table(c, "toil")
    check_eq(column(toil, "toil_hours"), [fmt_num(0.75)], "toil hours in the table")
    alerts = table(c, "alerts")
    check_eq(column(alerts, "flapping_rules"), ["-"], "an empty list is a dash, not []")
    check("[]" not in alerts, "no JSON brackets: %s" % alerts)
    reasons = {r["area"]: r["reason"] for r in c.cli_json("scorecard")["rows"]}
    check_eq(reasons["incident_response"], "1 failed deploy and no recovery yet",
             "a singular count")
    check(reasons["capacity"].endswith("CPU p95 at most 31.1 %"),
          "a percentage with one decimal: %r" % reasons["capacity"])
    check_eq(reasons["knowledge_spread"],
             "bus factor 1: one person does at least 80 % of the toil",
             "the bus-factor reason holds at a 100 % share")
    return reasons, per_week


def check_page(c, reasons, per_week):
    s, _, doc = get(c, "/report")
    check_eq(s, 200, "/report")
    tree = parse(doc)
    # Point 15: the same rounding as the tables.
    headline = [tr for tr in tree.find(id="headlines").all("tr")
                if tr.find("th") is not None and tr.find("th").full_text() == "web"][0]
    cells = [td.full_text() for td in headline.children if td.tag == "td"]
    check(re.match(re.escape(fmt_num(per_week)) + r"(?![\d.])", cells[1]) is not None,
          "deploys/week in the report %r" % cells[1])
    check(cells[5].startswith(fmt_num(0.75) + " h"), "toil in the report %r" % cells[5])
    # Point 12: the reasons of levels below 3, printed.
    box = tree.find(id="scorecard-reasons")
    check(box is not None, "a reasons list under the scorecard")
    items = [li.full_text() for li in box.all("li")]
    levels = {r["area"]: r["level"] for r in c.cli_json("scorecard")["rows"]}
    want = sorted("web \u2013 %s at level %d: %s" % (a.replace("_", " "), levels[a], why)
                  for a, why in reasons.items() if levels[a] < 3)
    check(len(want) >= 3, "the data gives reasons to print: %r" % want)
    check_eq(sorted(items), want, "every reason below level 3, printed")
    # Point 13: every chart's scale and weeks.
    spans = [sp.full_text() for sp in tree.all("span", **{"class": "scale"})]
    svgs = list(tree.all("svg"))
    check(len(svgs) >= 3 and len(spans) == len(svgs),
          "a scale beside each of the %d charts: %r" % (len(svgs), spans))
    for text in spans:
        m = re.match(r"^0\u2013(\S+)(?: %| h| min)? \u00b7 (\d\d)-(\d\d) to (\d\d)-(\d\d)$", text)
        check(m is not None, "scale and weeks %r" % text)
    # Point 14: the noise threshold stated.
    noise = [li.full_text() for li in tree.find(id="act-noise").all("li")]
    check_eq(noise, ["Flaky (web): fired 1 time; 100.0 % resolved by themselves "
                     "within 15 min (the noise threshold)"], "the noise item")
    # Point 10: the footer points at shipped documents, not the SPEC.
    footer = tree.find("footer").full_text()
    check("SPEC" not in footer and "man opspulse" in footer, "footer %r" % footer)
    md = c.cli("report", "--format", "markdown").stdout.replace("**", "")
    for line in want:
        check("- " + line in md, "Markdown lists %r" % line)
    check(re.search(r"One point per week .* the scale \(0 to the top\)", md) is not None,
          "the Markdown trends note explains the scale")
    return doc


def check_in_chromium(c, doc):
    page = c.write("report.html", doc)
    r = chromium("file://" + page, "--dump-dom")
    dom = parse(r.stdout)
    box = dom.find(id="scorecard-reasons")
    check(box is not None and len(list(box.all("li"))) >= 3,
          "the reasons are in the rendered page")
    shot = c.path("operator-report.png")
    chromium("file://" + page, "--screenshot=" + shot)
    with open(shot, "rb") as f:
        png = f.read()
    check(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000, "a screenshot of the page")
    print("report screenshot: %s (%d bytes)" % (shot, len(png)))


def check_minutes_message(c):
    r = c.agent("toil", "record", "--service", "web", "--task", "x", "--minutes", "-5",
                check_rc=False)
    check_eq(r.returncode, 1, "a negative duration is refused")
    check_eq(r.stderr.strip(), "opspulse-agent: --minutes '-5' must be a number of minutes "
             "from 0 to %d (%d days)" % (2678400 // 60, 31), "the message")


def test_operator_report():
    with Cluster("opreport").start() as c:
        lines = "\n".join(json.dumps(e) for e in events()) + "\n"
        c.agent("import", c.write("month.jsonl", lines))
        c.flush()
        reasons, per_week = check_tables(c)
        doc = check_page(c, reasons, per_week)
        check_in_chromium(c, doc)
        check_minutes_message(c)


if __name__ == "__main__":
    run([test_operator_report])
