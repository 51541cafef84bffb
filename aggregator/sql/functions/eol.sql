-- End of life and maintenance (SPEC §4.4, edge rules §4.7): `opspulse
-- eol`, `opspulse maintenance`, `opspulse eol import` and `eol catalog`.

-- Leading dotted numbers of a version: '6.1.0-18-amd64' -> {6,1,0},
-- '12' -> {12}; NULL when it does not start with a digit.  Arrays compare
-- element by element and a prefix sorts first, so {12} < {12,8}.
CREATE OR REPLACE FUNCTION opspulse.version_numbers(p_version text)
RETURNS numeric[] LANGUAGE sql IMMUTABLE AS $$
    SELECT string_to_array((regexp_match(p_version, '^[0-9]+(?:\.[0-9]+)*'))[1], '.')::numeric[]
$$;

-- The cycle of a version: the longest catalog cycle that equals it or is
-- a prefix of it followed by '.' or '-' ('15.4' -> '15',
-- '6.1.0-18-amd64' -> '6.1').  No row when none matches.
CREATE OR REPLACE FUNCTION opspulse.eol_cycle_of(p_product text, p_version text)
RETURNS SETOF opspulse.eol_cycles LANGUAGE sql STABLE AS $$
    SELECT c.* FROM opspulse.eol_cycles c
    WHERE c.product = lower(p_product)
      AND (p_version = c.cycle
           OR starts_with(p_version, c.cycle || '.')
           OR starts_with(p_version, c.cycle || '-'))
    ORDER BY length(c.cycle) DESC
    LIMIT 1
$$;

-- Status from days to EOL: past_eol < 0 <= urgent <= 90 < soon <= 180 < ok.
CREATE OR REPLACE FUNCTION opspulse.eol_status(p_matched boolean, p_days integer,
                                               p_reached boolean)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN NOT p_matched THEN 'unknown'
                WHEN p_days < 0 THEN 'past_eol'
                WHEN p_days <= 90 THEN 'urgent'
                WHEN p_days <= 180 THEN 'soon'
                WHEN p_days IS NOT NULL THEN 'ok'
                WHEN p_reached THEN 'past_eol'
                WHEN NOT p_reached THEN 'ok'
                ELSE 'unknown' END
$$;

-- The end of a cycle's support: its eol, or its extended support
-- (endoflife.date's extendedSupport: Debian LTS, Ubuntu ESM) when
-- p_extended and the catalog gives one.  end_date and reached as in
-- eol_cycles (a date, or true/false when none applies).
CREATE OR REPLACE FUNCTION opspulse.eol_support_end(p_cycle opspulse.eol_cycles,
                                                    p_extended boolean,
                                                    OUT end_date date,
                                                    OUT reached boolean)
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN use_ext THEN (p_cycle).extended_date ELSE (p_cycle).eol_date END,
           CASE WHEN use_ext THEN (p_cycle).extended_reached ELSE (p_cycle).eol_reached END
    FROM (SELECT p_extended AND ((p_cycle).extended_date IS NOT NULL
                                 OR (p_cycle).extended_reached IS NOT NULL) AS use_ext) x
$$;

-- Whether eol.extended_support is on in the aggregator's configuration.
CREATE OR REPLACE FUNCTION opspulse.eol_extended_support()
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT s.value = 'true' FROM opspulse.settings s
                     WHERE s.key = 'eol.extended_support'), false)
$$;

-- The newest observation before until (at any earlier time) of each
-- (service, host, component), with its cycle and status at until.
--
-- A package of a distribution release (components.distribution) is judged
-- by that release's support while it lasts: the distribution ships its
-- security fixes, whatever upstream says.  Once the release's support has
-- ended (or when upstream's catalog does not know the product) upstream's
-- end of life decides.  eol_basis says which did: 'upstream', or the
-- release as "debian 12".  patch_behind compares with upstream's latest,
-- so it is NULL for a distribution's package (the distribution backports
-- fixes without changing the upstream version) and when the version names
-- only its cycle ("12": the patch level is unknown).
CREATE OR REPLACE FUNCTION opspulse.eol(p_since timestamptz, p_until timestamptz,
                                        p_env text DEFAULT 'production',
                                        p_services text[] DEFAULT NULL,
                                        p_team text DEFAULT NULL)
