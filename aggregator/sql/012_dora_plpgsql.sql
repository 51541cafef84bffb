-- opspulse.dora, same definition as 002 (SPEC §4.1, §4.7), computed the
-- way the other indicator functions are: PL/pgSQL planned with the
-- arguments' values and without JIT, grouped by hashing with
-- percentiles over arrays instead of sorting the window by service, and
-- each failure's recovery looked up once.  Over a year of 200 services'
-- deploys this is several times faster (docs/BENCHMARKS.md).
CREATE OR REPLACE FUNCTION opspulse.dora(p_since timestamptz, p_until timestamptz,
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
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH d AS MATERIALIZED (
    SELECT * FROM opspulse.counted_deploys(p_since, p_until, p_env) c
    WHERE c.service IN (SELECT k.service FROM opspulse.known_services(p_services) k)
),
-- For each failure: the next successful deploy of the same service and env
-- (a later-marked-failed deploy still counts as successful here; it may
-- finish after the window).
recovery AS (
    SELECT d.service,
           array_agg(date_part('epoch', n.finished_at - d.finished_at)::double precision
                     / 3600) AS hours
    FROM d
    CROSS JOIN LATERAL (
        SELECT min(x.finished_at) AS finished_at FROM opspulse.deploys x
        WHERE x.service = d.service AND x.env = d.env
          AND x.outcome = 'success' AND x.finished_at > d.finished_at) n
    WHERE d.is_failure AND n.finished_at IS NOT NULL
    GROUP BY d.service
),
per_service AS (
    SELECT d.service,
           count(*) AS deploys,
           count(*) FILTER (WHERE d.outcome = 'success') AS successes,
           count(*) FILTER (WHERE d.is_failure) AS failures,
           count(*) FILTER (WHERE d.hotfix) AS hotfixes,
           array_agg(date_part('epoch', d.finished_at - d.commit_time)::double precision / 3600)
               FILTER (WHERE d.outcome = 'success' AND d.commit_time IS NOT NULL
                       AND d.finished_at > d.commit_time) AS leads,
           array_agg(date_part('epoch', d.finished_at - d.started_at)::double precision)
               AS durations
    FROM d GROUP BY d.service
),
m AS (
    SELECT k.service,
           coalesce(p.deploys, 0) AS deploys,
           p.successes / opspulse.weeks(p_since, p_until) AS per_week,
           opspulse.percentile(p.leads, 0.5) AS lead_p50,
           p.failures::double precision / p.deploys AS cfr,
           CASE WHEN p.deploys > 0 THEN opspulse.percentile(r.hours, 0.5) END AS recovery_p50,
           p.hotfixes::double precision / p.deploys AS rework,
           opspulse.percentile(p.durations, 0.5) AS dur_p50,
           opspulse.percentile(p.durations, 0.95) AS dur_p95
    FROM opspulse.known_services(p_services) k
    LEFT JOIN per_service p ON p.service = k.service
    LEFT JOIN recovery r ON r.service = k.service
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
ORDER BY m.service;
END
$$;
