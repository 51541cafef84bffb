-- Batch jobs (SPEC §4.5): `opspulse batches`.

-- Runs per (service, task) that started in [since, until) in one
-- environment, with the median of the previous window of equal length.
CREATE OR REPLACE FUNCTION opspulse.batch_stats(p_since timestamptz, p_until timestamptz,
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
CREATE OR REPLACE FUNCTION opspulse.batches(p_since timestamptz, p_until timestamptz,
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
