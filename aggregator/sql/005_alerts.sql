-- Alert indicators (SPEC §4.3, edge rules §4.7).  Episodes belong to the
-- window by their start.  noise_minutes comes from the aggregator's
-- configuration (settings) unless a caller passes one.

-- Episodes that started in [since, until) in one environment, for the
-- selected services, with their duration in minutes (NULL while firing),
-- whether they are noise (resolved in under noise_minutes: the argument,
-- else the configured value, else 15) and whether they started outside
-- business hours.
CREATE FUNCTION opspulse.window_alerts(p_since timestamptz, p_until timestamptz,
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
-- after-hours starts; for opspulse.alerts and the scorecard.
CREATE FUNCTION opspulse.alert_stats(p_since timestamptz, p_until timestamptz,
                                     p_env text, p_services text[], p_team text,
                                     p_noise_minutes integer)
RETURNS TABLE (service text, fired bigint, resolved bigint, noisy bigint,
               minutes double precision[], after_hours bigint)
LANGUAGE sql STABLE AS $$
    SELECT e.service, count(*), count(e.minutes),
           count(*) FILTER (WHERE e.noise),
           array_agg(e.minutes) FILTER (WHERE e.minutes IS NOT NULL),
           count(*) FILTER (WHERE e.after_hours)
    FROM opspulse.window_alerts(p_since, p_until, p_env, p_services, p_team,
                                p_noise_minutes) e
    GROUP BY e.service
$$;

-- The indicator functions that commands call are PL/pgSQL: their queries
-- are planned with the arguments' values (force_custom_plan), without JIT
-- (its compile time exceeds these queries' run time) and with room to
-- sort a year's window in memory.
CREATE FUNCTION opspulse.alerts(p_since timestamptz, p_until timestamptz,
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
WITH per_service AS (
    SELECT * FROM opspulse.alert_stats(p_since, p_until, p_env, p_services, p_team,
                                       p_noise_minutes)
),
-- Three consecutive episodes of one fingerprint, the first and third
-- starting at most 24 h apart, all in the window.  (Fingerprints are
-- opaque: they sort bytewise.)
flapping AS (
    SELECT f.service, jsonb_agg(DISTINCT f.alertname ORDER BY f.alertname) AS rules
    FROM (SELECT a.service, a.alertname, a.starts_at,
                 lead(a.starts_at, 2) OVER (PARTITION BY a.fingerprint COLLATE "C"
                                            ORDER BY a.starts_at) AS third
          FROM opspulse.alerts a
          WHERE a.env = p_env AND a.starts_at >= p_since AND a.starts_at < p_until
            AND (p_services IS NULL AND p_team IS NULL  -- no filter: no join
                 OR a.service IN (SELECT s.service
                                  FROM opspulse.selected_services(p_services, p_team) s))) f
    WHERE f.third <= f.starts_at + interval '24 hours'
    GROUP BY f.service
)
SELECT k.service, coalesce(p.fired, 0), coalesce(p.resolved, 0),
       p.noisy::double precision / p.fired,
       opspulse.percentile(p.minutes, 0.5),
       p.after_hours::double precision / p.fired,
       CASE WHEN p.fired > 0 THEN coalesce(f.rules, '[]'::jsonb) END
FROM opspulse.selected_services(p_services, p_team) k
LEFT JOIN per_service p ON p.service = k.service
LEFT JOIN flapping f ON f.service = k.service
ORDER BY k.service;
END
$$;

-- One row per (service, alertname) with episodes in the window.
CREATE FUNCTION opspulse.alerts_by_rule(p_since timestamptz, p_until timestamptz,
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
FROM (SELECT e.service, e.alertname, count(*) AS fired,
             count(*) FILTER (WHERE e.noise) AS noisy,
             array_agg(e.minutes) FILTER (WHERE e.minutes IS NOT NULL) AS minutes
      FROM opspulse.window_alerts(p_since, p_until, p_env, p_services, p_team,
                                  p_noise_minutes) e
      GROUP BY e.service, e.alertname) r
ORDER BY r.service, r.alertname;
END
$$;
