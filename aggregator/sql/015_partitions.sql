-- Time partitions (SPEC §11).  The large event tables are partitioned by
-- month of their event time (UTC), so that old history goes by dropping a
-- whole partition and queries over a window read only its months:
--
--   table        partitioned by   primary key                        distributed by
--   toil         started_at       (started_at, content_key, service)  service
--   batch_runs   started_at       (started_at, content_key, service)  service
--   alerts       starts_at        (fingerprint, starts_at, service)   service
--   components   observed_at      (observed_at, content_key, service) service
--   capacity     at               (at, content_key, service)          service
--
-- Every unique key holds the partition key (PostgreSQL requires it) and
-- the service, the column each table would be distributed on by Citus
-- (create_distributed_table('opspulse.toil', 'service'), ...).  An alert
-- episode stays keyed by (fingerprint, starts_at): its fingerprint hashes
-- its labels, and the service is read from those labels, so the service
-- adds nothing to the key but its distribution.
--
-- Not partitioned, and kept however old: deploys (keyed by (service, env,
-- id), which an event time cannot join without storing a re-recorded
-- deploy twice), deploy failures and maintenance items -- few rows each.
-- They are keyed by service first, and distribute by it too.
--
-- Each table has a default partition, so that no event is ever refused for
-- want of a partition; opspulse.maintain_partitions, which the aggregator
-- calls at start and every hour, creates the months ahead, moves rows out
-- of the default partition into partitions of their own, and drops the
-- months older than the configured retention.

CREATE TABLE opspulse.partitioned_tables (
    position     integer PRIMARY KEY,   -- maintenance order, as ingest's
    name         text NOT NULL UNIQUE,
    time_column  text NOT NULL
);
INSERT INTO opspulse.partitioned_tables VALUES
    (1, 'toil', 'started_at'),
    (2, 'batch_runs', 'started_at'),
    (3, 'alerts', 'starts_at'),
    (4, 'components', 'observed_at'),
    (5, 'capacity', 'at');

