#!/usr/bin/env bash
# Times `opspulse health` (opspulse.health) over 28 days of per-minute
# request rows for 200 services x 2 hosts (SPEC §10 and issue 15: <= 1 s).
#
# Starts a private PostgreSQL 15, migrates a database with the built
# aggregator and generates the minutes with SQL (bench/lib_pg.sh: one
# statement per UTC day, about 16M rows, 16 latency buckets each, drawn
# from 64 histogram shapes so that hours and days merge a hundred or so
# distinct buckets per service), rolling each day's hours and the day up
# with the aggregator's own functions as it goes.  --data DIR keeps the
# database under DIR's name: a later run with the same DIR (and sizes)
# skips the generation and only re-applies the functions and queries.
# Then it runs the query three times in one session, printing the median
# wall time as psql measures it (once for the baseline): over the last 28
# days (edges cutting minutes and hours, as the CLI's default window
# does), over one service, and over one day.
# The baseline, in the same run: the same windows with the rollup off
# (SET opspulse.rollups = off), every minute read.  Other work on the
# machine skews the figures: the load average is printed with them.
#
# usage: bench/health.sh [--build DIR] [--days N] [--services N] [--data DIR] [--keep]
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

# Median of three runs (one with the rollup off: it reads every minute),
# in ms, of one query in one session; the first time psql prints is the
# SET's.
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
        sed -n "$(((runs + 1) / 2))p"
}

# The CLI's default window: the 28 days before now, to the second.
now=$(date -u -d "$until_ts - 17 minutes + 23 seconds" +%Y-%m-%dT%H:%M:%SZ)
since=$(date -u -d "$now - $days days" +%Y-%m-%dT%H:%M:%SZ)
day_since=$(date -u -d "$now - 1 day" +%Y-%m-%dT%H:%M:%SZ)
queries=(
    "health, $days days|SELECT * FROM opspulse.health(:since, :until)|$since"
    "health --service (1)|SELECT * FROM opspulse.health(:since, :until, 'production', '{svc-007}')|$since"
    "health, 1 day|SELECT * FROM opspulse.health(:since, :until)|$day_since"
)
echo
echo "opspulse health: $rows minute rows ($services services x 2 hosts x $days days), $hours hourly rollup rows"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores;" \
    "rolled up in $rollup_s s (opspulse.request_hours_compute, request_days_compute)"
echo
printf '| %-26s | %14s | %16s | %9s |\n' "query" "rollup (ms)" "minutes only (ms)" "speed-up"
printf '| %-26s | %14s | %16s | %9s |\n' "---" "---:" "---:" "---:"
worst=0
for q in "${queries[@]}"; do
    IFS='|' read -r name sql from <<<"$q"
    r=$(time_query "$sql" "$from" "$now")
    b=$(time_query "$sql" "$from" "$now" off)
    printf '| %-26s | %14s | %16s | %8.1fx |\n' "$name" "$r" "$b" \
        "$(python3 -c "print($b / max($r, 0.001))")"
    worst=$(python3 -c "print(max($worst, $r))")
done
echo
echo "slowest with the rollup: $worst ms (target: 1000 ms);" \
    "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ $keep = 1 ]; then
    echo "server kept: PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=postgres PGDATABASE=bench psql" >&2
    echo "stop it with: . scripts/lib/pg.sh; pg_stop $state/pg" >&2
fi
