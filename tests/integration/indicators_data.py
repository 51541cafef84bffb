"""The indicator test dataset and a reference implementation of SPEC §4.

EVENTS is a history in the import format (§2.1) that covers every field of
§4 and the edge cases of §4.7; the functions below compute what each
command must print from the definitions in the SPEC, in plain Python,
independently of the SQL.  test_indicators.py loads EVENTS through
`opspulse-agent import` and compares.
"""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from harness import percentile_cont

SINCE = datetime(2026, 9, 1, tzinfo=timezone.utc)
UNTIL = datetime(2026, 9, 29, tzinfo=timezone.utc)     # 4 weeks
WEEKS = (UNTIL - SINCE).total_seconds() / (7 * 86400)
PREV = SINCE - (UNTIL - SINCE)                          # the previous window

DEFAULT_TZ = "Europe/Berlin"       # aggregator.timezone: services without a team
NOISE_MINUTES = 10                 # aggregator.noise_minutes
TEAMS = [
    # name, members, hours_per_week, timezone, services
    ("platform", 2, 40.0, "Asia/Tokyo", ["alpha", "beta"]),
    ("web", 3, 35.5, "America/New_York", ["gamma"]),
    ("empty", 1, 40.0, "UTC", ["nosuch"]),
]
TARGETS = {"noise_share": 0.5}     # the rest keep their defaults
DEFAULT_TARGETS = {"delivery_level": "high", "toil_ratio": 0.5, "noise_share": 0.3,
                   "alert_mttr_minutes": 60, "recovery_hours": 24, "disk_full_days": 30,
                   "cpu_p95_pct": 80, "bus_factor": 3}

