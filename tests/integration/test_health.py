"""Service health (SPEC §12.1-§12.3, §14.1): request counts go in through
the real agent (`import` type requests and `requests record`) and the real
aggregator, and every field of `opspulse health --format json` equals what
this test computes from its own input with its own implementation of the
§12.2 buckets and percentiles: over windows that cut minutes and hours,
before and after the hourly rollup is built (and with it off), after
retention dropped the old minutes, with --service, --team and --env.
Tailer parts (part, part_end) are sent on the wire as the access-log
tailer sends them: a resend with a larger part_end replaces the part,
anything else is ignored.  Bad import lines are refused with their exact
reason."""
import json
import math
import os
import random
import subprocess
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from harness import WIRE_SEND, Cluster, check, check_eq, fail, run, wait_for

ENV = dict(os.environ, USER="health-test")
NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
THIS_MONTH = NOW.replace(day=1, hour=0, minute=0)
# A day in the month three months back: its minutes are dropped by
# request_minute_days = 40 (a month is dropped once it ended that long ago).
OLD = (THIS_MONTH - timedelta(days=80)).replace(day=10)
# Yesterday: kept.
RECENT = (NOW - timedelta(days=1)).replace(hour=0, minute=0)
TEAMS = """  teams = ( { name = "shop"; members = 2; hours_per_week = 40.0;
                services = [ "web", "api" ]; } );
"""


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- SPEC §12.2, independently -------------------------------------------

def upper_us(v):
    """The upper value of v's bucket."""
    s = max(0, v.bit_length() - 1 - 6)
    return (((v >> s) + 1) << s) - 1


