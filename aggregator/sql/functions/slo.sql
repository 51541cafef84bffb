-- SLOs and error budgets (SPEC §12.4, §14.1): `opspulse slo`, its `--by
-- month` form, the configuration writer and the counts they share.
--
-- The objectives live in opspulse.slos (024_slos.sql), written by
-- opspulse.sync_slos from aggregator.slos.  Every decision (overspent,
-- status, alert, met) is taken on exact numeric products of the counts,
-- never on a rounded ratio: bad > (1 - target) x total is overspent, and a
-- burn rate b >= k is bad >= k x (1 - target) x total.  Counts come from
-- the hourly rollup for the whole, clean hours of a span and from the
-- request minutes for the rest, as opspulse.health_stats reads them.

-- Replaces the objectives and slo_window_days with the configuration's,
-- in one statement.  p_targets are percentages as written in the file
-- ("99.9"), p_thresholds the latency thresholds in ms (NULL for
-- availability).  Returns how many objectives there are.
CREATE OR REPLACE FUNCTION opspulse.sync_slos(p_services text[], p_objectives text[],
                                              p_targets text[], p_thresholds text[],
                                              p_window_days integer)
RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM opspulse.slos;
    INSERT INTO opspulse.slos (service, objective, position, target, threshold_ms)
    SELECT p_services[i], p_objectives[i], i, p_targets[i]::numeric * 0.01,
           p_thresholds[i]::numeric
    FROM generate_subscripts(p_services, 1) AS i;
    INSERT INTO opspulse.settings (key, value) VALUES ('slo_window_days', p_window_days::text)
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
    RETURN coalesce(array_length(p_services, 1), 0);
END
$$;

-- The configured objectives of the selected services (a list, NULL for
-- all; a team, NULL for any), whether or not the service has sent
-- anything yet.
CREATE OR REPLACE FUNCTION opspulse.slo_objectives(p_services text[], p_team text)
RETURNS TABLE (service text, objective text, target numeric, threshold_ms numeric)
LANGUAGE sql STABLE AS $$
    SELECT o.service, o.objective, o.target, o.threshold_ms
    FROM opspulse.slos o
    WHERE (p_services IS NULL OR o.service = ANY (p_services))
      AND (p_team IS NULL OR EXISTS (
               SELECT 1 FROM opspulse.teams t
               WHERE t.name = p_team AND o.service = ANY (t.services)))
$$;

-- One service's requests, errors, timed requests and slow requests (timed
-- requests whose bucket upper value exceeds p_slow_us, SPEC §12.2; 0 when
-- p_slow_us is NULL) over the minutes in [p_lo, p_hi) of p_env.  Sums are
-- 0 without data.  Whole clean hours come from request_hours, the rest
-- from request_minutes (all of it when opspulse.rollups is off).
CREATE OR REPLACE FUNCTION opspulse.slo_span(p_service text, p_env text, p_lo timestamptz,
                                             p_hi timestamptz, p_slow_us numeric)
RETURNS TABLE (requests numeric, errors numeric, timed numeric, slow numeric)
LANGUAGE plpgsql STABLE
SET jit = off SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    lo_h timestamptz := opspulse.hour_ceil(p_lo);
    hi_h timestamptz := date_trunc('hour', p_hi, 'UTC');
BEGIN
    IF coalesce(current_setting('opspulse.rollups', true), '') = 'off' OR lo_h >= hi_h THEN
        lo_h := p_hi;   -- no whole hour: every minute from request_minutes
        hi_h := p_hi;
    END IF;
    RETURN QUERY
    WITH dirty AS (
        SELECT DISTINCT d.hour FROM opspulse.request_hours_dirty d
        WHERE d.service = p_service AND d.env = p_env AND d.hour >= lo_h AND d.hour < hi_h),
    spans AS (
        SELECT p_lo AS lo, lo_h AS hi
        UNION ALL
        SELECT hi_h, p_hi WHERE hi_h < p_hi
        UNION ALL
        SELECT d.hour, d.hour + interval '1 hour' FROM dirty d),
    u AS (
        SELECT h.requests, h.errors, h.timed, h.latency_upper, h.latency_count
        FROM opspulse.request_hours h
        WHERE h.service = p_service AND h.env = p_env AND h.hour >= lo_h AND h.hour < hi_h
          AND h.hour NOT IN (SELECT d.hour FROM dirty d)
        UNION ALL
        SELECT m.requests, m.errors, m.timed, m.latency_upper, m.latency_count
        FROM spans sp
        JOIN opspulse.request_minutes m
          ON m.service = p_service AND m.env = p_env
         AND m.minute >= sp.lo AND m.minute < sp.hi
        WHERE sp.lo < sp.hi)
    SELECT coalesce(sum(u.requests), 0)::numeric, coalesce(sum(u.errors), 0)::numeric,
           coalesce(sum(u.timed), 0)::numeric,
           coalesce(sum((SELECT sum(x.c) FROM unnest(u.latency_upper, u.latency_count) x(b, c)
                         WHERE x.b > p_slow_us)), 0)::numeric
    FROM u;
