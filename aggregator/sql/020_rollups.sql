-- Monthly rollups (SPEC §10, §11): a year-long window reads twelve rows
-- per service, not a year of events.
--
-- For every closed UTC month the rollup tables hold, per (service, env),
-- what the indicators take from that month's events, computed by the
-- indicator functions themselves over the month: event counts, deploy
-- counts and the values their percentiles are taken over (lead times,
-- durations, each failure's recovery time), toil per operator and per
-- task, alert counts, durations and flapping rules, also per rule, each
-- host's CPU and memory samples, and per UTC day the sums the weekly
-- series add up.  A window reads the rollup for the whole months it contains
-- that are ready and clean, and the events for the rest: the partial
-- months at its edges, the current month, and any month not rolled up.
-- Results do not depend on whether a rollup exists: counts add up, and
-- percentiles are taken over the merged values.
--
-- Freshness: a statement trigger on each event table appends the
-- (service, env, month) of the rows a statement changed in a closed month
-- to rollup_dirty, in the same transaction as the events.  A month with a
-- dirty row is read from the events until opspulse.refresh_rollups()
-- (which the aggregator runs every few seconds) recomputes it.  Rows of
-- the current month are not marked: that month is always read from the
-- events, and is rolled up once it has been closed for two hours.
--
-- Business hours (toil, alerts) depend on the teams' time zones, noise on
-- noise_minutes: a month rolled up under another configuration is read
-- from the events until it is recomputed.
--
-- Every key starts with service, the distribution key of SCALING.md
-- (rollup_ready, one row per month, would be a reference table).

-- Concatenation of arrays, for merging the value arrays of several parts.
CREATE AGGREGATE opspulse.array_concat(anycompatiblearray) (
    SFUNC = array_cat, STYPE = anycompatiblearray, INITCOND = '{}'
);

-- Months rolled up, and the configuration they were rolled up under.
CREATE TABLE opspulse.rollup_ready (
    month         timestamptz PRIMARY KEY,  -- first instant, UTC
    zones         text NOT NULL,            -- opspulse.rollup_zones()
    noise_minutes integer NOT NULL,         -- opspulse.rollup_noise()
    computed_at   timestamptz NOT NULL DEFAULT now()
);

-- Keys of closed months whose events changed after their rollup.
-- Append-only, no unique key: concurrent ingest never waits here.
CREATE TABLE opspulse.rollup_dirty (
    service text NOT NULL,
    env     text NOT NULL,
    month   timestamptz NOT NULL
);
CREATE INDEX rollup_dirty_month ON opspulse.rollup_dirty (month, env);

CREATE TABLE opspulse.rollup_events (
    service    text NOT NULL,
    env        text NOT NULL,
    month      timestamptz NOT NULL,
    events     bigint NOT NULL,
    last_event timestamptz NOT NULL,
    PRIMARY KEY (service, env, month)
);

-- Counted deploys that finished in the month (opspulse.deploy_stats).
CREATE TABLE opspulse.rollup_deploys (
    service   text NOT NULL,
    env       text NOT NULL,
    month     timestamptz NOT NULL,
    deploys   bigint NOT NULL,
    successes bigint NOT NULL,
    failures  bigint NOT NULL,
    hotfixes  bigint NOT NULL,
    leads     double precision[],  -- hours
    durations double precision[],  -- seconds
    recovery  double precision[],  -- hours, per recovered failure
    PRIMARY KEY (service, env, month)
);

-- Toil that started in the month (opspulse.toil_per_operator).
CREATE TABLE opspulse.rollup_toil (
    service  text NOT NULL,
    env      text NOT NULL,
    month    timestamptz NOT NULL,
    operator text NOT NULL,
    total_s  numeric NOT NULL,
    entries  bigint NOT NULL,
    after_s  numeric NOT NULL,
    PRIMARY KEY (service, env, month, operator)
);

-- Alert episodes that started in the month (opspulse.alert_stats), and
-- the rules with a flapping triple inside the month (opspulse.flapping).
CREATE TABLE opspulse.rollup_alerts (
    service     text NOT NULL,
    env         text NOT NULL,
    month       timestamptz NOT NULL,
    fired       bigint NOT NULL,
    resolved    bigint NOT NULL,
    noisy       bigint NOT NULL,
    after_hours bigint NOT NULL,
    minutes     double precision[],
    flapping    text[],
    PRIMARY KEY (service, env, month)
);

-- Capacity samples of the month per host (opspulse.host_samples).
CREATE TABLE opspulse.rollup_hosts (
    service text NOT NULL,
    env     text NOT NULL,
    month   timestamptz NOT NULL,
    host    text NOT NULL,
    mounts  text[] NOT NULL,
    cpu     double precision[] NOT NULL,
    mem     double precision[] NOT NULL,
    PRIMARY KEY (service, env, month, host)
);

-- Per UTC day of the month, what the weekly series add up
-- (opspulse.weekly, opspulse.toil_trend).
CREATE TABLE opspulse.rollup_days (
    service  text NOT NULL,
    env      text NOT NULL,
    day      timestamptz NOT NULL,  -- first instant, UTC
    deploys  bigint NOT NULL,
    failures bigint NOT NULL,
    toil_entries bigint NOT NULL,
    toil_s   numeric NOT NULL,
    fired    bigint NOT NULL,
    noisy    bigint NOT NULL,
    PRIMARY KEY (service, env, day)
);

-- Alert episodes of the month per rule (opspulse.alerts_by_rule).
CREATE TABLE opspulse.rollup_rules (
    service   text NOT NULL,
    env       text NOT NULL,
    month     timestamptz NOT NULL,
    alertname text NOT NULL,
    fired     bigint NOT NULL,
    noisy     bigint NOT NULL,
    minutes   double precision[],
    PRIMARY KEY (service, env, month, alertname)
);

-- Toil of the month per task (opspulse.toil_by_task).
CREATE TABLE opspulse.rollup_tasks (
    service   text NOT NULL,
    env       text NOT NULL,
    month     timestamptz NOT NULL,
    task      text NOT NULL,
    entries   bigint NOT NULL,
    total_s   numeric NOT NULL,
    operators text[] NOT NULL,  -- distinct, '' for none
    PRIMARY KEY (service, env, month, task)
);

-- The configuration business hours and noise depend on.  Services
-- without a team use the aggregator's time zone, so new services do not
-- change it.
CREATE FUNCTION opspulse.rollup_zones() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT md5(coalesce((SELECT s.value FROM opspulse.settings s WHERE s.key = 'timezone'), '')
               || '|' || coalesce(string_agg(t.service || '=' || coalesce(t.timezone, ''), ','
                                             ORDER BY t.service), ''))
    FROM opspulse.service_teams t
$$;

CREATE FUNCTION opspulse.rollup_noise() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT s.value::integer FROM opspulse.settings s
                     WHERE s.key = 'noise_minutes'), 15)
