-- The OpsPulse schema as of version 20: every table, index, role,
-- partition and shipped row.  The functions that compute over them, and
-- the triggers and the aggregate that name those functions, are not
-- migrations: they live in aggregator/sql/functions/, which every
-- `opspulse-aggregator migrate` applies after the numbered migrations
-- (see aggregator/sql/README.md).
--
-- A database created before this baseline was written is at version 20
-- already and skips it; a new one applies it.  Later schema changes are
-- 021 and up.

-- ---- events -------------------------------------------------------------

-- OpsPulse event storage.  Every table is keyed so that an event stored
-- twice (a resend after a lost acknowledgement, a re-run import) is kept
-- once (SPEC §2.1): deploys by (service, env, id), alerts by (fingerprint,
-- starts_at), maintenance by (service, id), everything else by its full
-- content.  Every event table carries service first, the distribution key
-- for a sharded PostgreSQL.

CREATE TABLE opspulse.services (
    service     text PRIMARY KEY,
    first_seen  timestamptz NOT NULL DEFAULT now()
);

-- One row per agent spool: delivery progress and what its spool dropped.
CREATE TABLE opspulse.agent_spools (
    agent_id       text NOT NULL,
    spool_id       bigint NOT NULL,
    version        text,
    last_seq       bigint NOT NULL DEFAULT 0,
    dropped_total  bigint NOT NULL DEFAULT 0,
    events         bigint NOT NULL DEFAULT 0,
    first_seen     timestamptz NOT NULL DEFAULT now(),
    last_seen      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, spool_id)
);

CREATE TABLE opspulse.deploys (
    service      text NOT NULL,
    env          text NOT NULL,
    deploy_id    text NOT NULL,
    host         text NOT NULL,
    operator     text,
    agent_id     text NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    outcome      text NOT NULL
                 CHECK (outcome IN ('success', 'failed', 'rolled_back', 'cancelled')),
    version      text,
    commit_time  timestamptz,
    hotfix       boolean NOT NULL DEFAULT false,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service, env, deploy_id),
    CHECK (finished_at >= started_at)
);

-- A deploy that succeeded but later caused an incident.
CREATE TABLE opspulse.deploy_failures (
    service      text NOT NULL,
    env          text NOT NULL,
    deploy_id    text NOT NULL,
    at           timestamptz NOT NULL,
    host         text NOT NULL,
    agent_id     text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service, env, deploy_id, at)
);

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
-- want of a partition; opspulse.maintain_partitions
-- (functions/partitions.sql), which the aggregator calls at start and
-- every hour, creates the months ahead, moves rows out of the default
-- partition into partitions of their own, and drops the months older than
-- the configured retention.
--
-- Content keys: toil, batch runs, component observations and capacity
-- samples, stored "by their full content" (SPEC §2.1), are deduplicated
-- on content_key, a 16-byte key computed from that content
-- (functions/content_keys.sql, aggregator/store_ingest.c), instead of a
-- unique index over every column.

CREATE TABLE opspulse.toil (
    service      text NOT NULL,
    env          text NOT NULL,
    host         text NOT NULL,
    operator     text,
    task         text NOT NULL,
    started_at   timestamptz NOT NULL,
    duration_s   bigint NOT NULL CHECK (duration_s >= 0),
    source       text NOT NULL CHECK (source IN ('run', 'manual', 'session', 'import')),
    agent_id     text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    content_key  uuid NOT NULL,
    PRIMARY KEY (started_at, content_key, service)
) PARTITION BY RANGE (started_at);

CREATE TABLE opspulse.batch_runs (
    service      text NOT NULL,
    env          text NOT NULL,
    host         text NOT NULL,
    task         text NOT NULL,
    started_at   timestamptz NOT NULL,
    duration_s   bigint NOT NULL CHECK (duration_s >= 0),
    outcome      text NOT NULL
                 CHECK (outcome IN ('success', 'failed', 'rolled_back', 'cancelled')),
    agent_id     text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    content_key  uuid NOT NULL,
    PRIMARY KEY (started_at, content_key, service)
) PARTITION BY RANGE (started_at);

CREATE TABLE opspulse.alerts (
    fingerprint  text NOT NULL,
    starts_at    timestamptz NOT NULL,
    service      text NOT NULL,
    env          text NOT NULL,
    host         text NOT NULL,
    alertname    text NOT NULL,
    severity     text,
    ends_at      timestamptz,
    agent_id     text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (fingerprint, starts_at, service),
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
) PARTITION BY RANGE (starts_at);

