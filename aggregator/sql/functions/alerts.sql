-- Alert indicators (SPEC §4.3, edge rules §4.7).  Episodes belong to the
-- window by their start.  noise_minutes comes from the aggregator's
-- configuration (settings) unless a caller passes one.

-- Episodes that started in [since, until) in one environment, for the
-- selected services, with their duration in minutes (NULL while firing),
-- whether they are noise (resolved in under noise_minutes: the argument,
-- else the configured value, else 15) and whether they started outside
-- business hours.
CREATE OR REPLACE FUNCTION opspulse.window_alerts(p_since timestamptz, p_until timestamptz,
                                                  p_env text, p_services text[],
                                                  p_team text, p_noise_minutes integer)
RETURNS TABLE (service text, alertname text, fingerprint text,
               starts_at timestamptz, minutes double precision, noise boolean,
               after_hours boolean)
LANGUAGE sql STABLE AS $$
    SELECT a.service, a.alertname, a.fingerprint, a.starts_at,
           date_part('epoch', a.ends_at - a.starts_at) / 60,
           date_part('epoch', a.ends_at - a.starts_at)
               < 60 * coalesce(p_noise_minutes, n.value::integer, 15),
           NOT opspulse.in_business_hours(a.starts_at, z.timezone)
    FROM opspulse.alerts a
    JOIN opspulse.service_zones() z ON z.service = a.service
    LEFT JOIN opspulse.settings n ON n.key = 'noise_minutes'
    WHERE a.env = p_env AND a.starts_at >= p_since AND a.starts_at < p_until
      AND (p_services IS NULL AND p_team IS NULL  -- no filter: no join
         OR a.service IN (SELECT s.service
                            FROM opspulse.selected_services(p_services, p_team) s))
$$;

-- Per service: episodes, resolved ones, noise, durations (for MTTR) and
-- after-hours starts, from the rollups and the events; for opspulse.alerts
-- and the scorecard.
CREATE OR REPLACE FUNCTION opspulse.alert_stats(p_since timestamptz, p_until timestamptz,
                                                p_env text, p_services text[],
                                                p_team text, p_noise_minutes integer)
RETURNS TABLE (service text, fired bigint, resolved bigint, noisy bigint,
               minutes double precision[], after_hours bigint)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    months timestamptz[] := opspulse.rollup_months(
        p_since, p_until, p_env, coalesce(p_noise_minutes, opspulse.rollup_noise()));
BEGIN
RETURN QUERY
SELECT u.service, sum(u.fired)::bigint, sum(u.resolved)::bigint, sum(u.noisy)::bigint,
       opspulse.array_concat(u.minutes), sum(u.after_hours)::bigint
FROM (SELECT e.service, count(*) AS fired, count(e.minutes) AS resolved,
             count(*) FILTER (WHERE e.noise) AS noisy,
             array_agg(e.minutes) FILTER (WHERE e.minutes IS NOT NULL) AS minutes,
             count(*) FILTER (WHERE e.after_hours) AS after_hours
      FROM opspulse.raw_ranges(p_since, p_until, months) w
      CROSS JOIN LATERAL opspulse.window_alerts(w.lo, w.hi, p_env, p_services, p_team,
                                                p_noise_minutes) e
      GROUP BY e.service
      UNION ALL
      SELECT r.service, r.fired, r.resolved, r.noisy, r.minutes, r.after_hours
      FROM opspulse.rollup_alerts r
      WHERE r.env = p_env AND r.month = ANY (months)
        AND (p_services IS NULL AND p_team IS NULL
             OR r.service IN (SELECT s.service
                              FROM opspulse.selected_services(p_services, p_team) s))) u
GROUP BY u.service;
END
$$;

-- Rules of the window with three consecutive episodes of one fingerprint,
-- the first and third starting at most 24 h apart, all in the window
-- (§4.3).  Fingerprints are opaque: they sort bytewise.
--
-- A triple lies inside one month or crosses one month boundary (it spans
-- at most 24 h), and three episodes consecutive in a part of the window
-- that contains them are consecutive in the window.  So the rules are
-- those of the rolled-up months, plus those found in the events of the
-- other parts and of the 48 hours around each rolled-up month's
-- boundaries.  With a service filter, another service's episode of the
-- same fingerprint could break a triple the rollup saw, so filtered
-- queries read the events.
CREATE OR REPLACE FUNCTION opspulse.flapping(p_since timestamptz, p_until timestamptz,
                                             p_env text, p_services text[], p_team text)
RETURNS TABLE (service text, alertname text)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    months timestamptz[] := CASE WHEN p_services IS NULL AND p_team IS NULL
                                 THEN opspulse.rollup_months(p_since, p_until, p_env, NULL)
                                 ELSE '{}' END;
