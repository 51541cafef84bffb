-- `opspulse services` and `opspulse agents`.

-- Event times in [since, until) of one environment, every kind.
CREATE OR REPLACE FUNCTION opspulse.window_events(p_since timestamptz, p_until timestamptz,
                                                  p_env text)
RETURNS TABLE (service text, at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT service, finished_at FROM opspulse.deploys
    WHERE env = p_env AND finished_at >= p_since AND finished_at < p_until
    UNION ALL
    SELECT service, at FROM opspulse.deploy_failures
    WHERE env = p_env AND at >= p_since AND at < p_until
    UNION ALL
    SELECT service, started_at FROM opspulse.toil
    WHERE env = p_env AND started_at >= p_since AND started_at < p_until
    UNION ALL
    SELECT service, started_at FROM opspulse.batch_runs
    WHERE env = p_env AND started_at >= p_since AND started_at < p_until
    UNION ALL
    SELECT service, starts_at FROM opspulse.alerts
    WHERE env = p_env AND starts_at >= p_since AND starts_at < p_until
    UNION ALL
    SELECT service, observed_at FROM opspulse.components
    WHERE env = p_env AND observed_at >= p_since AND observed_at < p_until
    UNION ALL
    SELECT service, recorded_at FROM opspulse.maintenance
    WHERE env = p_env AND recorded_at >= p_since AND recorded_at < p_until
    UNION ALL
    SELECT service, at FROM opspulse.capacity
    WHERE env = p_env AND at >= p_since AND at < p_until
$$;

-- ---- the parts the indicators merge -------------------------------------

-- Per service: events in the window (every kind) and the latest.
CREATE OR REPLACE FUNCTION opspulse.event_counts(p_since timestamptz, p_until timestamptz,
                                                 p_env text)
RETURNS TABLE (service text, events bigint, last_event timestamptz)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    months timestamptz[] := opspulse.rollup_months(p_since, p_until, p_env, NULL);
BEGIN
RETURN QUERY
SELECT u.service, sum(u.n)::bigint, max(u.at)
FROM (SELECT r.service, r.events AS n, r.last_event AS at
      FROM opspulse.rollup_events r
      WHERE r.env = p_env AND r.month = ANY (months)
      UNION ALL
      SELECT e.service, 1, e.at
      FROM opspulse.raw_ranges(p_since, p_until, months) w
      CROSS JOIN LATERAL opspulse.window_events(w.lo, w.hi, p_env) e) u
GROUP BY u.service;
END
$$;

-- Every known service with its team, business-hours time zone, when it was
-- first seen, and its events in the window (in the environment): how many
-- and the latest.
CREATE OR REPLACE FUNCTION opspulse.service_list(p_since timestamptz, p_until timestamptz,
                                                 p_env text DEFAULT 'production',
                                                 p_services text[] DEFAULT NULL,
                                                 p_team text DEFAULT NULL)
RETURNS TABLE (service text, team text, timezone text, first_seen timestamptz,
               events bigint, last_event timestamptz)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
SELECT k.service, z.team, z.timezone, s.first_seen, coalesce(c.events, 0),
       c.last_event
FROM opspulse.selected_services(p_services, p_team) k
JOIN opspulse.services s ON s.service = k.service
JOIN opspulse.service_zones() z ON z.service = k.service
LEFT JOIN opspulse.event_counts(p_since, p_until, p_env) c ON c.service = k.service
ORDER BY k.service;
END
$$;

-- One row per agent: its newest version, spools, events delivered, events
-- its spools dropped when full (summed over its spools), access-log lines
-- its tailer skipped (in total, and per file and reason) and when it was
-- first and last seen.
DROP FUNCTION IF EXISTS opspulse.agents();
CREATE OR REPLACE FUNCTION opspulse.agents()
RETURNS TABLE (agent text, version text, spools bigint, events bigint,
               dropped bigint, skipped_lines bigint, skipped_by_reason text,
               first_seen timestamptz, last_seen timestamptz)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
SELECT a.agent_id,
       (array_agg(a.version ORDER BY a.last_seen DESC))[1],
       count(*), sum(a.events)::bigint, sum(a.dropped_total)::bigint,
       coalesce(max(l.total), 0)::bigint, coalesce(max(l.detail), ''),
       min(a.first_seen), max(a.last_seen)
FROM opspulse.agent_spools a
LEFT JOIN (SELECT k.agent_id, sum(k.skipped) AS total,
                  string_agg(k.path || ' ' || k.reason || ' ' || k.skipped,
                             ', ' ORDER BY k.path, k.reason) AS detail
           FROM opspulse.agent_line_skips k
           WHERE k.skipped > 0
           GROUP BY k.agent_id) l ON l.agent_id = a.agent_id
GROUP BY a.agent_id
ORDER BY a.agent_id;
END
$$;
