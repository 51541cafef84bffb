-- Time partitions (SPEC §11): the maintenance of the monthly partitions
-- of the event tables listed in opspulse.partitioned_tables (which tables,
-- their keys and why: aggregator/sql/020_baseline.sql).  The aggregator
-- calls opspulse.maintain_partitions once it listens, and every hour.

-- Creates the partition of p_table for the UTC month holding p_month
-- (named <table>_pYYYYMM), moving the rows of that month out of the
-- default partition into it.  Returns whether it created one.
CREATE OR REPLACE FUNCTION opspulse.ensure_partition(p_table text, p_month timestamptz)
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
CREATE OR REPLACE FUNCTION opspulse.drop_event_partitions(p_table text, p_cutoff timestamptz)
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

-- What retention calls: drops as opspulse.drop_event_partitions does.
-- Dropping whole partitions (and deleting from the default ones) fires
-- no trigger, so the rollups of the months it reached are forgotten and
-- recomputed from what is left.
CREATE OR REPLACE FUNCTION opspulse.drop_partitions(p_table text, p_cutoff timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer := opspulse.drop_event_partitions(p_table, p_cutoff);
BEGIN
    IF n > 0 THEN
        DELETE FROM opspulse.rollup_ready WHERE opspulse.month_after(month) <= p_cutoff;
    END IF;
    RETURN n;
END
$$;

-- The aggregator's periodic maintenance, for every partitioned table:
-- drops what is older than p_retention_days (0: keep everything; request
-- minutes: request_minute_days when set, see opspulse.table_cutoff, and
-- their hourly rollups request_rollup_days), creates
-- the partitions of this month and the p_ahead_months after it, and gives
-- every month found in the default partition a partition of its own.
CREATE OR REPLACE FUNCTION opspulse.maintain_partitions(p_retention_days integer,
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
    FOR t IN SELECT name, time_column,
                    opspulse.table_cutoff(name, cutoff) AS cutoff
             FROM opspulse.partitioned_tables ORDER BY position
    LOOP
        IF t.cutoff IS NOT NULL THEN
            dropped := dropped + opspulse.drop_partitions(t.name, t.cutoff);
        END IF;
        FOR m IN EXECUTE format(
            'SELECT generate_series($1, $2, interval ''1 month'') '
            'UNION SELECT DISTINCT opspulse.month_start(%I) FROM opspulse.%I',
            t.time_column, t.name || '_default')
            USING this_month, this_month + make_interval(months => p_ahead_months)
        LOOP
            IF (t.cutoff IS NULL OR opspulse.month_start(m + interval '32 days') > t.cutoff)
               AND opspulse.ensure_partition(t.name, m) THEN
                created := created + 1;
            END IF;
        END LOOP;
    END LOOP;
    PERFORM opspulse.request_rollup_retention();
    RETURN NEXT;
END
$$;
