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
CREATE INDEX deploys_env_finished ON opspulse.deploys (env, finished_at);

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
    UNIQUE NULLS NOT DISTINCT (service, env, host, operator, task, started_at, duration_s, source)
);
CREATE INDEX toil_started ON opspulse.toil (started_at);

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
    UNIQUE NULLS NOT DISTINCT (service, env, host, task, started_at, duration_s, outcome)
);

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
    PRIMARY KEY (fingerprint, starts_at),
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
);
CREATE INDEX alerts_starts ON opspulse.alerts (starts_at);

CREATE TABLE opspulse.components (
    service      text NOT NULL,
    env          text NOT NULL,
    host         text NOT NULL,
    name         text NOT NULL,
    version      text NOT NULL,
    observed_at  timestamptz NOT NULL,
    agent_id     text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (service, env, host, name, version, observed_at)
);

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
    UNIQUE NULLS NOT DISTINCT (service, env, host, at, mount, cpu_pct, mem_pct,
                               disk_used_bytes, disk_total_bytes)
);