RETURNS TABLE (service text, host text, component text, version text,
               observed_at timestamptz, cycle text, latest text, eol_date date,
               days_to_eol integer, status text, patch_behind boolean,
               eol_basis text)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    ext boolean := opspulse.eol_extended_support();
    today date := (p_until AT TIME ZONE 'UTC')::date;
BEGIN
RETURN QUERY
WITH newest AS (
    SELECT DISTINCT ON (c.service, c.host, c.name)
           c.service, c.host, c.name, c.version, c.observed_at,
           c.distribution, c.distribution_version
    FROM opspulse.components c
    WHERE c.env = p_env AND c.observed_at < p_until
      AND (p_services IS NULL AND p_team IS NULL  -- no filter: no join
         OR c.service IN (SELECT s.service
                            FROM opspulse.selected_services(p_services, p_team) s))
    -- Descending throughout: a backward scan of ix_components_newest.
    ORDER BY c.service DESC, c.host DESC, c.name DESC, c.observed_at DESC,
             c.version DESC
),
-- Each distinct (product, version) is matched once: a fleet runs few.
versions AS MATERIALIZED (
    SELECT v.name, v.version, m.cycle, m.latest, e.end_date, e.reached
    FROM (SELECT DISTINCT n.name, n.version FROM newest n) v
    LEFT JOIN LATERAL opspulse.eol_cycle_of(v.name, v.version) m ON true
    LEFT JOIN LATERAL opspulse.eol_support_end(m, ext) e ON m.cycle IS NOT NULL
),
releases AS MATERIALIZED (
    SELECT d.distribution, d.distribution_version, m.cycle, e.end_date, e.reached,
           m.cycle IS NOT NULL
           AND (e.end_date >= today OR (e.end_date IS NULL AND NOT e.reached)) AS alive
    FROM (SELECT DISTINCT n.distribution, n.distribution_version FROM newest n
          WHERE n.distribution IS NOT NULL) d
    LEFT JOIN LATERAL opspulse.eol_cycle_of(d.distribution, d.distribution_version) m
           ON true
    LEFT JOIN LATERAL opspulse.eol_support_end(m, ext) e ON m.cycle IS NOT NULL
),
judged AS (
    SELECT n.*, v.cycle, v.latest,
           r.cycle IS NOT NULL AND (r.alive OR v.cycle IS NULL) AS by_release,
           v.end_date AS up_date, v.reached AS up_reached,
           r.end_date AS rel_date, r.reached AS rel_reached, r.cycle AS rel_cycle
    FROM newest n
    JOIN versions v ON v.name = n.name AND v.version = n.version
    LEFT JOIN releases r ON r.distribution = n.distribution
                        AND r.distribution_version = n.distribution_version
),
matched AS (
    SELECT j.*,
           CASE WHEN j.by_release THEN j.rel_date ELSE j.up_date END AS end_date,
           CASE WHEN j.by_release THEN j.rel_reached ELSE j.up_reached END AS reached
    FROM judged j
)
SELECT m.service, m.host, m.name, m.version, m.observed_at, m.cycle, m.latest,
       m.end_date, m.end_date - today,
       opspulse.eol_status(m.by_release OR m.cycle IS NOT NULL, m.end_date - today,
                           m.reached),
       CASE WHEN m.cycle IS NOT NULL AND NOT m.by_release AND m.version <> m.cycle
            THEN opspulse.version_numbers(m.version) < opspulse.version_numbers(m.latest)
       END,
       CASE WHEN m.by_release THEN m.distribution || ' ' || m.rel_cycle
            ELSE 'upstream' END
