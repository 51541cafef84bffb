-- Packages of a distribution are judged by the distribution release's
-- support (SPEC §4.4): Debian ships security fixes for bookworm's nginx
-- 1.22 until bookworm's own support ends, whatever nginx upstream says.

-- The distribution release a component was packaged by, as the packages
-- probe saw it ("debian", "12.11"); NULL for software not from one.  Not
-- part of the content key: it is a fact about the observation.
ALTER TABLE opspulse.components
    ADD COLUMN distribution text,
    ADD COLUMN distribution_version text;

-- endoflife.date's extendedSupport (Debian LTS, Ubuntu ESM, RHEL ELS): a
-- date, or a boolean when no date applies.  Counted only when the
-- aggregator's eol.extended_support is true.
ALTER TABLE opspulse.eol_cycles
    ADD COLUMN extended_date date,
    ADD COLUMN extended_reached boolean,
    ADD CHECK (extended_date IS NULL OR extended_reached IS NULL);

UPDATE opspulse.eol_cycles c SET extended_date = v.extended::date
FROM (VALUES
    ('debian', '13', '2030-06-30'), ('debian', '12', '2028-06-30'),
    ('debian', '11', '2026-08-31'), ('debian', '10', '2024-06-30'),
    ('debian', '9', '2022-06-30'),  ('debian', '8', '2020-06-30'),
    ('ubuntu', '24.04', '2034-04-25'), ('ubuntu', '22.04', '2032-04-09'),
    ('ubuntu', '20.04', '2030-04-02'), ('ubuntu', '18.04', '2028-04-01'),
    ('ubuntu', '16.04', '2026-04-02'),
    ('rhel', '10', '2038-05-31'), ('rhel', '9', '2035-05-31'),
    ('rhel', '8', '2032-05-31'),  ('rhel', '7', '2028-06-30'),
    ('rhel', '6', '2024-06-30')
) AS v (product, cycle, extended)
WHERE c.product = v.product AND c.cycle = v.cycle AND c.source = 'shipped';

-- These change their result columns or arguments; functions/eol.sql
-- creates the new ones (CREATE OR REPLACE cannot change a result type).
DROP FUNCTION IF EXISTS opspulse.eol(timestamptz, timestamptz, text, text[], text);
DROP FUNCTION IF EXISTS opspulse.eol_catalog(text);
DROP FUNCTION IF EXISTS opspulse.eol_import(text, text[], text[], text[], text[],
                                           text[], text[]);
-- report_rules names the noise threshold the report states.
DROP FUNCTION IF EXISTS opspulse.report_rules();
