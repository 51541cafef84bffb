-- Incidents, postmortems and action items (SPEC §13, §14.1):
-- `opspulse incidents`, `opspulse incidents --by incident`,
-- `opspulse actions`, and the trigger by which an incident naming a
-- deploy marks it failed.

-- Days after an incident is resolved by which its postmortem is due
-- (aggregator.postmortem_days, default 7).
CREATE OR REPLACE FUNCTION opspulse.postmortem_days() RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT opspulse.setting('postmortem_days', '7')::integer
$$;

-- Every incident of the selected services (NULL: all) as the field-by-field
-- merge of its records in recording order: each column is that of the
-- latest record that sets it.  Without a recorded start an incident starts
-- when it was first recorded; without a severity it is severity 3.  env is
-- that of the latest record.
CREATE OR REPLACE FUNCTION opspulse.incidents_merged(p_services text[])
RETURNS TABLE (service text, incident_id text, env text, severity integer,
               title text, started_at timestamptz, detected_at timestamptz,
               acknowledged_at timestamptz, mitigated_at timestamptz,
               resolved_at timestamptz, deploy_id text, commander text,
               postmortem text, postmortem_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT r.service, r.incident_id,
           (array_agg(r.env ORDER BY r.recorded_at DESC, r.content_key))[1],
           coalesce((array_agg(r.severity ORDER BY r.recorded_at DESC, r.content_key)
                     FILTER (WHERE r.severity IS NOT NULL))[1], 3)::integer,
           (array_agg(r.title ORDER BY r.recorded_at DESC, r.content_key)
                FILTER (WHERE r.title IS NOT NULL))[1],
           coalesce((array_agg(r.started_at ORDER BY r.recorded_at DESC, r.content_key)
                     FILTER (WHERE r.started_at IS NOT NULL))[1], min(r.recorded_at)),
           (array_agg(r.detected_at ORDER BY r.recorded_at DESC, r.content_key)
                FILTER (WHERE r.detected_at IS NOT NULL))[1],
           (array_agg(r.acknowledged_at ORDER BY r.recorded_at DESC, r.content_key)
                FILTER (WHERE r.acknowledged_at IS NOT NULL))[1],
           (array_agg(r.mitigated_at ORDER BY r.recorded_at DESC, r.content_key)
                FILTER (WHERE r.mitigated_at IS NOT NULL))[1],
           (array_agg(r.resolved_at ORDER BY r.recorded_at DESC, r.content_key)
                FILTER (WHERE r.resolved_at IS NOT NULL))[1],
           (array_agg(r.deploy_id ORDER BY r.recorded_at DESC, r.content_key)
                FILTER (WHERE r.deploy_id IS NOT NULL))[1],
           (array_agg(r.commander ORDER BY r.recorded_at DESC, r.content_key)
                FILTER (WHERE r.commander IS NOT NULL))[1],
           (array_agg(r.postmortem ORDER BY r.recorded_at DESC, r.content_key)
                FILTER (WHERE r.postmortem IS NOT NULL))[1],
           (array_agg(r.postmortem_at ORDER BY r.recorded_at DESC, r.content_key)
                FILTER (WHERE r.postmortem_at IS NOT NULL))[1]
    FROM opspulse.incident_records r
    WHERE p_services IS NULL OR r.service = ANY (p_services)
    GROUP BY r.service, r.incident_id
$$;

-- An incident naming a deploy marks that deploy -- (its service,
-- production, that id) -- failed at the incident's start, by the same row
-- `deploy mark-failed` writes: opspulse.deploy_failures, whose own trigger
-- (rollups.sql) keeps the delivery rollups exact.  The start is the
-- merged one when the record is stored.
CREATE OR REPLACE FUNCTION opspulse.incident_mark_deploys()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO opspulse.deploy_failures (service, env, deploy_id, at, host, agent_id)
    SELECT DISTINCT n.service, 'production', n.deploy_id, m.started_at, n.host, n.agent_id
    FROM new_rows n
    JOIN opspulse.incidents_merged(ARRAY[n.service]) m
      ON m.service = n.service AND m.incident_id = n.incident_id
    WHERE n.deploy_id IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    def text := 'CREATE TRIGGER incident_mark_deploys AFTER INSERT ON '
                'opspulse.incident_records REFERENCING NEW TABLE AS new_rows '
                'FOR EACH STATEMENT EXECUTE FUNCTION opspulse.incident_mark_deploys()';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger g
                   WHERE g.tgrelid = 'opspulse.incident_records'::regclass
                     AND g.tgname = 'incident_mark_deploys'
                     AND replace(pg_get_triggerdef(g.oid), 'opspulse.', '')
                         = replace(def, 'opspulse.', '')) THEN
        EXECUTE 'CREATE OR REPLACE' || substr(def, length('CREATE') + 1);
    END IF;
