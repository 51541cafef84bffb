# Sourced by the bench scripts that time SQL indicator queries: a private
# PostgreSQL with a migrated OpsPulse database, and generated request
# minutes.  The caller sets build, keep and aggregator, and days and
# services for bench_request_minutes.

# Starts PostgreSQL in a scratch directory ($state, removed on exit unless
# keep=1), creates the database "bench", migrates it, and exports the PG*
# variables psql needs.
bench_db_start() {
    . scripts/lib/pg.sh
    state=$(mktemp -d /tmp/opspulse-bench-XXXXXX)
    chmod 755 "$state"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cleanup() {
        if [ $keep = 0 ]; then
            pg_stop "$state/pg"
            rm -rf "$state"
        fi
    }
    trap cleanup EXIT INT TERM

    pg_start "$state/pg" "$port"
    export PGHOST PGPORT=$port PGUSER=postgres PGDATABASE=bench
    PGHOST=$(pg_socket_dir "$state/pg")
    psql -X -q -d postgres -c "CREATE DATABASE bench"
    printf 'aggregator = { database = "%s"; };\n' "$(pg_conninfo "$state/pg" "$port" bench)" >"$state/aggregator.conf"
    "$aggregator" -c "$state/aggregator.conf" migrate >/dev/null
}

# Fills opspulse.request_minutes with $days days x $services services x 2
# hosts of minutes ending at the current minute (one SQL statement per
# day), then the hourly and daily rollups as the aggregator builds them.
# Sets until_ts, first, rows, rollup_s and hours.
bench_request_minutes() {
until_ts=$(date -u +%Y-%m-%dT%H:%M:00Z)
first=$(date -u -d "$until_ts - $days days" +%Y-%m-%dT%H:%M:00Z)
echo "generating $days days x $services services x 2 hosts of minutes ..." >&2
t0=$(date +%s)
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
SQL
# The months' partitions first, as the aggregator's maintenance keeps
# them, so that rows do not go through the default partition.
psql -X -q -c "SELECT opspulse.ensure_partition('request_minutes', m)
  FROM generate_series('$first'::timestamptz, '$until_ts'::timestamptz, interval '1 month') m
  UNION ALL SELECT opspulse.ensure_partition('request_minutes', '$until_ts'::timestamptz)" >/dev/null
for d in $(seq 0 $((days - 1))); do
    psql -X -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO opspulse.request_minutes (service, env, host, minute, part, part_end, requests,
                                      errors, timed, latency_upper, latency_count, agent_id,
                                      content_key)
SELECT 'svc-' || lpad(s::text, 3, '0'), 'production', 'web-' || h,
       m, '', 0, sh.timed + (s + k) % 5, (s * k) % 3, sh.timed, sh.upper, sh.count,
       'bench', gen_random_uuid()
FROM generate_series(1, $services) s
CROSS JOIN generate_series(1, 2) h
CROSS JOIN LATERAL generate_series('$first'::timestamptz + interval '$d days',
                                   '$first'::timestamptz + interval '$d days'
                                       + interval '1 day' - interval '1 minute',
                                   interval '1 minute') WITH ORDINALITY g(m, k)
JOIN public.bench_shapes sh ON sh.p = (s * 31 + h * 17 + k) % 64;
SQL
done
psql -X -q -c "SELECT * FROM opspulse.maintain_partitions(0)" >/dev/null
psql -X -q -c "VACUUM ANALYZE"
rows=$(psql -X -At -c "SELECT count(*) FROM opspulse.request_minutes")
echo "generated $rows rows in $(( $(date +%s) - t0 )) s" >&2
t0=$(date +%s.%N)
while n=$(psql -X -At -c "SELECT opspulse.refresh_request_hours(20000)") && [ "$n" -gt 0 ]; do
    :
done
psql -X -q -c "VACUUM ANALYZE"
rollup_s=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))")
hours=$(psql -X -At -c "SELECT count(*) FROM opspulse.request_hours")
}
