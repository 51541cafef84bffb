"""Every field of SPEC §4.1, with the edge rules of §4.7, checked against
values computed here from the definitions, not from the SQL."""
from datetime import datetime, timedelta, timezone

from harness import Cluster, check_close, check_eq, percentile_cont, run

SINCE = datetime(2026, 9, 1, tzinfo=timezone.utc)
UNTIL = datetime(2026, 9, 29, tzinfo=timezone.utc)


def t(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


# (service, env, id, finished, duration_s, outcome, commit_time, hotfix)
DEPLOYS = [
    ("alpha", "production", "a1", "2026-09-01T00:00:00Z", 600, "success", "2026-08-31T12:00:00Z", False),
    ("alpha", "production", "a2", "2026-09-02T10:00:00Z", 300, "failed", "2026-09-02T08:00:00Z", False),
    ("alpha", "production", "a3", "2026-09-02T13:30:00Z", 600, "success", "2026-09-01T13:30:00Z", True),
    ("alpha", "production", "a4", "2026-09-05T09:00:00Z", 120, "rolled_back", None, False),
    ("alpha", "production", "a5", "2026-09-05T09:20:00Z", 60, "cancelled", None, False),
    ("alpha", "production", "a6", "2026-09-06T09:00:00Z", 900, "success", "2026-09-06T08:00:00Z", False),
    ("alpha", "production", "a7", "2026-09-10T00:00:00Z", 200, "success", "2026-09-10T01:00:00Z", False),
    ("alpha", "production", "a8", "2026-09-28T23:00:00Z", 400, "failed", None, True),
    ("alpha", "production", "a9", "2026-09-29T00:00:00Z", 100, "success", None, False),
    ("alpha", "production", "a10", "2026-08-20T00:00:00Z", 100, "success", None, False),
    ("alpha", "staging", "s1", "2026-09-03T00:00:00Z", 50, "failed", None, False),
    ("alpha", "staging", "s2", "2026-09-28T23:30:00Z", 50, "success", None, False),
    ("beta", "production", "b1", "2026-09-15T12:00:00Z", 30, "success", None, False),
    ("gamma", "staging", "g1", "2026-09-10T00:00:00Z", 30, "success", None, False),
    ("delta", "production", "d1", "2026-09-20T00:00:00Z", 45, "failed", "2026-09-19T00:00:00Z", False),
]
MARKED_FAILED = [("alpha", "a6", "2026-09-06T12:00:00Z")]


def level(value, bounds, strict):
    if value is None:
        return None
    for name, bound in zip(("elite", "high", "medium"), bounds):
        if (value < bound) if strict else (value <= bound):
            return name
    return "low"


def freq_level(v):
    if v is None:
        return None
    for name, bound in (("elite", 7), ("high", 1), ("medium", 12 / 52)):
        if v >= bound:
            return name
    return "low"


def expected(service, env="production"):
    rank = ["low", "medium", "high", "elite"]
    marked = {(s, i) for s, i, _ in MARKED_FAILED}
    all_env = [d for d in DEPLOYS if d[0] == service and d[1] == env]
    counted = [d for d in all_env
               if SINCE <= t(d[3]) < UNTIL and d[5] != "cancelled"]
    n = len(counted)
    row = {"service": service, "deploys": n}
    if n == 0:
        for k in ("deploys_per_week", "lead_time_p50_hours", "change_failure_rate",
                  "recovery_time_p50_hours", "rework_rate", "deploy_duration_p50_seconds",
                  "deploy_duration_p95_seconds", "deploys_per_week_level", "lead_time_level",
                  "change_failure_rate_level", "recovery_time_level", "level"):
            row[k] = None
        return row
    weeks = (UNTIL - SINCE).total_seconds() / (7 * 86400)
    ok = [d for d in counted if d[5] == "success"]
    fails = [d for d in counted if d[5] in ("failed", "rolled_back") or (d[0], d[2]) in marked]
    leads = [(t(d[3]) - t(d[6])).total_seconds() / 3600 for d in ok
             if d[6] and t(d[3]) > t(d[6])]
    recov = []
    for f in fails:
        later = [t(d[3]) for d in all_env if d[5] == "success" and t(d[3]) > t(f[3])]
        if later:
            recov.append((min(later) - t(f[3])).total_seconds() / 3600)
    durs = [float(d[4]) for d in counted]
    row.update({
        "deploys_per_week": len(ok) / weeks,
        "lead_time_p50_hours": percentile_cont(leads, 0.5),
        "change_failure_rate": len(fails) / n,
        "recovery_time_p50_hours": percentile_cont(recov, 0.5),
        "rework_rate": sum(1 for d in counted if d[7]) / n,
        "deploy_duration_p50_seconds": percentile_cont(durs, 0.5),
        "deploy_duration_p95_seconds": percentile_cont(durs, 0.95),
    })
    row["deploys_per_week_level"] = freq_level(row["deploys_per_week"])
    row["lead_time_level"] = level(row["lead_time_p50_hours"], (24, 24 * 7, 24 * 30), True)
    row["change_failure_rate_level"] = level(row["change_failure_rate"], (0.05, 0.10, 0.15), False)
    row["recovery_time_level"] = level(row["recovery_time_p50_hours"], (1, 24, 24 * 7), True)
    measured = [row[k] for k in ("deploys_per_week_level", "lead_time_level",
                                 "change_failure_rate_level", "recovery_time_level") if row[k]]
    row["level"] = min(measured, key=rank.index) if measured else None
    return row


def record_all(c):
    for (svc, env, did, fin, dur, outcome, commit, hotfix) in DEPLOYS:
        started = (t(fin) - timedelta(seconds=dur)).strftime("%Y-%m-%dT%H:%M:%SZ")
        args = ["deploy", "record", "--service", svc, "--env", env, "--id", did,
                "--started", started, "--finished", fin, "--outcome", outcome]
        if commit:
            args += ["--commit-time", commit]
        if hotfix:
            args.append("--hotfix")
        c.agent(*args)
    for svc, did, at in MARKED_FAILED:
        c.agent("deploy", "mark-failed", "--service", svc, "--id", did, "--at", at)
    c.flush()


def compare(actual, exp):
    for k, v in exp.items():
        if isinstance(v, float):
            check_close(actual[k], v, "%s.%s" % (exp["service"], k))
        else:
            check_eq(actual[k], v, "%s.%s" % (exp["service"], k))
    check_eq(sorted(actual), sorted(exp), "%s: field names" % exp["service"])


def test_every_field_against_hand_computed_values():
    with Cluster("dora").start() as c:
        record_all(c)
        out = c.cli_json("dora", "--since", "2026-09-01", "--until", "2026-09-29T00:00:00Z")
        check_eq(out["since"], "2026-09-01T00:00:00Z", "since echoed")
        check_eq(out["until"], "2026-09-29T00:00:00Z", "until echoed")
        names = [r["service"] for r in out["rows"]]
        # Every known service is listed, sorted, even with no deploys.
        check_eq(names, ["alpha", "beta", "delta", "gamma"], "rows")
        for row in out["rows"]:
            compare(row, expected(row["service"]))
        # The hand-computed figures for alpha, as a cross-check of the
        # reference implementation itself.
        a = expected("alpha")
        check_eq(a["deploys"], 7, "alpha counted deploys (a1..a8 less a5)")
        check_close(a["change_failure_rate"], 4 / 7, "alpha failures: a2, a4, a6 marked, a8")
        check_close(a["recovery_time_p50_hours"], percentile_cont([3.5, 24.0, 87.0, 1.0], 0.5),
                    "alpha recoveries 3.5 h, 24 h, 87 h, 1 h")
        check_close(a["lead_time_p50_hours"], percentile_cont([12.0, 24.0, 1.0], 0.5),
                    "alpha leads 12 h, 24 h, 1 h")

        # Filters: repeated --service, and another environment.
        out = c.cli_json("dora", "--since", "2026-09-01", "--until", "2026-09-29",
                         "--service", "beta", "--service", "delta")
        check_eq([r["service"] for r in out["rows"]], ["beta", "delta"], "service filter")
        out = c.cli_json("dora", "--since", "2026-09-01", "--until", "2026-09-29",
                         "--env", "staging", "--service", "alpha", "--service", "gamma")
        for row in out["rows"]:
            compare(row, expected(row["service"], "staging"))

        # Recording the same deploys again stores nothing new.
        before = c.scalar("SELECT count(*) FROM deploys")
        record_all(c)
        check_eq(c.scalar("SELECT count(*) FROM deploys"), before, "re-recorded deploys stored once")


def test_formats():
    with Cluster("formats").start() as c:
        c.agent("deploy", "record", "--service", "we,ird \"svc\"", "--started", "2h",
                "--finished", "1h", "--outcome", "success")
        c.flush()
        csv = c.cli("dora", "--format", "csv").stdout
        lines = csv.splitlines()
        check_eq(lines[0].split(",")[0:2], ["service", "deploys"], "CSV header")
        check(lines[1].startswith('"we,ird ""svc""",1,'), "CSV quoting: %r" % lines[1])
        md = c.cli("dora", "--format", "markdown").stdout.splitlines()
        check(md[0].startswith("| service | deploys |"), "Markdown header: %r" % md[0])
        check(md[1].startswith("| --- | ---: |"), "Markdown alignment row: %r" % md[1])
        table = c.cli("dora", "--format", "table").stdout
        check("Delivery (DORA): production" in table, "table title: %r" % table[:200])


def check(cond, msg):
    from harness import check as _check
    _check(cond, msg)


if __name__ == "__main__":
    run([test_every_field_against_hand_computed_values, test_formats])
