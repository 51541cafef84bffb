-- Service health (SPEC §12.1-§12.3): `opspulse health`, the hourly
-- rollup of the request minutes and its upkeep.
--
-- Storage (aggregator/sql/021_requests.sql): request_minutes holds the
-- parts of each (service, env, host, minute); request_hours per (service,
-- env, UTC hour) their sums, merged histogram and peak minute.  A
-- statement trigger marks the hours of changed minutes dirty in the ingest
-- transaction; opspulse.refresh_request_hours (run with the monthly
-- rollups) recomputes them.  A query reads the rollup for the whole,
-- clean hours of its window and the minutes for the rest (the partial
-- hours at its edges and dirty hours), so its answer never depends on
-- whether the refresh has run.  Counts add up and the percentiles are
-- taken over the merged buckets, so both paths give the same numbers.

-- Statement trigger of request_minutes: marks the hours of the changed
-- rows dirty and remembers which (service, env) ever had request data.
CREATE OR REPLACE FUNCTION opspulse.request_mark()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rel text;
BEGIN
    FOREACH rel IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['new_rows']
                                    WHEN 'DELETE' THEN ARRAY['old_rows']
                                    ELSE ARRAY['new_rows', 'old_rows'] END
    LOOP
        EXECUTE format('INSERT INTO opspulse.request_hours_dirty (service, env, hour) '
                       'SELECT DISTINCT service, env, date_trunc(''hour'', minute, ''UTC'') '
                       'FROM %I', rel);
    END LOOP;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO opspulse.request_services (service, env)
        SELECT DISTINCT n.service, n.env FROM new_rows n
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

-- TRUNCATE has no transition table: every hour is recomputed from what
-- is left (nothing), so the rollup goes too.
CREATE OR REPLACE FUNCTION opspulse.request_mark_all()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM opspulse.request_days;
    DELETE FROM opspulse.request_hours;
    DELETE FROM opspulse.request_hours_dirty;
    RETURN NULL;
END
$$;

-- A whole-day setting of opspulse.settings, 0 when unset.
CREATE OR REPLACE FUNCTION opspulse.setting_days(p_key text) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT s.value::numeric::integer FROM opspulse.settings s
                     WHERE s.key = p_key), 0)
$$;

-- The first hour whose minutes are all still kept: minutes are dropped
-- by whole months older than request_minute_days (see
-- opspulse.maintain_partitions).  NULL when they are kept for ever.
CREATE OR REPLACE FUNCTION opspulse.request_minutes_kept() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN d > 0 THEN opspulse.month_start(now() - make_interval(days => d)) END
    FROM opspulse.setting_days('request_minute_days') d
$$;

-- SPEC §12.2 histograms merged into one: p_upper and p_count hold side
-- by side the (bucket upper value, count) pairs of any number of
-- histograms, in any order; the one row returned has each upper value
-- once, ascending, with the counts of its pairs added (empty arrays for
-- none).  Every merge of latency histograms goes through it: the hourly
-- and daily rollups and opspulse.health_stats.  Callers flatten their
-- histograms into the two arrays with `unnest(latency_upper),
-- unnest(latency_count)` in a select list and array_agg, and call it in
-- a LATERAL join: a set-returning SQL function is inlined there, so it
-- costs no call per group.
CREATE OR REPLACE FUNCTION opspulse.histogram_merge(p_upper bigint[], p_count bigint[])
RETURNS TABLE (latency_upper bigint[], latency_count bigint[])
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(y.u ORDER BY y.u), '{}'), coalesce(array_agg(y.c ORDER BY y.u), '{}')
    FROM (SELECT x.u, sum(x.c)::bigint AS c
          FROM (SELECT unnest(p_upper) AS u, unnest(p_count) AS c) x
          GROUP BY x.u) y
$$;

-- Recomputes the hourly rollup of the (service, env, hour) keys from the
-- minutes, all keys in one pass: sums, merged buckets, busiest minute.
CREATE OR REPLACE FUNCTION opspulse.request_hours_compute(p_s text[], p_e text[],
                                                          p_h timestamptz[])
