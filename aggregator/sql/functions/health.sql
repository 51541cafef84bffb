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

-- Sums, merged histogram and peak minute of one service's minutes in
-- [lo, hi) in one environment; no row when it has none.
CREATE OR REPLACE FUNCTION opspulse.request_span(p_service text, p_env text,
                                                 p_lo timestamptz, p_hi timestamptz)
RETURNS TABLE (requests bigint, errors bigint, timed bigint, latency_upper bigint[],
               latency_count bigint[], peak bigint)
LANGUAGE sql STABLE AS $$
    WITH m AS (SELECT * FROM opspulse.request_minutes m
               WHERE m.service = p_service AND m.env = p_env
                 AND m.minute >= p_lo AND m.minute < p_hi),
    b AS (SELECT x.u, sum(x.c)::bigint AS c
          FROM m CROSS JOIN LATERAL unnest(m.latency_upper, m.latency_count) x(u, c)
          GROUP BY x.u)
    SELECT sum(m.requests)::bigint, sum(m.errors)::bigint, sum(m.timed)::bigint,
           coalesce((SELECT array_agg(b.u ORDER BY b.u) FROM b), '{}'),
           coalesce((SELECT array_agg(b.c ORDER BY b.u) FROM b), '{}'),
           (SELECT max(p.r) FROM (SELECT sum(x.requests)::bigint AS r FROM m x
                                  GROUP BY x.minute) p)
    FROM m
    HAVING count(*) > 0
$$;

-- Recomputes up to p_keys dirty (service, env, hour) keys, oldest first.
-- Hours whose minutes retention has begun to drop keep their rollup.
-- Returns how many keys it took; fewer than p_keys means none is left.
-- One refresher at a time: a second caller returns 0 at once.
CREATE OR REPLACE FUNCTION opspulse.refresh_request_hours(p_keys integer DEFAULT 5000)
RETURNS integer LANGUAGE plpgsql
SET jit = off SET work_mem = '64MB' AS $$
DECLARE
    kept timestamptz := opspulse.request_minutes_kept();
    v_s text[];
    v_e text[];
    v_h timestamptz[];
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
    -- Every dirty row of these keys this statement sees was committed
    -- before the recompute below starts, which therefore sees its minutes.
    DELETE FROM opspulse.request_hours_dirty d
    USING unnest(v_s, v_e, v_h) k(s, e, h)
    WHERE d.service = k.s AND d.env = k.e AND d.hour = k.h;
    DELETE FROM opspulse.request_hours r
    USING unnest(v_s, v_e, v_h) k(s, e, h)
    WHERE r.service = k.s AND r.env = k.e AND r.hour = k.h
      AND (kept IS NULL OR k.h >= kept);
    INSERT INTO opspulse.request_hours (service, env, hour, requests, errors, timed,
                                        latency_upper, latency_count, peak)
    SELECT k.s, k.e, k.h, x.requests, x.errors, x.timed, x.latency_upper,
           x.latency_count, x.peak
    FROM unnest(v_s, v_e, v_h) k(s, e, h)
    CROSS JOIN LATERAL opspulse.request_span(k.s, k.e, k.h, k.h + interval '1 hour') x
    WHERE kept IS NULL OR k.h >= kept;
    RETURN cardinality(v_s);
END
$$;

-- Drops the hourly rollups older than request_rollup_days (0: keeps
-- them).  Called by opspulse.maintain_partitions.  Returns how many.
CREATE OR REPLACE FUNCTION opspulse.request_rollup_retention() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d integer := opspulse.setting_days('request_rollup_days');
    n integer;
BEGIN
    IF d <= 0 THEN
        RETURN 0;
    END IF;
    DELETE FROM opspulse.request_hours_dirty
    WHERE hour < now() - make_interval(days => d);
    DELETE FROM opspulse.request_hours WHERE hour < now() - make_interval(days => d);
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

