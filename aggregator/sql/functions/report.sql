-- The review report (SPEC §6): the series `opspulse report` draws beside
-- the indicator tables it reads from the other families.

-- Weekly series for the review report's trend charts (SPEC §6): per
-- selected service and week, the deploys and change failure rate (§4.1,
-- counted as opspulse.dora counts them), toil hours (§4.2) and alert
-- episodes with their noise share (§4.3).  Weeks are counted back from
-- until: the last is [until - 7 days, until), and the first is cut at
-- since when the window is not a whole number of weeks.  Every selected
-- service has a row for every week; counts and sums are 0 in a week
-- without events, rates and shares NULL.  Whole days the weeks do not
-- cut come from the daily rollup.
CREATE OR REPLACE FUNCTION opspulse.weekly(p_since timestamptz, p_until timestamptz,
                                           p_env text DEFAULT 'production',
                                           p_services text[] DEFAULT NULL,
                                           p_team text DEFAULT NULL)
RETURNS TABLE (service text, week_start timestamptz, week_end timestamptz,
               deploys bigint, change_failure_rate double precision,
               toil_hours double precision, alerts bigint,
               noise_share double precision)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    n integer := ceil(date_part('epoch', p_until - p_since) / 604800)::integer;
    days timestamptz[] := opspulse.rollup_day_list(
        opspulse.rollup_months(p_since, p_until, p_env, opspulse.rollup_noise()), p_until);
BEGIN
IF n < 1 THEN
    RETURN;
END IF;
RETURN QUERY
WITH s AS MATERIALIZED (
    SELECT x.service FROM opspulse.selected_services(p_services, p_team) x
),
w AS (
    SELECT i,
           greatest(p_until - (n - i) * interval '7 days', p_since) AS ws,
           p_until - (n - 1 - i) * interval '7 days' AS we
    FROM generate_series(0, n - 1) i
),
raw AS MATERIALIZED (
    SELECT r.lo, r.hi FROM opspulse.uncovered(p_since, p_until, days,
                                              opspulse.days_after(days)) r
),
-- A whole day's events all fall in the week of its first instant.
rd AS (
    SELECT r.service, n - ceil(date_part('epoch', p_until - r.day) / 604800)::integer AS i,
           r.deploys, r.failures, r.toil_s, r.fired, r.noisy
    FROM opspulse.rollup_days r
    WHERE r.env = p_env AND r.day = ANY (days) AND r.service IN (SELECT s.service FROM s)
),
-- An event at t falls in week n - ceil((until - t) / 7 days).
d AS (
    SELECT u.service, u.i, sum(u.deploys)::bigint AS deploys,
           sum(u.failures)::bigint AS failures
    FROM (SELECT c.service,
                 n - ceil(date_part('epoch', p_until - c.finished_at) / 604800)::integer AS i,
                 1 AS deploys, CASE WHEN c.is_failure THEN 1 ELSE 0 END AS failures
          FROM raw w CROSS JOIN LATERAL opspulse.counted_deploys(w.lo, w.hi, p_env) c
          WHERE c.service IN (SELECT s.service FROM s)
          UNION ALL
          SELECT rd.service, rd.i, rd.deploys, rd.failures FROM rd WHERE rd.deploys > 0) u
    GROUP BY 1, 2
),
t AS (
    SELECT u.service, u.i, sum(u.s) / 3600.0 AS hours
    FROM (SELECT e.service,
                 n - ceil(date_part('epoch', p_until - e.started_at) / 604800)::integer AS i,
                 e.duration_s::numeric AS s
          FROM raw w CROSS JOIN LATERAL opspulse.window_toil(w.lo, w.hi, p_env) e
          WHERE e.service IN (SELECT s.service FROM s)
          UNION ALL
          SELECT rd.service, rd.i, rd.toil_s FROM rd) u
    GROUP BY 1, 2
),
a AS (
    SELECT u.service, u.i, sum(u.fired)::bigint AS fired, sum(u.noisy)::bigint AS noise
    FROM (SELECT e.service,
                 n - ceil(date_part('epoch', p_until - e.starts_at) / 604800)::integer AS i,
                 1 AS fired, CASE WHEN e.noise THEN 1 ELSE 0 END AS noisy
          FROM raw w
          CROSS JOIN LATERAL opspulse.window_alerts(w.lo, w.hi, p_env, p_services, p_team,
                                                    NULL) e
          UNION ALL
          SELECT rd.service, rd.i, rd.fired, rd.noisy FROM rd WHERE rd.fired > 0) u
    GROUP BY 1, 2
)
SELECT s.service, w.ws, w.we,
       coalesce(d.deploys, 0),
       d.failures::double precision / nullif(d.deploys, 0),
       coalesce(t.hours, 0)::double precision,
       coalesce(a.fired, 0),
       a.noise::double precision / nullif(a.fired, 0)
FROM s CROSS JOIN w
LEFT JOIN d ON d.service = s.service AND d.i = w.i
LEFT JOIN t ON t.service = s.service AND t.i = w.i
LEFT JOIN a ON a.service = s.service AND a.i = w.i
ORDER BY s.service, w.ws;
END
$$;