RETURNS void LANGUAGE sql AS $$
    DELETE FROM opspulse.request_hours r
    USING unnest(p_s, p_e, p_h) k(s, e, h)
    WHERE r.service = k.s AND r.env = k.e AND r.hour = k.h;
    WITH k AS (SELECT DISTINCT * FROM unnest(p_s, p_e, p_h) k(s, e, h)),
    m AS MATERIALIZED (
        SELECT x.*, k.h AS hour FROM k
        CROSS JOIN LATERAL (
            SELECT x.service, x.env, x.minute, x.requests, x.errors, x.timed,
                   x.latency_upper, x.latency_count
            FROM opspulse.request_minutes x
            WHERE x.service = k.s AND x.env = k.e
              AND x.minute >= k.h AND x.minute < k.h + interval '1 hour'
            OFFSET 0) x),
    -- Every host and part of a minute added: the busiest minute.
    per_minute AS (
        SELECT m.service, m.env, m.hour, sum(m.requests)::bigint AS r,
               sum(m.errors)::bigint AS e, sum(m.timed)::bigint AS t
        FROM m GROUP BY m.service, m.env, m.hour, m.minute),
    sums AS (
        SELECT p.service, p.env, p.hour, sum(p.r)::bigint AS requests,
               sum(p.e)::bigint AS errors, sum(p.t)::bigint AS timed, max(p.r) AS peak
        FROM per_minute p GROUP BY 1, 2, 3),
    flat AS (
        SELECT y.service, y.env, y.hour, array_agg(y.u) AS u, array_agg(y.c) AS c
        FROM (SELECT m.service, m.env, m.hour, unnest(m.latency_upper) AS u,
                     unnest(m.latency_count) AS c
              FROM m) y
        GROUP BY 1, 2, 3)
    INSERT INTO opspulse.request_hours (service, env, hour, requests, errors, timed,
                                        latency_upper, latency_count, peak)
    SELECT s.service, s.env, s.hour, s.requests, s.errors, s.timed,
           coalesce(h.latency_upper, '{}'), coalesce(h.latency_count, '{}'), s.peak
    FROM sums s
    LEFT JOIN flat f USING (service, env, hour)
    LEFT JOIN LATERAL opspulse.histogram_merge(f.u, f.c) h ON true;
$$;

-- Recomputes the daily rollup of the (service, env, UTC day) keys from
-- their hours.
CREATE OR REPLACE FUNCTION opspulse.request_days_compute(p_s text[], p_e text[],
                                                         p_d timestamptz[])
RETURNS void LANGUAGE sql AS $$
    DELETE FROM opspulse.request_days r
    USING unnest(p_s, p_e, p_d) k(s, e, d)
    WHERE r.service = k.s AND r.env = k.e AND r.day = k.d;
    WITH k AS (SELECT DISTINCT * FROM unnest(p_s, p_e, p_d) k(s, e, d)),
    m AS MATERIALIZED (
        SELECT x.*, k.d AS day FROM k
        CROSS JOIN LATERAL (
            SELECT x.service, x.env, x.requests, x.errors, x.timed, x.peak,
                   x.latency_upper, x.latency_count
            FROM opspulse.request_hours x
            WHERE x.service = k.s AND x.env = k.e
              AND x.hour >= k.d AND x.hour < k.d + interval '1 day'
            OFFSET 0) x),
    sums AS (
        SELECT m.service, m.env, m.day, sum(m.requests)::bigint AS requests,
               sum(m.errors)::bigint AS errors, sum(m.timed)::bigint AS timed,
               max(m.peak) AS peak
        FROM m GROUP BY 1, 2, 3),
    flat AS (
        SELECT y.service, y.env, y.day, array_agg(y.u) AS u, array_agg(y.c) AS c
        FROM (SELECT m.service, m.env, m.day, unnest(m.latency_upper) AS u,
                     unnest(m.latency_count) AS c
              FROM m) y
        GROUP BY 1, 2, 3)
    INSERT INTO opspulse.request_days (service, env, day, requests, errors, timed,
                                       latency_upper, latency_count, peak)
    SELECT s.service, s.env, s.day, s.requests, s.errors, s.timed,
           coalesce(h.latency_upper, '{}'), coalesce(h.latency_count, '{}'), s.peak
    FROM sums s
    LEFT JOIN flat f USING (service, env, day)
    LEFT JOIN LATERAL opspulse.histogram_merge(f.u, f.c) h ON true;
$$;

