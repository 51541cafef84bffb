-- Capacity and batches (SPEC §4.5).

-- One row per (service, host, mount) with samples in [since, until).
-- cpu_p95_pct and mem_p95_pct are over the host's samples in the window
-- (one per sample time, however many mounts it reported);
-- disk_used_pct is of the latest sample before until; disk_days_to_full
-- extrapolates the least-squares slope of used bytes per day over the 14
-- days before until, NULL unless the disk is filling.
CREATE FUNCTION opspulse.capacity(p_since timestamptz, p_until timestamptz,
                                  p_env text DEFAULT 'production',
                                  p_services text[] DEFAULT NULL,
                                  p_team text DEFAULT NULL)
RETURNS TABLE (service text, host text, mount text,
               cpu_p95_pct double precision, mem_p95_pct double precision,
               disk_used_pct double precision,
               disk_days_to_full double precision)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH keys AS (
    SELECT DISTINCT c.service, c.host, c.mount
    FROM opspulse.capacity c
    WHERE c.env = p_env AND c.at >= p_since AND c.at < p_until
      AND (p_services IS NULL AND p_team IS NULL  -- no filter: no join
         OR c.service IN (SELECT s.service
                            FROM opspulse.selected_services(p_services, p_team) s))
),
-- One sample per host and time, in index order: no sort of the window.
host_p95 AS (
    SELECT h.service, h.host,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY h.cpu_pct) AS cpu,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY h.mem_pct) AS mem
    FROM (SELECT DISTINCT ON (c.service, c.host, c.at)
                 c.service, c.host, c.at, c.cpu_pct, c.mem_pct
          FROM opspulse.capacity c
          WHERE c.env = p_env AND c.at >= p_since AND c.at < p_until
            AND (p_services IS NULL AND p_team IS NULL  -- no filter: no join
               OR c.service IN (SELECT s.service
                                  FROM opspulse.selected_services(p_services, p_team) s))
          ORDER BY c.service, c.host, c.at) h
    GROUP BY h.service, h.host
),
disk AS (
    SELECT k.service, k.host, k.mount, l.used, l.total,
           (SELECT regr_slope(c.disk_used_bytes::double precision,
                              date_part('epoch', c.at)::double precision / 86400)
            FROM opspulse.capacity c
            WHERE c.service = k.service AND c.env = p_env AND c.host = k.host
              AND c.mount = k.mount AND c.disk_total_bytes IS NOT NULL
              AND c.at >= p_until - interval '336 hours' AND c.at < p_until) AS slope
    FROM keys k
    CROSS JOIN LATERAL (
        SELECT c.disk_used_bytes AS used, c.disk_total_bytes AS total
        FROM opspulse.capacity c
        WHERE c.service = k.service AND c.env = p_env AND c.host = k.host
          AND c.mount = k.mount AND c.disk_total_bytes IS NOT NULL
          AND c.at < p_until
        ORDER BY c.at DESC, c.disk_used_bytes DESC
        LIMIT 1) l
    WHERE k.mount IS NOT NULL
)
SELECT k.service, k.host, k.mount, p.cpu, p.mem,
       d.used::double precision * 100 / nullif(d.total, 0),
       CASE WHEN d.slope > 0 THEN (d.total - d.used) / d.slope END
FROM keys k
JOIN host_p95 p ON p.service = k.service AND p.host = k.host
LEFT JOIN disk d ON d.service = k.service AND d.host = k.host AND d.mount = k.mount
ORDER BY k.service, k.host, k.mount;
END
$$;

-- Runs per (service, task) that started in [since, until) in one
-- environment, with the median of the previous window of equal length.
CREATE FUNCTION opspulse.batch_stats(p_since timestamptz, p_until timestamptz,
                                     p_env text, p_services text[], p_team text)
RETURNS TABLE (service text, task text, runs bigint, failures bigint,
               p50 double precision, p95 double precision)
LANGUAGE sql STABLE AS $$
    SELECT b.service, b.task, count(*),
           count(*) FILTER (WHERE b.outcome <> 'success'),
           opspulse.percentile(array_agg(b.duration_s::double precision), 0.5),
           opspulse.percentile(array_agg(b.duration_s::double precision), 0.95)
    FROM opspulse.batch_runs b
    WHERE b.env = p_env AND b.started_at >= p_since AND b.started_at < p_until
      AND (p_services IS NULL AND p_team IS NULL  -- no filter: no join
         OR b.service IN (SELECT s.service
                            FROM opspulse.selected_services(p_services, p_team) s))
    GROUP BY b.service, b.task
$$;

-- One row per (service, task) with runs in the window.  Failures are runs
-- whose outcome is not success; durations cover every run.
CREATE FUNCTION opspulse.batches(p_since timestamptz, p_until timestamptz,
                                 p_env text DEFAULT 'production',
                                 p_services text[] DEFAULT NULL,
                                 p_team text DEFAULT NULL)
RETURNS TABLE (service text, task text, runs bigint, failures bigint,
               duration_p50_seconds double precision,
               duration_p95_seconds double precision,
               duration_p50_change_pct double precision)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
SELECT c.service, c.task, c.runs, c.failures, c.p50, c.p95,
       (c.p50 - p.p50) * 100 / nullif(p.p50, 0)
FROM opspulse.batch_stats(p_since, p_until, p_env, p_services, p_team) c
LEFT JOIN opspulse.batch_stats(p_since - (p_until - p_since), p_since,
                               p_env, p_services, p_team) p
       ON p.service = c.service AND p.task = c.task
ORDER BY c.service, c.task;
END
$$;
