-- Production readiness check (SPEC §14, §14.1): `opspulse readiness` and
-- `opspulse readiness --by service`, and what the review report lists.
-- Checks that read a scorecard area or the EOL status call the same
-- functions as the scorecard (opspulse.scorecard, opspulse.eol): a rule
-- has one definition.

-- aggregator.readiness (readiness.c writes it as settings; lists are
-- joined by newlines).
CREATE OR REPLACE FUNCTION opspulse.readiness_cycle_days() RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT opspulse.setting('readiness.cycle_days', '182')::integer
$$;

CREATE OR REPLACE FUNCTION opspulse.readiness_list(p_key text, p_default text)
RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_remove(string_to_array(opspulse.setting(p_key, p_default),
                                                 E'\n'), ''), '{}')
$$;

-- Whether task matches one of the globs (* any text, ? one character;
-- check-config refuses [ ] and \).
CREATE OR REPLACE FUNCTION opspulse.task_matches(p_task text, p_globs text[])
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM unnest(p_globs) g
        WHERE p_task LIKE replace(replace(replace(replace(g, '%', '\%'), '_', '\_'),
                                          '*', '%'), '?', '_'))
$$;

CREATE OR REPLACE FUNCTION opspulse.readiness_time(p_t timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(p_t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
$$;

-- backup_recent / restore_tested of one service: pass when a run of a
-- task matching p_globs succeeded in [until - p_span, until), fail when
-- the service ran such a task before until but none succeeded in the
-- span, unknown when it never ran one.
CREATE OR REPLACE FUNCTION opspulse.readiness_runs(p_service text, p_env text,
                                                   p_until timestamptz, p_globs text[],
                                                   p_what text, p_span interval,
                                                   p_span_words text)
RETURNS TABLE (status text, evidence text) LANGUAGE sql STABLE AS $$
    WITH runs AS (
        SELECT b.task, b.started_at, b.outcome
        FROM opspulse.batch_runs b
        WHERE b.service = p_service AND b.env = p_env AND b.started_at < p_until
          AND opspulse.task_matches(b.task, p_globs)
    ),
    ok AS (
        SELECT r.* FROM runs r
        WHERE r.outcome = 'success' AND r.started_at >= p_until - p_span
        ORDER BY r.started_at DESC, r.task LIMIT 1
    ),
    last AS (
        SELECT r.* FROM runs r ORDER BY r.started_at DESC, r.task LIMIT 1
    )
    SELECT CASE WHEN EXISTS (SELECT 1 FROM ok) THEN 'pass'
                WHEN EXISTS (SELECT 1 FROM last) THEN 'fail'
                ELSE 'unknown' END,
           coalesce(
               (SELECT format('%s succeeded %s', o.task, opspulse.readiness_time(o.started_at))
                FROM ok o),
               (SELECT format('no successful %s run in the %s before %s; last run: %s %s %s',
                              p_what, p_span_words, opspulse.readiness_time(p_until),
                              l.task, CASE l.outcome WHEN 'success' THEN 'succeeded'
                                                     ELSE l.outcome END,
                              opspulse.readiness_time(l.started_at))
                FROM last l),
               format('no %s task (%s) ever ran before %s', p_what,
                      array_to_string(p_globs, ', '), opspulse.readiness_time(p_until)))
$$;

-- alerts_have_runbooks of one service: over the episodes that started in
-- the window; unknown without any.
CREATE OR REPLACE FUNCTION opspulse.readiness_runbooks(p_service text, p_env text,
                                                       p_since timestamptz,
                                                       p_until timestamptz)
RETURNS TABLE (status text, evidence text) LANGUAGE sql STABLE AS $$
    WITH a AS (
        SELECT count(*) AS fired,
               count(*) FILTER (WHERE x.runbook_url IS NULL) AS missing,
               string_agg(DISTINCT x.alertname, ', ' ORDER BY x.alertname)
                   FILTER (WHERE x.runbook_url IS NULL) AS names
        FROM opspulse.alerts x
        WHERE x.service = p_service AND x.env = p_env
          AND x.starts_at >= p_since AND x.starts_at < p_until
    )
    SELECT CASE WHEN a.fired = 0 THEN 'unknown' WHEN a.missing = 0 THEN 'pass'
                ELSE 'fail' END,
           CASE WHEN a.fired = 0 THEN 'no alerts in the window'
                WHEN a.missing = 0 THEN format('all %s alerts have a runbook', a.fired)
                ELSE format('%s of %s alerts have no runbook: %s', a.missing, a.fired,
                            a.names) END
    FROM a
$$;

-- One row per (known service, check): the nine automatic checks of SPEC
-- §14, then aggregator.readiness.manual_checks.  An automatic check whose
-- latest record before until is a valid exemption is exempt, with the
-- record's dates; a manual check takes its latest record, expired once
-- until reaches at + cycle_days.
DROP FUNCTION IF EXISTS opspulse.readiness(timestamptz, timestamptz, text, text[], text);
CREATE OR REPLACE FUNCTION opspulse.readiness(p_since timestamptz, p_until timestamptz,
                                              p_env text DEFAULT 'production',
                                              p_services text[] DEFAULT NULL,
                                              p_team text DEFAULT NULL)
RETURNS TABLE (service text, "check" text, area text, kind text, status text,
               evidence text, checked_at timestamptz, expires_at timestamptz)
LANGUAGE plpgsql STABLE
SET jit = off SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    -- Whole days of 24 h, whatever the session's time zone.
    v_cycle interval := make_interval(hours => 24 * opspulse.readiness_cycle_days());
    v_backup text[] := opspulse.readiness_list('readiness.backup_tasks', '*backup*');
    v_restore text[] := opspulse.readiness_list('readiness.restore_tasks', '*restore*');
    v_manual text[] := opspulse.readiness_list('readiness.manual_checks', '');
BEGIN
RETURN QUERY
WITH sc AS MATERIALIZED (
    SELECT s.service, s.area, s.level, s.reason
    FROM opspulse.scorecard(p_since, p_until, p_env, p_services, p_team) s
),
svc AS (SELECT DISTINCT s.service FROM sc s),
eol AS MATERIALIZED (
    SELECT e.* FROM opspulse.eol(p_since, p_until, p_env, p_services, p_team) e
    WHERE e.cycle IS NOT NULL
),
auto AS (
    SELECT v.* FROM svc CROSS JOIN LATERAL (
        SELECT svc.service, 'backup_recent'::text, 'backup'::text, r.status, r.evidence
        FROM opspulse.readiness_runs(svc.service, p_env, p_until, v_backup, 'backup',
                                     interval '26 hours', '26 h') r
        UNION ALL
        SELECT svc.service, 'restore_tested', 'backup', r.status, r.evidence
        FROM opspulse.readiness_runs(svc.service, p_env, p_until, v_restore, 'restore',
                                     v_cycle, opspulse.readiness_cycle_days() || ' days') r
        UNION ALL
        SELECT svc.service, c.chk, c.area,
               CASE s.level WHEN 3 THEN 'pass' WHEN 2 THEN 'fail' ELSE 'unknown' END,
               format('scorecard %s level %s: %s', s.area, s.level, s.reason)
        FROM (VALUES ('capacity_headroom', 'capacity', 'capacity'),
                     ('alerts_quiet', 'monitoring', 'alerting'),
                     ('postmortems_on_time', 'incident_response', 'postmortem'))
             AS c(chk, area, sc_area)
        JOIN sc s ON s.service = svc.service AND s.area = c.sc_area
        UNION ALL
        -- An SLO is configured and the window has requests: scorecard slo
        -- above level 1 (§4.6).
        SELECT svc.service, 'slo_defined', 'monitoring',
               CASE WHEN s.level >= 2 THEN 'pass' ELSE 'fail' END, s.reason
        FROM sc s WHERE s.service = svc.service AND s.area = 'slo'
        UNION ALL
        SELECT svc.service, 'alerts_have_runbooks', 'monitoring', r.status, r.evidence
        FROM opspulse.readiness_runbooks(svc.service, p_env, p_since, p_until) r
        UNION ALL
        SELECT svc.service, 'no_eol', 'security',
               CASE WHEN count(e.service) = 0 THEN 'unknown'
                    WHEN count(*) FILTER (WHERE e.status IN ('past_eol', 'urgent')) > 0
                    THEN 'fail' ELSE 'pass' END,
               CASE WHEN count(e.service) = 0 THEN 'no component matched to an EOL catalog cycle'
                    WHEN count(*) FILTER (WHERE e.status IN ('past_eol', 'urgent')) > 0
                    THEN string_agg(format('%s %s on %s: %s', e.component, e.version, e.host,
                                           replace(e.status, '_', ' ')), '; '
                                    ORDER BY e.component, e.host)
                             FILTER (WHERE e.status IN ('past_eol', 'urgent'))
                    ELSE format('%s components, none past end of life or within 90 days of it',
                                count(e.service)) END
        FROM (SELECT 1) one LEFT JOIN eol e ON e.service = svc.service
        UNION ALL
        SELECT svc.service, 'patches_current', 'security',
               CASE WHEN count(e.service) = 0 THEN 'unknown'
                    WHEN bool_or(e.patch_behind) THEN 'fail' ELSE 'pass' END,
               CASE WHEN count(e.service) = 0 THEN 'no component matched to an EOL catalog cycle'
                    WHEN bool_or(e.patch_behind)
                    THEN string_agg(format('%s %s on %s is behind %s', e.component, e.version,
                                           e.host, e.latest), '; '
                                    ORDER BY e.component, e.host) FILTER (WHERE e.patch_behind)
                    ELSE format('%s components on their cycle''s latest release',
                                count(e.service)) END
        FROM (SELECT 1) one LEFT JOIN eol e ON e.service = svc.service
    ) AS v(service, chk, area, status, evidence)
),
rec AS (
    SELECT DISTINCT ON (r.service, r.check_name)
           r.service, r.check_name, r.result, r.evidence, r.at,
           p_until < r.at + v_cycle AS valid
    FROM opspulse.readiness_checks r
    WHERE r.env = p_env AND r.at < p_until AND r.service IN (SELECT s.service FROM svc s)
    ORDER BY r.service, r.check_name, r.at DESC, r.result, r.content_key
)
SELECT a.service, a.chk, a.area, 'auto'::text,
       CASE WHEN x.result = 'exempt' AND x.valid THEN 'exempt' ELSE a.status END,
       CASE WHEN x.result = 'exempt' AND x.valid THEN 'exempt: ' || x.evidence
            ELSE a.evidence END,
       CASE WHEN x.result = 'exempt' AND x.valid THEN x.at ELSE p_until END,
       CASE WHEN x.result = 'exempt' AND x.valid THEN x.at + v_cycle END
FROM auto a
LEFT JOIN rec x ON x.service = a.service AND x.check_name = a.chk
UNION ALL
SELECT s.service, m.chk, NULL::text, 'manual'::text,
       CASE WHEN x.at IS NULL THEN 'unknown' WHEN NOT x.valid THEN 'expired'
            ELSE x.result END,
       CASE WHEN x.at IS NULL THEN 'never recorded'
            WHEN NOT x.valid
            THEN format('%s %s, expired %s: %s', CASE x.result WHEN 'pass' THEN 'passed'
                                                       WHEN 'fail' THEN 'failed'
                                                       ELSE 'exempted' END,
                        opspulse.readiness_time(x.at), opspulse.readiness_time(x.at + v_cycle),
                        x.evidence)
            ELSE format('%s %s: %s', CASE x.result WHEN 'pass' THEN 'passed'
                                                   WHEN 'fail' THEN 'failed'
                                                   ELSE 'exempted' END,
                        opspulse.readiness_time(x.at), x.evidence) END,
       x.at, x.at + v_cycle
FROM svc s CROSS JOIN unnest(v_manual) AS m(chk)
LEFT JOIN rec x ON x.service = s.service AND x.check_name = m.chk
ORDER BY 1, 2;
END
$$;

-- `opspulse readiness --by service`: counts per status; ready_share =
-- passed / (total - exempt), NULL when that is 0.
CREATE OR REPLACE FUNCTION opspulse.readiness_by_service(p_since timestamptz,
                                                         p_until timestamptz,
                                                         p_env text DEFAULT 'production',
                                                         p_services text[] DEFAULT NULL,
                                                         p_team text DEFAULT NULL)
RETURNS TABLE (service text, passed bigint, failed bigint, unknown bigint, exempt bigint,
               expired bigint, total bigint, ready_share double precision)
LANGUAGE sql STABLE AS $$
    SELECT r.service,
           count(*) FILTER (WHERE r.status = 'pass'),
           count(*) FILTER (WHERE r.status = 'fail'),
           count(*) FILTER (WHERE r.status = 'unknown'),
           count(*) FILTER (WHERE r.status = 'exempt'),
           count(*) FILTER (WHERE r.status = 'expired'),
           count(*),
           (count(*) FILTER (WHERE r.status = 'pass'))::double precision
               / nullif(count(*) - count(*) FILTER (WHERE r.status = 'exempt'), 0)
    FROM opspulse.readiness(p_since, p_until, p_env, p_services, p_team) r
    GROUP BY r.service
    ORDER BY r.service
$$;