FROM matched m
ORDER BY m.service, m.host, m.name;
END
$$;

-- Every maintenance item, overdue when due before until and still
-- scheduled.
CREATE OR REPLACE FUNCTION opspulse.maintenance(p_since timestamptz, p_until timestamptz,
                                                p_env text DEFAULT 'production',
                                                p_services text[] DEFAULT NULL,
                                                p_team text DEFAULT NULL)
RETURNS TABLE (service text, id text, host text, component text, title text,
               due_at timestamptz, status text, overdue boolean)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
SELECT m.service, m.maint_id, m.host, m.component, m.title, m.due_at,
       m.status, m.due_at < p_until AND m.status = 'scheduled'
FROM opspulse.maintenance m
WHERE m.env = p_env
  AND (p_services IS NULL AND p_team IS NULL  -- no filter: no join
     OR m.service IN (SELECT s.service
                        FROM opspulse.selected_services(p_services, p_team) s))
ORDER BY m.service, m.maint_id;
END
$$;

-- A date or a boolean in endoflife.date's text form ('2026-11-12', 'true',
-- 'false'); NULL for anything else.  Callers validate first.
CREATE OR REPLACE FUNCTION opspulse.eol_date_part(p_value text)
RETURNS date LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_value ~ '^\d{4}-\d{2}-\d{2}$' THEN p_value::date END
$$;

CREATE OR REPLACE FUNCTION opspulse.eol_bool_part(p_value text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_value WHEN 'true' THEN true WHEN 'false' THEN false END
$$;

-- Replaces a product's cycles with an endoflife.date API v0 array, given
-- as parallel arrays of text (dates, 'true'/'false', or NULL);
-- p_extended is extendedSupport.  A cycle
-- listed twice keeps its first entry.  Returns the number stored.
CREATE OR REPLACE FUNCTION opspulse.eol_import(p_product text, p_cycles text[],
                                               p_eol text[], p_latest text[],
                                               p_release text[], p_support text[],
                                               p_lts text[], p_extended text[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM opspulse.eol_cycles WHERE product = lower(p_product);
    INSERT INTO opspulse.eol_cycles (product, cycle, eol_date, eol_reached, latest,
                                     release_date, support_date, support_ended,
                                     lts, extended_date, extended_reached, source)
    SELECT DISTINCT ON (p_cycles[i])
           lower(p_product), p_cycles[i],
           opspulse.eol_date_part(p_eol[i]), opspulse.eol_bool_part(p_eol[i]),
           p_latest[i], opspulse.eol_date_part(p_release[i]),
           opspulse.eol_date_part(p_support[i]), opspulse.eol_bool_part(p_support[i]),
           coalesce(opspulse.eol_bool_part(p_lts[i]),
                    opspulse.eol_date_part(p_lts[i]) IS NOT NULL),
           opspulse.eol_date_part(p_extended[i]), opspulse.eol_bool_part(p_extended[i]),
           'import'
    FROM generate_subscripts(p_cycles, 1) AS i
    ORDER BY p_cycles[i], i;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- The catalog as people read it.
CREATE OR REPLACE FUNCTION opspulse.eol_catalog(p_product text DEFAULT NULL)
RETURNS TABLE (product text, cycle text, release_date date, eol_date date,
               eol_reached boolean, latest text, support_date date,
               lts boolean, source text, extended_date date,
               extended_reached boolean)
LANGUAGE sql STABLE AS $$
    SELECT c.product, c.cycle, c.release_date, c.eol_date, c.eol_reached,
           c.latest, c.support_date, c.lts, c.source, c.extended_date,
           c.extended_reached
    FROM opspulse.eol_cycles c
    WHERE p_product IS NULL OR c.product = lower(p_product)
    ORDER BY c.product, opspulse.version_numbers(c.cycle) DESC NULLS LAST, c.cycle
$$;
