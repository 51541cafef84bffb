-- Toil indicators (SPEC §4.2, edge rules §4.7).  Entries belong to the
-- window by their start; after-hours is judged by the start, in the time
-- zone of the service's team, and weighted by duration.

-- Toil entries that started in [since, until) in one environment, every
-- service, each with whether it started outside business hours.
CREATE OR REPLACE FUNCTION opspulse.window_toil(p_since timestamptz, p_until timestamptz,
                                                p_env text)
RETURNS TABLE (service text, operator text, task text, started_at timestamptz,
               duration_s bigint, after_hours boolean)
LANGUAGE sql STABLE AS $$
    SELECT t.service, coalesce(t.operator, ''), t.task, t.started_at, t.duration_s,
           NOT opspulse.in_business_hours(t.started_at, z.timezone)
    FROM opspulse.toil t
    JOIN opspulse.service_zones() z ON z.service = t.service
    WHERE t.env = p_env AND t.started_at >= p_since AND t.started_at < p_until
$$;

-- The window's toil per (service, operator), every service: seconds,
-- entries, seconds that started after hours, from the rollups and the
-- events.  Everything else of §4.2 except tasks derives from it.
CREATE OR REPLACE FUNCTION opspulse.toil_per_operator(p_since timestamptz,
                                                      p_until timestamptz, p_env text)
RETURNS TABLE (service text, operator text, total_s numeric, entries bigint,
               after_s numeric)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    months timestamptz[] := opspulse.rollup_months(p_since, p_until, p_env, NULL);
BEGIN
RETURN QUERY
SELECT u.service, u.operator, sum(u.s), sum(u.n)::bigint, sum(u.a)
FROM (SELECT r.service, r.operator, r.total_s AS s, r.entries AS n, r.after_s AS a
      FROM opspulse.rollup_toil r
      WHERE r.env = p_env AND r.month = ANY (months)
      UNION ALL
      SELECT e.service, e.operator, e.duration_s, 1,
             CASE WHEN e.after_hours THEN e.duration_s ELSE 0 END
      FROM opspulse.raw_ranges(p_since, p_until, months) w
      CROSS JOIN LATERAL opspulse.window_toil(w.lo, w.hi, p_env) e) u
GROUP BY u.service, u.operator;
END
$$;

-- Teams' toil over a window: hours, entries and capacity
-- (members x hours_per_week x weeks), optionally over some services only.
-- A service listed by two teams counts for both.
CREATE OR REPLACE FUNCTION opspulse.team_toil(p_since timestamptz, p_until timestamptz,
                                              p_env text, p_services text[] DEFAULT NULL)
RETURNS TABLE (team text, toil_hours double precision, entries bigint,
               capacity_hours double precision)
LANGUAGE sql STABLE AS $$
    WITH members AS (
        SELECT t.name, s.service
        FROM opspulse.teams t CROSS JOIN LATERAL unnest(t.services) AS s(service)
        WHERE p_services IS NULL OR s.service = ANY (p_services)
    ),
    per_service AS (
        SELECT o.service, sum(o.total_s) AS total_s, sum(o.entries) AS entries
        FROM opspulse.toil_per_operator(p_since, p_until, p_env) o
        GROUP BY o.service
    )
    SELECT t.name,
           (coalesce(sum(p.total_s), 0) / 3600)::double precision,
           coalesce(sum(p.entries), 0)::bigint,
           t.members * t.hours_per_week * opspulse.weeks(p_since, p_until)
    FROM opspulse.teams t
    LEFT JOIN members m ON m.name = t.name
    LEFT JOIN per_service p ON p.service = m.service
    GROUP BY t.name, t.members, t.hours_per_week
$$;

CREATE OR REPLACE FUNCTION opspulse.toil(p_since timestamptz, p_until timestamptz,
                                         p_env text DEFAULT 'production',
                                         p_services text[] DEFAULT NULL,
                                         p_team text DEFAULT NULL)