END
$$;

-- An objective's (total, bad) out of a span's counts: availability counts
-- requests and errors, latency timed and slow requests.
CREATE OR REPLACE FUNCTION opspulse.slo_pick(p_objective text, p_requests numeric,
                                             p_errors numeric, p_timed numeric,
                                             p_slow numeric,
                                             OUT total numeric, OUT bad numeric)
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_objective WHEN 'latency' THEN p_timed ELSE p_requests END,
           CASE p_objective WHEN 'latency' THEN p_slow ELSE p_errors END
$$;

-- (total, bad) of one objective over [p_lo, p_hi).
CREATE OR REPLACE FUNCTION opspulse.slo_counts(p_service text, p_objective text,
                                               p_threshold_ms numeric, p_env text,
                                               p_lo timestamptz, p_hi timestamptz,
                                               OUT total numeric, OUT bad numeric)
LANGUAGE sql STABLE AS $$
    SELECT p.total, p.bad
    FROM opspulse.slo_span(p_service, p_env, p_lo, p_hi, p_threshold_ms * 1000) s
    CROSS JOIN LATERAL opspulse.slo_pick(p_objective, s.requests, s.errors, s.timed,
                                         s.slow) p
$$;

-- Overspent: more bad events than the budget (1 - target) x total allows,
-- exactly.  A span without events is not overspent.
CREATE OR REPLACE FUNCTION opspulse.slo_overspent(p_total numeric, p_bad numeric,
                                                  p_target numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT p_total > 0 AND p_bad > (1 - p_target) * p_total
$$;

-- The burn rate of a span: (bad / total) / (1 - target); NULL without
-- events.
CREATE OR REPLACE FUNCTION opspulse.slo_burn(p_total numeric, p_bad numeric,
                                             p_target numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT p_bad / ((1 - p_target) * nullif(p_total, 0))
$$;

-- Whether a span burns at least p_rate, decided exactly; false without
-- events (a NULL burn rate makes its comparison false, SPEC §14.1).
CREATE OR REPLACE FUNCTION opspulse.slo_burns(p_total numeric, p_bad numeric,
                                              p_target numeric, p_rate numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT p_total > 0 AND p_bad >= p_rate * (1 - p_target) * p_total
$$;

-- The SRE Workbook's multi-window burn-rate rules (SPEC §12.4) on the
-- (total, bad) of the five spans: page, ticket or none.
CREATE OR REPLACE FUNCTION opspulse.slo_alert(p_target numeric,
                                              t5m numeric, b5m numeric,
                                              t30m numeric, b30m numeric,
                                              t1h numeric, b1h numeric,
                                              t6h numeric, b6h numeric,
                                              t3d numeric, b3d numeric)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN (opspulse.slo_burns(t1h, b1h, p_target, 14.4)
              AND opspulse.slo_burns(t5m, b5m, p_target, 14.4))
          OR (opspulse.slo_burns(t6h, b6h, p_target, 6)
              AND opspulse.slo_burns(t30m, b30m, p_target, 6)) THEN 'page'
        WHEN opspulse.slo_burns(t3d, b3d, p_target, 1)
         AND opspulse.slo_burns(t6h, b6h, p_target, 1) THEN 'ticket'
        ELSE 'none' END
$$;

-- The trailing window of the error budget policy, in days (default 28).
CREATE OR REPLACE FUNCTION opspulse.slo_window_days() RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT opspulse.setting('slo_window_days', '28')::integer
$$;

-- `opspulse slo` (SPEC §12.4, §14.1): one row per configured objective of
-- the selected services, even without data (then total and bad 0, every
-- derived field NULL, deploys_while_exhausted 0).  burn_rate_<span> reads
-- [until - span, until); deploys_while_exhausted counts §4.1's deploys
-- finished in the window whose trailing [finish - slo_window_days,
-- finish) was overspent.
DROP FUNCTION IF EXISTS opspulse.slo(timestamptz, timestamptz, text, text[], text);
CREATE OR REPLACE FUNCTION opspulse.slo(p_since timestamptz, p_until timestamptz,
                                        p_env text DEFAULT 'production',
                                        p_services text[] DEFAULT NULL,
                                        p_team text DEFAULT NULL)
RETURNS TABLE (service text, objective text, target numeric, threshold_ms numeric,
               total bigint, bad bigint, achieved numeric, budget_remaining numeric,
               burn_rate_5m numeric, burn_rate_30m numeric, burn_rate_1h numeric,
               burn_rate_6h numeric, burn_rate_3d numeric, status text, alert text,
               deploys_while_exhausted bigint)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    wdays interval := make_interval(days => opspulse.slo_window_days());
BEGIN
RETURN QUERY
WITH o AS MATERIALIZED (
    SELECT * FROM opspulse.slo_objectives(p_services, p_team)
),
c AS MATERIALIZED (
    SELECT o.*, w.total, w.bad, s5.total AS t5m, s5.bad AS b5m, s30.total AS t30m,
           s30.bad AS b30m, h1.total AS t1h, h1.bad AS b1h, h6.total AS t6h,
           h6.bad AS b6h, d3.total AS t3d, d3.bad AS b3d
    FROM o
    CROSS JOIN LATERAL opspulse.slo_counts(o.service, o.objective, o.threshold_ms, p_env,
                                           p_since, p_until) w
    CROSS JOIN LATERAL opspulse.slo_counts(o.service, o.objective, o.threshold_ms, p_env,
                                           p_until - interval '5 minutes', p_until) s5
    CROSS JOIN LATERAL opspulse.slo_counts(o.service, o.objective, o.threshold_ms, p_env,
                                           p_until - interval '30 minutes', p_until) s30
    CROSS JOIN LATERAL opspulse.slo_counts(o.service, o.objective, o.threshold_ms, p_env,
                                           p_until - interval '1 hour', p_until) h1
    CROSS JOIN LATERAL opspulse.slo_counts(o.service, o.objective, o.threshold_ms, p_env,
                                           p_until - interval '6 hours', p_until) h6
    CROSS JOIN LATERAL opspulse.slo_counts(o.service, o.objective, o.threshold_ms, p_env,
                                           p_until - interval '3 days', p_until) d3
),
dep AS (
    SELECT o.service, o.objective, count(*) AS n
    FROM o
    JOIN opspulse.counted_deploys(p_since, p_until, p_env) d ON d.service = o.service
    CROSS JOIN LATERAL opspulse.slo_counts(o.service, o.objective, o.threshold_ms, p_env,
                                           d.finished_at - wdays, d.finished_at) x
    WHERE opspulse.slo_overspent(x.total, x.bad, o.target)
    GROUP BY o.service, o.objective
)
SELECT c.service, c.objective, c.target, c.threshold_ms, c.total::bigint, c.bad::bigint,
       1 - c.bad / nullif(c.total, 0),
       1 - c.bad / ((1 - c.target) * nullif(c.total, 0)),
       opspulse.slo_burn(c.t5m, c.b5m, c.target), opspulse.slo_burn(c.t30m, c.b30m, c.target),
       opspulse.slo_burn(c.t1h, c.b1h, c.target), opspulse.slo_burn(c.t6h, c.b6h, c.target),
       opspulse.slo_burn(c.t3d, c.b3d, c.target),
       CASE WHEN c.total = 0 THEN NULL
            WHEN opspulse.slo_overspent(c.total, c.bad, c.target) THEN 'exhausted'
            ELSE 'ok' END,
       CASE WHEN c.total > 0
            THEN opspulse.slo_alert(c.target, c.t5m, c.b5m, c.t30m, c.b30m, c.t1h, c.b1h,
                                    c.t6h, c.b6h, c.t3d, c.b3d) END,
       coalesce(dep.n, 0)
FROM c
LEFT JOIN dep ON dep.service = c.service AND dep.objective = c.objective
ORDER BY c.service, c.objective;
END
$$;

-- `opspulse slo --by month` (SPEC §12.4, §14.1 Months): per configured
-- objective and UTC calendar month whose first day lies in [since, until),
-- the counts over [month start, min(month end, until)), achieved, and met
-- (achieved >= target, decided exactly as bad <= (1 - target) x total).
DROP FUNCTION IF EXISTS opspulse.slo_by_month(timestamptz, timestamptz, text, text[], text);
CREATE OR REPLACE FUNCTION opspulse.slo_by_month(p_since timestamptz, p_until timestamptz,
                                                 p_env text DEFAULT 'production',
                                                 p_services text[] DEFAULT NULL,
                                                 p_team text DEFAULT NULL)
RETURNS TABLE (service text, objective text, month text, target numeric,
               threshold_ms numeric, total bigint, bad bigint, achieved numeric,
               met boolean)
LANGUAGE sql STABLE
SET jit = off SET work_mem = '64MB' AS $$
    WITH RECURSIVE m AS (
        SELECT opspulse.month_start(p_since - interval '1 microsecond') AS prev
        UNION ALL
        SELECT opspulse.month_after(m.prev) FROM m WHERE opspulse.month_after(m.prev) < p_until
    ),
    months AS (
        SELECT opspulse.month_after(m.prev) AS lo,
               least(opspulse.month_after(opspulse.month_after(m.prev)), p_until) AS hi
        FROM m WHERE opspulse.month_after(m.prev) < p_until
    )
    SELECT o.service, o.objective, to_char(m.lo AT TIME ZONE 'UTC', 'YYYY-MM'), o.target,
           o.threshold_ms, x.total::bigint, x.bad::bigint, 1 - x.bad / nullif(x.total, 0),
           CASE WHEN x.total > 0 THEN x.bad <= (1 - o.target) * x.total END
    FROM opspulse.slo_objectives(p_services, p_team) o
    CROSS JOIN months m
    CROSS JOIN LATERAL opspulse.slo_counts(o.service, o.objective, o.threshold_ms, p_env,
                                           m.lo, m.hi) x
    ORDER BY o.service, o.objective, m.lo
$$;
