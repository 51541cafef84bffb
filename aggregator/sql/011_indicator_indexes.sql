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