RETURNS TABLE (service text, team text, toil_hours double precision,
               entries bigint, operators bigint,
               top_operator_share double precision, bus_factor bigint,
               after_hours_share double precision, toil_ratio double precision)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH per_operator AS MATERIALIZED (
    SELECT * FROM opspulse.toil_per_operator(p_since, p_until, p_env)
),
-- Operators by hours, largest first, with the running total: the bus
-- factor is the first rank whose running total reaches 80 % (exact, in
-- integer seconds).
ranked AS (
    SELECT o.service, o.total_s,
           row_number() OVER w AS rank,
           sum(o.total_s) OVER w AS running,
           sum(o.total_s) OVER (PARTITION BY o.service) AS service_s
    FROM per_operator o
    WINDOW w AS (PARTITION BY o.service ORDER BY o.total_s DESC, o.operator
                 ROWS UNBOUNDED PRECEDING)
),
per_service AS (
    SELECT r.service, max(r.service_s) AS total_s, max(r.total_s) AS top_s,
           count(*) AS operators,
           min(r.rank) FILTER (WHERE r.running * 10 >= r.service_s * 8) AS bus_factor
    FROM ranked r GROUP BY r.service
),
per_service_counts AS (
    SELECT o.service, sum(o.entries)::bigint AS entries, sum(o.after_s) AS after_s
    FROM per_operator o GROUP BY o.service
),
-- The teams' ratios, over all of each team's services whatever the filter.
per_team AS (
    SELECT t.name AS team, sum(p.total_s) AS total_s, sum(c.entries) AS entries,
           t.members * t.hours_per_week * opspulse.weeks(p_since, p_until) AS capacity_hours
    FROM opspulse.teams t
    CROSS JOIN LATERAL unnest(t.services) AS m(service)
    LEFT JOIN per_service p ON p.service = m.service
    LEFT JOIN per_service_counts c ON c.service = m.service
    GROUP BY t.name, t.members, t.hours_per_week
)
SELECT k.service, z.team,
       (coalesce(p.total_s, 0) / 3600)::double precision,
       coalesce(c.entries, 0),
       coalesce(p.operators, 0),
       (p.top_s / nullif(p.total_s, 0))::double precision,
       CASE WHEN p.total_s > 0 THEN p.bus_factor END,
       (c.after_s / nullif(p.total_s, 0))::double precision,
       CASE WHEN pt.entries > 0
            THEN (pt.total_s / 3600)::double precision / pt.capacity_hours END
FROM opspulse.selected_services(p_services, p_team) k
JOIN opspulse.service_zones() z ON z.service = k.service
LEFT JOIN per_service p ON p.service = k.service
LEFT JOIN per_service_counts c ON c.service = k.service
LEFT JOIN per_team pt ON pt.team = z.team
ORDER BY k.service;
END
$$;

-- Per (service, task): toil entries, seconds, and the distinct operators
-- ('' for none).
CREATE OR REPLACE FUNCTION opspulse.task_stats(p_since timestamptz, p_until timestamptz,
                                               p_env text, p_services text[], p_team text)
RETURNS TABLE (service text, task text, entries bigint, total_s numeric,
               operators text[])
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    months timestamptz[] := opspulse.rollup_months(p_since, p_until, p_env, NULL);
BEGIN
RETURN QUERY
SELECT u.service, u.task, sum(u.n)::bigint, sum(u.s),
       ARRAY(SELECT DISTINCT o FROM unnest(opspulse.array_concat(u.operators)) o ORDER BY 1)
FROM (SELECT e.service, e.task, count(*) AS n, sum(e.duration_s) AS s,
             array_agg(DISTINCT coalesce(e.operator, '')) AS operators
      FROM opspulse.raw_ranges(p_since, p_until, months) w
      CROSS JOIN LATERAL (
          SELECT * FROM opspulse.toil x
          WHERE x.env = p_env AND x.started_at >= w.lo AND x.started_at < w.hi
            AND (p_services IS NULL AND p_team IS NULL  -- no filter: no join
               OR x.service IN (SELECT s.service
                                  FROM opspulse.selected_services(p_services, p_team) s))) e
      GROUP BY e.service, e.task
      UNION ALL
      SELECT r.service, r.task, r.entries, r.total_s, r.operators
      FROM opspulse.rollup_tasks r
      WHERE r.env = p_env AND r.month = ANY (months)
        AND (p_services IS NULL AND p_team IS NULL
             OR r.service IN (SELECT s.service
                              FROM opspulse.selected_services(p_services, p_team) s))) u
