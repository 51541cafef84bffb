# Sourced by the bench scripts that time SQL indicator queries: a private
# PostgreSQL with a migrated OpsPulse database, and generated request
# minutes.  The caller sets build, keep and aggregator, data (optional, see
# bench_db_start), and days and services for bench_request_minutes.

# Starts PostgreSQL and exports the PG* variables psql needs, with the
# database "bench" migrated by the built aggregator (every run: functions
# changed since are re-applied).  Without $data the server lives in a
# scratch directory ($state), deleted on exit unless keep=1.  With
# data=DIR it lives under DIR's name, is stopped on exit (unless keep=1)
# and keeps its database, so that a later run with the same DIR reuses
# the generated rows.  This is a query benchmark: the server runs without
# fsync (scripts/lib/pg.sh) and commits asynchronously.
bench_db_start() {
    . scripts/lib/pg.sh
    if [ -n "${data:-}" ]; then
        mkdir -p "$data"
        state=$(cd "$data" && pwd)
    else
        state=$(mktemp -d /tmp/opspulse-bench-XXXXXX)
    fi
    chmod 755 "$state"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cleanup() {
        if [ $keep = 1 ]; then
            return
        elif [ -n "${data:-}" ]; then
            pg_stop "$state/pg"
        else
            pg_destroy "$state/pg"
            rm -rf "$state"
        fi
    }
    trap cleanup EXIT INT TERM

    pg_stop "$state/pg"   # a reused server kept from an earlier run: new port
    pg_start "$state/pg" "$port"
    export PGHOST PGPORT=$port PGUSER=postgres PGDATABASE=bench
    PGHOST=$(pg_socket_dir "$state/pg")
    psql -X -q -d postgres -v ON_ERROR_STOP=1 <<'SQL'
ALTER SYSTEM SET synchronous_commit = off;
ALTER SYSTEM SET maintenance_work_mem = '1GB';
ALTER SYSTEM SET max_wal_size = '8GB';
ALTER SYSTEM SET checkpoint_timeout = '30min';
SELECT pg_reload_conf() \gset
SQL
    if [ -z "$(psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'bench'")" ]; then
        psql -X -q -d postgres -c "CREATE DATABASE bench"
    fi
    printf 'aggregator = { database = "%s"; };\n' "$(pg_conninfo "$state/pg" "$port" bench)" >"$state/aggregator.conf"
    "$aggregator" -c "$state/aggregator.conf" migrate >/dev/null
}

