-- SLOs (SPEC §12.4): the objectives of aggregator.slos, written at start
-- and on every reload by opspulse.sync_slos (functions/slo.sql), so that
-- psql and Grafana see what the CLI sees.  A target is the exact decimal
-- of the configuration divided by 100 (99.9 -> 0.999), kept as numeric so
-- that every budget decision is exact (SPEC §14.1).
CREATE TABLE opspulse.slos (
    service      text NOT NULL,
    objective    text NOT NULL CHECK (objective IN ('availability', 'latency')),
    position     integer NOT NULL,
    target       numeric NOT NULL CHECK (target > 0 AND target < 1),
    threshold_ms numeric CHECK (threshold_ms > 0),
    CHECK ((objective = 'latency') = (threshold_ms IS NOT NULL)),
    PRIMARY KEY (service, objective)
);