-- Nearest-rank percentile q (SPEC §12.2) of a merged histogram, in ms:
-- the upper value of the bucket holding the request at rank ceil(q n).
CREATE OR REPLACE FUNCTION opspulse.bucket_percentile_ms(p_upper bigint[], p_count bigint[],
                                                         p_q numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT round(min(c.u)::numeric / 1000, 3)
    FROM (SELECT x.u, sum(x.c) OVER (ORDER BY x.u) AS cum, sum(x.c) OVER () AS n
          FROM unnest(p_upper, p_count) x(u, c)) c
    WHERE c.cum >= ceil(p_q * c.n)
$$;

-- Per selected service with request data in p_env (ever): the sums, the
-- merged histogram and the peak minute over the minutes in [since,
-- until).  Whole clean hours come from request_hours, the rest from the
-- minutes (all of it when the session sets opspulse.rollups to off).
CREATE OR REPLACE FUNCTION opspulse.health_stats(p_since timestamptz, p_until timestamptz,
                                                 p_env text, p_services text[],
                                                 p_team text)
RETURNS TABLE (service text, requests bigint, errors bigint, timed bigint,
               latency_upper bigint[], latency_count bigint[], peak bigint)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    lo_h timestamptz := opspulse.hour_ceil(p_since);
    hi_h timestamptz := date_trunc('hour', p_until, 'UTC');
BEGIN
    IF coalesce(current_setting('opspulse.rollups', true), '') = 'off' OR lo_h >= hi_h THEN
        lo_h := p_until;   -- no whole hour: every minute from request_minutes
        hi_h := p_until;
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
    hours AS (
        SELECT h.service, h.requests, h.errors, h.timed, h.latency_upper,
               h.latency_count, h.peak
        FROM opspulse.request_hours h
        WHERE h.env = p_env AND h.hour >= lo_h AND h.hour < hi_h
          AND h.service IN (SELECT s.service FROM sel s)
          AND NOT EXISTS (SELECT 1 FROM dirty d
                          WHERE d.service = h.service AND d.hour = h.hour)),
    spans AS (
        SELECT s.service, p_since AS lo, lo_h AS hi FROM sel s
        UNION ALL
        SELECT s.service, hi_h, p_until FROM sel s WHERE hi_h < p_until
        UNION ALL
        SELECT d.service, d.hour, d.hour + interval '1 hour' FROM dirty d),
    mins AS (
        SELECT m.service, m.minute, m.requests, m.errors, m.timed, m.latency_upper,
               m.latency_count
        FROM spans sp
        JOIN opspulse.request_minutes m
          ON m.service = sp.service AND m.env = p_env
         AND m.minute >= sp.lo AND m.minute < sp.hi
        WHERE sp.lo < sp.hi),
    sums AS (
        SELECT u.service, sum(u.requests)::bigint AS requests,
               sum(u.errors)::bigint AS errors, sum(u.timed)::bigint AS timed,
               max(u.peak) AS peak
        FROM (SELECT h.service, h.requests, h.errors, h.timed, h.peak FROM hours h
              UNION ALL
              SELECT m.service, sum(m.requests), sum(m.errors), sum(m.timed),
                     sum(m.requests)
              FROM mins m GROUP BY m.service, m.minute) u
        GROUP BY u.service),
    buckets AS (
        SELECT b.service, array_agg(b.u ORDER BY b.u) AS upper,
               array_agg(b.c ORDER BY b.u) AS count
        FROM (SELECT x.service, x.u, sum(x.c)::bigint AS c
              FROM (SELECT h.service, y.u, y.c FROM hours h
                    CROSS JOIN LATERAL unnest(h.latency_upper, h.latency_count) y(u, c)
                    UNION ALL
                    SELECT m.service, y.u, y.c FROM mins m
                    CROSS JOIN LATERAL unnest(m.latency_upper, m.latency_count) y(u, c)) x
              GROUP BY x.service, x.u) b
        GROUP BY b.service)
    SELECT s.service, coalesce(t.requests, 0), coalesce(t.errors, 0),
           coalesce(t.timed, 0), coalesce(b.upper, '{}'), coalesce(b.count, '{}'),
           t.peak::bigint
    FROM sel s
    LEFT JOIN sums t ON t.service = s.service
    LEFT JOIN buckets b ON b.service = s.service;
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
           opspulse.bucket_percentile_ms(h.latency_upper, h.latency_count, 0.5),
           opspulse.bucket_percentile_ms(h.latency_upper, h.latency_count, 0.95),
           opspulse.bucket_percentile_ms(h.latency_upper, h.latency_count, 0.99),
           h.peak
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
