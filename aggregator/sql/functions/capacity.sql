-- Capacity (SPEC §4.5): `opspulse capacity`.

-- Per host of the window's capacity samples: its mounts (NULL for a
-- sample without one) and one CPU and memory value per sample time (an
-- agent's sample repeats them on each mount's row; should two rows of one
-- time differ, the larger counts).
CREATE OR REPLACE FUNCTION opspulse.host_samples(p_since timestamptz, p_until timestamptz,
                                                 p_env text, p_services text[], p_team text)
RETURNS TABLE (service text, host text, mounts text[], cpu double precision[],
               mem double precision[])
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    months timestamptz[] := opspulse.rollup_months(p_since, p_until, p_env, NULL);
BEGIN
RETURN QUERY
WITH raw AS MATERIALIZED (
    SELECT c.service, c.host, c.mount, c.at, c.cpu_pct, c.mem_pct
    FROM opspulse.raw_ranges(p_since, p_until, months) w
    CROSS JOIN LATERAL (
        SELECT * FROM opspulse.capacity x
        WHERE x.env = p_env AND x.at >= w.lo AND x.at < w.hi
          AND (p_services IS NULL AND p_team IS NULL  -- no filter: no join
               OR x.service IN (SELECT s.service
                                FROM opspulse.selected_services(p_services, p_team) s))) c
),
-- Grouped by hashing throughout: the database's collation makes sorts
-- by text slow.
parts AS (
    SELECT h.service, h.host, NULL::text[] AS mounts,
           array_agg(h.cpu_pct) AS cpu, array_agg(h.mem_pct) AS mem
    FROM (SELECT r.service, r.host, r.at, max(r.cpu_pct) AS cpu_pct,
                 max(r.mem_pct) AS mem_pct
          FROM raw r GROUP BY r.service, r.host, r.at) h
    GROUP BY h.service, h.host
    UNION ALL
    SELECT m.service, m.host, array_agg(m.mount), NULL, NULL
    FROM (SELECT DISTINCT r.service, r.host, r.mount FROM raw r) m
    GROUP BY m.service, m.host
    UNION ALL
    SELECT r.service, r.host, r.mounts, r.cpu, r.mem
    FROM opspulse.rollup_hosts r
    WHERE r.env = p_env AND r.month = ANY (months)
      AND (p_services IS NULL AND p_team IS NULL
           OR r.service IN (SELECT s.service
                            FROM opspulse.selected_services(p_services, p_team) s))
)
SELECT p.service, p.host,
       ARRAY(SELECT DISTINCT m FROM unnest(opspulse.array_concat(p.mounts)) m),
       opspulse.array_concat(p.cpu), opspulse.array_concat(p.mem)
FROM parts p GROUP BY p.service, p.host;
END
$$;

-- What opspulse.capacity returns, and the scorecard reads; memory percentiles
-- only when p_mem (the scorecard does not need them).
CREATE OR REPLACE FUNCTION opspulse.host_capacity(p_since timestamptz, p_until timestamptz,
                                                  p_env text, p_services text[], p_team text,
                                                  p_mem boolean)
RETURNS TABLE (service text, host text, mount text,
               cpu_p95_pct double precision, mem_p95_pct double precision,
               disk_used_pct double precision,
               disk_days_to_full double precision)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH hs AS MATERIALIZED (
    SELECT * FROM opspulse.host_samples(p_since, p_until, p_env, p_services, p_team)
),
-- Each host's percentiles, once for all its mounts.
p95 AS MATERIALIZED (
    SELECT h.service, h.host, opspulse.percentile(h.cpu, 0.95) AS cpu,
           CASE WHEN p_mem THEN opspulse.percentile(h.mem, 0.95) END AS mem
    FROM hs h
),
keys AS (
    SELECT h.service, h.host, m.mount FROM hs h CROSS JOIN LATERAL unnest(h.mounts) m(mount)
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
JOIN p95 p ON p.service = k.service AND p.host = k.host
LEFT JOIN disk d ON d.service = k.service AND d.host = k.host AND d.mount = k.mount
ORDER BY k.service, k.host, k.mount;
END
$$;

-- One row per (service, host, mount) with samples in [since, until).
-- cpu_p95_pct and mem_p95_pct are over the host's samples in the window
-- (one per sample time, however many mounts it reported);
-- disk_used_pct is of the latest sample before until; disk_days_to_full
-- extrapolates the least-squares slope of used bytes per day over the 14
-- days before until, NULL unless the disk is filling.
CREATE OR REPLACE FUNCTION opspulse.capacity(p_since timestamptz, p_until timestamptz,
                                  p_env text DEFAULT 'production',
                                  p_services text[] DEFAULT NULL,
                                  p_team text DEFAULT NULL)
RETURNS TABLE (service text, host text, mount text,
               cpu_p95_pct double precision, mem_p95_pct double precision,
               disk_used_pct double precision,
               disk_days_to_full double precision)
LANGUAGE sql STABLE AS $$
    SELECT * FROM opspulse.host_capacity(p_since, p_until, p_env, p_services, p_team, true)
$$;
