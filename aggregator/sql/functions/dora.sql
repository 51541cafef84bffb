-- Delivery indicators (SPEC §4.1, edge rules §4.7): `opspulse dora`.

-- DORA 2023 buckets.  Frequency uses >=, lead and recovery <, failure <=.
CREATE OR REPLACE FUNCTION opspulse.level_deploy_frequency(v double precision)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IS NULL THEN NULL
                WHEN v >= 7 THEN 'elite'
                WHEN v >= 1 THEN 'high'
                WHEN v >= 12::double precision / 52 THEN 'medium'
                ELSE 'low' END
$$;

CREATE OR REPLACE FUNCTION opspulse.level_lead_time(hours double precision)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN hours IS NULL THEN NULL
                WHEN hours < 24 THEN 'elite'
                WHEN hours < 24 * 7 THEN 'high'
                WHEN hours < 24 * 30 THEN 'medium'
                ELSE 'low' END
$$;

CREATE OR REPLACE FUNCTION opspulse.level_change_failure(rate double precision)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN rate IS NULL THEN NULL
                WHEN rate <= 0.05::double precision THEN 'elite'
                WHEN rate <= 0.10::double precision THEN 'high'
                WHEN rate <= 0.15::double precision THEN 'medium'
                ELSE 'low' END
$$;

CREATE OR REPLACE FUNCTION opspulse.level_recovery(hours double precision)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN hours IS NULL THEN NULL
                WHEN hours < 1 THEN 'elite'
                WHEN hours < 24 THEN 'high'
                WHEN hours < 24 * 7 THEN 'medium'
                ELSE 'low' END
$$;

-- The lowest of the measured levels; NULL when none is measured.
CREATE OR REPLACE FUNCTION opspulse.level_lowest(VARIADIC levels text[])
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT (ARRAY['low', 'medium', 'high', 'elite'])[
               min(array_position(ARRAY['low', 'medium', 'high', 'elite'], l))]
    FROM unnest(levels) AS l
    WHERE l IS NOT NULL
$$;

-- Counted deploys of a window: production (or p_env) deploys that finished
-- in [since, until), not cancelled, with whether each counts as a failure
-- (failed, rolled back, or marked failed later).
CREATE OR REPLACE FUNCTION opspulse.counted_deploys(p_since timestamptz, p_until timestamptz,
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

-- Per service (p_services NULL: every one), the counted deploys of the
-- window (§4.1): counts, lead times of successes, durations, and the
-- recovery time of each failure: the next successful deploy of the same
-- service and env (a later-marked-failed deploy still counts as
-- successful here; it may finish after the window).
CREATE OR REPLACE FUNCTION opspulse.deploy_stats(p_since timestamptz, p_until timestamptz,
                                                 p_env text, p_services text[])
RETURNS TABLE (service text, deploys bigint, successes bigint, failures bigint,
               hotfixes bigint, leads double precision[],
               durations double precision[], recovery double precision[])
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    months timestamptz[] := opspulse.rollup_months(p_since, p_until, p_env, NULL);
BEGIN
RETURN QUERY
WITH d AS MATERIALIZED (
    SELECT c.* FROM opspulse.raw_ranges(p_since, p_until, months) w
    CROSS JOIN LATERAL opspulse.counted_deploys(w.lo, w.hi, p_env) c
    WHERE p_services IS NULL OR c.service = ANY (p_services)
),
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
raw AS (
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
parts AS (
    SELECT raw.*, recovery.hours
    FROM raw LEFT JOIN recovery ON recovery.service = raw.service
    UNION ALL
    SELECT r.service, r.deploys, r.successes, r.failures, r.hotfixes, r.leads,
           r.durations, r.recovery
    FROM opspulse.rollup_deploys r
    WHERE r.env = p_env AND r.month = ANY (months)
      AND (p_services IS NULL OR r.service = ANY (p_services))
)
SELECT p.service, sum(p.deploys)::bigint, sum(p.successes)::bigint,
       sum(p.failures)::bigint, sum(p.hotfixes)::bigint,
       opspulse.array_concat(p.leads), opspulse.array_concat(p.durations),
       opspulse.array_concat(p.hours)
FROM parts p GROUP BY p.service;
END
$$;

-- The delivery indicators per service (SPEC §4.1, §4.7): deploy frequency,
-- lead time, change failure rate and time to restore, with their DORA
-- levels, over the window's deploys (opspulse.deploy_stats: the rollups
-- and the events).  PL/pgSQL, as the other indicator functions: planned
-- with the arguments' values and without JIT, grouped by hashing with
-- percentiles over arrays instead of sorting the window by service.
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
-- Materialized: each percentile once, though the levels read it again.
WITH m AS MATERIALIZED (
    SELECT k.service,
           coalesce(p.deploys, 0) AS deploys,
           p.successes / opspulse.weeks(p_since, p_until) AS per_week,
           opspulse.percentile(p.leads, 0.5) AS lead_p50,
           p.failures::double precision / p.deploys AS cfr,
           CASE WHEN p.deploys > 0 THEN opspulse.percentile(p.recovery, 0.5) END
               AS recovery_p50,
           p.hotfixes::double precision / p.deploys AS rework,
           opspulse.percentile(p.durations, 0.5) AS dur_p50,
           opspulse.percentile(p.durations, 0.95) AS dur_p95
    FROM opspulse.known_services(p_services) k
    LEFT JOIN opspulse.deploy_stats(p_since, p_until, p_env, p_services) p
           ON p.service = k.service
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
