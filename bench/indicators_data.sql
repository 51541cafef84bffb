-- A year of history for 200 services, about 2M events, generated in the
-- database (bench/indicators.sh loads it).  Deterministic: setseed.
-- psql variables: until (end of the year, e.g. '2026-10-01T00:00:00Z').
SET search_path = opspulse, pg_catalog;
SELECT setseed(0.42);

\set year_s 31536000

INSERT INTO services (service, first_seen)
SELECT format('svc-%s', lpad(s::text, 3, '0')), timestamptz :'until' - interval '366 days'
FROM generate_series(1, 200) s;

-- The settings the aggregator writes from its configuration's defaults
-- (the rollups are made under the time zone configuration).
INSERT INTO settings (key, value) VALUES ('timezone', 'UTC'), ('noise_minutes', '15')
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- 20 teams of 10 services, in different time zones.
INSERT INTO teams (name, position, members, hours_per_week, timezone, services)
SELECT format('team-%s', lpad(t::text, 2, '0')), t, 3 + t % 5, 40,
       (ARRAY['UTC', 'Europe/Berlin', 'Asia/Tokyo', 'America/New_York',
              'Australia/Sydney'])[1 + t % 5],
       ARRAY(SELECT format('svc-%s', lpad(s::text, 3, '0'))
             FROM generate_series((t - 1) * 10 + 1, t * 10) s)
FROM generate_series(1, 20) t;

-- Deploys: 200,000 (1,000 a service), 90 % production.
INSERT INTO deploys (service, env, deploy_id, host, operator, agent_id, started_at,
                     finished_at, outcome, version, commit_time, hotfix)
SELECT svc, env, 'd-' || g, 'host-' || (g % 5), 'op-' || (g % 7), 'agent-' || (g % 200),
       fin - make_interval(secs => 30 + random() * 1800), fin,
       CASE WHEN r < 0.85 THEN 'success' WHEN r < 0.92 THEN 'failed'
            WHEN r < 0.95 THEN 'rolled_back' ELSE 'cancelled' END,
       '1.' || (g % 100), fin - make_interval(secs => random() * 86400 * 5),
       random() < 0.05
FROM (SELECT g, format('svc-%s', lpad((1 + g % 200)::text, 3, '0')) AS svc,
             CASE WHEN g % 10 = 0 THEN 'staging' ELSE 'production' END AS env,
             timestamptz :'until' - make_interval(secs => random() * :year_s) AS fin,
             random() AS r
      FROM generate_series(1, 200000) g) x;

-- 5,000 successful deploys marked failed later.
INSERT INTO deploy_failures (service, env, deploy_id, at, host, agent_id)
SELECT service, env, deploy_id, finished_at + interval '2 hours', host, agent_id
FROM deploys WHERE outcome = 'success' ORDER BY deploy_id LIMIT 5000;

-- Toil: 400,000 entries, operators skewed (a few do most of the work).
INSERT INTO toil (service, env, host, operator, task, started_at, duration_s, source, agent_id)
SELECT format('svc-%s', lpad((1 + g % 200)::text, 3, '0')),
       CASE WHEN g % 10 = 0 THEN 'staging' ELSE 'production' END,
       'host-' || (g % 5), 'op-' || floor(power(random(), 2) * 8)::int,
       'task-' || floor(random() * 20)::int,
       timestamptz :'until' - make_interval(secs => random() * :year_s),
       (300 + random() * 10500)::bigint,
       (ARRAY['run', 'manual', 'session', 'import'])[1 + g % 4], 'agent-' || (g % 200)
FROM generate_series(1, 400000) g;

-- Batch runs: 250,000.
INSERT INTO batch_runs (service, env, host, task, started_at, duration_s, outcome, agent_id)
SELECT format('svc-%s', lpad((1 + g % 200)::text, 3, '0')),
       CASE WHEN g % 10 = 0 THEN 'staging' ELSE 'production' END,
       'host-' || (g % 5), 'job-' || (g % 6),
       timestamptz :'until' - make_interval(secs => random() * :year_s),
       (60 + random() * 3600)::bigint,
       CASE WHEN random() < 0.9 THEN 'success' ELSE 'failed' END, 'agent-' || (g % 200)
FROM generate_series(1, 250000) g;

-- Alert episodes: 300,000 over 50 fingerprints a service; 2 % still firing.
INSERT INTO alerts (fingerprint, starts_at, service, env, host, alertname, severity,
                    ends_at, agent_id)
SELECT fp, st, svc, env, 'host-' || (g % 5), 'Rule' || (g % 50 % 10), 'warning',
       CASE WHEN random() < 0.98 THEN st + make_interval(secs => 60 + random() * 7200) END,
       'agent-' || (g % 200)
FROM (SELECT g, format('svc-%s', lpad((1 + g % 200)::text, 3, '0')) AS svc,
             CASE WHEN g % 10 = 0 THEN 'staging' ELSE 'production' END AS env,
             md5((g % 10000)::text) AS fp,
             timestamptz :'until' - make_interval(secs => random() * :year_s) AS st
      FROM generate_series(1, 300000) g) x
ON CONFLICT DO NOTHING;

-- Component observations: 5 hosts x 4 components a service, daily for 50
-- days spread over the year: 200,000.
INSERT INTO components (service, env, host, name, version, observed_at, agent_id)
SELECT svc, 'production', 'host-' || h, c.name,
       c.version || '.' || (d % 9), timestamptz :'until' - make_interval(days => d * 7),
       'agent-' || h
FROM generate_series(1, 200) s
CROSS JOIN LATERAL (SELECT format('svc-%s', lpad(s::text, 3, '0')) AS svc) v
CROSS JOIN generate_series(0, 4) h
CROSS JOIN (VALUES ('postgresql', '14'), ('linux', '6.1.0'), ('nginx', '1.22'),
                   ('debian', '12')) AS c(name, version)
CROSS JOIN generate_series(0, 49) d;

-- Maintenance items: 2,000.
INSERT INTO maintenance (service, maint_id, env, host, component, title, due_at, status,
                         recorded_at, agent_id)
SELECT format('svc-%s', lpad((1 + g % 200)::text, 3, '0')), 'm-' || g, 'production',
       'host-1', 'postgresql', 'minor upgrade',
       timestamptz :'until' + make_interval(days => (g % 120) - 60),
       (ARRAY['scheduled', 'done', 'cancelled'])[1 + g % 3],
       timestamptz :'until' - interval '90 days', 'agent-1'
FROM generate_series(1, 2000) g;

-- Capacity: 200 services x 2 hosts x 2 mounts, 1,000 samples each over the
-- year (one every 8.76 h): 800,000.  Disks fill slowly.
INSERT INTO capacity (service, env, host, at, cpu_pct, mem_pct, mount, disk_used_bytes,
                      disk_total_bytes, agent_id)
SELECT format('svc-%s', lpad(s::text, 3, '0')), 'production', 'host-' || h,
       timestamptz :'until' - make_interval(secs => i * 31536),
       random() * 100, random() * 100, m,
       (200e9 + (1000 - i) * 1e8 * (1 + s % 3) + random() * 1e9)::bigint, 1000000000000,
       'agent-' || s
FROM generate_series(1, 200) s
CROSS JOIN generate_series(1, 2) h
CROSS JOIN (VALUES ('/'), ('/var/lib')) AS mm(m)
CROSS JOIN generate_series(0, 999) i;

INSERT INTO agent_spools (agent_id, spool_id, version, last_seq, dropped_total, events)
SELECT 'agent-' || a, a, '0.1.0', 10000, a % 3, 10000 FROM generate_series(0, 199) a;
