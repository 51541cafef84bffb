-- Delivery indicators (SPEC §4.1, edge rules §4.7).

-- Weeks in a window: (until - since) / 7 days.
CREATE FUNCTION opspulse.weeks(p_since timestamptz, p_until timestamptz)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT extract(epoch FROM p_until - p_since)::double precision / 604800
$$;

-- DORA 2023 buckets.  Frequency uses >=, lead and recovery <, failure <=.
CREATE FUNCTION opspulse.level_deploy_frequency(v double precision)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IS NULL THEN NULL
                WHEN v >= 7 THEN 'elite'
                WHEN v >= 1 THEN 'high'
                WHEN v >= 12::double precision / 52 THEN 'medium'
                ELSE 'low' END
$$;

CREATE FUNCTION opspulse.level_lead_time(hours double precision)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN hours IS NULL THEN NULL
                WHEN hours < 24 THEN 'elite'
                WHEN hours < 24 * 7 THEN 'high'
                WHEN hours < 24 * 30 THEN 'medium'
                ELSE 'low' END
$$;

CREATE FUNCTION opspulse.level_change_failure(rate double precision)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN rate IS NULL THEN NULL
                WHEN rate <= 0.05::double precision THEN 'elite'
                WHEN rate <= 0.10::double precision THEN 'high'
                WHEN rate <= 0.15::double precision THEN 'medium'
                ELSE 'low' END
$$;

CREATE FUNCTION opspulse.level_recovery(hours double precision)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN hours IS NULL THEN NULL
                WHEN hours < 1 THEN 'elite'
                WHEN hours < 24 THEN 'high'
                WHEN hours < 24 * 7 THEN 'medium'
                ELSE 'low' END
$$;

-- The lowest of the measured levels; NULL when none is measured.
CREATE FUNCTION opspulse.level_lowest(VARIADIC levels text[])
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT (ARRAY['low', 'medium', 'high', 'elite'])[
               min(array_position(ARRAY['low', 'medium', 'high', 'elite'], l))]
    FROM unnest(levels) AS l
    WHERE l IS NOT NULL
$$;

-- Counted deploys of a window: production (or p_env) deploys that finished
-- in [since, until), not cancelled, with whether each counts as a failure
-- (failed, rolled back, or marked failed later).
CREATE FUNCTION opspulse.counted_deploys(p_since timestamptz, p_until timestamptz,
                                         p_env text)
RETURNS TABLE (service text, env text, deploy_id text, started_at timestamptz,
               finished_at timestamptz, outcome text, commit_time timestamptz,
               hotfix boolean, is_failure boolean)
LANGUAGE sql STABLE AS $$
    SELECT d.service, d.env, d.deploy_id, d.started_at, d.finished_at, d.outcome,
           d.commit_time, d.hotfix,
           d.outcome IN ('failed', 'rolled_back')
           OR EXISTS (SELECT 1 FROM opspulse.deploy_failures f
                      WHERE f.service = d.service AND f.env = d.env
                        AND f.deploy_id = d.deploy_id)
    FROM opspulse.deploys d
    WHERE d.env = p_env
      AND d.finished_at >= p_since AND d.finished_at < p_until
      AND d.outcome <> 'cancelled'
$$;

-- Known services (any event, any environment, any time), optionally
-- restricted to a list.
CREATE FUNCTION opspulse.known_services(p_services text[])
RETURNS TABLE (service text) LANGUAGE sql STABLE AS $$
    SELECT s.service FROM opspulse.services s
    WHERE p_services IS NULL OR s.service = ANY (p_services)
$$;

CREATE FUNCTION opspulse.dora(p_since timestamptz, p_until timestamptz,
                              p_env text DEFAULT 'production',
                              p_services text[] DEFAULT NULL)
RETURNS TABLE (service text, deploys bigint, deploys_per_week double precision,
               lead_time_p50_hours double precision,
               change_failure_rate double precision,
               recovery_time_p50_hours double precision,
               rework_rate double precision,
               deploy_duration_p50_seconds double precision,
               deploy_duration_p95_seconds double precision,
               deploys_per_week_level text, lead_time_level text,
               change_failure_rate_level text, recovery_time_level text,
               level text)
LANGUAGE sql STABLE AS $$
WITH d AS (
    SELECT * FROM opspulse.counted_deploys(p_since, p_until, p_env) c
    WHERE c.service IN (SELECT k.service FROM opspulse.known_services(p_services) k)
),
-- For each failure: the next successful deploy of the same service and env
-- (a later-marked-failed deploy still counts as successful here; it may
-- finish after the window).
recovery AS (
    SELECT d.service,
           extract(epoch FROM (
               SELECT min(n.finished_at) FROM opspulse.deploys n
               WHERE n.service = d.service AND n.env = d.env
                 AND n.outcome = 'success' AND n.finished_at > d.finished_at
           ) - d.finished_at)::double precision / 3600 AS hours
    FROM d WHERE d.is_failure
),
per_service AS (
    SELECT d.service,
           count(*) AS deploys,
           count(*) FILTER (WHERE d.outcome = 'success') AS successes,
           count(*) FILTER (WHERE d.is_failure) AS failures,
           count(*) FILTER (WHERE d.hotfix) AS hotfixes,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM d.finished_at - d.commit_time)::double precision / 3600)
               FILTER (WHERE d.outcome = 'success' AND d.commit_time IS NOT NULL
                       AND d.finished_at > d.commit_time) AS lead_p50,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM d.finished_at - d.started_at)::double precision) AS dur_p50,
           percentile_cont(0.95) WITHIN GROUP (
               ORDER BY extract(epoch FROM d.finished_at - d.started_at)::double precision) AS dur_p95
    FROM d GROUP BY d.service
),
recovery_p50 AS (
    SELECT r.service, percentile_cont(0.5) WITHIN GROUP (ORDER BY r.hours) AS p50
    FROM recovery r WHERE r.hours IS NOT NULL GROUP BY r.service
),
m AS (
    SELECT k.service,
           coalesce(p.deploys, 0) AS deploys,
           p.successes / opspulse.weeks(p_since, p_until) AS per_week,
           p.lead_p50,
           p.failures::double precision / p.deploys AS cfr,
           CASE WHEN p.deploys > 0 THEN r.p50 END AS recovery_p50,
           p.hotfixes::double precision / p.deploys AS rework,
           p.dur_p50, p.dur_p95
    FROM opspulse.known_services(p_services) k
    LEFT JOIN per_service p ON p.service = k.service
    LEFT JOIN recovery_p50 r ON r.service = k.service
)
SELECT m.service, m.deploys, m.per_week, m.lead_p50, m.cfr, m.recovery_p50,
       m.rework, m.dur_p50, m.dur_p95,
       opspulse.level_deploy_frequency(m.per_week),
       opspulse.level_lead_time(m.lead_p50),
       opspulse.level_change_failure(m.cfr),
       opspulse.level_recovery(m.recovery_p50),
       opspulse.level_lowest(opspulse.level_deploy_frequency(m.per_week),
                             opspulse.level_lead_time(m.lead_p50),
                             opspulse.level_change_failure(m.cfr),
                             opspulse.level_recovery(m.recovery_p50))
FROM m
ORDER BY m.service
$$;
