-- Production readiness check (SPEC §14).  How it is read:
-- functions/readiness.sql.

-- The alert rule's runbook (Alertmanager annotation runbook_url, import
-- field runbook_url).  Not part of the episode's key: a later notice of
-- the same episode fills it in when the first had none, and never
-- replaces one already stored (store_ingest.c).
ALTER TABLE opspulse.alerts ADD COLUMN runbook_url text;

-- Every record of a readiness check: a manual check passed or failed, or
-- an exemption of any check with its reason.  Of the records of (service,
-- check) with at before until, the one with the latest at wins; records
-- are kept by their content, so a resent record is stored once.
CREATE TABLE opspulse.readiness_checks (
    service      text NOT NULL,
    env          text NOT NULL,
    host         text NOT NULL,
    check_name   text NOT NULL,
    result       text NOT NULL CHECK (result IN ('pass', 'fail', 'exempt')),
    evidence     text NOT NULL,
    at           timestamptz NOT NULL,
    agent_id     text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    content_key  uuid NOT NULL,
    PRIMARY KEY (service, check_name, at, content_key),
    CHECK (result <> 'exempt' OR evidence <> '')
);
