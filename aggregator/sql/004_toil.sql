-- Toil indicators (SPEC §4.2, edge rules §4.7).  Entries belong to the
-- window by their start; after-hours is judged by the start, in the time
-- zone of the service's team, and weighted by duration.

-- Toil entries that started in [since, until) in one environment, every
-- service, each with whether it started outside business hours.
CREATE FUNCTION opspulse.window_toil(p_since timestamptz, p_until timestamptz,
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
-- entries, seconds that started after hours.  One pass over the entries;
-- everything else of §4.2 except tasks derives from it.
CREATE FUNCTION opspulse.toil_per_operator(p_since timestamptz, p_until timestamptz,
                                           p_env text)
RETURNS TABLE (service text, operator text, total_s numeric, entries bigint,
               after_s numeric)
LANGUAGE sql STABLE AS $$
    SELECT e.service, e.operator, sum(e.duration_s), count(*),
           coalesce(sum(e.duration_s) FILTER (WHERE e.after_hours), 0)
    FROM opspulse.window_toil(p_since, p_until, p_env) e
    GROUP BY e.service, e.operator
$$;

-- Teams' toil over a window: hours, entries and capacity
-- (members x hours_per_week x weeks), optionally over some services only.
-- A service listed by two teams counts for both.
CREATE FUNCTION opspulse.team_toil(p_since timestamptz, p_until timestamptz,
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

CREATE FUNCTION opspulse.toil(p_since timestamptz, p_until timestamptz,
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

-- Automation candidates: one row per (service, task), largest total first.
CREATE FUNCTION opspulse.toil_by_task(p_since timestamptz, p_until timestamptz,
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
-- Per (service, task, operator) first: two hash aggregates, no sort of
-- the window for the distinct operators.
SELECT o.service, o.task, sum(o.n)::bigint,
       (sum(o.s) / 3600)::double precision,
       (sum(o.s) / sum(o.n) / 60)::double precision,
       count(*)
FROM (SELECT e.service, e.task, coalesce(e.operator, '') AS operator,
             count(*) AS n, sum(e.duration_s) AS s
      FROM opspulse.toil e
      WHERE e.env = p_env AND e.started_at >= p_since AND e.started_at < p_until
        AND (p_services IS NULL AND p_team IS NULL  -- no filter: no join
           OR e.service IN (SELECT s.service
                              FROM opspulse.selected_services(p_services, p_team) s))
      GROUP BY e.service, e.task, coalesce(e.operator, '')) o
GROUP BY o.service, o.task
ORDER BY sum(o.s) DESC, o.service, o.task;
END
$$;

-- One row per configured team.
CREATE FUNCTION opspulse.toil_by_team(p_since timestamptz, p_until timestamptz,
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
