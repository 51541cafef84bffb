#!/usr/bin/env bash
# Times every indicator function over about 2M events, 200 services and a
# year of history (SPEC §10: each indicator <= 1 s, the report <= 3 s).
#
# Starts a private PostgreSQL 15 in a scratch directory, migrates a database
# with the built aggregator, generates the history with SQL
# (bench/indicators_data.sql), rolls up its closed months as the aggregator
# does (opspulse.refresh_rollups), then runs each function three times in
# one session over two windows -- the default 28 days and the whole year --
# and prints the median wall time of each as psql measures it (\timing:
# planning, execution and the transfer of the rows).  The baseline, in the
# same run: the year with the rollups off (SET opspulse.rollups = off), so
# that every function reads the events.  Then the whole review report
# through a real aggregator's GET /report, with and without rollups.  Other
# work on the machine skews the figures: the load average is printed with
# them.
#
# usage: bench/indicators.sh [--build DIR] [--without-indexes] [--keep]
#   --build DIR         build directory with the aggregator (default: build)
#   --without-indexes   drop the indexes of the indicator migration first,
#                       to measure what they buy
#   --keep              leave the server running and print how to reach it
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=$root/build
with_indexes=1
keep=0
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --without-indexes) with_indexes=0; shift ;;
    --keep) keep=1; shift ;;
    *) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 1 ;;
    esac
done
aggregator=$build/aggregator/opspulse-aggregator
[ -x "$aggregator" ] || { echo "bench: no $aggregator; build first (or pass --build DIR)" >&2; exit 1; }

. bench/lib_pg.sh
bench_db_start

until_ts='2026-10-01T00:00:00Z'
echo "generating the history (about 2M events) ..." >&2
t0=$(date +%s)
psql -X -q -v ON_ERROR_STOP=1 -v until="$until_ts" -f bench/indicators_data.sql
# Into monthly partitions, as the aggregator's maintenance leaves them.
psql -X -q -c "SELECT * FROM opspulse.maintain_partitions(0)" >/dev/null
psql -X -q -c "VACUUM ANALYZE"
echo "generated in $(( $(date +%s) - t0 )) s" >&2
t0=$(date +%s.%N)
months=0
while n=$(psql -X -At -c "SELECT opspulse.refresh_rollups(4)") && [ "$n" -gt 0 ]; do
    months=$((months + n))
done
psql -X -q -c "VACUUM ANALYZE"
rollup_s=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))")
if [ $with_indexes = 0 ]; then
    psql -X -q -At -c "SELECT indexname FROM pg_indexes WHERE schemaname = 'opspulse' AND indexname LIKE 'ix\_%'" |
        while read -r ix; do psql -X -q -c "DROP INDEX opspulse.$ix"; done
fi

