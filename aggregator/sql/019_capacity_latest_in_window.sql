-- opspulse.capacity, same definition as 008 (SPEC §4.5): the latest disk
-- sample before until is looked up inside the window first.  Over monthly
-- partitions (015) the unbounded lookup read every month once per disk.

CREATE OR REPLACE FUNCTION opspulse.capacity(p_since timestamptz, p_until timestamptz,
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
    -- The latest sample before until: inside the window when there is
    -- one (the usual case, and the only partitions read), else before it.
    -- Append runs its branches in order and LIMIT stops it at the first
    -- row, so the second branch runs only when the first finds nothing.
    CROSS JOIN LATERAL (
        (SELECT c.disk_used_bytes AS used, c.disk_total_bytes AS total
         FROM opspulse.capacity c
         WHERE c.service = k.service AND c.env = p_env AND c.host = k.host
           AND c.mount = k.mount AND c.disk_total_bytes IS NOT NULL
           AND c.at >= p_since AND c.at < p_until
         ORDER BY c.at DESC, c.disk_used_bytes DESC
         LIMIT 1)
        UNION ALL
        (SELECT c.disk_used_bytes, c.disk_total_bytes
         FROM opspulse.capacity c
         WHERE c.service = k.service AND c.env = p_env AND c.host = k.host
           AND c.mount = k.mount AND c.disk_total_bytes IS NOT NULL
           AND c.at < p_since
         ORDER BY c.at DESC, c.disk_used_bytes DESC
         LIMIT 1)
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
