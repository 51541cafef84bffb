-- Scorecard (SPEC §4.6): one row per (service, area), level 1 (not
-- measured, or for EOL something past end of life), 2 (measured) or 3
-- (meets the target), and the reason in words.  Targets come from the
-- aggregator's configuration (settings target.*); each area is one small
-- function that picks the first rule that applies.

-- A target from the settings (target.<key>), else p_default.
CREATE OR REPLACE FUNCTION opspulse.target(p_key text, p_default double precision)
RETURNS double precision LANGUAGE sql STABLE AS $$
    SELECT opspulse.setting('target.' || p_key, p_default::text)::double precision
$$;

-- A number for a reason: at most three significant decimals, no trailing
-- zeros.
CREATE OR REPLACE FUNCTION opspulse.fmt(p_value double precision)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_value IS NULL THEN 'n/a'
                ELSE trim_scale(round(p_value::numeric, 3))::text END
$$;

-- A percentage for a reason: one decimal, as the report and the CLI
-- round percentages (common/op_round.h).
CREATE OR REPLACE FUNCTION opspulse.fmt_pct(p_value double precision)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_value IS NULL THEN 'n/a'
                ELSE round(p_value::numeric, 1)::text END
$$;

-- A count with its noun: '1 failed deploy', '2 failed deploys'.
CREATE OR REPLACE FUNCTION opspulse.count_of(p_n bigint, p_one text, p_many text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT p_n || ' ' || CASE WHEN p_n = 1 THEN p_one ELSE p_many END
$$;

-- The areas' rules, first that applies wins.  Each takes its targets as
-- arguments (the scorecard reads them once) and is a single SELECT, so
-- that it is inlined.
CREATE OR REPLACE FUNCTION opspulse.level_rank(p_level text)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT array_position(ARRAY['low', 'medium', 'high', 'elite'], p_level)
$$;

CREATE OR REPLACE FUNCTION opspulse.score_delivery(p_level text, p_target text)
RETURNS TABLE (level integer, reason text) LANGUAGE sql IMMUTABLE AS $$
    SELECT v.level, v.reason FROM (VALUES
        (1, 1, 'no deploys in the window', p_level IS NULL),
        (2, 3, format('DORA level %s meets the target (%s or better)', p_level, p_target),
         opspulse.level_rank(p_level) >= opspulse.level_rank(p_target)),
        (3, 2, format('DORA level %s is below the target (%s or better)', p_level, p_target),
         true)
    ) AS v(rule, level, reason, applies)
    WHERE v.applies ORDER BY v.rule LIMIT 1
$$;

CREATE OR REPLACE FUNCTION opspulse.score_toil(p_entries bigint, p_team text,
                                               p_ratio double precision,
                                               p_slope double precision,
                                               p_target_ratio double precision)
RETURNS TABLE (level integer, reason text) LANGUAGE sql IMMUTABLE AS $$
    SELECT v.level, v.reason FROM (VALUES
        (1, 1, 'no toil recorded in the window', p_entries = 0),
        (2, 2, 'toil is recorded, but the service has no team, so no toil ratio',
         p_team IS NULL),
        (3, 2, format('team %s toil ratio %s is above the target %s', p_team,
                      opspulse.fmt(p_ratio), opspulse.fmt(p_target_ratio)),
         p_ratio > p_target_ratio),
        (4, 2, format('toil is rising by %s hours a week', opspulse.fmt(p_slope)),
         p_slope > 0),
        (5, 3, format('team %s toil ratio %s is within the target %s and not rising',
                      p_team, opspulse.fmt(p_ratio), opspulse.fmt(p_target_ratio)),
         true)
    ) AS v(rule, level, reason, applies)
    WHERE v.applies ORDER BY v.rule LIMIT 1
$$;

CREATE OR REPLACE FUNCTION opspulse.score_alerting(p_fired bigint, p_noise double precision,
                                                   p_target_noise double precision)
RETURNS TABLE (level integer, reason text) LANGUAGE sql IMMUTABLE AS $$
    SELECT v.level, v.reason FROM (VALUES
        (1, 1, 'no alerts in the window', p_fired = 0),
        (2, 3, format('noise share %s is within the target %s', opspulse.fmt(p_noise),
                      opspulse.fmt(p_target_noise)),
         p_noise <= p_target_noise),
        (3, 2, format('noise share %s is above the target %s', opspulse.fmt(p_noise),
                      opspulse.fmt(p_target_noise)),
         true)
    ) AS v(rule, level, reason, applies)
    WHERE v.applies ORDER BY v.rule LIMIT 1
$$;

CREATE OR REPLACE FUNCTION opspulse.score_incident(p_mttr_minutes double precision,
                                                   p_recovery_hours double precision,
                                                   p_failures bigint,
                                                   p_target_mttr double precision,
                                                   p_target_recovery double precision)
RETURNS TABLE (level integer, reason text) LANGUAGE sql IMMUTABLE AS $$
    SELECT v.level, v.reason FROM (VALUES
        (1, 1, 'no resolved alerts and no failed deploys in the window',
         p_mttr_minutes IS NULL AND p_recovery_hours IS NULL AND p_failures = 0),
        (2, 2, format('%s and no recovery yet',
                      opspulse.count_of(p_failures, 'failed deploy', 'failed deploys')),
         p_failures > 0 AND p_recovery_hours IS NULL),
        (3, 2, format('alert MTTR %s min is above the target %s min',
                      opspulse.fmt(p_mttr_minutes), opspulse.fmt(p_target_mttr)),
         p_mttr_minutes > p_target_mttr),
        (4, 2, format('recovery time %s h is above the target %s h',
                      opspulse.fmt(p_recovery_hours), opspulse.fmt(p_target_recovery)),
         p_recovery_hours > p_target_recovery),
        (5, 3, format('alert MTTR %s min, recovery time %s h: within the targets',
                      opspulse.fmt(p_mttr_minutes), opspulse.fmt(p_recovery_hours)),
         true)
    ) AS v(rule, level, reason, applies)
    WHERE v.applies ORDER BY v.rule LIMIT 1
$$;

CREATE OR REPLACE FUNCTION opspulse.score_maintenance(p_components bigint, p_past bigint,
                                                      p_urgent bigint, p_items bigint,
                                                      p_overdue bigint)
RETURNS TABLE (level integer, reason text) LANGUAGE sql IMMUTABLE AS $$
    SELECT v.level, v.reason FROM (VALUES
        (1, 1, format('%s past end of life',
                      opspulse.count_of(p_past, 'component', 'components')), p_past > 0),
        (2, 1, 'no components or maintenance items recorded',
         p_components = 0 AND p_items = 0),
        (3, 2, format('%s within 90 days of end of life, %s overdue',
                      opspulse.count_of(p_urgent, 'component', 'components'),
                      opspulse.count_of(p_overdue, 'maintenance item', 'maintenance items')),
         p_urgent > 0 OR p_overdue > 0),
        (4, 3, 'nothing past end of life or urgent, nothing overdue', true)
    ) AS v(rule, level, reason, applies)
    WHERE v.applies ORDER BY v.rule LIMIT 1
$$;

CREATE OR REPLACE FUNCTION opspulse.score_capacity(p_rows bigint, p_filling bigint,
                                                   p_cpu_max double precision,
                                                   p_target_days double precision,
                                                   p_target_cpu double precision)
RETURNS TABLE (level integer, reason text) LANGUAGE sql IMMUTABLE AS $$
    SELECT v.level, v.reason FROM (VALUES
        (1, 1, 'no capacity samples in the window', p_rows = 0),
        (2, 2, format('%s full within %s days',
                      opspulse.count_of(p_filling, 'disk', 'disks'), opspulse.fmt(p_target_days)),
         p_filling > 0),
        (3, 2, format('CPU p95 %s %% reaches the target %s %%', opspulse.fmt_pct(p_cpu_max),
                      opspulse.fmt(p_target_cpu)),
         p_cpu_max >= p_target_cpu),
        (4, 3, format('no disk full within %s days, CPU p95 at most %s %%',
                      opspulse.fmt(p_target_days), opspulse.fmt_pct(p_cpu_max)),
         true)
    ) AS v(rule, level, reason, applies)
    WHERE v.applies ORDER BY v.rule LIMIT 1
$$;

CREATE OR REPLACE FUNCTION opspulse.score_knowledge(p_bus_factor bigint,
                                                    p_target_bus double precision)
RETURNS TABLE (level integer, reason text) LANGUAGE sql IMMUTABLE AS $$
    SELECT v.level, v.reason FROM (VALUES
        (1, 1, 'no toil recorded in the window', p_bus_factor IS NULL),
        (2, 3, format('bus factor %s meets the target %s', p_bus_factor,
                      opspulse.fmt(p_target_bus)),
         p_bus_factor >= p_target_bus),
        (3, 1, 'bus factor 1: one person does at least 80 % of the toil', p_bus_factor <= 1),
        (4, 2, format('bus factor %s is below the target %s', p_bus_factor,
                      opspulse.fmt(p_target_bus)),
         true)
    ) AS v(rule, level, reason, applies)
    WHERE v.applies ORDER BY v.rule LIMIT 1
$$;

-- Postmortems (SPEC §4.6, §13.2): not measured without any incident
-- record; met when every postmortem due in the window was on time and no
-- action item is overdue.
CREATE OR REPLACE FUNCTION opspulse.score_postmortem(p_recorded boolean, p_due bigint,
                                                     p_on_time bigint, p_overdue bigint)
RETURNS TABLE (level integer, reason text) LANGUAGE sql IMMUTABLE AS $$
    SELECT v.level, v.reason FROM (VALUES
        (1, 1, 'no incidents recorded', NOT p_recorded),
        (2, 2, format('%s of %s %s due %s late', p_due - p_on_time, p_due,
                      CASE WHEN p_due = 1 THEN 'postmortem' ELSE 'postmortems' END,
                      CASE WHEN p_due - p_on_time = 1 THEN 'was' ELSE 'were' END),
         p_on_time < p_due),
        (3, 2, format('%s action %s overdue', p_overdue,
                      CASE WHEN p_overdue = 1 THEN 'item' ELSE 'items' END),
         p_overdue > 0),
        (4, 3, CASE WHEN p_due = 0 THEN 'no postmortem due, no action item overdue'
                    ELSE format('all %s postmortems due were on time, no action item overdue',
                                p_due) END,
         true)
    ) AS v(rule, level, reason, applies)
    WHERE v.applies ORDER BY v.rule LIMIT 1
$$;

-- SLO (SPEC §4.6, §12.4): level 1 without an objective or without
-- requests in the window, 3 when every objective's budget_remaining >= 0,
-- else 2.  p_detail names each objective's achieved, target and budget
-- remaining, p_short the objectives that fall short.
CREATE OR REPLACE FUNCTION opspulse.score_slo(p_objectives bigint, p_requests numeric,
                                              p_within bigint, p_detail text, p_short text)
RETURNS TABLE (level integer, reason text) LANGUAGE sql IMMUTABLE AS $$
    SELECT v.level, v.reason FROM (VALUES
        (1, 1, 'no SLO configured (aggregator.slos)', coalesce(p_objectives, 0) = 0),
        (2, 1, 'an SLO is configured, but there were no requests in the window',
         coalesce(p_requests, 0) = 0),
        (3, 3, format('every objective within its error budget: %s', p_detail),
         p_within = p_objectives),
        (4, 2, format('error budget overspent or not measured: %s', p_short), true)
    ) AS v(rule, level, reason, applies)
    WHERE v.applies ORDER BY v.rule LIMIT 1
$$;

-- One objective of opspulse.slo in words: "availability 99.95 % against
-- 99.9 %, 50 % of the budget left".
CREATE OR REPLACE FUNCTION opspulse.slo_words(p_objective text, p_achieved numeric,
                                              p_target numeric, p_budget numeric)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_achieved IS NULL
                THEN format('%s not measured (no %s in the window)', p_objective,
                            CASE p_objective WHEN 'latency' THEN 'timed requests'
                                             ELSE 'requests' END)
                ELSE format('%s %s %% against %s %%, %s %% of the budget left', p_objective,
                            trim_scale(round(p_achieved * 100, 3)),
                            trim_scale(p_target * 100), trim_scale(round(p_budget * 100, 1)))
           END
$$;

-- The scorecard per service and area (SPEC §4.6), each area's level from
-- its score_* function and the targets (settings target.*).  Reads each
-- percentile once, and no memory percentiles.
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
pm AS (
    SELECT x.service, x.postmortems_due AS due,
           round(coalesce(x.postmortem_on_time_share * x.postmortems_due, 0))::bigint
               AS on_time,
           x.action_items_overdue AS overdue,
           EXISTS (SELECT 1 FROM opspulse.incident_records r
                   WHERE r.service = x.service) AS recorded
    FROM opspulse.incidents(p_since, p_until, p_env, p_services, p_team) x
),
sl AS (
    SELECT x.service, count(*) AS objectives, sum(x.total) AS requests,
           count(*) FILTER (WHERE x.budget_remaining >= 0) AS within,
           string_agg(opspulse.slo_words(x.objective, x.achieved, x.target,
                                         x.budget_remaining), '; ' ORDER BY x.objective)
               AS detail,
           string_agg(opspulse.slo_words(x.objective, x.achieved, x.target,
                                         x.budget_remaining), '; ' ORDER BY x.objective)
               FILTER (WHERE NOT coalesce(x.budget_remaining >= 0, false)) AS short
    FROM opspulse.slo(p_since, p_until, p_env, p_services, p_team) x
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
           coalesce(c.filling, 0) AS filling, c.cpu,
           pm.recorded AS pm_recorded, pm.due AS pm_due, pm.on_time AS pm_on_time,
           pm.overdue AS pm_overdue, sl.objectives AS slo_objectives,
           sl.requests AS slo_requests, sl.within AS slo_within, sl.detail AS slo_detail,
           sl.short AS slo_short
    FROM t
    JOIN d ON d.service = t.service
    JOIN a ON a.service = t.service
    LEFT JOIN tr ON tr.service = t.service
    LEFT JOIN e ON e.service = t.service
    LEFT JOIN m ON m.service = t.service
    LEFT JOIN c ON c.service = t.service
    LEFT JOIN pm ON pm.service = t.service
    LEFT JOIN sl ON sl.service = t.service
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
    UNION ALL
    SELECT 'postmortem', *
    FROM opspulse.score_postmortem(s.pm_recorded, s.pm_due, s.pm_on_time, s.pm_overdue)
    UNION ALL
    SELECT 'slo', *
    FROM opspulse.score_slo(s.slo_objectives, s.slo_requests, s.slo_within, s.slo_detail,
                            s.slo_short)
) AS x(area, level, reason)
ORDER BY s.service, x.area;
END
$$;
