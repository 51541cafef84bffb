-- Content keys: the events stored "by their full content" (SPEC §2.1) --
-- toil, batch runs, component observations and capacity samples -- are
-- deduplicated on a 16-byte key computed from that content instead of a
-- unique index over every column.  The wide index cost most of the ingest
-- time (text comparisons under the database collation, uncached attribute
-- offsets); a fixed-size key compares with one memcmp.
--
-- The aggregator computes the key in C (aggregator/store_ingest.c) and
-- sends it with the row; the functions below are the same definition in
-- SQL, used to fill the key of existing rows, of rows inserted by SQL
-- without one (a trigger), and by the tests to check that both agree.
--
-- Canonical form (docs/DESIGN.md, "Content keys"): the table name, then
-- every stored column of the event except agent_id, in table order, each
-- encoded as
--   NULL                 0x00
--   text                 0x01, length in bytes (4 bytes, big-endian), UTF-8
--   bigint, timestamptz  0x01, 8 bytes big-endian two's complement; times
--                        are microseconds since 1970-01-01 00:00:00 UTC
--   double precision     0x01, IEEE 754 binary64, big-endian; -0 as +0
-- and the key is the first 16 bytes of the SHA-256 of the concatenation,
-- stored as a uuid (fixed size, compared as bytes).
--
-- Keys include the event time and the service: the time so that the
-- tables can be partitioned by it, the service so that they can be
-- distributed by it (SPEC §11).
CREATE OR REPLACE FUNCTION opspulse.ck_text(v text) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v IS NULL THEN '\x00'::bytea
                ELSE '\x01'::bytea || int4send(octet_length(v))
                     || convert_to(v, 'UTF8') END
$$;

CREATE OR REPLACE FUNCTION opspulse.ck_int(v bigint) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v IS NULL THEN '\x00'::bytea
                ELSE '\x01'::bytea || int8send(v) END
$$;

CREATE OR REPLACE FUNCTION opspulse.ck_time(v timestamptz) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT opspulse.ck_int((extract(epoch FROM v) * 1000000)::bigint)
$$;

CREATE OR REPLACE FUNCTION opspulse.ck_real(v double precision) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v IS NULL THEN '\x00'::bytea
                WHEN v = 0 THEN '\x01'::bytea || float8send(0)
                ELSE '\x01'::bytea || float8send(v) END
$$;

CREATE OR REPLACE FUNCTION opspulse.ck_key(canonical bytea) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT encode(substr(sha256(canonical), 1, 16), 'hex')::uuid
$$;

CREATE OR REPLACE FUNCTION opspulse.toil_key(service text, env text, host text,
                                             operator text, task text,
                                             started_at timestamptz, duration_s bigint,
                                             source text) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT opspulse.ck_key(opspulse.ck_text('toil') || opspulse.ck_text(service)
        || opspulse.ck_text(env) || opspulse.ck_text(host)
        || opspulse.ck_text(operator) || opspulse.ck_text(task)
        || opspulse.ck_time(started_at) || opspulse.ck_int(duration_s)
        || opspulse.ck_text(source))
$$;

CREATE OR REPLACE FUNCTION opspulse.batch_run_key(service text, env text, host text,
                                                  task text, started_at timestamptz,
                                                  duration_s bigint, outcome text)
RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT opspulse.ck_key(opspulse.ck_text('batch_runs')
        || opspulse.ck_text(service) || opspulse.ck_text(env)
        || opspulse.ck_text(host) || opspulse.ck_text(task)
        || opspulse.ck_time(started_at) || opspulse.ck_int(duration_s)
        || opspulse.ck_text(outcome))
$$;

CREATE OR REPLACE FUNCTION opspulse.component_key(service text, env text, host text,
                                                  name text, version text,
                                                  observed_at timestamptz) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT opspulse.ck_key(opspulse.ck_text('components')
        || opspulse.ck_text(service) || opspulse.ck_text(env)
        || opspulse.ck_text(host) || opspulse.ck_text(name)
        || opspulse.ck_text(version) || opspulse.ck_time(observed_at))
$$;