-- The first instant of the UTC month of t.
CREATE FUNCTION opspulse.month_start(t timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT date_trunc('month', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
$$;

-- Creates the partition of p_table for the UTC month holding p_month
-- (named <table>_pYYYYMM), moving the rows of that month out of the
-- default partition into it.  Returns whether it created one.
CREATE FUNCTION opspulse.ensure_partition(p_table text, p_month timestamptz)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    lo timestamptz := opspulse.month_start(p_month);
    hi timestamptz := opspulse.month_start(lo + interval '32 days');
    part text := format('%s_p%s', p_table, to_char(lo AT TIME ZONE 'UTC', 'YYYYMM'));
    col text;
BEGIN
    IF to_regclass(format('opspulse.%I', part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    SELECT time_column INTO STRICT col FROM opspulse.partitioned_tables
    WHERE name = p_table;
    -- No insert may reach the default partition while its rows move.
    EXECUTE format('LOCK TABLE opspulse.%I IN SHARE ROW EXCLUSIVE MODE',
                   p_table || '_default');
    EXECUTE format('CREATE TABLE opspulse.%I (LIKE opspulse.%I INCLUDING DEFAULTS '
                   'INCLUDING CONSTRAINTS)', part, p_table);
    EXECUTE format('WITH moved AS (DELETE FROM opspulse.%I WHERE %I >= $1 AND %I < $2 '
                   'RETURNING *) INSERT INTO opspulse.%I SELECT * FROM moved',
                   p_table || '_default', col, col, part) USING lo, hi;
    EXECUTE format('ALTER TABLE opspulse.%I ATTACH PARTITION opspulse.%I '
                   'FOR VALUES FROM (%L) TO (%L)', p_table, part, lo, hi);
    RETURN true;
END
$$;

-- Drops the monthly partitions of p_table that end at or before p_cutoff
-- and deletes the default partition's rows older than it.  Returns how
-- many partitions it dropped.
CREATE FUNCTION opspulse.drop_partitions(p_table text, p_cutoff timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    col text;
    p record;
    n integer := 0;
BEGIN
    SELECT time_column INTO STRICT col FROM opspulse.partitioned_tables
    WHERE name = p_table;
    FOR p IN
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = format('opspulse.%I', p_table)::regclass
          AND c.relname ~ ('^' || p_table || '_p[0-9]{6}$')
          AND opspulse.month_start(to_timestamp(right(c.relname, 6) || '01', 'YYYYMMDD')
                                   + interval '32 days') <= p_cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE opspulse.%I', p.relname);
        n := n + 1;
    END LOOP;
    EXECUTE format('DELETE FROM opspulse.%I WHERE %I < $1', p_table || '_default', col)
        USING p_cutoff;
    RETURN n;
END
$$;

-- The aggregator's periodic maintenance, for every partitioned table:
-- drops what is older than p_retention_days (0: keep everything), creates
-- the partitions of this month and the p_ahead_months after it, and gives
-- every month found in the default partition a partition of its own.
CREATE FUNCTION opspulse.maintain_partitions(p_retention_days integer,
                                             p_ahead_months integer DEFAULT 3)
RETURNS TABLE (created integer, dropped integer)
LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz;
    this_month timestamptz := opspulse.month_start(now());
    t record;
    m timestamptz;
BEGIN
    IF p_retention_days < 0 OR p_ahead_months < 0 THEN
        RAISE EXCEPTION 'retention days (%) and months ahead (%) must be >= 0',
            p_retention_days, p_ahead_months;
    END IF;
    created := 0;
    dropped := 0;
    IF p_retention_days > 0 THEN
        cutoff := now() - make_interval(days => p_retention_days);
    END IF;
    FOR t IN SELECT name, time_column FROM opspulse.partitioned_tables
             ORDER BY position
    LOOP
        IF cutoff IS NOT NULL THEN
            dropped := dropped + opspulse.drop_partitions(t.name, cutoff);
        END IF;
        FOR m IN EXECUTE format(
            'SELECT generate_series($1, $2, interval ''1 month'') '
            'UNION SELECT DISTINCT opspulse.month_start(%I) FROM opspulse.%I',
            t.time_column, t.name || '_default')
            USING this_month, this_month + make_interval(months => p_ahead_months)
        LOOP
            IF (cutoff IS NULL OR opspulse.month_start(m + interval '32 days') > cutoff)
               AND opspulse.ensure_partition(t.name, m) THEN
                created := created + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN NEXT;
END
$$;

-- ---- converting the tables --------------------------------------------

-- Replaces p_table by a partitioned table of the same columns and
-- constraints, with a default partition and one partition per month of
-- its rows, and moves the rows.  Keys, indexes and triggers follow below.
CREATE FUNCTION opspulse.partition_table(p_table text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    old text := p_table || '_unpartitioned';
    col text;
    m timestamptz;
BEGIN
    SELECT time_column INTO STRICT col FROM opspulse.partitioned_tables
    WHERE name = p_table;
    EXECUTE format('ALTER TABLE opspulse.%I RENAME TO %I', p_table, old);
    EXECUTE format('ALTER INDEX opspulse.%I RENAME TO %I', p_table || '_pkey',
                   old || '_pkey');
    EXECUTE format('CREATE TABLE opspulse.%I (LIKE opspulse.%I INCLUDING DEFAULTS '
                   'INCLUDING CONSTRAINTS) PARTITION BY RANGE (%I)', p_table, old, col);
    EXECUTE format('CREATE TABLE opspulse.%I PARTITION OF opspulse.%I DEFAULT',
                   p_table || '_default', p_table);
    FOR m IN EXECUTE format('SELECT DISTINCT opspulse.month_start(%I) FROM opspulse.%I',
                            col, old)
    LOOP
        PERFORM opspulse.ensure_partition(p_table, m);
    END LOOP;
    EXECUTE format('INSERT INTO opspulse.%I SELECT * FROM opspulse.%I', p_table, old);
    EXECUTE format('DROP TABLE opspulse.%I', old);
END
$$;

SELECT opspulse.partition_table(name) FROM opspulse.partitioned_tables
ORDER BY position;
DROP FUNCTION opspulse.partition_table(text);

ALTER TABLE opspulse.toil ADD PRIMARY KEY (started_at, content_key, service);
ALTER TABLE opspulse.batch_runs ADD PRIMARY KEY (started_at, content_key, service);
ALTER TABLE opspulse.alerts ADD PRIMARY KEY (fingerprint, starts_at, service);
ALTER TABLE opspulse.components ADD PRIMARY KEY (observed_at, content_key, service);
ALTER TABLE opspulse.capacity ADD PRIMARY KEY (at, content_key, service);

-- The indexes the tables had (migrations 001 and 011), by the same names.
CREATE INDEX alerts_starts ON opspulse.alerts (starts_at);
CREATE INDEX ix_batch_runs_started ON opspulse.batch_runs (started_at);
CREATE INDEX ix_capacity_at ON opspulse.capacity (at);
CREATE INDEX ix_capacity_disk ON opspulse.capacity (service, env, host, mount, at)
    WHERE disk_total_bytes IS NOT NULL;
CREATE INDEX ix_components_newest
    ON opspulse.components (env, service, host, name, observed_at, version);
CREATE INDEX ix_components_observed ON opspulse.components (observed_at);
-- The capacity indicator reads one sample per host and time in this
-- order, which the content-wide unique index gave before migration 014.
CREATE INDEX ix_capacity_host_at ON opspulse.capacity (service, env, host, at);

CREATE TRIGGER toil_content_key BEFORE INSERT ON opspulse.toil
    FOR EACH ROW WHEN (NEW.content_key IS NULL)
    EXECUTE FUNCTION opspulse.fill_content_key('toil');
CREATE TRIGGER batch_runs_content_key BEFORE INSERT ON opspulse.batch_runs
    FOR EACH ROW WHEN (NEW.content_key IS NULL)
    EXECUTE FUNCTION opspulse.fill_content_key('batch_runs');
CREATE TRIGGER components_content_key BEFORE INSERT ON opspulse.components
    FOR EACH ROW WHEN (NEW.content_key IS NULL)
    EXECUTE FUNCTION opspulse.fill_content_key('components');
CREATE TRIGGER capacity_content_key BEFORE INSERT ON opspulse.capacity
    FOR EACH ROW WHEN (NEW.content_key IS NULL)
    EXECUTE FUNCTION opspulse.fill_content_key('capacity');

-- This month and the next three exist from the start; the aggregator
-- keeps it so.
SELECT opspulse.maintain_partitions(0);

-- Autovacuum never analyzes a partitioned table itself.
ANALYZE opspulse.toil, opspulse.batch_runs, opspulse.alerts,
        opspulse.components, opspulse.capacity;