$$;

-- The first instant of the UTC day of p_at.
CREATE FUNCTION opspulse.day_start(p_at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT date_trunc('day', p_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
$$;

-- The start of the UTC month after the one starting at p_month.
CREATE FUNCTION opspulse.month_after(p_month timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT opspulse.month_start(p_month + interval '32 days')
$$;

-- The start of the UTC day after each of p_days (UTC day starts).
CREATE FUNCTION opspulse.days_after(p_days timestamptz[]) RETURNS timestamptz[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT (d AT TIME ZONE 'UTC' + interval '1 day') AT TIME ZONE 'UTC'
                 FROM unnest(p_days) d)
$$;

-- The whole months of [since, until) a query in one environment reads
-- from the rollups, in order: ready, clean, rolled up under the current
-- configuration (and noise threshold p_noise, unless NULL).  None when
-- the session sets opspulse.rollups to off (tests compare both ways).
CREATE FUNCTION opspulse.rollup_months(p_since timestamptz, p_until timestamptz,
                                       p_env text, p_noise integer)
RETURNS timestamptz[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(r.month ORDER BY r.month), '{}')
    FROM opspulse.rollup_ready r
    WHERE coalesce(current_setting('opspulse.rollups', true), '') <> 'off'
      AND r.month >= p_since AND opspulse.month_after(r.month) <= p_until
      AND r.zones = opspulse.rollup_zones()
      AND (p_noise IS NULL OR r.noise_minutes = p_noise)
      AND NOT EXISTS (SELECT 1 FROM opspulse.rollup_dirty d
                      WHERE d.month = r.month AND d.env = p_env)
$$;

-- The parts of [since, until) outside the sorted, disjoint intervals
-- [p_starts[i], p_ends[i]) inside it.
CREATE FUNCTION opspulse.uncovered(p_since timestamptz, p_until timestamptz,
                                   p_starts timestamptz[], p_ends timestamptz[])
RETURNS TABLE (lo timestamptz, hi timestamptz) LANGUAGE sql IMMUTABLE ROWS 2 AS $$
    WITH m AS (SELECT x.lo, x.hi FROM unnest(p_starts, p_ends) x(lo, hi))
    SELECT g.lo, g.hi
    FROM (SELECT coalesce(lag(m.hi) OVER (ORDER BY m.lo), p_since) AS lo, m.lo AS hi FROM m
          UNION ALL
          SELECT coalesce(max(m.hi), p_since), p_until FROM m) g
    WHERE g.lo < g.hi
$$;

-- What a query reads from the events besides the rollup months: the
-- rest of [since, until).
CREATE FUNCTION opspulse.raw_ranges(p_since timestamptz, p_until timestamptz,
                                    p_months timestamptz[])
RETURNS TABLE (lo timestamptz, hi timestamptz) LANGUAGE sql IMMUTABLE ROWS 2 AS $$
    SELECT * FROM opspulse.uncovered(
        p_since, p_until, p_months,
        ARRAY(SELECT opspulse.month_after(m) FROM unnest(p_months) m))
$$;

-- The UTC days of the rollup months of a window that weekly buckets
-- anchored at p_anchor (boundaries at p_anchor + k * 7 days) do not cut,
-- in order: with p_anchor at 00:00 UTC every day, else all but the day
-- holding each boundary.
CREATE FUNCTION opspulse.rollup_day_list(p_months timestamptz[], p_anchor timestamptz)
RETURNS timestamptz[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(d.day ORDER BY d.day), '{}')
    FROM unnest(p_months) m
    CROSS JOIN LATERAL generate_series(m AT TIME ZONE 'UTC',
                                       opspulse.month_after(m) AT TIME ZONE 'UTC'
                                           - interval '1 day',
                                       interval '1 day') g
    CROSS JOIN LATERAL (SELECT g AT TIME ZONE 'UTC' AS day) d
    WHERE (p_anchor AT TIME ZONE 'UTC')::time = '00:00'
       OR (g::date - (p_anchor AT TIME ZONE 'UTC')::date) % 7 <> 0
$$;

-- ---- the parts the indicators merge -------------------------------------

-- Per service: events in the window (every kind) and the latest.
CREATE FUNCTION opspulse.event_counts(p_since timestamptz, p_until timestamptz,
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

-- Per service (p_services NULL: every one), the counted deploys of the
-- window (§4.1): counts, lead times of successes, durations, and the
-- recovery time of each failure: the next successful deploy of the same
-- service and env (a later-marked-failed deploy still counts as
-- successful here; it may finish after the window).
CREATE FUNCTION opspulse.deploy_stats(p_since timestamptz, p_until timestamptz,
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

-- Per (service, operator) toil of the window, every service: seconds,
-- entries, seconds that started after hours.  Same definition as 004.
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

-- Per service: episodes, resolved ones, noise, durations (for MTTR) and
-- after-hours starts.  Same definition as 005.
CREATE OR REPLACE FUNCTION opspulse.alert_stats(p_since timestamptz, p_until timestamptz,
                                                p_env text, p_services text[],
                                                p_team text, p_noise_minutes integer)
RETURNS TABLE (service text, fired bigint, resolved bigint, noisy bigint,
               minutes double precision[], after_hours bigint)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    months timestamptz[] := opspulse.rollup_months(
        p_since, p_until, p_env, coalesce(p_noise_minutes, opspulse.rollup_noise()));
BEGIN
RETURN QUERY
SELECT u.service, sum(u.fired)::bigint, sum(u.resolved)::bigint, sum(u.noisy)::bigint,
       opspulse.array_concat(u.minutes), sum(u.after_hours)::bigint
FROM (SELECT e.service, count(*) AS fired, count(e.minutes) AS resolved,
             count(*) FILTER (WHERE e.noise) AS noisy,
             array_agg(e.minutes) FILTER (WHERE e.minutes IS NOT NULL) AS minutes,
             count(*) FILTER (WHERE e.after_hours) AS after_hours
      FROM opspulse.raw_ranges(p_since, p_until, months) w
      CROSS JOIN LATERAL opspulse.window_alerts(w.lo, w.hi, p_env, p_services, p_team,
                                                p_noise_minutes) e
      GROUP BY e.service
      UNION ALL
      SELECT r.service, r.fired, r.resolved, r.noisy, r.minutes, r.after_hours
      FROM opspulse.rollup_alerts r
      WHERE r.env = p_env AND r.month = ANY (months)
        AND (p_services IS NULL AND p_team IS NULL
             OR r.service IN (SELECT s.service
                              FROM opspulse.selected_services(p_services, p_team) s))) u
GROUP BY u.service;
END
$$;

-- Rules of the window with three consecutive episodes of one fingerprint,
-- the first and third starting at most 24 h apart, all in the window
-- (§4.3).  Fingerprints are opaque: they sort bytewise.
--
-- A triple lies inside one month or crosses one month boundary (it spans
-- at most 24 h), and three episodes consecutive in a part of the window
-- that contains them are consecutive in the window.  So the rules are
-- those of the rolled-up months, plus those found in the events of the
-- other parts and of the 48 hours around each rolled-up month's
-- boundaries.  With a service filter, another service's episode of the
-- same fingerprint could break a triple the rollup saw, so filtered
-- queries read the events.
CREATE FUNCTION opspulse.flapping(p_since timestamptz, p_until timestamptz,
                                  p_env text, p_services text[], p_team text)
RETURNS TABLE (service text, alertname text)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    months timestamptz[] := CASE WHEN p_services IS NULL AND p_team IS NULL
                                 THEN opspulse.rollup_months(p_since, p_until, p_env, NULL)
                                 ELSE '{}' END;
BEGIN
RETURN QUERY
WITH ranges AS (
    SELECT w.lo, w.hi FROM opspulse.raw_ranges(p_since, p_until, months) w
    UNION ALL
    SELECT greatest(p_since, b - interval '24 hours'), least(p_until, b + interval '24 hours')
    FROM unnest(months) m CROSS JOIN LATERAL (VALUES (m), (opspulse.month_after(m))) v(b)
    WHERE b > p_since AND b < p_until
)
SELECT DISTINCT u.service, u.alertname
FROM (SELECT r.service, x.alertname
      FROM opspulse.rollup_alerts r CROSS JOIN LATERAL unnest(r.flapping) x(alertname)
      WHERE r.env = p_env AND r.month = ANY (months)
      UNION ALL
      SELECT f.service, f.alertname
      FROM ranges w
      CROSS JOIN LATERAL (
          SELECT a.service, a.alertname, a.starts_at,
                 lead(a.starts_at, 2) OVER (PARTITION BY a.fingerprint COLLATE "C"
                                            ORDER BY a.starts_at) AS third
          FROM opspulse.alerts a
          WHERE a.env = p_env AND a.starts_at >= w.lo AND a.starts_at < w.hi
            AND (p_services IS NULL AND p_team IS NULL  -- no filter: no join
                 OR a.service IN (SELECT s.service
                                  FROM opspulse.selected_services(p_services, p_team) s))) f
      WHERE f.third <= f.starts_at + interval '24 hours') u;
END
$$;

-- Per host of the window's capacity samples: its mounts (NULL for a
-- sample without one) and one CPU and memory value per sample time (an
-- agent's sample repeats them on each mount's row; should two rows of one
-- time differ, the larger counts).
CREATE FUNCTION opspulse.host_samples(p_since timestamptz, p_until timestamptz,
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

-- Per (service, rule): episodes, noisy ones, durations of resolved ones.
CREATE FUNCTION opspulse.rule_stats(p_since timestamptz, p_until timestamptz,
                                    p_env text, p_services text[], p_team text,
                                    p_noise_minutes integer)
RETURNS TABLE (service text, alertname text, fired bigint, noisy bigint,
               minutes double precision[])
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    months timestamptz[] := opspulse.rollup_months(
        p_since, p_until, p_env, coalesce(p_noise_minutes, opspulse.rollup_noise()));
BEGIN
RETURN QUERY
SELECT u.service, u.alertname, sum(u.fired)::bigint, sum(u.noisy)::bigint,
       opspulse.array_concat(u.minutes)
FROM (SELECT e.service, e.alertname, count(*) AS fired,
             count(*) FILTER (WHERE e.noise) AS noisy,
             array_agg(e.minutes) FILTER (WHERE e.minutes IS NOT NULL) AS minutes
      FROM opspulse.raw_ranges(p_since, p_until, months) w
      CROSS JOIN LATERAL opspulse.window_alerts(w.lo, w.hi, p_env, p_services, p_team,
                                                p_noise_minutes) e
      GROUP BY e.service, e.alertname
      UNION ALL
      SELECT r.service, r.alertname, r.fired, r.noisy, r.minutes
      FROM opspulse.rollup_rules r
      WHERE r.env = p_env AND r.month = ANY (months)
        AND (p_services IS NULL AND p_team IS NULL
             OR r.service IN (SELECT s.service
                              FROM opspulse.selected_services(p_services, p_team) s))) u
GROUP BY u.service, u.alertname;
END
$$;

-- Per (service, task): toil entries, seconds, and the distinct operators
-- ('' for none).
CREATE FUNCTION opspulse.task_stats(p_since timestamptz, p_until timestamptz,
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

-- ---- the indicators, over the parts --------------------------------------

-- opspulse.dora: same definition as 002 and 012.
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

-- opspulse.alerts: same definition as 005.
CREATE OR REPLACE FUNCTION opspulse.alerts(p_since timestamptz, p_until timestamptz,
                                           p_env text DEFAULT 'production',
                                           p_services text[] DEFAULT NULL,
                                           p_team text DEFAULT NULL,
                                           p_noise_minutes integer DEFAULT NULL)
RETURNS TABLE (service text, fired bigint, resolved bigint,
               noise_share double precision, mttr_p50_minutes double precision,
               after_hours_share double precision, flapping_rules jsonb)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH flapping AS (
    SELECT f.service, jsonb_agg(f.alertname ORDER BY f.alertname) AS rules
    FROM opspulse.flapping(p_since, p_until, p_env, p_services, p_team) f
    GROUP BY f.service
)
SELECT k.service, coalesce(p.fired, 0), coalesce(p.resolved, 0),
       p.noisy::double precision / p.fired,
       opspulse.percentile(p.minutes, 0.5),
       p.after_hours::double precision / p.fired,
       CASE WHEN p.fired > 0 THEN coalesce(f.rules, '[]'::jsonb) END
FROM opspulse.selected_services(p_services, p_team) k
LEFT JOIN opspulse.alert_stats(p_since, p_until, p_env, p_services, p_team,
                               p_noise_minutes) p ON p.service = k.service
LEFT JOIN flapping f ON f.service = k.service
ORDER BY k.service;
END
$$;

-- opspulse.capacity, same definition as 008 and 019; memory percentiles
-- only when p_mem (the scorecard does not need them).
CREATE FUNCTION opspulse.host_capacity(p_since timestamptz, p_until timestamptz,
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

-- opspulse.service_list: same definition as 010.
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

-- opspulse.scorecard: same definition as 009, reading each percentile
-- once and no memory percentiles.
CREATE OR REPLACE FUNCTION opspulse.scorecard(p_since timestamptz, p_until timestamptz,
                                   p_env text DEFAULT 'production',
                                   p_services text[] DEFAULT NULL,
                                   p_team text DEFAULT NULL)
RETURNS TABLE (service text, area text, level integer, reason text)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
-- The targets, read once.
WITH tg AS MATERIALIZED (
    SELECT opspulse.setting('target.delivery_level', 'high') AS delivery_level,
           opspulse.target('toil_ratio', 0.5) AS toil_ratio,
           opspulse.target('noise_share', 0.3) AS noise_share,
           opspulse.target('alert_mttr_minutes', 60) AS alert_mttr_minutes,
           opspulse.target('recovery_hours', 24) AS recovery_hours,
           opspulse.target('disk_full_days', 30) AS disk_full_days,
           opspulse.target('cpu_p95_pct', 80) AS cpu_p95_pct,
           opspulse.target('bus_factor', 3) AS bus_factor
),
d AS (
    SELECT * FROM opspulse.dora(p_since, p_until, p_env,
                                opspulse.team_services(p_services, p_team))
),
t AS (SELECT * FROM opspulse.toil(p_since, p_until, p_env, p_services, p_team)),
tr AS (SELECT * FROM opspulse.toil_trend(p_since, p_until, p_env)),
-- Materialized, as the percentiles below: the rules read each value
-- several times, and would compute it each time.
a AS MATERIALIZED (
    SELECT k.service, coalesce(x.fired, 0) AS fired,
           x.noisy::double precision / x.fired AS noise_share,
           opspulse.percentile(x.minutes, 0.5) AS mttr_p50_minutes
    FROM opspulse.selected_services(p_services, p_team) k
    LEFT JOIN opspulse.alert_stats(p_since, p_until, p_env, p_services, p_team, NULL) x
           ON x.service = k.service
),
e AS (
    SELECT x.service, count(*) AS n,
           count(*) FILTER (WHERE x.status = 'past_eol') AS past,
           count(*) FILTER (WHERE x.status = 'urgent') AS urgent
    FROM opspulse.eol(p_since, p_until, p_env, p_services, p_team) x
    GROUP BY x.service
),
m AS (
    SELECT x.service, count(*) AS n, count(*) FILTER (WHERE x.overdue) AS overdue
    FROM opspulse.maintenance(p_since, p_until, p_env, p_services, p_team) x
    GROUP BY x.service
),
c AS (
    SELECT x.service, count(*) AS n,
           count(*) FILTER (WHERE x.disk_days_to_full <= tg.disk_full_days) AS filling,
           max(x.cpu_p95_pct) AS cpu
    FROM opspulse.host_capacity(p_since, p_until, p_env, p_services, p_team, false) x, tg
    GROUP BY x.service
),
s AS (
    SELECT t.service, d.level AS dora_level, t.entries, t.team, t.toil_ratio,
           tr.slope, t.bus_factor, a.fired, a.noise_share, a.mttr_p50_minutes,
           d.recovery_time_p50_hours,
           round(coalesce(d.change_failure_rate * d.deploys, 0))::bigint AS failures,
           coalesce(e.n, 0) AS components, coalesce(e.past, 0) AS past,
           coalesce(e.urgent, 0) AS urgent, coalesce(m.n, 0) AS items,
           coalesce(m.overdue, 0) AS overdue, coalesce(c.n, 0) AS capacity_rows,
           coalesce(c.filling, 0) AS filling, c.cpu
    FROM t
    JOIN d ON d.service = t.service
    JOIN a ON a.service = t.service
    LEFT JOIN tr ON tr.service = t.service
    LEFT JOIN e ON e.service = t.service
    LEFT JOIN m ON m.service = t.service
    LEFT JOIN c ON c.service = t.service
)
SELECT s.service, x.area, x.level, x.reason
FROM s CROSS JOIN tg CROSS JOIN LATERAL (
    SELECT 'delivery', * FROM opspulse.score_delivery(s.dora_level, tg.delivery_level)
    UNION ALL
    SELECT 'toil', *
    FROM opspulse.score_toil(s.entries, s.team, s.toil_ratio, s.slope, tg.toil_ratio)
    UNION ALL
    SELECT 'alerting', * FROM opspulse.score_alerting(s.fired, s.noise_share, tg.noise_share)
    UNION ALL
    SELECT 'incident_response', *
    FROM opspulse.score_incident(s.mttr_p50_minutes, s.recovery_time_p50_hours, s.failures,
                                 tg.alert_mttr_minutes, tg.recovery_hours)
    UNION ALL
    SELECT 'maintenance', *
    FROM opspulse.score_maintenance(s.components, s.past, s.urgent, s.items, s.overdue)
    UNION ALL
    SELECT 'capacity', *
    FROM opspulse.score_capacity(s.capacity_rows, s.filling, s.cpu, tg.disk_full_days,
                                 tg.cpu_p95_pct)
    UNION ALL
    SELECT 'knowledge_spread', * FROM opspulse.score_knowledge(s.bus_factor, tg.bus_factor)
) AS x(area, level, reason)
ORDER BY s.service, x.area;
END
$$;

-- opspulse.alerts_by_rule: same definition as 005.
CREATE OR REPLACE FUNCTION opspulse.alerts_by_rule(p_since timestamptz, p_until timestamptz,
                                                   p_env text DEFAULT 'production',
                                                   p_services text[] DEFAULT NULL,
                                                   p_team text DEFAULT NULL,
                                                   p_noise_minutes integer DEFAULT NULL)
RETURNS TABLE (service text, alertname text, fired bigint,
               noise_share double precision, mttr_p50_minutes double precision)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
SELECT r.service, r.alertname, r.fired, r.noisy::double precision / r.fired,
       opspulse.percentile(r.minutes, 0.5)
FROM opspulse.rule_stats(p_since, p_until, p_env, p_services, p_team, p_noise_minutes) r
ORDER BY r.service, r.alertname;
END
$$;

-- opspulse.toil_by_task: same definition as 004.
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

-- opspulse.weekly: same definition as 018.  Whole days the weeks do not
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

-- opspulse.toil_trend: same definition as 009.  Whole days the buckets
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

-- ---- keeping the rollups current -----------------------------------------

-- Statement trigger of the event tables: marks the (service, env, month)
-- of the changed rows of closed months dirty.  TG_ARGV[0] names the time
-- column that files an event under a month.  A deploy failure changes
-- its deploy's month; a successful deploy (or its removal) changes the
-- recovery time of the failures since the service's previous success.
CREATE FUNCTION opspulse.rollup_mark()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    col text := TG_ARGV[0];
    open_month timestamptz := opspulse.month_start(clock_timestamp());
    rel text;
BEGIN
    FOREACH rel IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['new_rows']
                                    WHEN 'DELETE' THEN ARRAY['old_rows']
                                    ELSE ARRAY['new_rows', 'old_rows'] END
    LOOP
        EXECUTE format('INSERT INTO opspulse.rollup_dirty (service, env, month) '
                       'SELECT DISTINCT service, env, opspulse.month_start(%I) FROM %I '
                       'WHERE %I < $1', col, rel, col)
            USING open_month;
        IF TG_TABLE_NAME = 'deploy_failures' THEN
            EXECUTE format('INSERT INTO opspulse.rollup_dirty (service, env, month) '
                           'SELECT DISTINCT d.service, d.env, opspulse.month_start(d.finished_at) '
                           'FROM %I f JOIN opspulse.deploys d USING (service, env, deploy_id) '
                           'WHERE d.finished_at < $1', rel)
                USING open_month;
        ELSIF TG_TABLE_NAME = 'deploys' THEN
            -- Per (service, env): from the month of the success before
            -- its first new one (else of its first deploy) to its last.
            EXECUTE format(
                'INSERT INTO opspulse.rollup_dirty (service, env, month) '
                'SELECT DISTINCT n.service, n.env, m.month '
                'FROM (SELECT service, env, min(finished_at) AS lo, max(finished_at) AS hi '
                '      FROM %I WHERE outcome = ''success'' GROUP BY service, env) n '
                'CROSS JOIN LATERAL (SELECT max(x.finished_at) AS at FROM opspulse.deploys x '
                '    WHERE x.service = n.service AND x.env = n.env '
                '      AND x.outcome = ''success'' AND x.finished_at < n.lo) p '
                'CROSS JOIN LATERAL generate_series( '
                '    opspulse.month_start(coalesce(p.at, '
                '        (SELECT min(x.finished_at) FROM opspulse.deploys x '
                '         WHERE x.service = n.service AND x.env = n.env), n.lo)) '
                '        AT TIME ZONE ''UTC'', '
                '    opspulse.month_start(n.hi) AT TIME ZONE ''UTC'', interval ''1 month'') g '
                'CROSS JOIN LATERAL (SELECT g AT TIME ZONE ''UTC'' AS month) m '
                'WHERE m.month < $1', rel)
                USING open_month;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

-- TRUNCATE has no transition table: every rolled-up month is recomputed.
CREATE FUNCTION opspulse.rollup_mark_all()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM opspulse.rollup_ready;
    RETURN NULL;
END
$$;

-- Transition tables allow one event per trigger, so three per table.  On
-- a partitioned table the parent's statement triggers see the rows of
-- every partition.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('deploys', 'finished_at'), ('deploy_failures', 'at'),
                                   ('toil', 'started_at'), ('batch_runs', 'started_at'),
                                   ('alerts', 'starts_at'), ('components', 'observed_at'),
                                   ('maintenance', 'recorded_at'), ('capacity', 'at'))
                     AS v(tab, col) LOOP
        EXECUTE format('CREATE TRIGGER rollup_insert AFTER INSERT ON opspulse.%I '
                       'REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT '
                       'EXECUTE FUNCTION opspulse.rollup_mark(%L)', t.tab, t.col);
        EXECUTE format('CREATE TRIGGER rollup_update AFTER UPDATE ON opspulse.%I '
                       'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION opspulse.rollup_mark(%L)',
                       t.tab, t.col);
        EXECUTE format('CREATE TRIGGER rollup_delete AFTER DELETE ON opspulse.%I '
                       'REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT '
                       'EXECUTE FUNCTION opspulse.rollup_mark(%L)', t.tab, t.col);
        EXECUTE format('CREATE TRIGGER rollup_truncate AFTER TRUNCATE ON opspulse.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION opspulse.rollup_mark_all()',
                       t.tab);
    END LOOP;
END
$$;

-- Retention drops whole partitions (and deletes from the default ones)
-- without firing those triggers: the months it reached are recomputed
-- from what is left.
ALTER FUNCTION opspulse.drop_partitions(text, timestamptz)
    RENAME TO drop_event_partitions;

CREATE FUNCTION opspulse.drop_partitions(p_table text, p_cutoff timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer := opspulse.drop_event_partitions(p_table, p_cutoff);
BEGIN
    IF n > 0 THEN
        DELETE FROM opspulse.rollup_ready WHERE opspulse.month_after(month) <= p_cutoff;
    END IF;
    RETURN n;
END
$$;

-- Deletes the rollup rows of one month, one environment (NULL: every
-- one) and some services (NULL: all).
CREATE FUNCTION opspulse.rollup_clear(p_month timestamptz, p_env text, p_services text[])
RETURNS void LANGUAGE sql AS $$
    DELETE FROM opspulse.rollup_events r WHERE r.month = p_month
        AND (p_env IS NULL OR r.env = p_env)
        AND (p_services IS NULL OR r.service = ANY (p_services));
    DELETE FROM opspulse.rollup_deploys r WHERE r.month = p_month
        AND (p_env IS NULL OR r.env = p_env)
        AND (p_services IS NULL OR r.service = ANY (p_services));
    DELETE FROM opspulse.rollup_toil r WHERE r.month = p_month
        AND (p_env IS NULL OR r.env = p_env)
        AND (p_services IS NULL OR r.service = ANY (p_services));
    DELETE FROM opspulse.rollup_tasks r WHERE r.month = p_month
        AND (p_env IS NULL OR r.env = p_env)
        AND (p_services IS NULL OR r.service = ANY (p_services));
    DELETE FROM opspulse.rollup_alerts r WHERE r.month = p_month
        AND (p_env IS NULL OR r.env = p_env)
        AND (p_services IS NULL OR r.service = ANY (p_services));
    DELETE FROM opspulse.rollup_rules r WHERE r.month = p_month
        AND (p_env IS NULL OR r.env = p_env)
        AND (p_services IS NULL OR r.service = ANY (p_services));
    DELETE FROM opspulse.rollup_hosts r WHERE r.month = p_month
        AND (p_env IS NULL OR r.env = p_env)
        AND (p_services IS NULL OR r.service = ANY (p_services));
    DELETE FROM opspulse.rollup_days r
    WHERE r.day >= p_month AND r.day < opspulse.month_after(p_month)
        AND (p_env IS NULL OR r.env = p_env)
        AND (p_services IS NULL OR r.service = ANY (p_services));
$$;

-- Recomputes the rollup of one month, one environment and some services
-- (NULL: all) from the events, with the indicator functions themselves
-- (rollups off: they read the events).  (Set at run time: only a
-- superuser may name a placeholder setting in a function's SET clause.)
CREATE FUNCTION opspulse.rollup_compute(p_month timestamptz, p_env text,
                                        p_services text[])
RETURNS void LANGUAGE plpgsql
SET jit = off SET work_mem = '64MB' AS $$
DECLARE
    hi timestamptz := opspulse.month_after(p_month);
    was text := coalesce(current_setting('opspulse.rollups', true), '');
BEGIN
    PERFORM set_config('opspulse.rollups', 'off', true);
    PERFORM opspulse.rollup_clear(p_month, p_env, p_services);

    INSERT INTO opspulse.rollup_events (service, env, month, events, last_event)
    SELECT e.service, p_env, p_month, e.events, e.last_event
    FROM opspulse.event_counts(p_month, hi, p_env) e
    WHERE p_services IS NULL OR e.service = ANY (p_services);

    INSERT INTO opspulse.rollup_deploys (service, env, month, deploys, successes, failures,
                                         hotfixes, leads, durations, recovery)
    SELECT s.service, p_env, p_month, s.deploys, s.successes, s.failures, s.hotfixes,
           s.leads, s.durations, s.recovery
    FROM opspulse.deploy_stats(p_month, hi, p_env, p_services) s;

    INSERT INTO opspulse.rollup_toil (service, env, month, operator, total_s, entries,
                                      after_s)
    SELECT o.service, p_env, p_month, o.operator, o.total_s, o.entries, o.after_s
    FROM opspulse.toil_per_operator(p_month, hi, p_env) o
    WHERE p_services IS NULL OR o.service = ANY (p_services);

    INSERT INTO opspulse.rollup_alerts (service, env, month, fired, resolved, noisy,
                                        after_hours, minutes, flapping)
    SELECT s.service, p_env, p_month, s.fired, s.resolved, s.noisy, s.after_hours,
           s.minutes,
           ARRAY(SELECT f.alertname FROM opspulse.flapping(p_month, hi, p_env, NULL, NULL) f
                 WHERE f.service = s.service ORDER BY 1)
    FROM opspulse.alert_stats(p_month, hi, p_env, p_services, NULL, NULL) s;

    INSERT INTO opspulse.rollup_hosts (service, env, month, host, mounts, cpu, mem)
    SELECT h.service, p_env, p_month, h.host, h.mounts, h.cpu, h.mem
    FROM opspulse.host_samples(p_month, hi, p_env, p_services, NULL) h;

    INSERT INTO opspulse.rollup_rules (service, env, month, alertname, fired, noisy, minutes)
    SELECT r.service, p_env, p_month, r.alertname, r.fired, r.noisy, r.minutes
    FROM opspulse.rule_stats(p_month, hi, p_env, p_services, NULL, NULL) r;

    INSERT INTO opspulse.rollup_tasks (service, env, month, task, entries, total_s, operators)
    SELECT t.service, p_env, p_month, t.task, t.entries, t.total_s, t.operators
    FROM opspulse.task_stats(p_month, hi, p_env, p_services, NULL) t;

    -- Per day, as opspulse.weekly and opspulse.toil_trend count.
    INSERT INTO opspulse.rollup_days (service, env, day, deploys, failures, toil_entries,
                                      toil_s, fired, noisy)
    SELECT u.service, p_env, u.day, sum(u.deploys), sum(u.failures), sum(u.entries),
           sum(u.s), sum(u.fired), sum(u.noisy)
    FROM (SELECT c.service, opspulse.day_start(c.finished_at) AS day, 1 AS deploys,
                 CASE WHEN c.is_failure THEN 1 ELSE 0 END AS failures, 0 AS entries,
                 0::numeric AS s, 0 AS fired, 0 AS noisy
          FROM opspulse.counted_deploys(p_month, hi, p_env) c
          UNION ALL
          SELECT e.service, opspulse.day_start(e.started_at), 0, 0, 1, e.duration_s, 0, 0
          FROM opspulse.window_toil(p_month, hi, p_env) e
          UNION ALL
          SELECT e.service, opspulse.day_start(e.starts_at), 0, 0, 0, 0, 1,
                 CASE WHEN e.noise THEN 1 ELSE 0 END
          FROM opspulse.window_alerts(p_month, hi, p_env, NULL, NULL, NULL) e) u
    WHERE p_services IS NULL OR u.service = ANY (p_services)
    GROUP BY u.service, u.day;

    PERFORM set_config('opspulse.rollups', was, true);
END
$$;

-- The environments with events in [lo, hi).
CREATE FUNCTION opspulse.event_envs(p_lo timestamptz, p_hi timestamptz)
RETURNS SETOF text LANGUAGE sql STABLE AS $$
    SELECT env FROM opspulse.deploys WHERE finished_at >= p_lo AND finished_at < p_hi
    UNION SELECT env FROM opspulse.deploy_failures WHERE at >= p_lo AND at < p_hi
    UNION SELECT env FROM opspulse.toil WHERE started_at >= p_lo AND started_at < p_hi
    UNION SELECT env FROM opspulse.batch_runs WHERE started_at >= p_lo AND started_at < p_hi
    UNION SELECT env FROM opspulse.alerts WHERE starts_at >= p_lo AND starts_at < p_hi
    UNION SELECT env FROM opspulse.components WHERE observed_at >= p_lo AND observed_at < p_hi
    UNION SELECT env FROM opspulse.maintenance WHERE recorded_at >= p_lo AND recorded_at < p_hi
    UNION SELECT env FROM opspulse.capacity WHERE at >= p_lo AND at < p_hi
$$;

-- The first instant of the month of the oldest event, NULL with none.
CREATE FUNCTION opspulse.first_event_month() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT opspulse.month_start(least(
        (SELECT min(finished_at) FROM opspulse.deploys),
        (SELECT min(at) FROM opspulse.deploy_failures),
        (SELECT min(started_at) FROM opspulse.toil),
        (SELECT min(started_at) FROM opspulse.batch_runs),
        (SELECT min(starts_at) FROM opspulse.alerts),
        (SELECT min(observed_at) FROM opspulse.components),
        (SELECT min(recorded_at) FROM opspulse.maintenance),
        (SELECT min(at) FROM opspulse.capacity)))
$$;

-- Brings up to p_months months up to date, oldest first: the dirty keys
-- of rolled-up months, then the closed months not rolled up (or rolled
-- up under another configuration).  Returns how many months it worked
-- on; fewer than p_months means nothing is left.  One refresher at a time
-- across aggregators: a second caller returns 0 at once.
CREATE FUNCTION opspulse.refresh_rollups(p_months integer DEFAULT 2)
RETURNS integer LANGUAGE plpgsql
SET jit = off SET work_mem = '64MB' AS $$
DECLARE
    v_zones text := opspulse.rollup_zones();
    v_noise integer := opspulse.rollup_noise();
    -- Months that ended at least two hours ago: writes into them have
    -- marked them dirty (see rollup_mark) since long before.
    closed timestamptz := opspulse.month_start(now() - interval '2 hours');
    first timestamptz;
    m timestamptz;
    k record;
    keys jsonb;
    n integer := 0;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('opspulse.refresh_rollups')) THEN
        RETURN 0;
    END IF;
    FOR m IN SELECT DISTINCT d.month FROM opspulse.rollup_dirty d
             JOIN opspulse.rollup_ready r ON r.month = d.month
             WHERE r.zones = v_zones AND r.noise_minutes = v_noise
             ORDER BY 1 LIMIT p_months LOOP
        -- Exactly the dirty rows this statement sees; later ones stay.
        WITH gone AS (DELETE FROM opspulse.rollup_dirty d WHERE d.month = m
                      RETURNING d.service, d.env),
        per_env AS (SELECT g.env, array_agg(DISTINCT g.service) AS services
                    FROM gone g GROUP BY g.env)
        SELECT jsonb_object_agg(p.env, p.services) INTO keys FROM per_env p;
        FOR k IN SELECT e.key AS env,
                        ARRAY(SELECT jsonb_array_elements_text(e.value)) AS services
                 FROM jsonb_each(keys) e LOOP
            PERFORM opspulse.rollup_compute(m, k.env, k.services);
        END LOOP;
        n := n + 1;
    END LOOP;
    first := opspulse.first_event_month();
    IF first IS NULL OR n >= p_months THEN
        RETURN n;
    END IF;
    FOR m IN SELECT g.month
             FROM generate_series(first AT TIME ZONE 'UTC', closed AT TIME ZONE 'UTC',
                                  interval '1 month') s
             CROSS JOIN LATERAL (SELECT s AT TIME ZONE 'UTC' AS month) g
             WHERE g.month < closed
               AND NOT EXISTS (SELECT 1 FROM opspulse.rollup_ready r
                               WHERE r.month = g.month AND r.zones = v_zones
                                 AND r.noise_minutes = v_noise)
             ORDER BY 1 LIMIT p_months - n LOOP
        DELETE FROM opspulse.rollup_dirty d WHERE d.month = m;
        PERFORM opspulse.rollup_clear(m, NULL, NULL);
        FOR k IN SELECT e AS env FROM opspulse.event_envs(m, opspulse.month_after(m)) e LOOP
            PERFORM opspulse.rollup_compute(m, k.env, NULL);
        END LOOP;
        INSERT INTO opspulse.rollup_ready (month, zones, noise_minutes)
        VALUES (m, v_zones, v_noise)
        ON CONFLICT (month) DO UPDATE
            SET zones = excluded.zones, noise_minutes = excluded.noise_minutes,
                computed_at = now();
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