CREATE OR REPLACE FUNCTION opspulse.capacity_key(service text, env text, host text,
                                                 at timestamptz, cpu_pct double precision,
                                                 mem_pct double precision, mount text,
                                                 disk_used_bytes bigint,
                                                 disk_total_bytes bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT opspulse.ck_key(opspulse.ck_text('capacity')
        || opspulse.ck_text(service) || opspulse.ck_text(env)
        || opspulse.ck_text(host) || opspulse.ck_time(at)
        || opspulse.ck_real(cpu_pct) || opspulse.ck_real(mem_pct)
        || opspulse.ck_text(mount) || opspulse.ck_int(disk_used_bytes)
        || opspulse.ck_int(disk_total_bytes))
$$;

-- A request minute part (SPEC §12.1): part "" is identified by its
-- content; a tailer's named part by its name (the key is all zeros), so
-- that a resend with a larger part_end replaces it.
CREATE OR REPLACE FUNCTION opspulse.request_minute_key(service text, env text, host text,
                                                       minute timestamptz, part text,
                                                       part_end bigint, requests bigint,
                                                       errors bigint, timed bigint,
                                                       latency_upper bigint[],
                                                       latency_count bigint[])
RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN part <> '' THEN '00000000-0000-0000-0000-000000000000'::uuid
           ELSE opspulse.ck_key(opspulse.ck_text('request_minutes')
               || opspulse.ck_text(service) || opspulse.ck_text(env)
               || opspulse.ck_text(host) || opspulse.ck_time(minute)
               || opspulse.ck_text(part) || opspulse.ck_int(part_end)
               || opspulse.ck_int(requests) || opspulse.ck_int(errors)
               || opspulse.ck_int(timed) || opspulse.ck_text(latency_upper::text)
               || opspulse.ck_text(latency_count::text)) END
$$;

-- Fills the key of a row inserted without one (by psql, a bulk load in
-- SQL).  The aggregator always sends it, so the trigger's WHEN clause
-- keeps it off the ingest path.
CREATE OR REPLACE FUNCTION opspulse.fill_content_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    CASE TG_ARGV[0]
    WHEN 'toil' THEN
        NEW.content_key := opspulse.toil_key(NEW.service, NEW.env, NEW.host,
            NEW.operator, NEW.task, NEW.started_at, NEW.duration_s, NEW.source);
    WHEN 'batch_runs' THEN
        NEW.content_key := opspulse.batch_run_key(NEW.service, NEW.env,
            NEW.host, NEW.task, NEW.started_at, NEW.duration_s, NEW.outcome);
    WHEN 'components' THEN
        NEW.content_key := opspulse.component_key(NEW.service, NEW.env,
            NEW.host, NEW.name, NEW.version, NEW.observed_at);
    WHEN 'capacity' THEN
        NEW.content_key := opspulse.capacity_key(NEW.service, NEW.env,
            NEW.host, NEW.at, NEW.cpu_pct, NEW.mem_pct, NEW.mount,
            NEW.disk_used_bytes, NEW.disk_total_bytes);
    WHEN 'request_minutes' THEN
        NEW.content_key := opspulse.request_minute_key(NEW.service, NEW.env,
            NEW.host, NEW.minute, NEW.part, NEW.part_end, NEW.requests,
            NEW.errors, NEW.timed, NEW.latency_upper, NEW.latency_count);
    END CASE;
    RETURN NEW;
END
$$;

-- The triggers that fill the key, re-created with their function (on a
-- partitioned table each partition has its clone).  Written as
-- pg_get_triggerdef prints them: a trigger that already reads so is left
-- alone, so that a migrate does not lock the event tables for nothing.
DO $$
DECLARE
    t record;
    def text;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('toil'), ('batch_runs'), ('components'), ('capacity'),
                                   ('request_minutes'))
                     AS v(tab)
    LOOP
        def := format('CREATE TRIGGER %I BEFORE INSERT ON opspulse.%I FOR EACH ROW '
                      'WHEN ((new.content_key IS NULL)) '
                      'EXECUTE FUNCTION opspulse.fill_content_key(%L)',
                      t.tab || '_content_key', t.tab, t.tab);
        IF NOT EXISTS (SELECT 1 FROM pg_trigger g
                       WHERE g.tgrelid = format('opspulse.%I', t.tab)::regclass
                         AND g.tgname = t.tab || '_content_key'
                         AND replace(pg_get_triggerdef(g.oid), 'opspulse.', '')
                             = replace(def, 'opspulse.', '')) THEN
            EXECUTE 'CREATE OR REPLACE' || substr(def, length('CREATE') + 1);
        END IF;
    END LOOP;
END
$$;