def ms_to_us(text):
    """Whole µs from decimal milliseconds, half up (§14.1)."""
    return int((Decimal(text) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percentile_ms(buckets, q):
    """Nearest rank ceil(q n) over merged buckets {upper: count}."""
    n = sum(buckets.values())
    if n == 0:
        return None
    rank = math.ceil(Decimal(q) * n)   # exact
    cum = 0
    for u in sorted(buckets):
        cum += buckets[u]
        if cum >= rank:
            return Decimal(u) / 1000
    fail("rank beyond the buckets")


def expected(records, since, until, services):
    """The rows of opspulse health: services (with data ever), over the
    records whose minute is in [since, until)."""
    rows = []
    for svc in sorted(services):
        sums = {"requests": 0, "errors": 0, "timed": 0}
        buckets, per_minute = {}, {}
        for r in records:
            if r["service"] != svc or not (since <= r["minute_t"] < until):
                continue
            for k in sums:
                sums[k] += r[k]
            for u, n in r["buckets"].items():
                buckets[u] = buckets.get(u, 0) + n
            per_minute[r["minute_t"]] = per_minute.get(r["minute_t"], 0) + r["requests"]
        rows.append({
            "service": svc, **sums,
            "error_rate": sums["errors"] / sums["requests"] if sums["requests"] else None,
            "latency_p50_ms": percentile_ms(buckets, "0.5"),
            "latency_p95_ms": percentile_ms(buckets, "0.95"),
            "latency_p99_ms": percentile_ms(buckets, "0.99"),
            "peak_requests_per_minute": max(per_minute.values()) if per_minute else None,
        })
    return rows


# ---- the dataset -----------------------------------------------------------

LATENCY_TEXTS = ["0.0005", "0.0004", "0.127", "0.128", "1.2345", "12.5", "12.4995", "48",
                 "480", "2500.75", "0.0015", "99.9999"]


def make_record(rng, svc, host, minute, env="production"):
    requests = rng.randint(1, 400)
    pairs, left = [], requests
    for _ in range(rng.randint(0, 5)):
        if left == 0:
            break
        text = rng.choice(LATENCY_TEXTS + ["%d.%03d" % (rng.randint(0, 3000),
                                                        rng.randint(0, 999))])
        n = rng.randint(1, left)
        pairs.append((text, n))
        left -= n
    buckets = {}
    for text, n in pairs:
        u = upper_us(ms_to_us(text))
        buckets[u] = buckets.get(u, 0) + n
    return {"service": svc, "host": host, "env": env, "minute_t": minute,
            "requests": requests, "errors": rng.randint(0, requests // 3),
            "timed": sum(n for _, n in pairs), "pairs": pairs, "buckets": buckets}


def import_line(r):
    """The import line of record r; durations as JSON numbers or strings."""
    lat = [[float(t) if i % 2 == 0 else t, n] for i, (t, n) in enumerate(r["pairs"])]
    return json.dumps({"type": "requests", "service": r["service"], "host": r["host"],
                       "env": r["env"], "minute": iso(r["minute_t"]),
                       "requests": r["requests"], "errors": r["errors"],
                       "latency_ms": lat})


def dataset():
    """Records over 09:00-11:59 of OLD and RECENT, some minutes in two
    parts; 'gone' has data only on OLD; 'stage' only in staging."""
    rng = random.Random(1512)
    out = []
    for day in (OLD, RECENT):
        for m in range(9 * 60, 12 * 60):
            minute = day + timedelta(minutes=m)
            for svc, host in (("web", "h1"), ("web", "h2"), ("api", "h1"), ("batch", "h3")):
                if rng.random() < 0.15:
                    continue
                out.append(make_record(rng, svc, host, minute))
                if rng.random() < 0.2:   # a second part of the same minute
                    out.append(make_record(rng, svc, host, minute))
            if day is OLD and m % 10 == 0:
                out.append(make_record(rng, "gone", "h9", minute))
            if m % 15 == 0:
                out.append(make_record(rng, "stage", "s1", minute, env="staging"))
    # Eleven requests in eleven buckets: the nearest rank ceil(q n) and not
    # floor or round (5.5, 10.45, 10.89) picks the bucket.
    pairs = [(str(ms), 1) for ms in range(1, 12)]
    out.append({"service": "rank", "host": "h1", "env": "production",
                "minute_t": RECENT + timedelta(hours=10, minutes=20), "requests": 11,
                "errors": 0, "timed": 11, "pairs": pairs,
                "buckets": {upper_us(ms_to_us(t)): n for t, n in pairs}})
    return out


def dedupe(records):
    """Two parts with the same content are one record (stored once)."""
    seen, out = set(), []
    for r in records:
        key = (r["service"], r["host"], r["env"], r["minute_t"], r["requests"], r["errors"],
               tuple(sorted(r["buckets"].items())))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


# ---- comparing ---------------------------------------------------------------

def health(c, since, until, *args):
    r = c.cli("health", "--since", iso(since), "--until", iso(until), "--format", "json",
              *args)
    try:
        return json.loads(r.stdout, parse_float=Decimal)["rows"]
    except ValueError:
        fail("opspulse health printed invalid JSON: %r" % r.stdout[:300])


def health_sql(c, since, until, rollups):
    out = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", c.conninfo, "-c",
         "SET opspulse.rollups = '%s'; SELECT coalesce(json_agg(h), '[]') FROM "
         "opspulse.health('%s', '%s') h" % (rollups, iso(since), iso(until))],
        capture_output=True, text=True)
    if out.returncode != 0:
        fail("psql: %s" % out.stderr)
    return json.loads(out.stdout, parse_float=Decimal)


def same_rows(got, want, what):
    check_eq(len(got), len(want), "%s: rows %r" % (what, [g.get("service") for g in got]))
    for g, w in zip(got, want):
        check_eq(sorted(g), sorted(w), "%s: fields" % what)
        for k in w:
            gv, wv = g[k], w[k]
            if k == "error_rate" and wv is not None:
                gv = float(gv)
            elif isinstance(gv, Decimal) and wv is not None:
                wv = Decimal(wv)
            check_eq(gv, wv, "%s: %s of %s" % (what, k, w["service"]))


def windows():
    """Whole hours, windows cutting minutes and hours, one day, a window
    with no data, and everything."""
    return [
        (OLD + timedelta(hours=9), OLD + timedelta(hours=12), True),
        (OLD + timedelta(hours=10), OLD + timedelta(hours=11), True),
        (OLD + timedelta(hours=9, minutes=31, seconds=30),
         OLD + timedelta(hours=11, minutes=17, seconds=1), False),
        (RECENT + timedelta(hours=9, minutes=5), RECENT + timedelta(hours=11, minutes=59), False),
        (RECENT + timedelta(hours=10, minutes=0, seconds=59),
         RECENT + timedelta(hours=10, minutes=1), False),
        (RECENT, RECENT + timedelta(days=1), True),
        (RECENT + timedelta(hours=13), RECENT + timedelta(hours=20), True),
        (OLD - timedelta(days=1), NOW, True),
    ]


def check_windows(c, records, what, only_whole_hours=False):
    prod = [r for r in records if r["env"] == "production"]
    services = {r["service"] for r in prod}
    n = 0
    for since, until, whole in windows():
        if only_whole_hours and not whole:
            continue
        w = "%s [%s, %s)" % (what, iso(since), iso(until))
        same_rows(health(c, since, until), expected(prod, since, until, services), w)
        n += 1
    since, until = OLD - timedelta(days=1), NOW
    same_rows(health(c, since, until, "--service", "web", "--service", "gone"),
              expected(prod, since, until, {"web", "gone"}), what + " --service")
    same_rows(health(c, since, until, "--team", "shop"),
              expected(prod, since, until, {"web", "api"}), what + " --team")
    stage = [r for r in records if r["env"] == "staging"]
    same_rows(health(c, since, until, "--env", "staging"),
              expected(stage, since, until, {"stage"}), what + " --env staging")
    return n


# Rows whose key (computed by the aggregator in C) is not the SQL one.
KEYS_DIFFER = ("SELECT count(*) FROM request_minutes WHERE content_key <> "
               "opspulse.request_minute_key(service, env, host, minute, part, part_end, "
               "requests, errors, timed, latency_upper, latency_count)")


def dirty_hours(c):
    return int(c.scalar("SELECT count(*) FROM request_hours_dirty"))


def test_health_matches_independent_computation():
    with Cluster("health") as c:
        c.write_confs(TEAMS)
        c.start()
        records = dataset()
        lines = [import_line(r) for r in records]
        path = c.write("requests.jsonl", "\n".join(lines) + "\n")
        c.agent("import", path, env=ENV)
        # The same file again: every record is stored once.
        c.agent("import", path, env=ENV)
        # Two records through the command; one of them twice.
        cmd = make_record(random.Random(7), "api", "h7", RECENT + timedelta(hours=10, minutes=3))
        args = ["requests", "record", "--service", "api", "--host", "h7",
                "--minute", iso(cmd["minute_t"]), "--requests", str(cmd["requests"]),
                "--errors", str(cmd["errors"])]
        for text, n in cmd["pairs"]:
            args += ["--latency-ms", "%s:%d" % (text, n)]
        c.agent(*args, env=ENV)
        c.agent(*args, env=ENV)
        records.append(cmd)
        c.flush()
        records = dedupe(records)
        check_eq(int(c.scalar("SELECT count(*) FROM request_minutes")), len(records),
                 "stored parts (each once)")
        check_eq(c.scalar(KEYS_DIFFER), "0", "content keys computed in C and in SQL agree")

        # Straight from the minutes, then from the rollup once built.
        prod = [r for r in records if r["env"] == "production"]
        services = {r["service"] for r in prod}
        for since, until, _ in windows():
            same_rows(health_sql(c, since, until, "off"), expected(prod, since, until, services),
                      "rollups off [%s, %s)" % (iso(since), iso(until)))
        wait_for(lambda: dirty_hours(c) == 0, 60, "the hourly rollup to be refreshed")
        check(int(c.scalar("SELECT count(*) FROM request_hours")) >= 12, "hours rolled up")
        n = check_windows(c, records, "with the rollup")
        check(n >= 8, "compared %d windows" % n)

        # The CLI reads the rollup: a planted change to one hour shows.
        hour = iso(OLD + timedelta(hours=10))
        c.sql("UPDATE request_hours SET requests = requests + 1000000 "
              "WHERE service = 'web' AND hour = '%s'" % hour)
        got = health(c, OLD + timedelta(hours=10), OLD + timedelta(hours=11))
        want = expected(prod, OLD + timedelta(hours=10), OLD + timedelta(hours=11), services)
        check_eq([g["requests"] for g in got if g["service"] == "web"],
                 [w["requests"] + 1000000 for w in want if w["service"] == "web"],
                 "planted rollup change read")
        c.sql("UPDATE request_hours SET requests = requests - 1000000 "
              "WHERE service = 'web' AND hour = '%s'" % hour)

        # A late record into a rolled-up hour: read from the minutes until
        # the refresh, and right both ways.
        late = make_record(random.Random(9), "web", "h5", OLD + timedelta(hours=10, minutes=30))
        c.agent("import", c.write("late.jsonl", import_line(late) + "\n"), env=ENV)
        c.flush()
        records.append(late)
        check_windows(c, records, "after a late record")
        wait_for(lambda: dirty_hours(c) == 0, 60, "the late hour to be refreshed")
        check_windows(c, records, "after its refresh")

        # Retention: the old month's minutes go, its hours answer.
        c.aggregators[0].stop()
        c.write_confs(TEAMS + "  request_minute_days = 40;\n  request_rollup_days = 400;\n")
        c.start_aggregator(0)
        old_minutes = "SELECT count(*) FROM request_minutes WHERE minute < '%s'" % iso(
            THIS_MONTH - timedelta(days=31))
        wait_for(lambda: c.scalar(old_minutes) == "0", 60, "retention to drop old minutes")
        check(int(c.scalar("SELECT count(*) FROM request_minutes")) > 0, "recent minutes kept")
        check_windows(c, records, "after minute retention", only_whole_hours=True)


def test_tailer_parts_replace_only_when_longer():
    with Cluster("healthparts").start() as c:
        minute = int((NOW - timedelta(hours=2)).timestamp()) * 1000000
        minute -= minute % 60000000

        def send(part, end, requests, errors, *buckets):
            r = subprocess.run([WIRE_SEND, c.addresses[0], "requests", "tail", "h1", str(minute),
                                part, str(end), str(requests), str(errors)] + list(buckets),
                               capture_output=True, text=True, timeout=60)
            check(r.stdout.startswith("ack"), "wire_send: %r %r" % (r.stdout, r.stderr))

        def row():
            got = health(c, NOW - timedelta(hours=3), NOW)
            check_eq([g["service"] for g in got], ["tail"], "rows")
            return [got[0]["requests"], got[0]["errors"], got[0]["timed"],
                    got[0]["latency_p99_ms"]]

        send("src:1:0", 100, 5, 1, "1023:2")
        check_eq(row(), [5, 1, 2, Decimal("1.023")], "first part")
        send("src:1:0", 200, 8, 2, "1023:2", "2047:3")
        check_eq(row(), [8, 2, 5, Decimal("2.047")], "the part re-read over a longer range")
        send("src:1:0", 150, 6, 0, "127:1")
        send("src:1:0", 200, 6, 0, "127:1")
        check_eq(row(), [8, 2, 5, Decimal("2.047")], "shorter or equal resends ignored")
        send("src:1:200", 300, 2, 0)
        send("src:2:0", 40, 3, 3, "4095:3")
        check_eq(row(), [13, 5, 8, Decimal("4.095")], "other parts add up")
        check_eq(c.scalar("SELECT count(*) FROM request_minutes"), "3", "one row per part")
        check_eq(c.scalar(KEYS_DIFFER), "0", "a named part's key is all zeros, in C and SQL")


def test_bad_requests_lines():
    with Cluster("healthbad").start() as c:
        m = iso(NOW - timedelta(hours=1))
        bad = [
            ('{"type":"requests","service":"x","minute":"%s","requests":5,"errors":6}' % m,
             "errors is larger than requests"),
            ('{"type":"requests","service":"x","minute":"%s","requests":5,"errors":0,'
             '"latency_ms":[[12.5,4],[3,2]]}' % m,
             "the latency counts add up to more than requests"),
            ('{"type":"requests","service":"x","minute":"%s","requests":5,"errors":0,'
             '"latency_ms":[["12,5",1]]}' % m,
             "latency '12,5' is not a duration in milliseconds; write digits with at most "
             "one '.', such as 12.5 (at most 31 days)"),
            ('{"type":"requests","service":"x","minute":"%s","requests":5,"errors":0,'
             '"latency_ms":[[12.5,0]]}' % m,
             "latency_ms must be an array of [milliseconds, count] pairs such as "
             "[[12.5,1100],[480,97]], each count a positive integer"),
            ('{"type":"requests","service":"x","minute":"%s","requests":5,"errors":0,'
             '"latency_ms":{"12.5":1}}' % m,
             "latency_ms must be an array of [milliseconds, count] pairs such as "
             "[[12.5,1100],[480,97]]"),
            ('{"type":"requests","service":"x","minute":"%s","requests":5,"errors":0,'
             '"latency_ms":[[-1,1]]}' % m,
             "latency '-1' is not a duration in milliseconds; write digits with at most "
             "one '.', such as 12.5 (at most 31 days)"),
            ('{"type":"requests","service":"x","minute":"%s","requests":-5,"errors":0}' % m,
             "requests must be a non-negative integer"),
            ('{"type":"requests","service":"x","requests":5,"errors":0}',
             "minute is missing; requests takes minute*, requests*, errors*, latency_ms "
             "(* required)"),
            ('{"type":"requests","service":"x","minute":"%s","requests":5,"errors":0,'
             '"latency":[]}' % m,
             'unknown field "latency" for requests; requests takes minute*, requests*, '
             'errors*, latency_ms (* required) and service, env, host, operator'),
        ]
        odd = (NOW - timedelta(hours=1)).replace(second=30)
        path = c.write("bad.jsonl", "\n".join(l for l, _ in bad) + "\n")
        r = c.agent("import", path, check_rc=False, env=ENV)
        check_eq(r.returncode, 1, "exit status")
        got = [l for l in r.stderr.splitlines() if l.startswith(path + ":")]
        check_eq(got, ["%s:%d: %s" % (path, i + 1, why) for i, (_, why) in enumerate(bad)],
                 "the reasons")
        r = c.agent("requests", "record", "--service", "x", "--minute", iso(odd),
                    "--requests", "1", "--errors", "0", check_rc=False, env=ENV)
        check_eq(r.returncode, 1, "a minute with seconds is refused")
        check("minute must be the start of a UTC minute" in r.stderr, r.stderr)
        r = c.agent("requests", "record", "--service", "x", "--minute", m, "--requests", "1",
                    "--errors", "0", "--latency-ms", "5", check_rc=False, env=ENV)
        check_eq(r.returncode, 1, "a latency without a count is refused")
        check_eq(r.stderr.splitlines()[0],
                 "opspulse-agent: --latency-ms '5' must be MILLISECONDS:COUNT, such as 12.5:1100",
                 "the reason")
        c.flush()
        check_eq(c.scalar("SELECT count(*) FROM request_minutes"), "0", "nothing stored")


if __name__ == "__main__":
    run([test_health_matches_independent_computation, test_tailer_parts_replace_only_when_longer,
         test_bad_requests_lines])