BEGIN
RETURN QUERY
WITH ranges AS (
    SELECT w.lo, w.hi FROM opspulse.raw_ranges(p_since, p_until, months) w
    UNION ALL
    SELECT greatest(p_since, b - interval '24 hours'), least(p_until, b + interval '24 hours')
    FROM unnest(months) m CROSS JOIN LATERAL (VALUES (m), (opspulse.month_after(m))) v(b)
    WHERE b > p_since AND b < p_until
)
SELECT DISTINCT u.service, u.alertname
FROM (SELECT r.service, x.alertname
      FROM opspulse.rollup_alerts r CROSS JOIN LATERAL unnest(r.flapping) x(alertname)
      WHERE r.env = p_env AND r.month = ANY (months)
      UNION ALL
      SELECT f.service, f.alertname
      FROM ranges w
      CROSS JOIN LATERAL (
          SELECT a.service, a.alertname, a.starts_at,
                 lead(a.starts_at, 2) OVER (PARTITION BY a.fingerprint COLLATE "C"
                                            ORDER BY a.starts_at) AS third
          FROM opspulse.alerts a
          WHERE a.env = p_env AND a.starts_at >= w.lo AND a.starts_at < w.hi
            AND (p_services IS NULL AND p_team IS NULL  -- no filter: no join
                 OR a.service IN (SELECT s.service
                                  FROM opspulse.selected_services(p_services, p_team) s))) f
      WHERE f.third <= f.starts_at + interval '24 hours') u;
END
$$;

-- Per (service, rule): episodes, noisy ones, durations of resolved ones.
CREATE OR REPLACE FUNCTION opspulse.rule_stats(p_since timestamptz, p_until timestamptz,
                                               p_env text, p_services text[], p_team text,
                                               p_noise_minutes integer)
RETURNS TABLE (service text, alertname text, fired bigint, noisy bigint,
               minutes double precision[])
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    months timestamptz[] := opspulse.rollup_months(
        p_since, p_until, p_env, coalesce(p_noise_minutes, opspulse.rollup_noise()));
BEGIN
RETURN QUERY
SELECT u.service, u.alertname, sum(u.fired)::bigint, sum(u.noisy)::bigint,
       opspulse.array_concat(u.minutes)
FROM (SELECT e.service, e.alertname, count(*) AS fired,
             count(*) FILTER (WHERE e.noise) AS noisy,
             array_agg(e.minutes) FILTER (WHERE e.minutes IS NOT NULL) AS minutes
      FROM opspulse.raw_ranges(p_since, p_until, months) w
      CROSS JOIN LATERAL opspulse.window_alerts(w.lo, w.hi, p_env, p_services, p_team,
                                                p_noise_minutes) e
      GROUP BY e.service, e.alertname
      UNION ALL
      SELECT r.service, r.alertname, r.fired, r.noisy, r.minutes
      FROM opspulse.rollup_rules r
      WHERE r.env = p_env AND r.month = ANY (months)
        AND (p_services IS NULL AND p_team IS NULL
             OR r.service IN (SELECT s.service
                              FROM opspulse.selected_services(p_services, p_team) s))) u
GROUP BY u.service, u.alertname;
END
$$;

-- The alert indicators per service (SPEC §4.3).
--
-- The indicator functions that commands call are PL/pgSQL: their queries
-- are planned with the arguments' values (force_custom_plan), without JIT
-- (its compile time exceeds these queries' run time) and with room to
-- sort a year's window in memory.
CREATE OR REPLACE FUNCTION opspulse.alerts(p_since timestamptz, p_until timestamptz,
                                           p_env text DEFAULT 'production',
                                           p_services text[] DEFAULT NULL,
                                           p_team text DEFAULT NULL,
                                           p_noise_minutes integer DEFAULT NULL)
RETURNS TABLE (service text, fired bigint, resolved bigint,
               noise_share double precision, mttr_p50_minutes double precision,
               after_hours_share double precision, flapping_rules jsonb)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH flapping AS (
    SELECT f.service, jsonb_agg(f.alertname ORDER BY f.alertname) AS rules
    FROM opspulse.flapping(p_since, p_until, p_env, p_services, p_team) f
    GROUP BY f.service
)
SELECT k.service, coalesce(p.fired, 0), coalesce(p.resolved, 0),
       p.noisy::double precision / p.fired,
       opspulse.percentile(p.minutes, 0.5),
       p.after_hours::double precision / p.fired,
       CASE WHEN p.fired > 0 THEN coalesce(f.rules, '[]'::jsonb) END
FROM opspulse.selected_services(p_services, p_team) k
LEFT JOIN opspulse.alert_stats(p_since, p_until, p_env, p_services, p_team,
                               p_noise_minutes) p ON p.service = k.service
LEFT JOIN flapping f ON f.service = k.service
ORDER BY k.service;
END
$$;

-- One row per (service, alertname) with episodes in the window.
CREATE OR REPLACE FUNCTION opspulse.alerts_by_rule(p_since timestamptz, p_until timestamptz,
                                                   p_env text DEFAULT 'production',
                                                   p_services text[] DEFAULT NULL,
                                                   p_team text DEFAULT NULL,
                                                   p_noise_minutes integer DEFAULT NULL)
RETURNS TABLE (service text, alertname text, fired bigint,
               noise_share double precision, mttr_p50_minutes double precision)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
SELECT r.service, r.alertname, r.fired, r.noisy::double precision / r.fired,
       opspulse.percentile(r.minutes, 0.5)
FROM opspulse.rule_stats(p_since, p_until, p_env, p_services, p_team, p_noise_minutes) r
ORDER BY r.service, r.alertname;
END
$$;
