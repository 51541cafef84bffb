#!/usr/bin/env bash
# Times `opspulse slo` (opspulse.slo) over 28 days of per-minute request
# rows for 200 services x 2 hosts (SPEC §10: <= 1 s), with an availability
# (99.9) and a latency (30 ms at 99: the threshold cuts through the
# generated histograms, so every row has slow requests to count) objective
# per service and five production deploys per service, so that
# deploys_while_exhausted reads a trailing 28-day budget per deploy.
#
# The data is generated as bench/health.sh generates it (bench/lib_pg.sh:
# one statement per UTC day, about 16M minute rows, each day's hourly and
# daily rollups built with the aggregator's functions).  --data DIR keeps
# the database under DIR: a later run with the same DIR and sizes skips
# the generation, re-applies the functions of the build and only queries.
# Each query runs three times in one session and
# the median wall time as psql measures it is printed; the baseline, in the
# same run, is the same query with the rollups off (SET opspulse.rollups
# = off: every minute read), run once.  Windows end 17 min 23 s after a
# minute, as the CLI's default window does, so their edges cut minutes,
# hours and days.  Other work on the machine skews the figures: the load
# average is printed with them.
#
# usage: bench/slo.sh [--build DIR] [--days N] [--services N] [--data DIR] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=$root/build
days=28
services=200
keep=0
data=
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --days) days=$2; shift 2 ;;
    --services) services=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 1 ;;
    esac
done
aggregator=$build/aggregator/opspulse-aggregator
[ -x "$aggregator" ] || { echo "bench: no $aggregator; build first (or pass --build DIR)" >&2; exit 1; }

. bench/lib_pg.sh
bench_db_start

bench_request_minutes

# The objectives (as aggregator.slos would write them) and the deploys,
# written again on every run (a reused database keeps its minutes).
psql -X -q -v ON_ERROR_STOP=1 <<SQL
SELECT opspulse.sync_slos(array_agg(s ORDER BY s, o), array_agg(o ORDER BY s, o),
                          array_agg(CASE o WHEN 'latency' THEN '99' ELSE '99.9' END ORDER BY s, o),
                          array_agg(CASE o WHEN 'latency' THEN '30' END ORDER BY s, o), 28)
FROM (SELECT 'svc-' || lpad(s::text, 3, '0') AS s FROM generate_series(1, $services) s) x
CROSS JOIN (VALUES ('availability'), ('latency')) v(o)
\\g /dev/null
DELETE FROM opspulse.deploys WHERE agent_id = 'bench';
INSERT INTO opspulse.deploys (service, env, deploy_id, host, agent_id, started_at,
                              finished_at, outcome)
SELECT 'svc-' || lpad(s::text, 3, '0'), 'production', 'd-' || i, 'web-1', 'bench',
       f - interval '5 minutes', f, 'success'
FROM generate_series(1, $services) s, generate_series(1, 5) i,
     LATERAL (SELECT '$until_ts'::timestamptz - make_interval(days => i * 5, mins => s) AS f) t;
ANALYZE;
SQL

# Median of three runs (one with the rollup off: it reads every minute),
# in ms, of one query in one session.
time_query() {
    local sql=$1 since=$2 until=$3 rollups=${4:-on} runs=3
    [ "$rollups" = on ] || runs=1
    {
        printf '\\timing on\n\\o /dev/null\nSET opspulse.rollups = %s;\n' "$rollups"
        for _ in $(seq $runs); do
            printf '%s;\n' "$sql"
        done
    } | psql -X -q -v ON_ERROR_STOP=1 -v since="'$since'::timestamptz" \
        -v until="'$until'::timestamptz" |
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2 | sort -n |
        sed -n "$(((runs + 1) / 2))p"   # the first time is the SET's
}

# The CLI's default window: the 28 days before now, to the second.
now=$(date -u -d "$until_ts - 17 minutes + 23 seconds" +%Y-%m-%dT%H:%M:%SZ)
since=$(date -u -d "$now - $days days" +%Y-%m-%dT%H:%M:%SZ)
day_since=$(date -u -d "$now - 1 day" +%Y-%m-%dT%H:%M:%SZ)
# name|query|since|whether to run the baseline: reading every minute of
# every service for 28 days and again for each deploy's trailing budget
# takes many minutes, so the all-service 28-day rows have none.
queries=(
    "slo, $days days|SELECT * FROM opspulse.slo(:since, :until)|$since|no"
    "slo --by month|SELECT * FROM opspulse.slo_by_month(:since, :until)|$since|no"
    "slo --service (1)|SELECT * FROM opspulse.slo(:since, :until, 'production', '{svc-007}')|$since|yes"
    "slo, 1 day|SELECT * FROM opspulse.slo(:since, :until)|$day_since|yes"
)
objectives=$(psql -X -At -c "SELECT count(*) FROM opspulse.slos")
echo
echo "opspulse slo: $rows minute rows ($services services x 2 hosts x $days days), $hours hourly rollup rows, $objectives objectives, $((services * 5)) deploys"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores;" \
    "rolled up in $rollup_s s (opspulse.request_hours_compute, request_days_compute)"
echo
printf '| %-26s | %14s | %16s | %9s |\n' "query" "rollup (ms)" "minutes only (ms)" "speed-up"
printf '| %-26s | %14s | %16s | %9s |\n' "---" "---:" "---:" "---:"
worst=0
for q in "${queries[@]}"; do
    IFS='|' read -r name sql from base <<<"$q"
    r=$(time_query "$sql" "$from" "$now")
    if [ "$base" = yes ]; then
        b=$(time_query "$sql" "$from" "$now" off)
        printf '| %-26s | %14s | %16s | %8.1fx |\n' "$name" "$r" "$b" \
            "$(python3 -c "print($b / max($r, 0.001))")"
    else
        printf '| %-26s | %14s | %16s | %9s |\n' "$name" "$r" "not run" "-"
    fi
    worst=$(python3 -c "print(max($worst, $r))")
done
echo
echo "slowest with the rollups: $worst ms (target: 1000 ms);" \
    "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ $keep = 1 ]; then
    echo "server kept: PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=postgres PGDATABASE=bench psql" >&2
    echo "stop it with: . scripts/lib/pg.sh; pg_stop $state/pg" >&2
fi
