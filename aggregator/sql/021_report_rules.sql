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
               automation_candidates integer, bus_factor_max bigint)
LANGUAGE sql STABLE AS $$
    SELECT opspulse.target('disk_full_days', 30), 90, 5, 0.5::double precision,
           5, 1::bigint
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
           x.version AS detail, x.status, x.days_to_eol AS days, x.eol_date,
           NULL::timestamptz AS due_at, NULL::bigint AS count,
           NULL::double precision AS share, NULL::double precision AS hours,
           NULL::bigint AS people, NULL::double precision AS used_pct,
           NULL::double precision AS days_to_full
    FROM opspulse.eol(p_since, p_until, p_env, p_services, p_team)
         WITH ORDINALITY AS x(service, host, component, version, observed_at, cycle,
                              latest, eol_date, days_to_eol, status, patch_behind, n)
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