CREATE TABLE opspulse.components (
    service      text NOT NULL,
    env          text NOT NULL,
    host         text NOT NULL,
    name         text NOT NULL,
    version      text NOT NULL,
    observed_at  timestamptz NOT NULL,
    agent_id     text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    content_key  uuid NOT NULL,
    PRIMARY KEY (observed_at, content_key, service)
) PARTITION BY RANGE (observed_at);

CREATE TABLE opspulse.maintenance (
    service      text NOT NULL,
    maint_id     text NOT NULL,
    env          text NOT NULL,
    host         text NOT NULL,
    component    text NOT NULL,
    title        text NOT NULL,
    due_at       timestamptz NOT NULL,
    status       text NOT NULL CHECK (status IN ('scheduled', 'done', 'cancelled')),
    recorded_at  timestamptz NOT NULL,
    agent_id     text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service, maint_id)
);

CREATE TABLE opspulse.capacity (
    service           text NOT NULL,
    env               text NOT NULL,
    host              text NOT NULL,
    at                timestamptz NOT NULL,
    cpu_pct           double precision NOT NULL,
    mem_pct           double precision NOT NULL,
    mount             text,
    disk_used_bytes   bigint,
    disk_total_bytes  bigint,
    agent_id          text NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    content_key       uuid NOT NULL,
    PRIMARY KEY (at, content_key, service)
) PARTITION BY RANGE (at);

