-- Service health (SPEC §12): request counts per minute, their hourly
-- rollup and what keeps that rollup exact.  How they are written, read and
-- kept current: functions/health.sql.

-- One part of one (service, env, host, UTC minute) (SPEC §12.1).  A part
-- is named by `part`: "" for an explicit record or import line, whose
-- content key (functions/content_keys.sql) identifies it, so that the
-- same record sent twice is stored once and two different records add up;
-- for the access-log tailer "<source>:<generation>:<start offset>", with
-- content_key all zeros, replaced by a resend whose part_end is larger.
-- The parts of a minute are added up when read.  The latency histogram
-- (SPEC §12.2) is two arrays of one length: ascending bucket upper values
-- (µs) and how many timed requests fell in each.
CREATE TABLE opspulse.request_minutes (
    service       text NOT NULL,
    env           text NOT NULL,
    host          text NOT NULL,
    minute        timestamptz NOT NULL,
    part          text NOT NULL,
    part_end      bigint NOT NULL,
    requests      bigint NOT NULL CHECK (requests >= 0),
    errors        bigint NOT NULL CHECK (errors >= 0 AND errors <= requests),
    timed         bigint NOT NULL CHECK (timed >= 0 AND timed <= requests),
    latency_upper bigint[] NOT NULL,
    latency_count bigint[] NOT NULL
                  CHECK (cardinality(latency_count) = cardinality(latency_upper)),
    agent_id      text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    content_key   uuid NOT NULL,
    PRIMARY KEY (service, env, minute, host, part, content_key)
) PARTITION BY RANGE (minute);

INSERT INTO opspulse.partitioned_tables VALUES (6, 'request_minutes', 'minute');

-- The default partition, and this month's and the next three, as the
-- baseline makes them for the other event tables.
DO $$
DECLARE
    lo timestamptz;
BEGIN
    CREATE TABLE opspulse.request_minutes_default
        PARTITION OF opspulse.request_minutes DEFAULT;
    FOR i IN 0..3 LOOP
        lo := (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
              + make_interval(months => i);
        EXECUTE format('CREATE TABLE opspulse.%I PARTITION OF opspulse.request_minutes '
                       'FOR VALUES FROM (%L) TO (%L)',
                       'request_minutes_p' || to_char(lo AT TIME ZONE 'UTC', 'YYYYMM'),
                       lo, lo + interval '1 month');
    END LOOP;
END
$$;

-- Per (service, env, UTC hour): the sums of the hour's minutes, their
-- merged histogram, and the largest per-minute request count with every
-- host and part added (the rollup a dirty mark refers to).  Kept after the minutes are dropped
-- (aggregator.request_minute_days), so that long windows still answer.
CREATE TABLE opspulse.request_hours (
    service       text NOT NULL,
    env           text NOT NULL,
    hour          timestamptz NOT NULL,
    requests      bigint NOT NULL,
    errors        bigint NOT NULL,
    timed         bigint NOT NULL,
    latency_upper bigint[] NOT NULL,
    latency_count bigint[] NOT NULL,
    peak          bigint NOT NULL,
    PRIMARY KEY (service, env, hour)
);
CREATE INDEX request_hours_env_hour ON opspulse.request_hours (env, hour);

-- Per (service, env, UTC day): the same, merged from the day's hours, so
-- that a 28-day window reads 28 rows per service and only its edges
-- hour by hour.
CREATE TABLE opspulse.request_days (
    service       text NOT NULL,
    env           text NOT NULL,
    day           timestamptz NOT NULL,
    requests      bigint NOT NULL,
    errors        bigint NOT NULL,
    timed         bigint NOT NULL,
    latency_upper bigint[] NOT NULL,
    latency_count bigint[] NOT NULL,
    peak          bigint NOT NULL,
    PRIMARY KEY (service, env, day)
);
CREATE INDEX request_days_env_day ON opspulse.request_days (env, day);

-- Hours whose minutes changed after their rollup, appended by a statement
-- trigger in the ingest transaction.  Append-only, no unique key: ingest
-- never waits here.  A query reads the minutes of a dirty hour.
CREATE TABLE opspulse.request_hours_dirty (
    service text NOT NULL,
    env     text NOT NULL,
    hour    timestamptz NOT NULL
);
CREATE INDEX request_hours_dirty_hour ON opspulse.request_hours_dirty (hour, service, env);

-- The (service, env) pairs that ever had request data: the rows of
-- `opspulse health` (SPEC §14.1), without scanning the minutes.
CREATE TABLE opspulse.request_services (
    service text NOT NULL,
    env     text NOT NULL,
    PRIMARY KEY (env, service)
);