GROUP BY u.service, u.task;
END
$$;

-- Automation candidates: one row per (service, task), largest total first.
CREATE OR REPLACE FUNCTION opspulse.toil_by_task(p_since timestamptz, p_until timestamptz,
                                                 p_env text DEFAULT 'production',
                                                 p_services text[] DEFAULT NULL,
                                                 p_team text DEFAULT NULL)
RETURNS TABLE (service text, task text, count bigint,
               total_hours double precision, mean_minutes double precision,
               operators bigint)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
SELECT o.service, o.task, o.entries, (o.total_s / 3600)::double precision,
       (o.total_s / o.entries / 60)::double precision,
       cardinality(o.operators)::bigint
FROM opspulse.task_stats(p_since, p_until, p_env, p_services, p_team) o
ORDER BY o.total_s DESC, o.service, o.task;
END
$$;

-- One row per configured team.
CREATE OR REPLACE FUNCTION opspulse.toil_by_team(p_since timestamptz, p_until timestamptz,
                                                 p_env text DEFAULT 'production',
                                                 p_services text[] DEFAULT NULL,
                                                 p_team text DEFAULT NULL)
RETURNS TABLE (team text, toil_hours double precision,
               capacity_hours double precision, toil_ratio double precision)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
SELECT tt.team, tt.toil_hours, tt.capacity_hours,
       CASE WHEN tt.entries > 0 THEN tt.toil_hours / tt.capacity_hours END
FROM opspulse.team_toil(p_since, p_until, p_env, p_services) tt
WHERE p_team IS NULL OR tt.team = p_team
ORDER BY tt.team;
END
$$;

-- The least-squares slope of each service's weekly toil hours over the
-- window's weeks (7-day buckets from since; a shorter last bucket is scaled
-- to a week).  NULL with fewer than two buckets.  Whole days the buckets
-- do not cut come from the daily rollup.
CREATE OR REPLACE FUNCTION opspulse.toil_trend(p_since timestamptz, p_until timestamptz,
                                               p_env text)
RETURNS TABLE (service text, slope double precision)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    days timestamptz[] := opspulse.rollup_day_list(
        opspulse.rollup_months(p_since, p_until, p_env, NULL), p_since);
BEGIN
RETURN QUERY
WITH buckets AS (
    SELECT b.k,
           date_part('epoch', least(p_since + (b.k + 1) * interval '604800 seconds', p_until)
                              - (p_since + b.k * interval '604800 seconds'))
               ::double precision / 604800 AS length_weeks
    FROM generate_series(0, ceil(opspulse.weeks(p_since, p_until))::integer - 1) AS b(k)
),
hours AS (
    SELECT u.service, u.k, sum(u.s)::double precision / 3600 AS h
    FROM (SELECT e.service,
                 floor(date_part('epoch', e.started_at - p_since) / 604800)::integer AS k,
                 e.duration_s::numeric AS s
          FROM opspulse.uncovered(p_since, p_until, days, opspulse.days_after(days)) w
          CROSS JOIN LATERAL opspulse.window_toil(w.lo, w.hi, p_env) e
          UNION ALL
          SELECT r.service, floor(date_part('epoch', r.day - p_since) / 604800)::integer,
                 r.toil_s
          FROM opspulse.rollup_days r
          WHERE r.env = p_env AND r.day = ANY (days) AND r.toil_entries > 0) u
    GROUP BY 1, 2
)
SELECT s.service,
       regr_slope(coalesce(h.h, 0) / b.length_weeks, b.k::double precision)
FROM (SELECT DISTINCT hours.service FROM hours) s
CROSS JOIN buckets b
LEFT JOIN hours h ON h.service = s.service AND h.k = b.k
GROUP BY s.service;
END
$$;