-- Recomputes up to p_keys dirty (service, env, hour) keys, oldest first,
-- and the days holding them.  Hours whose minutes retention has begun to
-- drop keep their rollup.  Returns how many keys it took; fewer than
-- p_keys means none is left.  One refresher at a time: a second caller
-- returns 0 at once.
CREATE OR REPLACE FUNCTION opspulse.refresh_request_hours(p_keys integer DEFAULT 5000)
RETURNS integer LANGUAGE plpgsql
SET jit = off SET work_mem = '64MB' AS $$
DECLARE
    kept timestamptz := opspulse.request_minutes_kept();
    v_s text[];
    v_e text[];
    v_h timestamptz[];
    n integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('opspulse.refresh_request_hours')) THEN
        RETURN 0;
    END IF;
    SELECT array_agg(k.service), array_agg(k.env), array_agg(k.hour)
    INTO v_s, v_e, v_h
    FROM (SELECT DISTINCT d.service, d.env, d.hour FROM opspulse.request_hours_dirty d
          ORDER BY d.hour LIMIT p_keys) k;
    IF v_s IS NULL THEN
        RETURN 0;
    END IF;
    n := cardinality(v_s);
    -- Every dirty row of these keys this statement sees was committed
    -- before the recompute below starts, which therefore sees its minutes.
    DELETE FROM opspulse.request_hours_dirty d
    USING unnest(v_s, v_e, v_h) k(s, e, h)
    WHERE d.service = k.s AND d.env = k.e AND d.hour = k.h;
    SELECT array_agg(k.s), array_agg(k.e), array_agg(k.h) INTO v_s, v_e, v_h
    FROM unnest(v_s, v_e, v_h) k(s, e, h)
    WHERE kept IS NULL OR k.h >= kept;
    IF v_s IS NOT NULL THEN
        PERFORM opspulse.request_hours_compute(v_s, v_e, v_h);
        SELECT array_agg(k.s), array_agg(k.e), array_agg(k.d) INTO v_s, v_e, v_h
        FROM (SELECT DISTINCT k.s, k.e, date_trunc('day', k.h, 'UTC') AS d
              FROM unnest(v_s, v_e, v_h) k(s, e, h)) k;
        PERFORM opspulse.request_days_compute(v_s, v_e, v_h);
    END IF;
    RETURN n;
END
$$;

-- Drops the hourly and daily rollups of the UTC days that started more
-- than request_rollup_days ago (0: keeps them).  Called by
-- opspulse.maintain_partitions.  Returns how many hours it dropped.
CREATE OR REPLACE FUNCTION opspulse.request_rollup_retention() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d integer := opspulse.setting_days('request_rollup_days');
    cutoff timestamptz := date_trunc('day', now() - make_interval(days => d), 'UTC');
    n integer;
BEGIN
    IF d <= 0 THEN
        RETURN 0;
    END IF;
    DELETE FROM opspulse.request_hours_dirty WHERE hour < cutoff;
    DELETE FROM opspulse.request_days WHERE day < cutoff;
    DELETE FROM opspulse.request_hours WHERE hour < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- The retention cutoff of partitioned table p_table: request minutes
