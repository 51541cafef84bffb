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

-- The configuration business hours and noise depend on.  Services
-- without a team use the aggregator's time zone, so new services do not
-- change it.
CREATE OR REPLACE FUNCTION opspulse.rollup_zones() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT md5(coalesce((SELECT s.value FROM opspulse.settings s WHERE s.key = 'timezone'), '')
               || '|' || coalesce(string_agg(t.service || '=' || coalesce(t.timezone, ''), ','
                                             ORDER BY t.service), ''))
    FROM opspulse.service_teams t
$$;

CREATE OR REPLACE FUNCTION opspulse.rollup_noise() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT s.value::integer FROM opspulse.settings s
                     WHERE s.key = 'noise_minutes'), 15)
$$;

-- The whole months of [since, until) a query in one environment reads
-- from the rollups, in order: ready, clean, rolled up under the current
-- configuration (and noise threshold p_noise, unless NULL).  None when
-- the session sets opspulse.rollups to off (tests compare both ways).
CREATE OR REPLACE FUNCTION opspulse.rollup_months(p_since timestamptz, p_until timestamptz,
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
CREATE OR REPLACE FUNCTION opspulse.uncovered(p_since timestamptz, p_until timestamptz,
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
CREATE OR REPLACE FUNCTION opspulse.raw_ranges(p_since timestamptz, p_until timestamptz,
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
CREATE OR REPLACE FUNCTION opspulse.rollup_day_list(p_months timestamptz[], p_anchor timestamptz)
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

-- ---- keeping the rollups current -----------------------------------------

-- Statement trigger of the event tables: marks the (service, env, month)
-- of the changed rows of closed months dirty.  TG_ARGV[0] names the time
-- column that files an event under a month.  A deploy failure changes
-- its deploy's month; a successful deploy (or its removal) changes the
-- recovery time of the failures since the service's previous success.
CREATE OR REPLACE FUNCTION opspulse.rollup_mark()
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
CREATE OR REPLACE FUNCTION opspulse.rollup_mark_all()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM opspulse.rollup_ready;
    RETURN NULL;
END
$$;

-- Deletes the rollup rows of one month, one environment (NULL: every
-- one) and some services (NULL: all).
CREATE OR REPLACE FUNCTION opspulse.rollup_clear(p_month timestamptz, p_env text, p_services text[])
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
CREATE OR REPLACE FUNCTION opspulse.rollup_compute(p_month timestamptz, p_env text,
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
CREATE OR REPLACE FUNCTION opspulse.event_envs(p_lo timestamptz, p_hi timestamptz)
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
CREATE OR REPLACE FUNCTION opspulse.first_event_month() RETURNS timestamptz
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
CREATE OR REPLACE FUNCTION opspulse.refresh_rollups(p_months integer DEFAULT 2)
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
    -- The hourly request rollup (functions/health.sql) rides along.
    PERFORM opspulse.refresh_request_hours();
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

-- The statement triggers that mark months dirty, re-created with their
-- functions.  Transition tables allow one event per trigger, so three per
-- table.  On a partitioned table the parent's statement triggers see the
-- rows of every partition.  Written as pg_get_triggerdef prints them: a
-- trigger that already reads so is left alone, so that a migrate does not
-- lock the event tables against ingest for nothing.
DO $$
DECLARE
    t record;
    def text;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('deploys', 'finished_at'), ('deploy_failures', 'at'),
                                   ('toil', 'started_at'), ('batch_runs', 'started_at'),
                                   ('alerts', 'starts_at'), ('components', 'observed_at'),
                                   ('maintenance', 'recorded_at'), ('capacity', 'at'))
                     AS v(tab, col)
             CROSS JOIN (VALUES
                 ('rollup_insert', 'AFTER INSERT ON opspulse.%I '
                  'REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT '
                  'EXECUTE FUNCTION opspulse.rollup_mark(%L)'),
                 ('rollup_update', 'AFTER UPDATE ON opspulse.%I '
                  'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                  'FOR EACH STATEMENT EXECUTE FUNCTION opspulse.rollup_mark(%L)'),
                 ('rollup_delete', 'AFTER DELETE ON opspulse.%I '
                  'REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT '
                  'EXECUTE FUNCTION opspulse.rollup_mark(%L)'),
                 ('rollup_truncate', 'AFTER TRUNCATE ON opspulse.%I '
                  'FOR EACH STATEMENT EXECUTE FUNCTION opspulse.rollup_mark_all()'))
                 AS k(name, def)
    LOOP
        def := format('CREATE TRIGGER %I ' || t.def, t.name, t.tab, t.col);
        IF NOT EXISTS (SELECT 1 FROM pg_trigger g
                       WHERE g.tgrelid = format('opspulse.%I', t.tab)::regclass
                         AND g.tgname = t.name
                         AND replace(pg_get_triggerdef(g.oid), 'opspulse.', '')
                             = replace(def, 'opspulse.', '')) THEN
            EXECUTE 'CREATE OR REPLACE' || substr(def, length('CREATE') + 1);
        END IF;
    END LOOP;
END
$$;