# Fills opspulse.request_minutes with $days days x $services services x 2
# hosts of minutes ending at a whole minute, and the hourly and daily
# rollups, unless the database already holds that size (data=DIR reused):
# then it reads what it needs from public.bench_meta.  Sets until_ts,
# first, rows, rollup_s and hours.
#
# By UTC day (the first and last partial), one transaction each, one
# day per core side by side: the day's minutes in one INSERT with the
# request_minutes triggers off (session_replication_role = replica:
# nothing is marked dirty, every hour is rolled up right after), then that
# day's hours and the day itself with the aggregator's own
# opspulse.request_hours_compute and opspulse.request_days_compute, while
# the minutes are still in memory.  rollup_s is the time of those two,
# summed over the days.
bench_request_minutes() {
local meta
meta=$(psql -X -At -F' ' -c "SELECT to_regclass('public.bench_meta') IS NOT NULL" )
if [ "$meta" = t ]; then
    meta=$(psql -X -At -F' ' -c "SELECT days, services, until_ts, first, rows, rollup_s, hours FROM public.bench_meta")
    read -r m_days m_services until_ts first rows rollup_s hours <<<"$meta"
    if [ "$m_days" != "$days" ] || [ "$m_services" != "$services" ]; then
        echo "bench: $state holds $m_days days x $m_services services, not $days x $services;" \
            "pass those, or another data directory (or delete this one)" >&2
        exit 1
    fi
    echo "reusing $rows minute rows generated earlier in $state" >&2
    return
fi
until_ts=$(date -u +%Y-%m-%dT%H:%M:00Z)
first=$(date -u -d "$until_ts - $days days" +%Y-%m-%dT%H:%M:00Z)
echo "generating $days days x $services services x 2 hosts of minutes ..." >&2
psql -X -q -v ON_ERROR_STOP=1 <<SQL
-- The SPEC §12.2 bucket upper value of v µs.
CREATE FUNCTION public.bench_up(v bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS \$\$
    SELECT CASE WHEN v < 128 THEN v
                ELSE ((((v >> s) + 1) << s) - 1) END
    FROM (SELECT floor(log(2, v::numeric))::int - 6 AS s) x
\$\$;
-- 64 histogram shapes of 16 buckets: 1 ms to about 100 ms, shifted.
CREATE TABLE public.bench_shapes AS
SELECT p, array_agg(u ORDER BY u) AS upper, array_agg(c ORDER BY u) AS count,
       sum(c)::bigint AS timed
FROM (SELECT p, public.bench_up((900 * power(1.33, j) * (1 + (p % 9) / 13.0))::bigint) AS u,
             1 + (p * 7 + j * 3) % 11 AS c
      FROM generate_series(0, 63) p, generate_series(0, 15) j) b
GROUP BY p;
-- The months' partitions first, as the aggregator's maintenance keeps
-- them, so that rows do not go through the default partition.
SELECT opspulse.ensure_partition('request_minutes', m)
FROM generate_series('$first'::timestamptz, '$until_ts'::timestamptz, interval '1 month') m
UNION ALL SELECT opspulse.ensure_partition('request_minutes', '$until_ts'::timestamptz)
\\g /dev/null
-- What the insert trigger would have recorded.
INSERT INTO opspulse.request_services (service, env)
SELECT 'svc-' || lpad(s::text, 3, '0'), 'production' FROM generate_series(1, $services) s
ON CONFLICT DO NOTHING;
SQL
local t_all lo hi n=0 total=$((days + 1)) pids=() p
t_all=$(date +%s)
lo=$first
while [ "$(date -u -d "$lo" +%s)" -lt "$(date -u -d "$until_ts" +%s)" ]; do
    # Up to the next UTC midnight, the last chunk to until_ts.
    hi=$(date -u -d "$(date -u -d "$lo" +%Y-%m-%d) + 1 day" +%Y-%m-%dT00:00:00Z)
    [ "$(date -u -d "$hi" +%s)" -le "$(date -u -d "$until_ts" +%s)" ] || hi=$until_ts
    n=$((n + 1))
    bench_minutes_day "$n/$total" "$lo" "$hi" >"$state/rollup_s.$n" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$(nproc)" ]; then
        wait "${pids[0]}"
        pids=("${pids[@]:1}")
    fi
    lo=$hi
done
for p in "${pids[@]}"; do
    wait "$p"
done
rollup_s=$(cat "$state"/rollup_s.* | python3 -c "import sys; print(round(sum(float(x) for x in sys.stdin), 1))")
rm -f "$state"/rollup_s.*
psql -X -q -c "SELECT * FROM opspulse.maintain_partitions(0)" >/dev/null
echo "vacuuming and analyzing ..." >&2
psql -X -q -c "VACUUM ANALYZE"
rows=$(psql -X -At -c "SELECT count(*) FROM opspulse.request_minutes")
hours=$(psql -X -At -c "SELECT count(*) FROM opspulse.request_hours")
echo "generated $rows rows and their rollups in $(($(date +%s) - t_all)) s" >&2
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE public.bench_meta AS
  SELECT $days AS days, $services AS services, '$until_ts'::text AS until_ts,
         '$first'::text AS first, $rows::bigint AS rows, $rollup_s AS rollup_s,
         $hours::bigint AS hours"
}

# One chunk of bench_request_minutes, [$2, $3) within one UTC day, in one
# transaction; prints the seconds its rollup took.  Chunks run side by
# side, one per core: their minutes, hours and days are disjoint.
bench_minutes_day() {
local t0 r
t0=$(date +%s.%N)
r=$(psql -X -q -At -v ON_ERROR_STOP=1 <<SQL
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO opspulse.request_minutes (service, env, host, minute, part, part_end, requests,
                                      errors, timed, latency_upper, latency_count, agent_id,
                                      content_key)
SELECT 'svc-' || lpad(s::text, 3, '0'), 'production', 'web-' || h,
       g.m, '', 0, sh.timed + (s + g.k) % 5, (s * g.k) % 3, sh.timed, sh.upper, sh.count,
       'bench', gen_random_uuid()
FROM generate_series(1, $services) s
CROSS JOIN generate_series(1, 2) h
CROSS JOIN LATERAL (SELECT m, (extract(epoch FROM m) / 60)::bigint AS k
                    FROM generate_series('$2'::timestamptz, '$3'::timestamptz
                                         - interval '1 minute', interval '1 minute') m) g
JOIN public.bench_shapes sh ON sh.p = (s * 31 + h * 17 + g.k) % 64;
SELECT clock_timestamp() AS rollup_t0 \gset
\o /dev/null
WITH k AS (SELECT 'svc-' || lpad(s::text, 3, '0') AS s, 'production'::text AS e, h
           FROM generate_series(1, $services) s,
                generate_series(date_trunc('hour', '$2'::timestamptz, 'UTC'),
                                '$3'::timestamptz - interval '1 minute', interval '1 hour') h)
SELECT opspulse.request_hours_compute(array_agg(k.s), array_agg(k.e), array_agg(k.h)) FROM k;
SELECT opspulse.request_days_compute(array_agg('svc-' || lpad(s::text, 3, '0')),
                                     array_agg('production'::text),
                                     array_agg(date_trunc('day', '$2'::timestamptz, 'UTC')))
FROM generate_series(1, $services) s;
\o
SELECT round(extract(epoch FROM clock_timestamp() - :'rollup_t0'::timestamptz)::numeric, 2);
COMMIT;
SQL
)
echo "  day $1 (from $2): $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s, of which rollup $r s" >&2
echo "$r"
}