END
$$;

-- Minutes from p_from to p_to when both exist and p_to is not before
-- p_from; NULL otherwise (SPEC §13.2).
CREATE OR REPLACE FUNCTION opspulse.span_minutes(p_from timestamptz, p_to timestamptz)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_to >= p_from
                THEN date_part('epoch', p_to - p_from)::double precision / 60 END
$$;

-- The incidents of the window with everything §13.2 derives from each:
-- the postmortem deadline and whether the postmortem was due, on time or
-- late; the toil hours naming it (whenever they started); the errors of
-- its minutes (started <= minute < resolved, or until when unresolved or
-- resolved at or after until) and its open action items.
CREATE OR REPLACE FUNCTION opspulse.incident_facts(p_since timestamptz, p_until timestamptz,
                                                   p_env text, p_services text[],
                                                   p_team text)
RETURNS TABLE (service text, incident_id text, severity integer, title text,
               started_at timestamptz, detected_at timestamptz,
               acknowledged_at timestamptz, mitigated_at timestamptz,
               resolved_at timestamptz, deploy_id text, commander text,
               postmortem text, postmortem_at timestamptz, deadline timestamptz,
               due boolean, on_time boolean,
               late boolean, response_hours double precision, errors numeric,
               open_actions bigint)
LANGUAGE sql STABLE AS $$
    WITH sel AS (
        SELECT array_agg(s.service) AS services
        FROM opspulse.selected_services(p_services, p_team) s),
    i AS (
        SELECT m.*, m.resolved_at + make_interval(days => opspulse.postmortem_days())
                        AS deadline,
               CASE WHEN m.resolved_at IS NULL OR m.resolved_at >= p_until THEN p_until
                    ELSE m.resolved_at END AS span_end
        FROM sel CROSS JOIN LATERAL opspulse.incidents_merged(sel.services) m
        WHERE m.env = p_env AND m.started_at >= p_since AND m.started_at < p_until)
    SELECT i.service, i.incident_id, i.severity, i.title, i.started_at, i.detected_at,
           i.acknowledged_at, i.mitigated_at, i.resolved_at, i.deploy_id,
           i.commander, i.postmortem, i.postmortem_at, i.deadline,
           coalesce(i.severity <= 2 AND i.deadline < p_until, false),
           i.postmortem_at <= i.deadline,
           coalesce(i.severity <= 2 AND i.deadline < p_until, false)
               AND NOT coalesce(i.postmortem_at <= i.deadline, false),
           coalesce((SELECT sum(t.duration_s)::double precision / 3600
                     FROM opspulse.toil t
                     WHERE t.service = i.service AND t.incident_id = i.incident_id), 0),
           (SELECT coalesce(sum(q.errors), 0)::numeric
            FROM opspulse.request_minutes q
            WHERE q.service = i.service AND q.env = p_env
              AND q.minute >= i.started_at AND q.minute < i.span_end),
           (SELECT count(*) FROM opspulse.action_items a
            WHERE a.service = i.service AND a.incident_id = i.incident_id
              AND a.status = 'open')
    FROM i
$$;

-- The availability error budget of each selected service over the window:
-- (1 - target) x requests; NULL without an availability SLO or without
-- requests (SPEC §13.2).
CREATE OR REPLACE FUNCTION opspulse.incident_budgets(p_since timestamptz, p_until timestamptz,
                                                     p_env text, p_services text[],
                                                     p_team text)
RETURNS TABLE (service text, budget numeric)
LANGUAGE sql STABLE AS $$
    SELECT o.service, nullif((1 - o.target) * h.requests, 0)
    FROM opspulse.slo_objectives(p_services, p_team) o
    JOIN opspulse.health(p_since, p_until, p_env, p_services, p_team) h
      ON h.service = o.service
    WHERE o.objective = 'availability'
$$;

-- `opspulse incidents` (SPEC §13.2): one row per known service over the
-- incidents that started in the window.
CREATE OR REPLACE FUNCTION opspulse.incidents(p_since timestamptz, p_until timestamptz,
                                              p_env text DEFAULT 'production',
                                              p_services text[] DEFAULT NULL,
                                              p_team text DEFAULT NULL)
