-- Access-log lines an agent skipped, per file and reason (SPEC §12.1): the
-- totals its tailer has kept since it first read the file, sent with every
-- batch (Batch.line_skips) like dropped_total.  The greatest total an agent
-- reported is kept, so a late or resent batch never lowers it.
CREATE TABLE opspulse.agent_line_skips (
    agent_id   text NOT NULL,
    path       text NOT NULL,
    reason     text NOT NULL,
    skipped    bigint NOT NULL,
    last_seen  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, path, reason)
);