# alpha, beta: team platform (Tokyo); gamma: team web (New York); delta has
# production events outside the window only and staging events inside it;
# epsilon only a staging deploy; zeta only a component.  delta, epsilon and
# zeta use the aggregator's time zone.
SERVICES = ["alpha", "beta", "delta", "epsilon", "gamma", "zeta"]


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def iso(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(n, hh=0, mm=0):
    """n days after SINCE, at hh:mm UTC."""
    return SINCE + timedelta(days=n, hours=hh, minutes=mm)


# ---- deploys (§4.1) ----------------------------------------------------------

# (service, env, id, finished, duration_s, outcome, commit_time, hotfix)
DEPLOYS = [
    ("alpha", "production", "a1", day(0), 600, "success", day(-1, 12), False),
    ("alpha", "production", "a2", day(1, 10), 300, "failed", None, False),
    ("alpha", "production", "a3", day(1, 13, 30), 600, "success", day(1, 15), True),  # commit after
    ("alpha", "production", "a4", day(4, 9), 120, "rolled_back", None, False),
    ("alpha", "production", "a5", day(4, 9, 20), 60, "cancelled", None, False),
    ("alpha", "production", "a6", day(5, 9), 900, "success", day(5, 8), False),      # marked failed
    ("alpha", "production", "a7", day(27, 23), 400, "failed", None, True),            # recovers after until
    ("alpha", "production", "a8", day(28), 100, "success", None, False),              # at until: out
    ("beta", "production", "b1", day(10, 12), 30, "success", day(10, 11), False),     # a single deploy
    ("gamma", "production", "g1", day(3), 45, "failed", day(2), False),               # never recovers
    ("gamma", "production", "g2", day(2), 50, "success", day(1), True),
    ("delta", "production", "d1", day(-5), 60, "success", None, False),               # before since
    ("delta", "staging", "d2", day(5), 60, "failed", None, False),
    ("epsilon", "staging", "e1", day(6), 60, "success", None, False),
]
MARKED_FAILED = [("alpha", "production", "a6", day(5, 12))]


def dora_levels(row):
    def bucket(v, bounds, strict):
        if v is None:
            return None
        for name, b in zip(("elite", "high", "medium"), bounds):
            if (v < b) if strict else (v <= b):
                return name
        return "low"

    def freq(v):
        if v is None:
            return None
        for name, b in (("elite", 7), ("high", 1), ("medium", 12 / 52)):
            if v >= b:
                return name
        return "low"

    row["deploys_per_week_level"] = freq(row["deploys_per_week"])
    row["lead_time_level"] = bucket(row["lead_time_p50_hours"], (24, 168, 720), True)
    row["change_failure_rate_level"] = bucket(row["change_failure_rate"], (0.05, 0.10, 0.15), False)
    row["recovery_time_level"] = bucket(row["recovery_time_p50_hours"], (1, 24, 168), True)
    rank = ["low", "medium", "high", "elite"]
    got = [row[k] for k in ("deploys_per_week_level", "lead_time_level",
                            "change_failure_rate_level", "recovery_time_level") if row[k]]
    row["level"] = min(got, key=rank.index) if got else None


def expected_dora(service):
    marked = {(s, e, i) for s, e, i, _ in MARKED_FAILED}
    mine = [d for d in DEPLOYS if d[0] == service and d[1] == "production"]
    counted = [d for d in mine if SINCE <= d[3] < UNTIL and d[5] != "cancelled"]
    row = {"service": service, "deploys": len(counted)}
    keys = ("deploys_per_week", "lead_time_p50_hours", "change_failure_rate",
            "recovery_time_p50_hours", "rework_rate", "deploy_duration_p50_seconds",
            "deploy_duration_p95_seconds")
    if not counted:
        row.update({k: None for k in keys})
        dora_levels(row)
        return row
    ok = [d for d in counted if d[5] == "success"]
    fails = [d for d in counted if d[5] in ("failed", "rolled_back") or (d[0], d[1], d[2]) in marked]
    leads = [(d[3] - d[6]).total_seconds() / 3600 for d in ok if d[6] and d[3] > d[6]]
    recov = []
    for f in fails:
        later = [d[3] for d in mine if d[5] == "success" and d[3] > f[3]]
        if later:
            recov.append((min(later) - f[3]).total_seconds() / 3600)
    durs = [float(d[4]) for d in counted]
    row.update({
        "deploys_per_week": len(ok) / WEEKS,
        "lead_time_p50_hours": percentile_cont(leads, 0.5),
        "change_failure_rate": len(fails) / len(counted),
        "recovery_time_p50_hours": percentile_cont(recov, 0.5),
        "rework_rate": sum(1 for d in counted if d[7]) / len(counted),
        "deploy_duration_p50_seconds": percentile_cont(durs, 0.5),
        "deploy_duration_p95_seconds": percentile_cont(durs, 0.95),
    })
    dora_levels(row)
    row["_failures"] = len(fails)
    return row


# ---- toil (§4.2) ---------------------------------------------------------------

def jst(s):
    """A Tokyo wall-clock time as UTC."""
    return datetime.fromisoformat(s).replace(tzinfo=ZoneInfo("Asia/Tokyo")).astimezone(timezone.utc)


def nyc(s):
    return datetime.fromisoformat(s).replace(tzinfo=ZoneInfo("America/New_York")).astimezone(timezone.utc)


# (service, env, operator, task, started, duration_s, source)
# 2026-09-07 is a Monday; 2026-09-05/06 a weekend.
TOIL = [
    # alpha (Tokyo): ann 5 h, bob 3 h, cid 2 h -> the two first reach
    # exactly 80 %: bus factor 2.  Starts on each side of 09:00 and 18:00.
    ("alpha", "production", "ann", "rotate \"TLS\", certs", jst("2026-09-07T08:59:00"), 3600, "manual"),
    ("alpha", "production", "ann", "rotate \"TLS\", certs", jst("2026-09-07T09:00:00"), 7200, "manual"),
    ("alpha", "production", "ann", "restart | workers", jst("2026-09-08T17:59:00"), 7200, "run"),
    ("alpha", "production", "bob", "restart | workers", jst("2026-09-08T18:00:00"), 5400, "run"),
    ("alpha", "production", "bob", "restart | workers", jst("2026-09-12T10:00:00"), 5400, "session"),  # Saturday
    ("alpha", "production", "cid", "rotate \"TLS\", certs", jst("2026-09-14T09:30:00"), 7200, "import"),
    # beta (Tokyo): one operator.  Monday 00:30 UTC is 09:30 in Tokyo.
    ("beta", "production", "eve", "clear queue", ts("2026-09-14T00:30:00Z"), 1800, "manual"),
    ("beta", "production", "eve", "clear queue", ts("2026-09-18T23:00:00Z"), 900, "manual"),  # Sat 08:00
    ("beta", "production", "eve", "clear queue", SINCE, 600, "manual"),                       # at since: in
    ("beta", "production", "eve", "clear queue", UNTIL, 600, "manual"),                       # at until: out
    # gamma (New York, EDT = UTC-4).
    ("gamma", "production", "fay", "renew domains", nyc("2026-09-02T09:00:00"), 2400, "manual"),
    ("gamma", "production", "gus", "renew domains", nyc("2026-09-02T08:59:00"), 1200, "manual"),
    ("gamma", "production", "hal", "patch hosts", nyc("2026-09-21T17:00:00"), 4800, "manual"),
    ("gamma", "production", "fay", "patch hosts", nyc("2026-09-25T18:00:00"), 600, "manual"),
    # delta: production before the window, staging in it.
    ("delta", "production", "ivy", "reboot", day(-3), 3600, "manual"),
    ("delta", "staging", "ivy", "reboot", day(3), 3600, "manual"),
]


def zone_of(service):
    for name, _, _, tz, svcs in TEAMS:
        if service in svcs:
            return name, tz
    return None, DEFAULT_TZ


def after_hours(t, tz):
    local = t.astimezone(ZoneInfo(tz))
    return not (local.isoweekday() <= 5 and 9 <= local.hour < 18)


def window_toil(service=None, env="production", since=SINCE, until=UNTIL):
    return [x for x in TOIL if x[1] == env and since <= x[4] < until
            and (service is None or x[0] == service)]


def team_toil(team):
    _, members, hours, _, svcs = [t for t in TEAMS if t[0] == team][0]
    entries = [x for x in window_toil() if x[0] in svcs]
    toil_h = sum(x[5] for x in entries) / 3600
    capacity = members * hours * WEEKS
    return toil_h, capacity, (toil_h / capacity if entries else None)


def expected_toil(service):
    team, tz = zone_of(service)
    entries = window_toil(service)
    total = sum(x[5] for x in entries)
    per_op = {}
    for x in entries:
        per_op[x[2]] = per_op.get(x[2], 0) + x[5]
    row = {"service": service, "team": team, "toil_hours": total / 3600,
           "entries": len(entries), "operators": len(per_op),
           "top_operator_share": None, "bus_factor": None, "after_hours_share": None,
           "toil_ratio": team_toil(team)[2] if team else None}
    if total > 0:
        row["top_operator_share"] = max(per_op.values()) / total
        run, k = 0, 0
        for s in sorted(per_op.values(), reverse=True):
            run, k = run + s, k + 1
            if run * 10 >= total * 8:
                break
        row["bus_factor"] = k
        row["after_hours_share"] = sum(x[5] for x in entries if after_hours(x[4], tz)) / total
    return row


def expected_toil_by_task():
    groups = {}
    for x in window_toil():
        groups.setdefault((x[0], x[3]), []).append(x)
    rows = [{"service": s, "task": t, "count": len(g),
             "total_hours": sum(x[5] for x in g) / 3600,
             "mean_minutes": sum(x[5] for x in g) / len(g) / 60,
             "operators": len({x[2] for x in g})} for (s, t), g in groups.items()]
    return sorted(rows, key=lambda r: (-r["total_hours"], r["service"], r["task"]))


def expected_toil_by_team():
    rows = []
    for name, *_ in sorted(TEAMS):
        toil_h, capacity, ratio = team_toil(name)
        rows.append({"team": name, "toil_hours": toil_h, "capacity_hours": capacity,
                     "toil_ratio": ratio})
    return rows


def toil_slope(service):
    """Least-squares slope of weekly toil hours over the window's weeks."""
    n = int(-(-(UNTIL - SINCE).days // 7))
    ys = [0.0] * n
    for x in window_toil(service):
        ys[int((x[4] - SINCE).total_seconds() // (7 * 86400))] += x[5] / 3600
    if n < 2:
        return None
    mx, my = (n - 1) / 2, sum(ys) / n
    return sum((k - mx) * (y - my) for k, y in enumerate(ys)) / sum((k - mx) ** 2 for k in range(n))


# ---- alerts (§4.3) ----------------------------------------------------------------

# (service, env, alertname, fingerprint, starts, minutes to resolve or None)
ALERTS = [
    # alpha: f1 flaps (first and third start exactly 24 h apart); 9.9 min
    # is noise, 10 min is not (strict).
    ("alpha", "production", "HighLatency", "f1", day(2, 1), 9.9),
    ("alpha", "production", "HighLatency", "f1", day(2, 11), 10),
    ("alpha", "production", "HighLatency", "f1", day(3, 1), 45),
    # f2: never three within 24 h.
    ("alpha", "production", "DiskFull", "f2", day(6, 0), 120),
    ("alpha", "production", "DiskFull", "f2", day(6, 20), 5),
    ("alpha", "production", "DiskFull", "f2", day(7, 1), None),      # still firing
    ("alpha", "production", "DiskFull", "f2", day(7, 21), 30),
    # f3: three within 24 h, but the first before the window.
    ("alpha", "production", "Flappy", "f3", day(0, -2), 1),
    ("alpha", "production", "Flappy", "f3", day(0, 1), 1),
    ("alpha", "production", "Flappy", "f3", day(0, 3), 1),
    # f4: a second flapping rule, and one at until (outside).
    ("alpha", "production", "CPUHigh", "f4", day(20, 3), 3),
    ("alpha", "production", "CPUHigh", "f4", day(20, 4), 3),
    ("alpha", "production", "CPUHigh", "f4", day(20, 5), 3),
    ("alpha", "production", "CPUHigh", "f4", UNTIL, 3),
    # beta: one episode, still firing.
    ("beta", "production", "QueueStuck", "b1", day(9, 3), None),
    # gamma: none.  delta: staging only.
    ("delta", "staging", "Down", "d1", day(9), 5),
]


def window_alerts(service=None):
    return [a for a in ALERTS if a[1] == "production" and SINCE <= a[4] < UNTIL
            and (service is None or a[0] == service)]


def flapping(episodes):
    rules = set()
    by_fp = {}
    for a in episodes:
        by_fp.setdefault(a[3], []).append(a)
    for eps in by_fp.values():
        eps.sort(key=lambda a: a[4])
        for i in range(len(eps) - 2):
            if eps[i + 2][4] - eps[i][4] <= timedelta(hours=24):
                rules.add(eps[i][2])
    return sorted(rules)


def expected_alerts(service):
    eps = window_alerts(service)
    _, tz = zone_of(service)
    resolved = [a[5] for a in eps if a[5] is not None]
    n = len(eps)
    return {"service": service, "fired": n, "resolved": len(resolved),
            "noise_share": sum(1 for m in resolved if m < NOISE_MINUTES) / n if n else None,
            "mttr_p50_minutes": percentile_cont(resolved, 0.5),
            "after_hours_share": sum(1 for a in eps if after_hours(a[4], tz)) / n if n else None,
            "flapping_rules": flapping(eps) if n else None}


def expected_alerts_by_rule():
    groups = {}
    for a in window_alerts():
        groups.setdefault((a[0], a[2]), []).append(a)
    rows = []
    for (s, rule), eps in sorted(groups.items()):
        resolved = [a[5] for a in eps if a[5] is not None]
        rows.append({"service": s, "alertname": rule, "fired": len(eps),
                     "noise_share": sum(1 for m in resolved if m < NOISE_MINUTES) / len(eps),
                     "mttr_p50_minutes": percentile_cont(resolved, 0.5)})
    return rows


# ---- EOL and maintenance (§4.4) ---------------------------------------------------

def eol_in(days):
    return (UNTIL.date() + timedelta(days=days)).isoformat()


# Imported with `opspulse eol import testdb FILE` (endoflife.date API v0).
TESTDB_CYCLES = [
    {"cycle": "1", "releaseDate": "2020-01-01", "eol": eol_in(400), "latest": "1.9.3",
     "support": True, "lts": False},
    {"cycle": "1.2", "releaseDate": "2021-01-01", "eol": eol_in(90), "latest": "1.2.7",
     "support": "2025-01-01", "lts": "2021-06-01", "link": None, "extendedSupport": False},
    {"cycle": "2", "releaseDate": "2022-01-01", "eol": eol_in(180), "latest": "2.4"},
    {"cycle": "3", "eol": eol_in(181), "latest": "3.1"},
    {"cycle": "4", "eol": True, "latest": "4.2"},
    {"cycle": "5", "eol": False, "latest": "5.5"},
    {"cycle": "6", "eol": eol_in(91), "latest": "6.0"},
    {"cycle": "7", "eol": eol_in(-1), "latest": "7.3"},
    {"cycle": "10", "eol": eol_in(0), "latest": "10.2.1"},
    {"cycle": 11, "eol": eol_in(1000), "latest": None},
]
# The shipped catalog entries the dataset uses (aggregator/sql/007).
SHIPPED = {
    ("postgresql", "15"): ("2027-11-11", "15.15"),
    ("nginx", "1.22"): ("2023-04-11", "1.22.1"),
    ("linux", "6.1"): ("2027-12-31", "6.1.158"),
    ("linux", "4.19"): ("2024-12-31", "4.19.325"),
    ("postgresql", "16"): ("2028-11-09", "16.11"),
    ("debian", "12"): ("2026-06-10", "12.12"),
    ("redis", "7.0"): ("2023-08-15", "7.0.15"),
}

# (service, env, host, name, version, observed)
COMPONENTS = [
    ("alpha", "production", "db-1", "postgresql", "14.2", day(-30)),
    ("alpha", "production", "db-1", "postgresql", "15.4", day(9)),
    ("alpha", "production", "db-1", "postgresql", "16.1", day(30)),      # after until
    ("alpha", "production", "web-1", "nginx", "1.22.1", day(-100)),       # long before since
    ("alpha", "production", "web-1", "haproxy", "2.8.3", day(2)),         # no catalog product
    ("beta", "production", "b-1", "linux", "6.1.0-18-amd64", day(1)),     # kernel style
    ("beta", "production", "b-2", "linux", "4.19.0-27-amd64", day(1)),
    ("beta", "production", "b-1", "debian", "12", day(1)),
    ("beta", "production", "b-1", "redis", "7.0.15", day(1)),
    ("gamma", "production", "g-1", "testdb", "1.2.3", day(5)),     # 90 days: urgent
    ("gamma", "production", "g-2", "testdb", "2.0", day(5)),       # 180 days: soon
    ("gamma", "production", "g-3", "testdb", "3.1", day(5)),       # 181 days: ok
    ("gamma", "production", "g-4", "testdb", "4.0", day(5)),       # eol true
    ("gamma", "production", "g-5", "testdb", "5.5", day(5)),       # eol false
    ("gamma", "production", "g-6", "testdb", "9.9", day(5)),       # no cycle
    ("gamma", "production", "g-7", "testdb", "1.25", day(5)),      # "1", not "1.2"
    ("gamma", "production", "g-8", "testdb", "10.2", day(5)),      # "10", not "1"; eol today
    ("gamma", "production", "g-9", "testdb", "6-rc1", day(5)),     # "6" followed by "-": 91 days
    ("gamma", "production", "g-10", "testdb", "7", day(5)),        # equal; -1 day
    ("gamma", "production", "g-11", "testdb", "11.0", day(5)),     # numeric cycle in the file
    ("gamma", "staging", "g-1", "testdb", "4.0", day(5)),          # another environment
    ("delta", "production", "d-1", "postgresql", "16.3", day(-5)), # before since: still counts
    ("zeta", "production", "z-1", "testdb", "1.2.9", day(1)),      # urgent
]


def catalog():
    cat = {}
    for (p, c), (eol, latest) in SHIPPED.items():
        cat[(p, c)] = (eol, latest)
    for c in TESTDB_CYCLES:
        cat[("testdb", str(c["cycle"]))] = (c["eol"], c.get("latest"))
    return cat


def cycle_of(product, version):
    best = None
    for (p, c) in catalog():
        if p == product and (version == c or version.startswith(c + ".") or version.startswith(c + "-")):
            if best is None or len(c) > len(best):
                best = c
    return best


def leading_numbers(v):
    out = []
    for part in v.split("."):
        digits = ""
        for ch in part:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        out.append(int(digits))
        if digits != part:
            break
    return out or None


def expected_eol():
    newest = {}
    for c in COMPONENTS:
        if c[1] != "production" or c[5] >= UNTIL:
            continue
        key = (c[0], c[2], c[3])
        if key not in newest or c[5] > newest[key][5]:
            newest[key] = c
    rows = []
    for (svc, host, name), c in sorted(newest.items()):
        cyc = cycle_of(name, c[4])
        row = {"service": svc, "host": host, "component": name, "version": c[4],
               "observed_at": iso(c[5]), "cycle": cyc, "latest": None, "eol_date": None,
               "days_to_eol": None, "status": "unknown", "patch_behind": None,
               "eol_basis": "upstream"}
        if cyc is not None:
            eol, latest = catalog()[(name, cyc)]
            row["latest"] = latest
            if isinstance(eol, bool):
                row["status"] = "past_eol" if eol else "ok"
            else:
                row["eol_date"] = eol
                d = (date.fromisoformat(eol) - UNTIL.date()).days
                row["days_to_eol"] = d
                row["status"] = ("past_eol" if d < 0 else "urgent" if d <= 90
                                 else "soon" if d <= 180 else "ok")
            a, b = leading_numbers(c[4]), leading_numbers(latest) if latest else None
            # A version that names only its cycle has no known patch level.
            row["patch_behind"] = (a < b) if a and b and c[4] != cyc else None
        rows.append(row)
    return rows


# (service, id, component, title, due, status)
MAINTENANCE = [
    ("alpha", "m-1", "postgresql", "minor upgrade", day(19), "scheduled"),   # overdue
    ("alpha", "m-2", "postgresql", "vacuum, \"full\"", day(19), "done"),
    ("alpha", "m-3", "nginx", "upgrade to 1.26", day(44), "scheduled"),
    ("gamma", "m-9", "testdb", "replace", day(-10), "cancelled"),
    ("gamma", "m-10", "testdb", "due at until", UNTIL, "scheduled"),          # not before until
    ("delta", "m-20", "postgresql", "upgrade to 17", day(40), "scheduled"),
]
# Recorded again later with new content: the latest wins.
MAINTENANCE_LATER = [("alpha", "m-3", "nginx", "upgrade to 1.28", day(10), "scheduled")]


def expected_maintenance():
    items = {(m[0], m[1]): m for m in MAINTENANCE}
    for m in MAINTENANCE_LATER:
        items[(m[0], m[1])] = m
    return [{"service": m[0], "id": m[1], "host": "it-agent", "component": m[2], "title": m[3],
             "due_at": iso(m[4]), "status": m[5],
             "overdue": m[4] < UNTIL and m[5] == "scheduled"} for _, m in sorted(items.items())]


# ---- capacity and batches (§4.5) -----------------------------------------------

TB = 1000 ** 4


def capacity_samples():
    """(service, host, at, cpu, mem, mount, used, total) rows."""
    rows = []
    # alpha web-1: two mounts, the same cpu/mem per sample; / fills up.
    for i in range(40):                      # every 14 h from day 0.5
        at = day(0, 12) + timedelta(hours=14 * i)
        if at >= UNTIL:
            break
        cpu, mem = (i * 37) % 100 + 0.5, (i * 53) % 90 + 5.25
        rows.append(("alpha", "web-1", at, cpu, mem, "/", int(TB * 0.5 + i * 3e9 + (i % 3) * 1e8), TB))
        rows.append(("alpha", "web-1", at, cpu, mem, "/data", int(TB * 0.2 + (i % 2) * 1e9), 2 * TB))
    # alpha web-2: no mounts.
    for i in range(10):
        rows.append(("alpha", "web-2", day(2 * i + 1), 10.0 * i, 50.0, None, None, None))
    # beta b-1: / shrinks; a sample before the window and one at until.
    rows.append(("beta", "b-1", day(-2), 99.0, 99.0, "/", int(0.9 * TB), TB))
    for i in range(20):
        rows.append(("beta", "b-1", day(i + 8, 6), 20.0 + i, 30.0, "/", int(0.8 * TB - i * 1e9), TB))
    rows.append(("beta", "b-1", UNTIL, 100.0, 100.0, "/", int(0.1 * TB), TB))
    # beta b-1 /old: samples before the window only: no row.
    rows.append(("beta", "b-1", day(-1), 5.0, 5.0, "/old", 10, 100))
    return rows


def expected_capacity():
    rows = capacity_samples()
    keys = sorted({(r[0], r[1], r[5]) for r in rows if SINCE <= r[2] < UNTIL},
                  key=lambda k: (k[0], k[1], k[2] is None, k[2] or ""))
    out = []
    for svc, host, mount in keys:
        samples = {(r[2], r[3], r[4]) for r in rows
                   if r[0] == svc and r[1] == host and SINCE <= r[2] < UNTIL}
        row = {"service": svc, "host": host, "mount": mount,
               "cpu_p95_pct": percentile_cont([s[1] for s in samples], 0.95),
               "mem_p95_pct": percentile_cont([s[2] for s in samples], 0.95),
               "disk_used_pct": None, "disk_days_to_full": None}
        if mount is not None:
            disk = sorted((r for r in rows if (r[0], r[1], r[5]) == (svc, host, mount) and r[2] < UNTIL),
                          key=lambda r: r[2])
            last = disk[-1]
            row["disk_used_pct"] = last[6] * 100 / last[7]
            recent = [r for r in disk if r[2] >= UNTIL - timedelta(days=14)]
            xs = [r[2].timestamp() / 86400 for r in recent]
            ys = [float(r[6]) for r in recent]
            if len(xs) >= 2:
                mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
                slope = (sum((x - mx) * (y - my) for x, y in zip(xs, ys))
                         / sum((x - mx) ** 2 for x in xs))
                if slope > 0:
                    row["disk_days_to_full"] = (last[7] - last[6]) / slope
        out.append(row)
    return out


# (service, task, started, duration_s, outcome)
BATCHES = (
    [("alpha", "nightly-export", day(i, 1), 1000 + 60 * i, "failed" if i % 5 == 0 else "success")
     for i in range(28)]
    + [("alpha", "nightly-export", day(-28 + i, 1), 900 + 10 * i, "success") for i in range(0, 28, 2)]
    + [("beta", "cleanup", day(3), 30, "success"), ("beta", "cleanup", day(4), 50, "cancelled")]
    + [("gamma", "report", day(-3), 100, "success")]               # previous window only
    + [("alpha", "nightly-export", UNTIL, 99999, "success")]       # at until: out
)


def expected_batches():
    def runs(svc, task, lo, hi):
        return [b for b in BATCHES if b[0] == svc and b[1] == task and lo <= b[2] < hi]

    keys = sorted({(b[0], b[1]) for b in BATCHES if SINCE <= b[2] < UNTIL})
    out = []
    for svc, task in keys:
        cur, prev = runs(svc, task, SINCE, UNTIL), runs(svc, task, PREV, SINCE)
        p50 = percentile_cont([float(b[3]) for b in cur], 0.5)
        prev50 = percentile_cont([float(b[3]) for b in prev], 0.5)
        out.append({"service": svc, "task": task, "runs": len(cur),
                    "failures": sum(1 for b in cur if b[4] != "success"),
                    "duration_p50_seconds": p50,
                    "duration_p95_seconds": percentile_cont([float(b[3]) for b in cur], 0.95),
                    "duration_p50_change_pct": (p50 - prev50) * 100 / prev50 if prev50 else None})
    return out


# ---- scorecard (§4.6) ------------------------------------------------------------

def target(key):
    return TARGETS.get(key, DEFAULT_TARGETS[key])


def expected_scorecard(service):
    """area -> level."""
    rank = ["low", "medium", "high", "elite"]
    d, t, a = expected_dora(service), expected_toil(service), expected_alerts(service)
    eol = [r for r in expected_eol() if r["service"] == service]
    mnt = [r for r in expected_maintenance() if r["service"] == service]
    cap = [r for r in expected_capacity() if r["service"] == service]
    lv = {}
    lv["delivery"] = (1 if d["level"] is None else
                      3 if rank.index(d["level"]) >= rank.index(target("delivery_level")) else 2)
    slope = toil_slope(service)
    if t["entries"] == 0:
        lv["toil"] = 1
    elif t["toil_ratio"] is None or t["toil_ratio"] > target("toil_ratio") or (slope or 0) > 0:
        lv["toil"] = 2
    else:
        lv["toil"] = 3
    lv["alerting"] = 1 if a["fired"] == 0 else 3 if a["noise_share"] <= target("noise_share") else 2
    failures = d.get("_failures", 0)
    mttr, rec = a["mttr_p50_minutes"], d["recovery_time_p50_hours"]
    if mttr is None and rec is None and failures == 0:
        lv["incident_response"] = 1
    elif ((failures > 0 and rec is None) or (mttr is not None and mttr > target("alert_mttr_minutes"))
          or (rec is not None and rec > target("recovery_hours"))):
        lv["incident_response"] = 2
    else:
        lv["incident_response"] = 3
    if any(r["status"] == "past_eol" for r in eol) or (not eol and not mnt):
        lv["maintenance"] = 1
    elif any(r["status"] == "urgent" for r in eol) or any(r["overdue"] for r in mnt):
        lv["maintenance"] = 2
    else:
        lv["maintenance"] = 3
    if not cap:
        lv["capacity"] = 1
    elif (any(r["disk_days_to_full"] is not None and r["disk_days_to_full"] <= target("disk_full_days")
              for r in cap) or max(r["cpu_p95_pct"] for r in cap) >= target("cpu_p95_pct")):
        lv["capacity"] = 2
    else:
        lv["capacity"] = 3
    bus = t["bus_factor"]
    lv["knowledge_spread"] = (1 if bus is None else 3 if bus >= target("bus_factor")
                              else 1 if bus == 1 else 2)
    lv["postmortem"] = 1   # the dataset records no incidents
    lv["slo"] = 1   # no SLOs are configured here: test_slo.py covers the area
    return lv


# ---- the import file ---------------------------------------------------------------

def events():
    """EVENTS as import lines (dicts)."""
    out = []
    for s, env, i, fin, dur, outcome, commit, hotfix in DEPLOYS:
        e = {"type": "deploy", "service": s, "env": env, "id": i,
             "started_at": iso(fin - timedelta(seconds=dur)), "finished_at": iso(fin),
             "outcome": outcome, "hotfix": hotfix, "operator": "deployer"}
        if commit:
            e["commit_time"] = iso(commit)
        out.append(e)
    for s, env, i, at in MARKED_FAILED:
        out.append({"type": "deploy_failure", "service": s, "env": env, "id": i, "at": iso(at)})
    for s, env, op, task, start, dur, src in TOIL:
        out.append({"type": "toil", "service": s, "env": env, "operator": op, "task": task,
                    "started_at": iso(start), "duration_s": dur, "source": src})
    for s, env, name, fp, start, minutes in ALERTS:
        out.append({"type": "alert", "service": s, "env": env, "alertname": name,
                    "fingerprint": fp, "severity": "warning", "starts_at": iso(start),
                    "ends_at": iso(start + timedelta(minutes=minutes)) if minutes is not None
                    else None})
    for s, env, host, name, version, at in COMPONENTS:
        out.append({"type": "component", "service": s, "env": env, "host": host, "name": name,
                    "version": version, "observed_at": iso(at)})
    for s, i, comp, title, due, status in MAINTENANCE:
        out.append({"type": "maintenance", "service": s, "id": i, "component": comp,
                    "title": title, "due_at": iso(due), "status": status})
    for s, host, at, cpu, mem, mount, used, total in capacity_samples():
        e = {"type": "capacity", "service": s, "host": host, "at": iso(at),
             "cpu_pct": cpu, "mem_pct": mem}
        if mount is not None:
            e.update({"mount": mount, "disk_used_bytes": used, "disk_total_bytes": total})
        out.append(e)
    for s, task, start, dur, outcome in BATCHES:
        out.append({"type": "batch", "service": s, "task": task, "started_at": iso(start),
                    "duration_s": dur, "outcome": outcome})
    return out


def later_events():
    return [{"type": "maintenance", "service": s, "id": i, "component": comp, "title": title,
             "due_at": iso(due), "status": status}
            for s, i, comp, title, due, status in MAINTENANCE_LATER]


def expected_services():
    """service -> (team, timezone, events in the window, latest of them)."""
    times = {s: [] for s in SERVICES}
    for e in events():
        if e.get("env", "production") != "production":
            continue
        t = ts(e.get("finished_at") or e.get("at") or e.get("started_at") or e.get("starts_at")
               or e.get("observed_at") or "1970-01-01T00:00:00Z")
        if e["type"] == "maintenance":
            continue                       # recorded_at is the import time
        if SINCE <= t < UNTIL:
            times[e["service"]].append(t)
    out = {}
    for s in SERVICES:
        team, tz = zone_of(s)
        out[s] = (team, tz, len(times[s]), iso(max(times[s])) if times[s] else None)
    return out