RETURNS TABLE (service text, incidents bigint, major bigint,
               detect_p50_minutes double precision,
               acknowledge_p50_minutes double precision,
               mitigate_p50_minutes double precision,
               resolve_p50_minutes double precision, postmortems_due bigint,
               postmortem_on_time_share double precision,
               response_hours double precision, action_items_open bigint,
               action_items_overdue bigint, budget_consumed_share double precision)
LANGUAGE sql STABLE AS $$
    WITH f AS (SELECT * FROM opspulse.incident_facts(p_since, p_until, p_env, p_services,
                                                     p_team)),
    s AS (
        SELECT f.service, count(*) AS incidents,
               count(*) FILTER (WHERE f.severity <= 2) AS major,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY opspulse.span_minutes(f.started_at, f.detected_at)) AS detect,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY opspulse.span_minutes(f.detected_at, f.acknowledged_at)) AS ack,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY opspulse.span_minutes(f.started_at, f.mitigated_at)) AS mitigate,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY opspulse.span_minutes(f.started_at, f.resolved_at)) AS resolve,
               count(*) FILTER (WHERE f.due) AS due,
               count(*) FILTER (WHERE f.due AND f.on_time) AS on_time,
               sum(f.response_hours) AS response_hours,
               sum(f.errors) AS errors
        FROM f GROUP BY f.service),
    a AS (
        SELECT x.service, count(*) AS open,
               count(*) FILTER (WHERE x.due_at < p_until) AS overdue
        FROM opspulse.action_items x
        WHERE x.env = p_env AND x.status = 'open'
        GROUP BY x.service)
    SELECT k.service, coalesce(s.incidents, 0), coalesce(s.major, 0),
           s.detect, s.ack, s.mitigate, s.resolve, coalesce(s.due, 0),
           s.on_time::double precision / nullif(s.due, 0),
           coalesce(s.response_hours, 0), coalesce(a.open, 0), coalesce(a.overdue, 0),
           (coalesce(s.errors, 0) / b.budget)::double precision
    FROM opspulse.selected_services(p_services, p_team) k
    LEFT JOIN s ON s.service = k.service
    LEFT JOIN a ON a.service = k.service
    LEFT JOIN opspulse.incident_budgets(p_since, p_until, p_env, p_services, p_team) b
           ON b.service = k.service
    ORDER BY k.service
$$;

-- `opspulse incidents --by incident`: one row per incident that started
-- in the window.
CREATE OR REPLACE FUNCTION opspulse.incidents_by_incident(p_since timestamptz,
                                                          p_until timestamptz,
                                                          p_env text DEFAULT 'production',
                                                          p_services text[] DEFAULT NULL,
                                                          p_team text DEFAULT NULL)
RETURNS TABLE (service text, id text, severity integer, title text,
               started timestamptz, resolved timestamptz,
               resolve_minutes double precision, deploy text, postmortem text,
               postmortem_late boolean, response_hours double precision,
               budget_consumed_share double precision, open_actions bigint)
LANGUAGE sql STABLE AS $$
    SELECT f.service, f.incident_id, f.severity, f.title, f.started_at, f.resolved_at,
           opspulse.span_minutes(f.started_at, f.resolved_at), f.deploy_id, f.postmortem,
           f.late, f.response_hours, (f.errors / b.budget)::double precision,
           f.open_actions
    FROM opspulse.incident_facts(p_since, p_until, p_env, p_services, p_team) f
    LEFT JOIN opspulse.incident_budgets(p_since, p_until, p_env, p_services, p_team) b
           ON b.service = f.service
    ORDER BY f.service, f.started_at, f.incident_id
$$;

-- `opspulse actions`: every action item of the selected services, overdue
-- when still open and due before until.
CREATE OR REPLACE FUNCTION opspulse.actions(p_since timestamptz, p_until timestamptz,
                                            p_env text DEFAULT 'production',
                                            p_services text[] DEFAULT NULL,
                                            p_team text DEFAULT NULL)
RETURNS TABLE (service text, incident text, id text, title text, owner text,
               due timestamptz, status text, overdue boolean)
LANGUAGE sql STABLE AS $$
    SELECT a.service, a.incident_id, a.action_id, a.title, a.owner, a.due_at, a.status,
           a.status = 'open' AND a.due_at < p_until
    FROM opspulse.action_items a
    WHERE a.env = p_env
      AND a.service IN (SELECT s.service FROM opspulse.selected_services(p_services, p_team) s)
    ORDER BY a.service, a.action_id
$$;
