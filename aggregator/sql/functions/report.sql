-- The review report (SPEC §6): the series `opspulse report` draws beside
-- the indicator tables it reads from the other families.

-- Weekly series for the review report's trend charts (SPEC §6): per
-- selected service and week, the deploys and change failure rate (§4.1,
-- counted as opspulse.dora counts them), toil hours (§4.2) and alert
-- episodes with their noise share (§4.3).  Weeks are counted back from
-- until: the last is [until - 7 days, until), and the first is cut at
-- since when the window is not a whole number of weeks.  Every selected
-- service has a row for every week; counts and sums are 0 in a week
-- without events, rates and shares NULL.  Whole days the weeks do not
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

-- The review report's rules (SPEC §6): what its action list holds, decided
-- here from the settings and the indicator functions, so that the
-- renderer (aggregator/report_render.c) only draws what these return.

-- The numbers the report's rules use, one row; its headings name them.
--   disk_full_days         a disk is listed when full within this many days
--                          (setting target.disk_full_days, as the scorecard)
--   eol_urgent_days        the horizon of opspulse.eol_status's 'urgent'
--   noisy_rules            how many of the noisiest alert rules are listed
--   noise_min_episodes     fewer noise episodes (fired x noise share) than
--                          this is no noise
--   automation_candidates  how many toil tasks are listed, most hours first
--   bus_factor_max         a service is listed when its bus factor is at
--                          most this (the scorecard's "bus factor 1")
CREATE OR REPLACE FUNCTION opspulse.report_rules()
RETURNS TABLE (disk_full_days double precision, eol_urgent_days integer,
               noisy_rules integer, noise_min_episodes double precision,
               automation_candidates integer, bus_factor_max bigint,
               noise_minutes integer)
LANGUAGE sql STABLE AS $$
    SELECT opspulse.target('disk_full_days', 30), 90, 5, 0.5::double precision,
           5, 1::bigint, opspulse.setting('noise_minutes', '15')::integer
$$;

-- The report's action list: one row per item, in the order shown, already
-- filtered and ranked by opspulse.report_rules().  kind is one of
--   eol          (service, host, subject = component, detail = version,
--                 status, days = days to end of life, eol_date)
--   maintenance  (service, subject = title, detail = component, due_at)
--   noise        (service, subject = alert rule, count = fired,
--                 share = noise share)
--   automation   (service, subject = task, count = runs, hours, people)
--   bus          (service, share = top operator's share, hours = toil hours)
--   disk         (service, host, subject = mount, used_pct, days_to_full)
-- and the columns a kind does not name are NULL.
CREATE OR REPLACE FUNCTION opspulse.report_actions(p_since timestamptz,
                                                   p_until timestamptz,
                                                   p_env text DEFAULT 'production',
                                                   p_services text[] DEFAULT NULL,
                                                   p_team text DEFAULT NULL)
RETURNS TABLE (kind text, service text, host text, subject text, detail text,
               status text, days integer, eol_date date, due_at timestamptz,
               count bigint, share double precision, hours double precision,
               people bigint, used_pct double precision,
               days_to_full double precision)
LANGUAGE sql STABLE AS $$
WITH r AS (SELECT * FROM opspulse.report_rules()),
eol AS (
    SELECT 1 AS part, x.n, 'eol' AS kind, x.service, x.host, x.component AS subject,
           x.version || ' (' || x.eol_basis || ' support)' AS detail, x.status, x.days_to_eol AS days, x.eol_date,
           NULL::timestamptz AS due_at, NULL::bigint AS count,
           NULL::double precision AS share, NULL::double precision AS hours,
           NULL::bigint AS people, NULL::double precision AS used_pct,
           NULL::double precision AS days_to_full
    FROM opspulse.eol(p_since, p_until, p_env, p_services, p_team)
         WITH ORDINALITY AS x(service, host, component, version, observed_at, cycle,
                              latest, eol_date, days_to_eol, status, patch_behind,
                              eol_basis, n)
    WHERE x.status IN ('past_eol', 'urgent')
),
maintenance AS (
    SELECT 2, x.n, 'maintenance', x.service, NULL, x.title, x.component, NULL,
           NULL::integer, NULL::date, x.due_at, NULL::bigint, NULL::double precision,
           NULL::double precision, NULL::bigint, NULL::double precision,
           NULL::double precision
    FROM opspulse.maintenance(p_since, p_until, p_env, p_services, p_team)
         WITH ORDINALITY AS x(service, id, host, component, title, due_at, status,
                              overdue, n)
    WHERE x.overdue
),
noise AS (
    SELECT 3, row_number() OVER (ORDER BY x.fired * x.noise_share DESC, x.n),
           'noise', x.service, NULL, x.alertname, NULL, NULL, NULL::integer, NULL::date,
           NULL::timestamptz, x.fired, x.noise_share, NULL::double precision,
           NULL::bigint, NULL::double precision, NULL::double precision
    FROM opspulse.alerts_by_rule(p_since, p_until, p_env, p_services, p_team)
         WITH ORDINALITY AS x(service, alertname, fired, noise_share, mttr_p50_minutes, n),
         r
    WHERE x.fired * x.noise_share >= r.noise_min_episodes
),
automation AS (
    SELECT 4, x.n, 'automation', x.service, NULL, x.task, NULL, NULL, NULL::integer,
           NULL::date, NULL::timestamptz, x.count, NULL::double precision, x.total_hours,
           x.operators, NULL::double precision, NULL::double precision
    FROM opspulse.toil_by_task(p_since, p_until, p_env, p_services, p_team)
         WITH ORDINALITY AS x(service, task, count, total_hours, mean_minutes,
                              operators, n),
         r
    WHERE x.n <= r.automation_candidates
),
bus AS (
    SELECT 5, x.n, 'bus', x.service, NULL, NULL, NULL, NULL, NULL::integer, NULL::date,
           NULL::timestamptz, NULL::bigint, x.top_operator_share, x.toil_hours,
           NULL::bigint, NULL::double precision, NULL::double precision
    FROM opspulse.toil(p_since, p_until, p_env, p_services, p_team)
         WITH ORDINALITY AS x(service, team, toil_hours, entries, operators,
                              top_operator_share, bus_factor, after_hours_share,
                              toil_ratio, n),
         r
    WHERE x.bus_factor <= r.bus_factor_max
),
disk AS (
    SELECT 6, x.n, 'disk', x.service, x.host, x.mount, NULL, NULL, NULL::integer,
           NULL::date, NULL::timestamptz, NULL::bigint, NULL::double precision,
           NULL::double precision, NULL::bigint, x.disk_used_pct, x.disk_days_to_full
    FROM opspulse.capacity(p_since, p_until, p_env, p_services, p_team)
         WITH ORDINALITY AS x(service, host, mount, cpu_p95_pct, mem_p95_pct,
                              disk_used_pct, disk_days_to_full, n),
         r
    WHERE x.disk_days_to_full <= r.disk_full_days
),
items AS (
    SELECT * FROM eol
    UNION ALL SELECT * FROM maintenance
    UNION ALL SELECT * FROM noise
    UNION ALL SELECT * FROM automation
    UNION ALL SELECT * FROM bus
    UNION ALL SELECT * FROM disk
)
SELECT i.kind, i.service, i.host, i.subject, i.detail, i.status, i.days, i.eol_date,
       i.due_at, i.count, i.share, i.hours, i.people, i.used_pct, i.days_to_full
FROM items i, r
WHERE i.part <> 3 OR i.n <= r.noisy_rules
ORDER BY i.part, i.n
$$;

-- The review report's readiness section (SPEC §6, §14): per service the
-- counts of opspulse.readiness_by_service with the failing, unknown and
-- expired checks named (sorted, comma-separated, NULL when none).
CREATE OR REPLACE FUNCTION opspulse.report_readiness(p_since timestamptz,
                                                     p_until timestamptz,
                                                     p_env text DEFAULT 'production',
                                                     p_services text[] DEFAULT NULL,
                                                     p_team text DEFAULT NULL)
RETURNS TABLE (service text, passed bigint, total bigint, ready_share double precision,
               failing text, unknown text, expired text)
LANGUAGE sql STABLE AS $$
    WITH l AS (
        SELECT r.service,
               string_agg(r."check", ', ' ORDER BY r."check")
                   FILTER (WHERE r.status = 'fail') AS failing,
               string_agg(r."check", ', ' ORDER BY r."check")
                   FILTER (WHERE r.status = 'unknown') AS unknown,
               string_agg(r."check", ', ' ORDER BY r."check")
                   FILTER (WHERE r.status = 'expired') AS expired
        FROM opspulse.readiness(p_since, p_until, p_env, p_services, p_team) r
        GROUP BY r.service
    )
    SELECT b.service, b.passed, b.total, b.ready_share, l.failing, l.unknown, l.expired
    FROM opspulse.readiness_by_service(p_since, p_until, p_env, p_services, p_team) b
    JOIN l ON l.service = b.service
    ORDER BY b.service
$$;

-- The readiness actions of the review report: per service its failing
-- checks (action 'fix', one row with every failing check and its evidence,
-- so that the printed page stays short), and every passed or exempted
-- check whose record expires within 30 days after until (action 'renew',
-- days_left whole days, rounded down; expires in words).  Sorted by
-- action, then by what expires first.
CREATE OR REPLACE FUNCTION opspulse.report_readiness_actions(p_since timestamptz,
                                                             p_until timestamptz,
                                                             p_env text DEFAULT 'production',
                                                             p_services text[] DEFAULT NULL,
                                                             p_team text DEFAULT NULL)
RETURNS TABLE (action text, service text, "check" text, status text, evidence text,
               expires_at timestamptz, expires text, days_left integer)
LANGUAGE sql STABLE AS $$
    WITH r AS MATERIALIZED (
        SELECT * FROM opspulse.readiness(p_since, p_until, p_env, p_services, p_team)
    )
    SELECT u.* FROM (
        SELECT 'fix'::text, r.service, string_agg(r."check", ', ' ORDER BY r."check"),
               'fail'::text,
               string_agg(r."check" || ' (' || r.evidence || ')', '; ' ORDER BY r."check"),
               NULL::timestamptz, NULL::text, NULL::integer
        FROM r WHERE r.status = 'fail'
        GROUP BY r.service
        UNION ALL
        SELECT 'renew', r.service, r."check", r.status, r.evidence, r.expires_at,
               opspulse.readiness_time(r.expires_at),
               floor(extract(epoch FROM r.expires_at - p_until) / 86400)::integer
        FROM r
        WHERE r.status IN ('pass', 'exempt') AND r.expires_at IS NOT NULL
          AND r.expires_at <= p_until + interval '30 days'
    ) AS u(action, service, "check", status, evidence, expires_at, expires, days_left)
    ORDER BY u.action, u.expires_at NULLS FIRST, u.service, u."check"
$$;

-- The review report's incident actions (SPEC §6, §13.2): postmortems
-- late (a major, resolved incident whose deadline passed before until
-- without a postmortem by then), owned by the incident's commander and due
-- at the deadline; and action items open past their due date.  Oldest
-- due first.
CREATE OR REPLACE FUNCTION opspulse.report_incident_actions(p_since timestamptz,
                                                            p_until timestamptz,
                                                            p_env text DEFAULT 'production',
                                                            p_services text[] DEFAULT NULL,
                                                            p_team text DEFAULT NULL)
RETURNS TABLE (kind text, service text, incident text, id text, title text,
               owner text, due timestamptz, due_text text)
LANGUAGE sql STABLE AS $$
    SELECT u.kind, u.service, u.incident, u.id, u.title, u.owner, u.due,
           to_char(u.due AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
    FROM (
        SELECT 'postmortem_late' AS kind, f.service, f.incident_id AS incident,
               f.incident_id AS id, f.title, f.commander AS owner, f.deadline AS due
        FROM opspulse.incident_facts(p_since, p_until, p_env, p_services, p_team) f
        WHERE f.late
        UNION ALL
        SELECT 'action_overdue', a.service, a.incident, a.id, a.title, a.owner, a.due
        FROM opspulse.actions(p_since, p_until, p_env, p_services, p_team) a
        WHERE a.overdue
    ) u
    ORDER BY u.kind, u.due, u.service, u.id
$$;
