-- Teams and settings from the aggregator's configuration (SPEC §8),
-- written by the aggregator at start and on SIGHUP (aggregator/teams.c),
-- and the service selection (--service, --team) and business hours every
-- indicator shares.

CREATE OR REPLACE FUNCTION opspulse.setting(p_key text, p_default text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT s.value FROM opspulse.settings s WHERE s.key = p_key),
                    p_default)
$$;

-- A time zone PostgreSQL knows, or an error naming what it belongs to.
CREATE OR REPLACE FUNCTION opspulse.check_timezone(p_timezone text, p_what text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM now() AT TIME ZONE p_timezone;
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE EXCEPTION '%: unknown time zone "%"; use an IANA name such as Europe/Berlin',
        p_what, p_timezone USING ERRCODE = 'invalid_parameter_value';
END
$$;

-- Replaces the teams and the given settings in one statement.  Teams come
-- as parallel arrays; their services as (team index, 1-based; service)
-- pairs.  An unknown time zone is an error naming the team, and nothing
-- changes.
CREATE OR REPLACE FUNCTION opspulse.sync_config(p_names text[], p_members bigint[],
                                                p_hours double precision[],
                                                p_timezones text[], p_service_team integer[],
                                                p_services text[], p_keys text[],
                                                p_values text[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    t integer;
BEGIN
    FOR t IN 1 .. coalesce(array_length(p_names, 1), 0) LOOP
        PERFORM opspulse.check_timezone(p_timezones[t], 'team ' || p_names[t]);
    END LOOP;
    IF 'timezone' = ANY (p_keys) THEN
        PERFORM opspulse.check_timezone(p_values[array_position(p_keys, 'timezone')],
                                        'timezone');
    END IF;
    DELETE FROM opspulse.teams;
    INSERT INTO opspulse.teams (name, position, members, hours_per_week, timezone, services)
    SELECT p_names[ti], ti, p_members[ti], p_hours[ti], p_timezones[ti],
           ARRAY(SELECT DISTINCT p_services[si]
                 FROM generate_subscripts(p_services, 1) AS si
                 WHERE p_service_team[si] = ti
                 ORDER BY 1)
    FROM generate_subscripts(p_names, 1) AS ti;
    INSERT INTO opspulse.settings (key, value)
    SELECT p_keys[ki], p_values[ki] FROM generate_subscripts(p_keys, 1) AS ki
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
    RETURN coalesce(array_length(p_names, 1), 0);
END
$$;

-- Known services (any event, any environment, any time), optionally
-- restricted to a list.
CREATE OR REPLACE FUNCTION opspulse.known_services(p_services text[])
RETURNS TABLE (service text) LANGUAGE sql STABLE AS $$
    SELECT s.service FROM opspulse.services s
    WHERE p_services IS NULL OR s.service = ANY (p_services)
$$;

-- Every known service with its team (NULL without one) and time zone (the
-- aggregator's timezone without a team).
-- (Joins, not opspulse.setting(): this is evaluated per event row.)
CREATE OR REPLACE FUNCTION opspulse.service_zones()
RETURNS TABLE (service text, team text, timezone text)
LANGUAGE sql STABLE AS $$
    SELECT k.service, st.team, coalesce(st.timezone, d.value, 'UTC')
    FROM opspulse.services k
    LEFT JOIN opspulse.service_teams st ON st.service = k.service
    LEFT JOIN opspulse.settings d ON d.key = 'timezone'
$$;

-- Known services selected by a list (NULL: all) and a team (NULL: any).
CREATE OR REPLACE FUNCTION opspulse.selected_services(p_services text[], p_team text)
RETURNS TABLE (service text) LANGUAGE sql STABLE AS $$
    SELECT k.service FROM opspulse.services k
    WHERE (p_services IS NULL OR k.service = ANY (p_services))
      AND (p_team IS NULL OR EXISTS (
               SELECT 1 FROM opspulse.teams t
               WHERE t.name = p_team AND k.service = ANY (t.services)))
$$;

-- The same as an array, for functions that take a service list only
-- (opspulse.dora): NULL when neither filter is set.
CREATE OR REPLACE FUNCTION opspulse.team_services(p_services text[], p_team text)
RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_team IS NULL THEN p_services
                ELSE ARRAY(SELECT s.service
                           FROM opspulse.selected_services(p_services, p_team) s)
           END
$$;

-- Business hours: Monday to Friday, 09:00 <= local time < 18:00 (§4.7).
-- Evaluated once per event, so the local time is converted once: its
-- seconds since a Monday 00:00 (1970-01-01 was a Thursday: add three days)
-- modulo a week, against the five 09:00-18:00 ranges of Monday to Friday.
CREATE OR REPLACE FUNCTION opspulse.in_business_hours(p_at timestamptz, p_timezone text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT (floor(date_part('epoch', p_at AT TIME ZONE p_timezone))::bigint + 3 * 86400)
           % (7 * 86400)
           <@ '{[32400,64800),[118800,151200),[205200,237600),[291600,324000),[378000,410400)}'
              ::int8multirange
$$;
