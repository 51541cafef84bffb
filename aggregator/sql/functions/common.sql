-- Helpers shared by every family: time arithmetic, percentiles and the
-- aggregate that merges value arrays.

-- Concatenation of arrays, for merging the value arrays of several parts.
CREATE OR REPLACE AGGREGATE opspulse.array_concat(anycompatiblearray) (
    SFUNC = array_cat, STYPE = anycompatiblearray, INITCOND = '{}'
);

-- Weeks in a window: (until - since) / 7 days.
CREATE OR REPLACE FUNCTION opspulse.weeks(p_since timestamptz, p_until timestamptz)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT extract(epoch FROM p_until - p_since)::double precision / 604800
$$;

-- percentile_cont of an array's values (NULLs ignored).  Indicators group
-- with array_agg, which a hash aggregate can do, and take percentiles
-- here: that avoids sorting a whole window by its text keys.
CREATE OR REPLACE FUNCTION opspulse.percentile(p_values double precision[],
                                               p_fraction double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT percentile_cont(p_fraction) WITHIN GROUP (ORDER BY v)
    FROM unnest(p_values) AS v
$$;

-- The first instant of the UTC month of t.
CREATE OR REPLACE FUNCTION opspulse.month_start(t timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT date_trunc('month', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
$$;

-- The start of the UTC month after the one starting at p_month.
CREATE OR REPLACE FUNCTION opspulse.month_after(p_month timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT opspulse.month_start(p_month + interval '32 days')
$$;

-- The first instant of the UTC day of p_at.
CREATE OR REPLACE FUNCTION opspulse.day_start(p_at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT date_trunc('day', p_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
$$;

-- The start of the UTC day after each of p_days (UTC day starts).
CREATE OR REPLACE FUNCTION opspulse.days_after(p_days timestamptz[]) RETURNS timestamptz[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT (d AT TIME ZONE 'UTC' + interval '1 day') AT TIME ZONE 'UTC'
                 FROM unnest(p_days) d)
$$;
