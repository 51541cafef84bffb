-- The shipped EOL catalog (SPEC §4.4), in endoflife.date's terms: per
-- product, its release cycles with release date, end of life (a date, or
-- true/false when no date applies), latest version and end of active
-- support.  Refresh a product with `opspulse eol import PRODUCT FILE`
-- (endoflife.date API v0 JSON); that replaces the product's rows here.
-- Sources, and which figures are approximations, are in docs/EOL-CATALOG.md.
--
-- Columns: product, cycle, release date, eol, latest, support, lts.

INSERT INTO opspulse.eol_cycles (product, cycle, release_date, eol_date, eol_reached,
                                 latest, support_date, support_ended, lts)
SELECT v.product, v.cycle, v.release::date,
       opspulse.eol_date_part(v.eol), opspulse.eol_bool_part(v.eol),
       v.latest,
       opspulse.eol_date_part(v.support), opspulse.eol_bool_part(v.support),
       v.lts
FROM (VALUES
    -- Debian: eol = end of regular security support (LTS runs two years more).
    ('debian', '13', '2025-08-09', '2028-08-09', '13.1', NULL, false),
    ('debian', '12', '2023-06-10', '2026-06-10', '12.12', NULL, false),
    ('debian', '11', '2021-08-14', '2024-08-14', '11.11', NULL, false),
    ('debian', '10', '2019-07-06', '2022-09-10', '10.13', NULL, false),
    ('debian', '9',  '2017-06-17', '2020-07-18', '9.13', NULL, false),
    ('debian', '8',  '2015-04-25', '2018-06-17', '8.11', NULL, false),

    -- Ubuntu: eol = end of standard support (ESM is paid, not counted).
    ('ubuntu', '25.10', '2025-10-09', '2026-07-09', '25.10', NULL, false),
    ('ubuntu', '25.04', '2025-04-17', '2026-01-15', '25.04', NULL, false),
    ('ubuntu', '24.10', '2024-10-10', '2025-07-10', '24.10', NULL, false),
    ('ubuntu', '24.04', '2024-04-25', '2029-04-25', '24.04.3', NULL, true),
    ('ubuntu', '23.10', '2023-10-12', '2024-07-11', '23.10', NULL, false),
    ('ubuntu', '23.04', '2023-04-20', '2024-01-25', '23.04', NULL, false),
    ('ubuntu', '22.04', '2022-04-21', '2027-04-01', '22.04.5', NULL, true),
    ('ubuntu', '20.04', '2020-04-23', '2025-05-29', '20.04.6', NULL, true),
    ('ubuntu', '18.04', '2018-04-26', '2023-05-31', '18.04.6', NULL, true),
    ('ubuntu', '16.04', '2016-04-21', '2021-04-30', '16.04.7', NULL, true),

    -- Red Hat Enterprise Linux: eol = end of maintenance support,
    -- support = end of full support.
    ('rhel', '10', '2025-05-20', '2035-05-31', '10.0', '2030-05-31', false),
    ('rhel', '9',  '2022-05-17', '2032-05-31', '9.6', '2027-05-31', false),
    ('rhel', '8',  '2019-05-07', '2029-05-31', '8.10', '2024-05-31', false),
    ('rhel', '7',  '2014-06-10', '2024-06-30', '7.9', '2019-08-06', false),
    ('rhel', '6',  '2010-11-10', '2020-11-30', '6.10', '2016-05-10', false),

    -- Linux kernel (kernel.org): long-term branches, and recent stable
    -- branches, which end when the next one has settled.
    ('linux', '6.18', '2025-11-30', 'false', '6.18.44', NULL, true),
    ('linux', '6.17', '2025-09-28', 'true', '6.17.13', NULL, false),
    ('linux', '6.16', '2025-07-27', '2025-10-12', '6.16.12', NULL, false),
    ('linux', '6.15', '2025-05-25', '2025-08-20', '6.15.11', NULL, false),
    ('linux', '6.14', '2025-03-24', '2025-06-10', '6.14.11', NULL, false),
    ('linux', '6.13', '2025-01-19', '2025-04-20', '6.13.12', NULL, false),
    ('linux', '6.12', '2024-11-17', '2026-12-31', '6.12.57', NULL, true),
    ('linux', '6.6',  '2023-10-29', '2026-12-31', '6.6.116', NULL, true),
    ('linux', '6.1',  '2022-12-11', '2027-12-31', '6.1.158', NULL, true),
    ('linux', '5.15', '2021-10-31', '2026-12-31', '5.15.196', NULL, true),
    ('linux', '5.10', '2020-12-13', '2026-12-31', '5.10.246', NULL, true),
    ('linux', '5.4',  '2019-11-24', '2025-12-31', '5.4.301', NULL, true),
    ('linux', '4.19', '2018-10-22', '2024-12-31', '4.19.325', NULL, true),
    ('linux', '4.14', '2017-11-12', '2024-01-10', '4.14.336', NULL, true),

    -- PostgreSQL: five years per major version.
    ('postgresql', '18',  '2025-09-25', '2030-11-14', '18.1', NULL, false),
    ('postgresql', '17',  '2024-09-26', '2029-11-08', '17.7', NULL, false),
    ('postgresql', '16',  '2023-09-14', '2028-11-09', '16.11', NULL, false),
    ('postgresql', '15',  '2022-10-13', '2027-11-11', '15.15', NULL, false),
    ('postgresql', '14',  '2021-09-30', '2026-11-12', '14.20', NULL, false),
    ('postgresql', '13',  '2020-09-24', '2025-11-13', '13.23', NULL, false),
    ('postgresql', '12',  '2019-10-03', '2024-11-21', '12.22', NULL, false),
    ('postgresql', '11',  '2018-10-18', '2023-11-09', '11.22', NULL, false),
    ('postgresql', '10',  '2017-10-05', '2022-11-10', '10.23', NULL, false),
    ('postgresql', '9.6', '2016-09-29', '2021-11-11', '9.6.24', NULL, false),

    -- Amazon Aurora PostgreSQL-compatible: end of standard support per
    -- major version.
    ('amazon-aurora-postgresql', '17', '2025-05-01', '2030-02-28', '17.5', NULL, false),
    ('amazon-aurora-postgresql', '16', '2024-01-31', '2029-02-28', '16.9', NULL, false),
    ('amazon-aurora-postgresql', '15', '2023-07-27', '2028-02-29', '15.13', NULL, false),
    ('amazon-aurora-postgresql', '14', '2022-06-09', '2027-02-28', '14.18', NULL, false),
    ('amazon-aurora-postgresql', '13', '2021-08-26', '2026-02-28', '13.21', NULL, false),
    ('amazon-aurora-postgresql', '12', '2021-01-28', '2025-02-28', '12.22', NULL, false),
    ('amazon-aurora-postgresql', '11', '2019-11-26', '2024-02-29', '11.21', NULL, false),

    -- Redis (open source): the newest minor lines are maintained.
    ('redis', '8.2', '2025-08-04', 'false', '8.2.2', NULL, false),
    ('redis', '8.0', '2025-05-02', 'false', '8.0.4', NULL, false),
    ('redis', '7.4', '2024-07-29', '2026-11-30', '7.4.6', NULL, false),
    ('redis', '7.2', '2023-08-15', '2026-02-28', '7.2.11', NULL, false),
    ('redis', '7.0', '2022-04-27', '2023-08-15', '7.0.15', NULL, false),
    ('redis', '6.2', '2021-02-22', '2025-02-28', '6.2.20', NULL, false),
    ('redis', '6.0', '2020-04-30', '2022-04-27', '6.0.20', NULL, false),
    ('redis', '5.0', '2018-10-17', '2021-02-22', '5.0.14', NULL, false),

    -- Amazon ElastiCache (Redis OSS engine): end of standard support.
    ('amazon-elasticache-redis', '7.1', '2023-11-27', 'false', '7.1.0', NULL, false),
    ('amazon-elasticache-redis', '7.0', '2022-11-07', 'false', '7.0.7', NULL, false),
    ('amazon-elasticache-redis', '6.2', '2021-10-07', '2027-01-31', '6.2.6', NULL, false),
    ('amazon-elasticache-redis', '6.0', '2020-10-07', '2027-01-31', '6.0.5', NULL, false),
    ('amazon-elasticache-redis', '5.0', '2019-03-05', '2026-01-31', '5.0.6', NULL, false),
    ('amazon-elasticache-redis', '4.0', '2017-11-15', '2026-01-31', '4.0.10', NULL, false),

    -- Valkey.
    ('valkey', '9.0', '2025-10-21', 'false', '9.0.0', NULL, false),
    ('valkey', '8.1', '2025-03-31', 'false', '8.1.4', NULL, false),
    ('valkey', '8.0', '2024-09-15', 'false', '8.0.6', NULL, false),
    ('valkey', '7.2', '2024-04-16', 'false', '7.2.11', NULL, false),

    -- nginx: one stable and one mainline branch at a time; a branch ends
    -- when the next stable one is released.
    ('nginx', '1.29', '2025-06-24', 'false', '1.29.3', NULL, false),
    ('nginx', '1.28', '2025-04-23', 'false', '1.28.0', NULL, false),
    ('nginx', '1.27', '2024-05-29', '2025-04-23', '1.27.5', NULL, false),
    ('nginx', '1.26', '2024-04-23', '2025-04-23', '1.26.3', NULL, false),
    ('nginx', '1.25', '2023-05-23', '2024-04-23', '1.25.5', NULL, false),
    ('nginx', '1.24', '2023-04-11', '2024-04-23', '1.24.0', NULL, false),
    ('nginx', '1.23', '2022-06-21', '2023-04-11', '1.23.4', NULL, false),
    ('nginx', '1.22', '2022-05-24', '2023-04-11', '1.22.1', NULL, false),
    ('nginx', '1.20', '2021-05-25', '2022-05-24', '1.20.2', NULL, false),
    ('nginx', '1.18', '2020-04-21', '2021-05-25', '1.18.0', NULL, false),

    -- MySQL: LTS lines and innovation releases (each ends with the next).
    ('mysql', '9.5', '2025-10-21', 'false', '9.5.0', NULL, false),
    ('mysql', '9.4', '2025-07-22', '2025-10-21', '9.4.0', NULL, false),
    ('mysql', '9.3', '2025-04-15', '2025-07-22', '9.3.0', NULL, false),
    ('mysql', '8.4', '2024-04-30', '2032-04-30', '8.4.7', '2029-04-30', true),
    ('mysql', '8.0', '2018-04-19', '2026-04-30', '8.0.44', '2023-04-30', false),
    ('mysql', '5.7', '2015-10-21', '2023-10-31', '5.7.44', '2020-10-21', false),
    ('mysql', '5.6', '2013-02-05', '2021-02-05', '5.6.51', '2018-02-05', false),

    -- Node.js: even majors become LTS; support = end of active LTS.
    ('nodejs', '25', '2025-10-15', '2026-06-01', '25.2.1', '2026-04-01', false),
    ('nodejs', '24', '2025-05-06', '2028-04-30', '24.11.1', '2026-10-20', true),
    ('nodejs', '23', '2024-10-16', '2025-06-01', '23.11.1', '2025-04-01', false),
    ('nodejs', '22', '2024-04-24', '2027-04-30', '22.21.1', '2025-10-21', true),
    ('nodejs', '21', '2023-10-17', '2024-06-01', '21.7.3', '2024-04-01', false),
    ('nodejs', '20', '2023-04-18', '2026-04-30', '20.19.5', '2024-10-22', true),
    ('nodejs', '18', '2022-04-19', '2025-04-30', '18.20.8', '2023-10-18', true),
    ('nodejs', '16', '2021-04-20', '2023-09-11', '16.20.2', '2022-10-18', true),
    ('nodejs', '14', '2020-04-21', '2023-04-30', '14.21.3', '2021-10-19', true),

    -- Python (CPython): five years per minor version.
    ('python', '3.14', '2025-10-07', '2030-10-31', '3.14.0', '2027-10-01', false),
    ('python', '3.13', '2024-10-07', '2029-10-31', '3.13.9', '2026-10-01', false),
    ('python', '3.12', '2023-10-02', '2028-10-31', '3.12.12', '2025-04-08', false),
    ('python', '3.11', '2022-10-24', '2027-10-31', '3.11.14', '2024-04-01', false),
    ('python', '3.10', '2021-10-04', '2026-10-31', '3.10.19', '2023-04-05', false),
    ('python', '3.9',  '2020-10-05', '2025-10-31', '3.9.25', '2022-05-17', false),
    ('python', '3.8',  '2019-10-14', '2024-10-07', '3.8.20', '2021-05-03', false),
    ('python', '3.7',  '2018-06-26', '2023-06-27', '3.7.17', '2020-06-27', false),
    ('python', '2.7',  '2010-07-03', '2020-01-01', '2.7.18', '2020-01-01', false),

    -- OpenJDK (upstream releases with the free updates of the common
    -- builds): LTS lines are maintained for years, others six months.
    -- '1.8' matches Java 8's own version strings ("1.8.0_412").
    ('openjdk', '25', '2025-09-16', '2031-09-30', '25.0.1', NULL, true),
    ('openjdk', '24', '2025-03-18', '2025-09-16', '24.0.2', NULL, false),
    ('openjdk', '23', '2024-09-17', '2025-03-18', '23.0.2', NULL, false),
    ('openjdk', '22', '2024-03-19', '2024-09-17', '22.0.2', NULL, false),
    ('openjdk', '21', '2023-09-19', '2029-12-31', '21.0.9', NULL, true),
    ('openjdk', '17', '2021-09-14', '2027-10-31', '17.0.17', NULL, true),
    ('openjdk', '11', '2018-09-25', '2027-10-31', '11.0.29', NULL, true),
    ('openjdk', '8',  '2014-03-18', '2030-12-31', '8u472', NULL, true),
    ('openjdk', '1.8', '2014-03-18', '2030-12-31', '1.8.0_472', NULL, true)
) AS v (product, cycle, release, eol, latest, support, lts);