events=$(psql -X -At -c "SELECT (SELECT count(*) FROM opspulse.deploys) + (SELECT count(*) FROM opspulse.deploy_failures)
  + (SELECT count(*) FROM opspulse.toil) + (SELECT count(*) FROM opspulse.batch_runs)
  + (SELECT count(*) FROM opspulse.alerts) + (SELECT count(*) FROM opspulse.components)
  + (SELECT count(*) FROM opspulse.maintenance) + (SELECT count(*) FROM opspulse.capacity)")

# name | SQL with :since and :until
queries=(
    "dora|SELECT * FROM opspulse.dora(:since, :until, 'production', NULL)"
    "toil|SELECT * FROM opspulse.toil(:since, :until)"
    "toil --by task|SELECT * FROM opspulse.toil_by_task(:since, :until)"
    "toil --by team|SELECT * FROM opspulse.toil_by_team(:since, :until)"
    "alerts|SELECT * FROM opspulse.alerts(:since, :until)"
    "alerts --by rule|SELECT * FROM opspulse.alerts_by_rule(:since, :until)"
    "eol|SELECT * FROM opspulse.eol(:since, :until)"
    "maintenance|SELECT * FROM opspulse.maintenance(:since, :until)"
    "capacity|SELECT * FROM opspulse.capacity(:since, :until)"
    "batches|SELECT * FROM opspulse.batches(:since, :until)"
    "scorecard|SELECT * FROM opspulse.scorecard(:since, :until)"
    "services|SELECT * FROM opspulse.service_list(:since, :until)"
    "agents|SELECT * FROM opspulse.agents()"
    "dora --service (1)|SELECT * FROM opspulse.dora(:since, :until, 'production', '{svc-007}')"
    "toil --team (10 services)|SELECT * FROM opspulse.toil(:since, :until, 'production', NULL, 'team-03')"
)

# Median of three runs, in ms, of one query in one session; rollups on
# or off.  The first time psql prints is the SET's, not a run.
time_query() {
    local sql=$1 since=$2 rollups=${3:-on}
    {
        printf '\\timing on\n\\o /dev/null\nSET opspulse.rollups = %s;\n' "$rollups"
        for _ in 1 2 3; do
            printf '%s;\n' "$sql"
        done
    } | psql -X -q -v ON_ERROR_STOP=1 -v since="'$since'::timestamptz" \
        -v until="'$until_ts'::timestamptz" |
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2 | sort -n | sed -n 2p
}

month_since=$(date -u -d "$until_ts - 28 days" +%Y-%m-%dT%H:%M:%SZ)
year_since=$(date -u -d "$until_ts - 365 days" +%Y-%m-%dT%H:%M:%SZ)
echo
echo "Indicator queries: $events events, 200 services, $year_since to $until_ts"
echo "indexes: $([ $with_indexes = 1 ] && echo yes || echo 'dropped (--without-indexes)');" \
    "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
echo "rolled up $months months in $rollup_s s (opspulse.refresh_rollups, as the aggregator does)"
echo
printf '| %-26s | %12s | %13s | %20s | %9s |\n' "indicator" "28 days (ms)" "365 days (ms)" \
    "365 days, events (ms)" "speed-up"
printf '| %-26s | %12s | %13s | %20s | %9s |\n' "---" "---:" "---:" "---:" "---:"
worst=0
for q in "${queries[@]}"; do
    name=${q%%|*}
    sql=${q#*|}
    m=$(time_query "$sql" "$month_since")
    y=$(time_query "$sql" "$year_since")
    b=$(time_query "$sql" "$year_since" off)
    printf '| %-26s | %12s | %13s | %20s | %8.1fx |\n' "$name" "$m" "$y" "$b" \
        "$(python3 -c "print($b / max($y, 0.001))")"
    worst=$(python3 -c "print(max($worst, $m, $y))")
done
echo
echo "slowest with rollups: $worst ms (target: 1000 ms);" \
    "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# The whole review report (SPEC §10: <= 3 s), through a real aggregator's
# GET /report: every query of the page, rendering and transfer.  The
# aggregator is configured with the generated teams, so that its teams
# sync leaves them (and the rollups' time zones) as they are.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http=$(free_port)
teams=$(psql -X -At -c "SELECT string_agg(format('{ name = \"%s\"; members = %s; hours_per_week = %s; timezone = \"%s\"; services = [ %s ]; }',
    name, members, hours_per_week, timezone,
    (SELECT string_agg(format('\"%s\"', s), ', ') FROM unnest(services) s)), ', ' ORDER BY position)
  FROM opspulse.teams")
printf 'aggregator = { listen = [ "tcp://127.0.0.1:%s" ]; database = "%s"; http = "127.0.0.1:%s"; tls = { insecure = true; }; teams = ( %s ); };\n' \
    "$(free_port)" "$(pg_conninfo "$state/pg" "$port" bench)" "$http" "$teams" >"$state/serve.conf"
agg_pid=
start_aggregator() {
    "$aggregator" -c "$state/serve.conf" serve 2>>"$state/serve.log" &
    agg_pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/healthz" >/dev/null && break; sleep 0.1; done
    # Its configuration must leave the rollups current, or the report
    # would be timed while they are recomputed.
    stale=$(psql -X -At -c "SELECT count(*) FROM opspulse.rollup_ready
      WHERE zones <> opspulse.rollup_zones() OR noise_minutes <> opspulse.rollup_noise()")
    [ "$stale" = 0 ] || { echo "bench: the aggregator's configuration made $stale rolled-up months stale" >&2; exit 1; }
}
trap 'kill $agg_pid 2>/dev/null; cleanup' EXIT INT TERM
time_report() {
    for _ in 1 2 3; do
        curl -s -o /dev/null -w '%{time_total} %{size_download}\n' \
            "http://127.0.0.1:$http/report?since=$1&until=$until_ts"
    done | sort -n | sed -n 2p
}
ms() { python3 -c "print(round($1 * 1000))"; }
start_aggregator
read -r m mb < <(time_report "$month_since")
read -r y yb < <(time_report "$year_since")
kill $agg_pid; wait $agg_pid 2>/dev/null || true
# The baseline: the same aggregator with the rollups off for its sessions.
psql -X -q -c "ALTER DATABASE bench SET opspulse.rollups = off"
start_aggregator
read -r b _ < <(time_report "$year_since")
kill $agg_pid; wait $agg_pid 2>/dev/null || true
psql -X -q -c "ALTER DATABASE bench RESET opspulse.rollups"
echo
printf '| %-26s | %12s | %13s | %20s | %9s |\n' "review report (/report)" "28 days (ms)" \
    "365 days (ms)" "365 days, events (ms)" "speed-up"
printf '| %-26s | %12s | %13s | %20s | %9s |\n' "---" "---:" "---:" "---:" "---:"
printf '| %-26s | %12s | %13s | %20s | %8.1fx |\n' "median of 3" "$(ms "$m")" "$(ms "$y")" \
    "$(ms "$b")" "$(python3 -c "print($b / $y)")"
echo "page size: $mb bytes (28 days), $yb bytes (365 days); target: 3000 ms"
if [ $keep = 1 ]; then
    echo "server kept: PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=postgres PGDATABASE=bench psql" >&2
    echo "stop it with: . scripts/lib/pg.sh; pg_stop $state/pg" >&2
fi
