-- Incidents, postmortems and action items (SPEC §13).  How they are read:
-- functions/incidents.sql.

-- Every record of every incident.  An incident is the field-by-field merge
-- of its records in recording order (recorded_at, the agent's clock; the
-- lines of one import get increasing times): a column a record does not
-- set is NULL, and the merged value of a column is that of the latest
-- record that sets it.  Records are kept by their content (recording time
-- included), so a resent record is stored once.  Incident ids belong to a
-- service (SPEC §14.1).
CREATE TABLE opspulse.incident_records (
    service          text NOT NULL,
    env              text NOT NULL,
    host             text NOT NULL,
    incident_id      text NOT NULL,
    recorded_at      timestamptz NOT NULL,
    severity         bigint CHECK (severity BETWEEN 1 AND 4),
    title            text,
    started_at       timestamptz,
    detected_at      timestamptz,
    acknowledged_at  timestamptz,
    mitigated_at     timestamptz,
    resolved_at      timestamptz,
    deploy_id        text,
    commander        text,
    postmortem       text,
    postmortem_at    timestamptz,
    agent_id         text NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    content_key      uuid NOT NULL,
    PRIMARY KEY (service, incident_id, content_key)
);

CREATE INDEX ix_incident_records_started ON opspulse.incident_records (started_at)
    WHERE started_at IS NOT NULL;

-- Postmortem action items: the latest record of (service, id) wins, as for
-- maintenance items.
CREATE TABLE opspulse.action_items (
    service      text NOT NULL,
    action_id    text NOT NULL,
    env          text NOT NULL,
    host         text NOT NULL,
    incident_id  text NOT NULL,
    title        text NOT NULL,
    owner        text NOT NULL,
    due_at       timestamptz NOT NULL,
    status       text NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
    done_at      timestamptz,
    recorded_at  timestamptz NOT NULL,
    agent_id     text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service, action_id)
);

-- Toil spent responding to an incident (SPEC §13.1 `--incident`).  Not
-- part of the toil's content key: the keys of older rows stay valid.
ALTER TABLE opspulse.toil ADD COLUMN incident_id text;
CREATE INDEX ix_toil_incident ON opspulse.toil (service, incident_id)
    WHERE incident_id IS NOT NULL;