-- The partitioned tables, in maintenance order (as ingest's).
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

-- Each table's default partition, and this month's and the next three
-- (named <table>_pYYYYMM, as opspulse.ensure_partition names them); the
-- aggregator keeps it so.
DO $$
DECLARE
    t record;
    lo timestamptz;
BEGIN
    FOR t IN SELECT name FROM opspulse.partitioned_tables ORDER BY position LOOP
        EXECUTE format('CREATE TABLE opspulse.%I PARTITION OF opspulse.%I DEFAULT',
                       t.name || '_default', t.name);
        FOR i IN 0..3 LOOP
            lo := (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
                  + make_interval(months => i);
            EXECUTE format('CREATE TABLE opspulse.%I PARTITION OF opspulse.%I '
                           'FOR VALUES FROM (%L) TO (%L)',
                           format('%s_p%s', t.name, to_char(lo AT TIME ZONE 'UTC', 'YYYYMM')),
                           t.name, lo, lo + interval '1 month');
        END LOOP;
    END LOOP;
END
$$;

-- ---- indexes ------------------------------------------------------------

CREATE INDEX deploys_env_finished ON opspulse.deploys (env, finished_at);
CREATE INDEX alerts_starts ON opspulse.alerts (starts_at);

-- Indexes for the indicator functions (SPEC §10: each indicator over 2M
-- events, 200 services and a year of history in <= 1 s).  Measured with
-- bench/indicators.sh; figures before and after in docs/BENCHMARKS.md.
-- Names start with ix_ so that the benchmark can drop them to compare.

-- Recovery time: the next successful deploy of a service and environment.
CREATE INDEX ix_deploys_success ON opspulse.deploys (service, env, finished_at)
    WHERE outcome = 'success';

-- Windows over batch runs and capacity samples.
CREATE INDEX ix_batch_runs_started ON opspulse.batch_runs (started_at);
CREATE INDEX ix_capacity_at ON opspulse.capacity (at);

-- A disk's latest sample and its last 14 days.
CREATE INDEX ix_capacity_disk ON opspulse.capacity (service, env, host, mount, at)
    WHERE disk_total_bytes IS NOT NULL;

-- The newest observation of each component, read in index order.
CREATE INDEX ix_components_newest
    ON opspulse.components (env, service, host, name, observed_at, version);

-- Component and maintenance times for `opspulse services`.
CREATE INDEX ix_components_observed ON opspulse.components (observed_at);
CREATE INDEX ix_deploy_failures_at ON opspulse.deploy_failures (at);
CREATE INDEX ix_maintenance_recorded ON opspulse.maintenance (recorded_at);

-- The capacity indicator reads one sample per host and time in this
-- order.
CREATE INDEX ix_capacity_host_at ON opspulse.capacity (service, env, host, at);

-- ---- teams and settings -------------------------------------------------

-- Teams and settings from the aggregator's configuration (SPEC §8), written
-- by the aggregator at start and on SIGHUP (aggregator/teams.c), so that the
-- indicator functions -- and psql or Grafana reading them -- see the same
-- business hours, noise threshold and scorecard targets.

CREATE TABLE opspulse.teams (
    name            text PRIMARY KEY,
    position        integer NOT NULL,      -- order in the configuration
    members         bigint NOT NULL CHECK (members >= 1),
    hours_per_week  double precision NOT NULL CHECK (hours_per_week > 0),
    timezone        text NOT NULL,
    services        text[] NOT NULL DEFAULT '{}'
);

-- Key/value settings: timezone, noise_minutes, target.*.  A missing key
-- takes the default its reader names.
CREATE TABLE opspulse.settings (
    key    text PRIMARY KEY,
    value  text NOT NULL
);

-- Each service's team (the first team in the configuration that lists it)
-- and business-hours time zone.
CREATE VIEW opspulse.service_teams AS
    SELECT DISTINCT ON (s.service) s.service, t.name AS team, t.timezone
    FROM opspulse.teams t CROSS JOIN LATERAL unnest(t.services) AS s(service)
    ORDER BY s.service, t.position;

-- ---- end of life --------------------------------------------------------

-- The EOL catalog: release cycles per product, in endoflife.date's terms.
-- eol and support are each a date, or a boolean when the catalog gives
-- none (eol_reached true: ended, date unknown; false: no end announced).
CREATE TABLE opspulse.eol_cycles (
    product         text NOT NULL,
    cycle           text NOT NULL,
    eol_date        date,
    eol_reached     boolean,
    latest          text,
    release_date    date,
    support_date    date,
    support_ended   boolean,
    lts             boolean NOT NULL DEFAULT false,
    source          text NOT NULL DEFAULT 'shipped',   -- or 'import'
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product, cycle),
    CHECK (eol_date IS NULL OR eol_reached IS NULL),
    CHECK (support_date IS NULL OR support_ended IS NULL)
);

-- Leading dotted numbers of a version: '6.1.0-18-amd64' -> {6,1,0},
-- '12' -> {12}; NULL when it does not start with a digit.  Arrays compare

-- The shipped EOL catalog (SPEC §4.4), in endoflife.date's terms: per
-- product, its release cycles with release date, end of life (a date, or
-- true/false when no date applies), latest version and end of active
-- support.  Refresh a product with `opspulse eol import PRODUCT FILE`
-- (endoflife.date API v0 JSON); that replaces the product's rows here.
-- Sources, and which figures are approximations, are in docs/EOL-CATALOG.md.
--
-- Columns: product, cycle, release date, eol, latest, support, lts.  eol
-- and support are split into a date or a boolean as
-- opspulse.eol_date_part and opspulse.eol_bool_part do.

INSERT INTO opspulse.eol_cycles (product, cycle, release_date, eol_date, eol_reached,
                                 latest, support_date, support_ended, lts)
SELECT v.product, v.cycle, v.release::date,
       CASE WHEN v.eol ~ '^\d{4}-\d{2}-\d{2}$' THEN v.eol::date END,
       CASE v.eol WHEN 'true' THEN true WHEN 'false' THEN false END,
       v.latest,
       CASE WHEN v.support ~ '^\d{4}-\d{2}-\d{2}$' THEN v.support::date END,
       CASE v.support WHEN 'true' THEN true WHEN 'false' THEN false END,
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

-- ---- rollups ------------------------------------------------------------

-- Monthly rollups (SPEC §10, §11): what the indicators take from each
-- closed UTC month's events, per (service, env).  How they are computed,
-- read and kept current: functions/rollups.sql.

-- Months rolled up, and the configuration they were rolled up under.
CREATE TABLE opspulse.rollup_ready (
    month         timestamptz PRIMARY KEY,  -- first instant, UTC
    zones         text NOT NULL,            -- opspulse.rollup_zones()
    noise_minutes integer NOT NULL,         -- opspulse.rollup_noise()
    computed_at   timestamptz NOT NULL DEFAULT now()
);

-- Keys of closed months whose events changed after their rollup.
-- Append-only, no unique key: concurrent ingest never waits here.
CREATE TABLE opspulse.rollup_dirty (
    service text NOT NULL,
    env     text NOT NULL,
    month   timestamptz NOT NULL
);
CREATE INDEX rollup_dirty_month ON opspulse.rollup_dirty (month, env);

CREATE TABLE opspulse.rollup_events (
    service    text NOT NULL,
    env        text NOT NULL,
    month      timestamptz NOT NULL,
    events     bigint NOT NULL,
    last_event timestamptz NOT NULL,
    PRIMARY KEY (service, env, month)
);

-- Counted deploys that finished in the month (opspulse.deploy_stats).
CREATE TABLE opspulse.rollup_deploys (
    service   text NOT NULL,
    env       text NOT NULL,
    month     timestamptz NOT NULL,
    deploys   bigint NOT NULL,
    successes bigint NOT NULL,
    failures  bigint NOT NULL,
    hotfixes  bigint NOT NULL,
    leads     double precision[],  -- hours
    durations double precision[],  -- seconds
    recovery  double precision[],  -- hours, per recovered failure
    PRIMARY KEY (service, env, month)
);

-- Toil that started in the month (opspulse.toil_per_operator).
CREATE TABLE opspulse.rollup_toil (
    service  text NOT NULL,
    env      text NOT NULL,
    month    timestamptz NOT NULL,
    operator text NOT NULL,
    total_s  numeric NOT NULL,
    entries  bigint NOT NULL,
    after_s  numeric NOT NULL,
    PRIMARY KEY (service, env, month, operator)
);

-- Alert episodes that started in the month (opspulse.alert_stats), and
-- the rules with a flapping triple inside the month (opspulse.flapping).
CREATE TABLE opspulse.rollup_alerts (
    service     text NOT NULL,
    env         text NOT NULL,
    month       timestamptz NOT NULL,
    fired       bigint NOT NULL,
    resolved    bigint NOT NULL,
    noisy       bigint NOT NULL,
    after_hours bigint NOT NULL,
    minutes     double precision[],
    flapping    text[],
    PRIMARY KEY (service, env, month)
);

-- Capacity samples of the month per host (opspulse.host_samples).
CREATE TABLE opspulse.rollup_hosts (
    service text NOT NULL,
    env     text NOT NULL,
    month   timestamptz NOT NULL,
    host    text NOT NULL,
    mounts  text[] NOT NULL,
    cpu     double precision[] NOT NULL,
    mem     double precision[] NOT NULL,
    PRIMARY KEY (service, env, month, host)
);

-- Per UTC day of the month, what the weekly series add up
-- (opspulse.weekly, opspulse.toil_trend).
CREATE TABLE opspulse.rollup_days (
    service  text NOT NULL,
    env      text NOT NULL,
    day      timestamptz NOT NULL,  -- first instant, UTC
    deploys  bigint NOT NULL,
    failures bigint NOT NULL,
    toil_entries bigint NOT NULL,
    toil_s   numeric NOT NULL,
    fired    bigint NOT NULL,
    noisy    bigint NOT NULL,
    PRIMARY KEY (service, env, day)
);

-- Alert episodes of the month per rule (opspulse.alerts_by_rule).
CREATE TABLE opspulse.rollup_rules (
    service   text NOT NULL,
    env       text NOT NULL,
    month     timestamptz NOT NULL,
    alertname text NOT NULL,
    fired     bigint NOT NULL,
    noisy     bigint NOT NULL,
    minutes   double precision[],
    PRIMARY KEY (service, env, month, alertname)
);

-- Toil of the month per task (opspulse.toil_by_task).
CREATE TABLE opspulse.rollup_tasks (
    service   text NOT NULL,
    env       text NOT NULL,
    month     timestamptz NOT NULL,
    task      text NOT NULL,
    entries   bigint NOT NULL,
    total_s   numeric NOT NULL,
    operators text[] NOT NULL,  -- distinct, '' for none
    PRIMARY KEY (service, env, month, task)
);

-- The configuration business hours and noise depend on.  Services
-- without a team use the aggregator's time zone, so new services do not

-- ---- roles --------------------------------------------------------------

-- A read-only role for Grafana, psql and reports (SPEC §5, §7): it may read
-- every table and call every indicator function of the schema, and write
-- nothing.  It cannot log in; grant it to a login role:
--   CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE opspulse_reader;
-- Created only when the migrating user may create roles; otherwise this
-- step says so and the migration continues (a superuser can create the
-- role later and run this file's GRANTs by hand).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opspulse_reader') THEN
        IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles
                WHERE rolname = current_user) THEN
            RAISE NOTICE 'role opspulse_reader not created: % may not create roles', current_user;
            RETURN;
        END IF;
        BEGIN
            CREATE ROLE opspulse_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;   -- created meanwhile by a migration of another database
        END;
    END IF;
    GRANT USAGE ON SCHEMA opspulse TO opspulse_reader;
    GRANT SELECT ON ALL TABLES IN SCHEMA opspulse TO opspulse_reader;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA opspulse TO opspulse_reader;
    -- Tables and functions of later migrations, created by the same user.
    ALTER DEFAULT PRIVILEGES IN SCHEMA opspulse
        GRANT SELECT ON TABLES TO opspulse_reader;
    ALTER DEFAULT PRIVILEGES IN SCHEMA opspulse
        GRANT EXECUTE ON FUNCTIONS TO opspulse_reader;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'role opspulse_reader not set up: %', SQLERRM;
END
$$;
