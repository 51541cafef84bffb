"""The review report of SPEC §6 and the aggregator's HTTP address.

The indicator dataset of indicators_data.py goes in through the real path
(agent import, spool, sender, aggregator); the page is fetched from the
aggregator's /report, rendered by headless Chromium (screenshot, DOM,
console, print to PDF), and compared with values computed from the
dataset in Python.  /metrics is checked with Prometheus's own parser
(promtool check metrics)."""
import html.parser
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from datetime import timedelta

import indicators_data as D
from harness import Cluster, check, check_eq, fail, run
from test_indicators import configure, load

WEEKS = 12                       # REPORT_TREND_WEEKS: the window is 4 weeks
TREND_SINCE = D.UNTIL - timedelta(days=7 * WEEKS)
QUERY = "since=%s&until=%s" % (D.iso(D.SINCE), D.iso(D.UNTIL))
SECTIONS = ["headlines", "trends", "scorecard", "actions", "act-eol", "act-maintenance",
            "act-noise", "act-automation", "act-bus", "act-disk"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


def http_port(c):
    with open(c.path("aggregator0.conf")) as f:
        return int(re.search(r'http = "127\.0\.0\.1:(\d+)"', f.read()).group(1))


def get(c, path):
    """(status, content type, body) of GET path on the aggregator."""
    url = "http://127.0.0.1:%d%s" % (http_port(c), path)
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


# ---- the page as a tree ------------------------------------------------------------

VOID = {"meta", "br", "hr", "img", "link", "input", "col", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.parts = [], []   # parts: text and children, in order

    def all(self, tag=None, **attrs):
        for ch in self.children:
            if (tag is None or ch.tag == tag) and all(ch.attrs.get(k.replace("_", "-")) == v
                                                      for k, v in attrs.items()):
                yield ch
            yield from ch.all(tag, **attrs)

    def find(self, tag=None, **attrs):
        return next(self.all(tag, **attrs), None)

    def full_text(self):
        return "".join(p if isinstance(p, str) else p.full_text() for p in self.parts)


class Tree(html.parser.HTMLParser):
    """Builds a tree and fails on anything not well-formed: a close tag
    that does not match the open one, an element left open."""

    def __init__(self, doc):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.cur = self.root
        self.feed(doc)
        self.close()
        check(self.cur is self.root, "element <%s> is never closed" % self.cur.tag)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        self.cur.parts.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        self.cur.parts.append(node)

    def handle_endtag(self, tag):
        check(tag not in VOID, "</%s> closes a void element" % tag)
        check(self.cur.tag == tag, "</%s> closes <%s>" % (tag, self.cur.tag))
        self.cur = self.cur.parent

    def handle_data(self, data):
        self.cur.parts.append(data)


def parse(doc):
    """The root of doc's element tree; fails when doc is not well-formed."""
    return Tree(doc).root


def check_self_contained(doc):
    """No external URL, no script, nothing loaded from anywhere."""
    for pat in (r"https?://", r"(?:src|href)\s*=", r"url\(", r"<script", r"@import",
                r"//[a-z0-9.-]+\.[a-z]{2,}"):
        m = re.search(pat, doc, re.I)
        check(m is None, "the page refers outside itself: %r" % (m.group(0) if m else ""))


# ---- expected values, from the dataset ------------------------------------------------

def week_bounds():
    return [(D.UNTIL - timedelta(days=7 * (WEEKS - i)), D.UNTIL - timedelta(days=7 * (WEEKS - 1 - i)))
            for i in range(WEEKS)]


def expected_weekly(service):
    """metric -> 12 values (None: no data that week)."""
    marked = {(s, e, i) for s, e, i, _ in D.MARKED_FAILED}
    out = {k: [] for k in ("deploys", "change_failure_rate", "toil_hours", "alerts", "noise_share")}
    for ws, we in week_bounds():
        deps = [d for d in D.DEPLOYS if d[0] == service and d[1] == "production"
                and ws <= d[3] < we and d[5] != "cancelled"]
        fails = [d for d in deps if d[5] in ("failed", "rolled_back") or (d[0], d[1], d[2]) in marked]
        eps = [a for a in D.ALERTS if a[0] == service and a[1] == "production" and ws <= a[4] < we]
        noise = [a for a in eps if a[5] is not None and a[5] < D.NOISE_MINUTES]
        out["deploys"].append(len(deps))
        out["change_failure_rate"].append(len(fails) / len(deps) if deps else None)
        out["toil_hours"].append(sum(x[5] for x in D.window_toil(service, since=ws, until=we)) / 3600)
        out["alerts"].append(len(eps))
        out["noise_share"].append(len(noise) / len(eps) if eps else None)
    return out


def has_data(metric, values):
    """A chart is drawn when a rate has a value or a count is not all 0."""
    if metric in ("change_failure_rate", "noise_share"):
        return any(v is not None for v in values)
    return any(v for v in values)


# ---- checks ---------------------------------------------------------------------------

def check_trends(tree):
    rows = {tr.find("th").full_text(): tr for tr in tree.find(id="trends").all("tr")
            if tr.find("th") is not None and tr.parent.tag == "tbody"}
    check_eq(sorted(rows), sorted(D.SERVICES), "services in the trend table")
    charts = 0
    for svc in D.SERVICES:
        exp = expected_weekly(svc)
        cells = [td for td in rows[svc].children if td.tag == "td"]
        check_eq(len(cells), 5, "%s: trend cells" % svc)
        for td, metric in zip(cells, ["deploys", "change_failure_rate", "toil_hours", "alerts",
                                      "noise_share"]):
            svg = td.find("svg")
            values = exp[metric]
            if not has_data(metric, values):
                check(svg is None, "%s %s: no data, yet a chart" % (svc, metric))
                check("no " in td.full_text(), "%s %s: says nothing about missing data: %r"
                      % (svc, metric, td.full_text()))
                continue
            charts += 1
            check(svg is not None, "%s %s: no chart" % (svc, metric))
            check_eq(svg.attrs.get("data-metric"), metric, "%s: chart order" % svc)
            check_eq(svg.attrs.get("data-weeks"), str(WEEKS), "%s %s: weeks" % (svc, metric))
            points = list(svg.all("circle"))
            known = [v for v in values if v is not None]
            check_eq(len(points), len(known), "%s %s: points drawn" % (svc, metric))
            # Higher values sit higher (smaller y); equal values level.
            ys = [float(p.attrs["cy"]) for p in points]
            for i in range(len(known)):
                for j in range(len(known)):
                    if known[i] > known[j] + 1e-9:
                        check(ys[i] < ys[j], "%s %s: week values %s drawn as %s"
                              % (svc, metric, known, ys))
                    elif abs(known[i] - known[j]) <= 1e-9:
                        check(abs(ys[i] - ys[j]) < 0.01, "%s %s: equal values at %s"
                              % (svc, metric, ys))
    check(charts >= 8, "only %d charts drawn" % charts)


def fmt1(v):
    """A number as the report and the CLI round it (common/op_round.h):
    2 decimals below 10, 1 below 100, none from 100."""
    a = abs(v)
    return "%.*f" % (2 if a < 9.995 else 1 if a < 99.95 else 0, v)


def check_headlines(tree):
    rows = {tr.find("th").full_text(): tr for tr in tree.find(id="headlines").all("tr")
            if tr.find("th") is not None and tr.parent.tag == "tbody"}
    check_eq(sorted(rows), sorted(D.SERVICES), "services in the headline table")
    for svc in D.SERVICES:
        cells = [td for td in rows[svc].children if td.tag == "td"]
        team, _ = D.zone_of(svc)
        check_eq(cells[0].full_text(), team or "\u2013", "%s: team" % svc)
        d, t, a = D.expected_dora(svc), D.expected_toil(svc), D.expected_alerts(svc)
        per_week = cells[1].full_text()
        if d["deploys"] == 0:
            check_eq(per_week, "no deploys", "%s: deploys/week without deploys" % svc)
        else:
            check(per_week.startswith(fmt1(d["deploys_per_week"])),
                  "%s: deploys/week %r, expected %s" % (svc, per_week, d["deploys_per_week"]))
        toil = cells[5].full_text()
        if t["entries"] == 0:
            check_eq(toil, "no toil", "%s: toil without entries" % svc)
        else:
            check(toil.startswith(fmt1(t["toil_hours"]) + " h"),
                  "%s: toil %r, expected %s h" % (svc, toil, t["toil_hours"]))
        alerts = cells[7].full_text()
        if a["fired"] == 0:
            check_eq(alerts, "no alerts", "%s: alerts without episodes" % svc)
            continue
        check(alerts.startswith(str(a["fired"])), "%s: alerts %r, expected %d"
              % (svc, alerts, a["fired"]))
        # The change against the previous window, by the same definition.
        prev = [x for x in D.ALERTS if x[0] == svc and x[1] == "production"
                and D.PREV <= x[4] < D.SINCE]
        if prev:
            diff = a["fired"] - len(prev)
            want = ("= same" if diff == 0 else "%s %d" % ("\u25b2" if diff > 0 else "\u25bc",
                                                          abs(diff)))
            check(alerts.endswith(want), "%s: alert change %r, expected %r" % (svc, alerts, want))
            worse = rows[svc].find("span", **{"class": "d worse"})
            if diff > 0:
                check(worse is not None, "%s: more alerts not marked worse" % svc)


def check_scorecard(tree):
    areas = ["delivery", "toil", "alerting", "incident_response", "maintenance", "capacity",
             "knowledge_spread", "postmortem", "slo"]
    grid = tree.find(id="scorecard")
    for tr in grid.all("tr"):
        th = tr.find("th")
        if tr.parent.tag != "tbody":
            continue
        svc = th.full_text()
        want = D.expected_scorecard(svc)
        cells = [td for td in tr.children if td.tag == "td"]
        check_eq(len(cells), len(areas), "%s: scorecard cells" % svc)
        for td, area in zip(cells, areas):
            check_eq(td.attrs.get("class"), "l%d" % want[area], "%s %s: level" % (svc, area))
            check(td.attrs.get("title"), "%s %s: no reason given" % (svc, area))


def action_items(tree, ident):
    box = tree.find(id=ident)
    check(box is not None, "actions: no %s" % ident)
    return [li.full_text() for li in box.all("li") if li.attrs.get("class") != "none"]


def check_actions(tree):
    eol = [r for r in D.expected_eol() if r["status"] in ("past_eol", "urgent")]
    items = action_items(tree, "act-eol")
    check_eq(len(items), len(eol), "EOL actions: %r" % items)
    for r, text in zip(eol, items):
        check(text.startswith("%s on %s: %s %s" % (r["service"], r["host"], r["component"],
                                                    r["version"])), "EOL action %r" % text)
    overdue = [m for m in D.expected_maintenance() if m["overdue"]]
    items = action_items(tree, "act-maintenance")
    check_eq(len(items), len(overdue), "overdue maintenance: %r" % items)
    for m, text in zip(overdue, items):
        check(m["title"] in text and m["due_at"][:10] in text, "maintenance action %r" % text)
    rules = sorted((r for r in D.expected_alerts_by_rule() if r["fired"] * r["noise_share"] >= 0.5),
                   key=lambda r: -r["fired"] * r["noise_share"])[:5]
    items = action_items(tree, "act-noise")
    check_eq([t.split(" (")[0] for t in items], [r["alertname"] for r in rules], "noisiest rules")
    tasks = D.expected_toil_by_task()[:5]
    items = action_items(tree, "act-automation")
    check_eq([t.split(" (")[0] for t in items], [r["task"] for r in tasks],
             "automation candidates")
    bus1 = [s for s in D.SERVICES if D.expected_toil(s)["bus_factor"] == 1]
    check_eq([t.split(":")[0] for t in action_items(tree, "act-bus")], bus1, "bus factor 1")
    check_disks(tree, D.target("disk_full_days"))


def check_disks(tree, days):
    """The disks listed are those full within days (target.disk_full_days)."""
    disks = [r for r in D.expected_capacity()
             if r["disk_days_to_full"] is not None and r["disk_days_to_full"] <= days]
    box = tree.find(id="act-disk")
    check_eq(box.find("h3").full_text(), "Disks filling within %g days" % days, "disk heading")
    items = action_items(tree, "act-disk")
    check_eq(len(items), len(disks), "disks filling within %g days: %r" % (days, items))
    for r, text in zip(disks, items):
        check(text.startswith("%s on %s: %s" % (r["service"], r["host"], r["mount"]))
              and "full in %.0f days" % r["disk_days_to_full"] in text, "disk action %r" % text)


def check_disk_setting(c):
    """target.disk_full_days decides which disks the actions list, as in
    the scorecard; the aggregator writes it at start and on SIGHUP, so a
    value written here holds until then."""
    key = "target.disk_full_days"
    old = c.scalar("SELECT value FROM settings WHERE key = '%s'" % key)
    c.sql("INSERT INTO settings (key, value) VALUES ('%s', '80') "
          "ON CONFLICT (key) DO UPDATE SET value = excluded.value" % key)
    try:
        s, _, doc = get(c, "/report?" + QUERY)
        check_eq(s, 200, "/report with disk_full_days 80")
        check_disks(parse(doc), 80)
        check(any(r["disk_days_to_full"] is not None and 30 < r["disk_days_to_full"] <= 80
                  for r in D.expected_capacity()), "the dataset has no disk within 30-80 days")
    finally:
        if old is None:
            c.sql("DELETE FROM settings WHERE key = '%s'" % key)
        else:
            c.sql("UPDATE settings SET value = '%s' WHERE key = '%s'" % (old, key))


def chromium(url, *mode):
    """Runs headless Chromium with a new profile; returns its stderr."""
    profile = tempfile.mkdtemp(prefix="chromium-")
    try:
        r = subprocess.run(["chromium"] + CHROMIUM_FLAGS +
                           ["--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
                            "--window-size=1280,2000"] + list(mode) + [url],
                           capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        check(r.returncode == 0, "chromium exited %d: %s" % (r.returncode, r.stderr[-2000:]))
        return r
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def check_in_browser(c, url):
    r = chromium(url, "--dump-dom")
    console = [line for line in r.stderr.splitlines()
               if "CONSOLE" in line or "Failed to load resource" in line
               or "Refused to" in line]
    check(not console, "browser console: %s" % "\n".join(console))
    dom = parse(r.stdout)
    for s in SECTIONS:
        check(dom.find(id=s) is not None, "rendered page lacks section %s" % s)
    check_eq(len(list(dom.all("svg"))), len(list(parse(get(c, "/report?" + QUERY)[2]).all("svg"))),
             "charts in the browser and in the page")
    shot = c.path("report.png")
    chromium(url, "--screenshot=" + shot)
    with open(shot, "rb") as f:
        png = f.read()
    check(png[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    check_eq((width, height), (1280, 2000), "screenshot size")
    check(len(png) > 20000, "the screenshot is nearly blank (%d bytes)" % len(png))
    pdf = c.path("report.pdf")
    chromium(url, "--print-to-pdf=" + pdf, "--no-pdf-header-footer")
    with open(pdf, "rb") as f:
        data = f.read()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    # Four pages of infrastructure indicators, then service health, SLOs,
    # incidents and readiness (SPEC §12-§14): at most eight.
    check(data.startswith(b"%PDF") and 1 <= pages <= 8, "printed to %d A4 pages" % pages)
    print("report rendered: %s, %d bytes; printed on %d pages" % (shot, len(png), pages))


def check_markdown(c):
    r = c.cli("report", "--format", "markdown", "--since", D.iso(D.SINCE),
              "--until", D.iso(D.UNTIL))
    md = r.stdout
    for h in ("# OpsPulse weekly review", "## Headline numbers", "## Trends", "## Scorecard",
              "## Actions", "### Overdue maintenance", "### Top automation candidates"):
        check(h in md, "markdown report lacks %r" % h)
    line = [ln for ln in md.splitlines() if ln.startswith("| alpha |") and "\u00b7" in ln
            or ln.startswith("| alpha |") and "\u2581" in ln]
    check(line, "no alpha trend row in %r" % md[:2000])
    spark = line[0].split("|")[2].strip().split(" ")[0]
    check_eq(len(spark), WEEKS, "weeks in alpha's deploy sparkline %r" % spark)
    html_out = c.cli("report", "--format", "html", "--since", D.iso(D.SINCE),
                     "--until", D.iso(D.UNTIL)).stdout
    stamp = re.compile(r"Generated [^<]*")
    check_eq(stamp.sub("", html_out), stamp.sub("", get(c, "/report?" + QUERY)[2]),
             "CLI and /report give the same page")
    bad = c.cli("report", "--format", "csv", check_rc=False)
    check(bad.returncode == 1 and "html or markdown" in bad.stderr, "report --format csv: %r"
          % bad.stderr)


def check_empty(c):
    # zeta has only a component; a window long before the dataset has nothing.
    s, _, doc = get(c, "/report?service=zeta&service=epsilon&" + QUERY)
    check_eq(s, 200, "report of services without data")
    tree = parse(doc)
    for svc in ("epsilon", "zeta"):
        tr = [t for t in tree.find(id="headlines").all("tr") if t.find("th")
              and t.find("th").full_text() == svc][0]
        texts = [td.full_text() for td in tr.children if td.tag == "td"]
        check(all(t in ("no deploys", "no toil", "no alerts", "no requests", "no timings")
                  for t in texts[1:]),
              "%s: empty headlines read %r" % (svc, texts))
    check(tree.find("svg") is None, "charts drawn without data")
    check("(2)" in tree.find("header").full_text(), "the page names the services it covers")
    s, _, doc = get(c, "/report?since=2020-01-01&until=2020-02-01&team=web")
    check_eq(s, 200, "report of an empty window")
    check("team web" in doc and "2020-01-01" in doc, "the page names its team and window")
    for bad, why in (("team=nosuchteam", "unknown team"), ("since=yesterday", "not a time"),
                     ("format=pdf", "html or markdown"), ("colour=red", "unknown parameter"),
                     ("since=2026-02-01&until=2026-01-01", "window is empty")):
        s, _, msg = get(c, "/report?" + bad)
        check(s == 400 and why in msg, "/report?%s: %d %r" % (bad, s, msg))


def metrics(c):
    s, ctype, text = get(c, "/metrics")
    check_eq(s, 200, "/metrics status")
    check(ctype.startswith("text/plain; version=0.0.4"), "/metrics content type %r" % ctype)
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 0, "promtool check metrics: %s%s" % (r.stdout, r.stderr))
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def check_metrics(c):
    before = metrics(c)
    check(before["opspulse_ingest_events_received_total"] >= len(D.events()),
          "events received: %r" % before["opspulse_ingest_events_received_total"])
    check(before['opspulse_ingest_batches_total{result="stored"}'] >= 1, "no batch counted")
    check_eq(before['opspulse_ingest_batch_seconds_bucket{le="+Inf"}'],
             before["opspulse_ingest_batch_seconds_count"], "histogram count")
    check_eq(before["opspulse_database_up"], 1.0, "database up")
    r = c.wire("garbage", "4096")
    check(r.startswith("error"), "garbage answered %r" % r)
    after = metrics(c)
    key = 'opspulse_requests_rejected_total{reason="malformed"}'
    check_eq(after[key] - before[key], 1.0, "malformed messages counted")
    # A deploy in the gauges' window (the last 28 days): 1 per 4 weeks.
    c.agent("deploy", "record", "--service", "alpha", "--started", "1h", "--finished", "30m",
            "--outcome", "success", "--id", "recent-1")
    c.flush()
    after = metrics(c)
    check_eq(after['opspulse_deploys_per_week{service="alpha"}'], 0.25, "alpha's deploys/week")
    check('opspulse_deploys_per_week{service="gamma"}' not in after,
          "a service without deploys has a deploys/week sample")
    s, _, body = get(c, "/healthz")
    check(s == 200 and body.strip() == "ok", "/healthz: %d %r" % (s, body))


def test_report_of_the_dataset():
    with Cluster("report") as c:
        configure(c)
        c.start()
        load(c)
        status, ctype, doc = get(c, "/report?" + QUERY)
        check_eq(status, 200, "/report status")
        check(ctype.startswith("text/html"), "content type %r" % ctype)
        check_self_contained(doc)
        tree = parse(doc)
        for s in SECTIONS:
            check(tree.find(id=s) is not None, "the page lacks section %s" % s)
        header = tree.find("header").full_text()
        for want in ("2026-09-01", "2026-09-29", "Generated", "production",
                     ", ".join(sorted(D.SERVICES))):
            check(want in header, "header lacks %r: %r" % (want, header))
        check_headlines(tree)
        check_trends(tree)
        check_scorecard(tree)
        check_actions(tree)
        check_markdown(c)
        check_empty(c)
        check_disk_setting(c)
        check_in_browser(c, "http://127.0.0.1:%d/report?%s" % (http_port(c), QUERY))
        check_metrics(c)


def test_database_down():
    with Cluster("report-down", private_pg=True) as c:
        c.start()
        c.pg_stop()
        s, _, body = get(c, "/healthz")
        check(s == 503 and "database" in body, "/healthz with the database down: %d %r" % (s, body))
        s, _, body = get(c, "/report")
        check(s == 503, "/report with the database down: %d %r" % (s, body))
        samples = metrics(c)
        check_eq(samples["opspulse_database_up"], 0.0, "database_up while down")
        c.pg_start()
        s, _, body = get(c, "/healthz")
        check_eq(s, 200, "/healthz once the database is back")
        check(c.aggregators[0].alive(), "the aggregator survived")


if __name__ == "__main__":
    run([test_report_of_the_dataset, test_database_down])