-- keep request_minute_days when set, every other table p_cutoff
-- (retention_days).  NULL: keep everything.
CREATE OR REPLACE FUNCTION opspulse.table_cutoff(p_table text, p_cutoff timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_table = 'request_minutes' AND d > 0
                THEN now() - make_interval(days => d)
                ELSE p_cutoff END
    FROM opspulse.setting_days('request_minute_days') d
$$;

-- The first instant of the first whole UTC hour at or after t.
CREATE OR REPLACE FUNCTION opspulse.hour_ceil(t timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN date_trunc('hour', t, 'UTC') = t THEN t
                ELSE date_trunc('hour', t, 'UTC') + interval '1 hour' END
$$;

-- Per selected service with request data in p_env (ever): the sums, the
-- percentiles (bucket upper values, µs) and the peak minute over the
-- minutes in [since, until).  Read from the coarsest clean level: whole
-- UTC days from request_days, the whole hours at the window's edges (and
-- in days holding a dirty hour) from request_hours, and the rest -- the
-- partial hours at the edges and the dirty hours -- from the minutes.
-- With opspulse.rollups set to off for the session: every minute.
CREATE OR REPLACE FUNCTION opspulse.health_stats(p_since timestamptz, p_until timestamptz,
                                                 p_env text, p_services text[],
                                                 p_team text)
RETURNS TABLE (service text, requests bigint, errors bigint, timed bigint,
               p50_us bigint, p95_us bigint, p99_us bigint, peak bigint)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    lo_h timestamptz := opspulse.hour_ceil(p_since);
    hi_h timestamptz := date_trunc('hour', p_until, 'UTC');
    lo_d timestamptz := date_trunc('day', lo_h - interval '1 microsecond', 'UTC')
                        + interval '1 day';
    hi_d timestamptz := date_trunc('day', hi_h, 'UTC');
BEGIN
    IF coalesce(current_setting('opspulse.rollups', true), '') = 'off' OR lo_h >= hi_h THEN
        lo_h := p_until;   -- no whole hour: every minute from request_minutes
        hi_h := p_until;
    END IF;
    IF lo_d >= hi_d OR lo_h = p_until THEN
        lo_d := hi_h;      -- no whole day: the whole hours from request_hours
        hi_d := hi_h;
    END IF;
    RETURN QUERY
    WITH sel AS (
        SELECT r.service FROM opspulse.request_services r
        WHERE r.env = p_env
          AND (p_services IS NULL AND p_team IS NULL
               OR r.service IN (SELECT s.service
                                FROM opspulse.selected_services(p_services, p_team) s))),
    dirty AS (
        SELECT DISTINCT d.service, d.hour FROM opspulse.request_hours_dirty d
        WHERE d.env = p_env AND d.hour >= lo_h AND d.hour < hi_h
          AND d.service IN (SELECT s.service FROM sel s)),
    dirty_days AS (
        SELECT DISTINCT d.service, date_trunc('day', d.hour, 'UTC') AS day FROM dirty d
        WHERE d.hour >= lo_d AND d.hour < hi_d),
    days AS (
        SELECT x.service, x.requests, x.errors, x.timed, x.latency_upper,
               x.latency_count, x.peak
        FROM opspulse.request_days x
        WHERE x.env = p_env AND x.day >= lo_d AND x.day < hi_d
          AND x.service IN (SELECT s.service FROM sel s)
          AND NOT EXISTS (SELECT 1 FROM dirty_days d
                          WHERE d.service = x.service AND d.day = x.day)),
    -- Hour ranges read hour by hour: the edges, and the days with a
    -- dirty hour.
    hour_spans AS (
        SELECT s.service, lo_h AS lo, lo_d AS hi FROM sel s
        UNION ALL
        SELECT s.service, hi_d, hi_h FROM sel s
        UNION ALL
        SELECT d.service, d.day, d.day + interval '1 day' FROM dirty_days d),
    hours AS (
        SELECT x.*
        FROM hour_spans sp
        CROSS JOIN LATERAL (
            SELECT h.service, h.hour, h.requests, h.errors, h.timed, h.latency_upper,
                   h.latency_count, h.peak
            FROM opspulse.request_hours h
            WHERE h.service = sp.service AND h.env = p_env
              AND h.hour >= sp.lo AND h.hour < sp.hi
            OFFSET 0) x
        WHERE sp.lo < sp.hi
          AND NOT EXISTS (SELECT 1 FROM dirty d
                          WHERE d.service = x.service AND d.hour = x.hour)),
    spans AS (
        SELECT s.service, p_since AS lo, lo_h AS hi FROM sel s
        UNION ALL
        SELECT s.service, hi_h, p_until FROM sel s WHERE hi_h < p_until
        UNION ALL
        SELECT d.service, d.hour, d.hour + interval '1 hour' FROM dirty d),
    -- One index range scan per span (OFFSET 0 keeps the subquery a
    -- nested loop instead of a join over every minute).
    mins AS (
        SELECT m.*
        FROM spans sp
        CROSS JOIN LATERAL (
            SELECT x.service, x.minute, x.requests, x.errors, x.timed, x.latency_upper,
                   x.latency_count
            FROM opspulse.request_minutes x
            WHERE x.service = sp.service AND x.env = p_env
              AND x.minute >= sp.lo AND x.minute < sp.hi
            OFFSET 0) m
        WHERE sp.lo < sp.hi),
    sums AS (
        SELECT u.service, sum(u.requests)::bigint AS requests,
               sum(u.errors)::bigint AS errors, sum(u.timed)::bigint AS timed,
               max(u.peak) AS peak
        FROM (SELECT d.service, d.requests, d.errors, d.timed, d.peak FROM days d
              UNION ALL
              SELECT h.service, h.requests, h.errors, h.timed, h.peak FROM hours h
              UNION ALL
              SELECT m.service, sum(m.requests), sum(m.errors), sum(m.timed),
                     sum(m.requests)
              FROM mins m GROUP BY m.service, m.minute) u
        GROUP BY u.service),
    -- Every histogram of the service, flattened (see
    -- opspulse.histogram_merge).
    flat AS (
        SELECT x.service, array_agg(x.u) AS u, array_agg(x.c) AS c
        FROM (SELECT d.service, unnest(d.latency_upper) AS u, unnest(d.latency_count) AS c
              FROM days d
              UNION ALL
              SELECT h.service, unnest(h.latency_upper), unnest(h.latency_count) FROM hours h
              UNION ALL
              SELECT m.service, unnest(m.latency_upper), unnest(m.latency_count) FROM mins m) x
        GROUP BY x.service),
    -- The merged buckets, each with the requests up to it (cum) and all
    -- of the service's timed requests (n).
    buckets AS (
        SELECT f.service, y.u,
               sum(y.c) OVER (PARTITION BY f.service ORDER BY y.u) AS cum,
               sum(y.c) OVER (PARTITION BY f.service) AS n
        FROM flat f
        CROSS JOIN LATERAL opspulse.histogram_merge(f.u, f.c) h
        CROSS JOIN LATERAL unnest(h.latency_upper, h.latency_count) y(u, c)),
    -- SPEC §12.2: the bucket of the request at nearest rank ceil(q n).
    pct AS (
        SELECT b.service,
               min(b.u) FILTER (WHERE b.cum >= ceil(0.5 * b.n)) AS p50,
               min(b.u) FILTER (WHERE b.cum >= ceil(0.95 * b.n)) AS p95,
               min(b.u) FILTER (WHERE b.cum >= ceil(0.99 * b.n)) AS p99
        FROM buckets b GROUP BY b.service)
    SELECT s.service, coalesce(t.requests, 0), coalesce(t.errors, 0),
           coalesce(t.timed, 0), p.p50, p.p95, p.p99, t.peak::bigint
    FROM sel s
    LEFT JOIN sums t ON t.service = s.service
    LEFT JOIN pct p ON p.service = s.service;
END
$$;

-- `opspulse health` (SPEC §12.3, §14.1 Rows): one row per selected service
-- with request data in p_env at any time; a service without minutes in
-- the window has sums 0 and every derived field null.
CREATE OR REPLACE FUNCTION opspulse.health(p_since timestamptz, p_until timestamptz,
                                           p_env text DEFAULT 'production',
                                           p_services text[] DEFAULT NULL,
                                           p_team text DEFAULT NULL)
RETURNS TABLE (service text, requests bigint, errors bigint, timed bigint,
               error_rate double precision, latency_p50_ms numeric,
               latency_p95_ms numeric, latency_p99_ms numeric,
               peak_requests_per_minute bigint)
LANGUAGE sql STABLE AS $$
    SELECT h.service, h.requests, h.errors, h.timed,
           h.errors::double precision / nullif(h.requests, 0),
           round(h.p50_us / 1000.0, 3), round(h.p95_us / 1000.0, 3),
           round(h.p99_us / 1000.0, 3), h.peak
    FROM opspulse.health_stats(p_since, p_until, p_env, p_services, p_team) h
    ORDER BY h.service
$$;

-- The statement triggers that keep the hourly rollup current, re-created
-- with their functions only when missing or different (see rollups.sql).
DO $$
DECLARE
    k record;
    def text;
BEGIN
    FOR k IN SELECT * FROM (VALUES
                 ('request_insert', 'AFTER INSERT ON opspulse.request_minutes '
                  'REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT '
                  'EXECUTE FUNCTION opspulse.request_mark()'),
                 ('request_update', 'AFTER UPDATE ON opspulse.request_minutes '
                  'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                  'FOR EACH STATEMENT EXECUTE FUNCTION opspulse.request_mark()'),
                 ('request_delete', 'AFTER DELETE ON opspulse.request_minutes '
                  'REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT '
                  'EXECUTE FUNCTION opspulse.request_mark()'),
                 ('request_truncate', 'AFTER TRUNCATE ON opspulse.request_minutes '
                  'FOR EACH STATEMENT EXECUTE FUNCTION opspulse.request_mark_all()'))
                 AS v(name, def)
    LOOP
        def := 'CREATE TRIGGER ' || k.name || ' ' || k.def;
        IF NOT EXISTS (SELECT 1 FROM pg_trigger g
                       WHERE g.tgrelid = 'opspulse.request_minutes'::regclass
                         AND g.tgname = k.name
                         AND replace(pg_get_triggerdef(g.oid), 'opspulse.', '')
                             = replace(def, 'opspulse.', '')) THEN
            EXECUTE 'CREATE OR REPLACE' || substr(def, length('CREATE') + 1);
        END IF;
    END LOOP;
END
$$;
