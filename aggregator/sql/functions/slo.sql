-- SLOs and error budgets (SPEC §12.4, §14.1): `opspulse slo`, its `--by
-- month` form, the configuration writer and the counts they share.
--
-- The objectives live in opspulse.slos (024_slos.sql), written by
-- opspulse.sync_slos from aggregator.slos.  Every decision (overspent,
-- status, alert, met) is taken on exact numeric products of the counts,
-- never on a rounded ratio: bad > (1 - target) x total is overspent, and a
-- burn rate b >= k is bad >= k x (1 - target) x total.  Counts come from
-- the daily and hourly rollups for the whole, clean days and hours of a
-- span and from the request minutes for the rest, as
-- opspulse.health_stats reads them, every span of a query in one pass
-- (opspulse.slo_spans).

-- Replaces the objectives and slo_window_days with the configuration's,
-- in one statement.  p_targets are percentages as written in the file
-- ("99.9"), p_thresholds the latency thresholds in ms (NULL for
-- availability).  Returns how many objectives there are.
CREATE OR REPLACE FUNCTION opspulse.sync_slos(p_services text[], p_objectives text[],
                                              p_targets text[], p_thresholds text[],
                                              p_window_days integer)
RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM opspulse.slos;
    INSERT INTO opspulse.slos (service, objective, position, target, threshold_ms)
    SELECT p_services[i], p_objectives[i], i, p_targets[i]::numeric * 0.01,
           p_thresholds[i]::numeric
    FROM generate_subscripts(p_services, 1) AS i;
    INSERT INTO opspulse.settings (key, value) VALUES ('slo_window_days', p_window_days::text)
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
    RETURN coalesce(array_length(p_services, 1), 0);
END
$$;

-- The configured objectives of the selected services (a list, NULL for
-- all; a team, NULL for any), whether or not the service has sent
-- anything yet.
CREATE OR REPLACE FUNCTION opspulse.slo_objectives(p_services text[], p_team text)
RETURNS TABLE (service text, objective text, target numeric, threshold_ms numeric)
LANGUAGE sql STABLE AS $$
    SELECT o.service, o.objective, o.target, o.threshold_ms
    FROM opspulse.slos o
    WHERE (p_services IS NULL OR o.service = ANY (p_services))
      AND (p_team IS NULL OR EXISTS (
               SELECT 1 FROM opspulse.teams t
               WHERE t.name = p_team AND o.service = ANY (t.services)))
$$;

-- Replaced by a width_bucket slice in opspulse.slo_spans (a SQL function
-- call per row cost more than the rest of the query).
DROP FUNCTION IF EXISTS opspulse.slo_slow(bigint[], bigint[], numeric);

-- Requests, errors, timed and slow requests (timed, bucket upper value
-- above p_slow_us[i]: SPEC §12.2) of many spans at once: span i is the
-- minutes in [p_los[i], p_his[i]) of service p_services[i] in p_env,
-- named p_ids[i] (unique per service); one threshold per service.  Sums
-- are 0 without data.  Read as opspulse.health_stats reads: whole clean
-- UTC days from request_days, whole clean hours at the edges (and in days
-- holding a dirty hour) from request_hours, the rest (partial hours,
-- dirty hours) from the minutes; every minute when the session sets
-- opspulse.rollups to off.  A clean partial hour at a span's start that
-- lies mostly inside the span is read as its rollup less its minutes
-- before the start: the same sums from at most 30 minutes.
--
-- Set-based, and each row read once however many spans hold it: per
-- service and level (days, hours, minutes) the ranges of all its spans
-- are cut at every range's ends into disjoint segments, each segment is
-- read with one index range scan and summed, and a span adds up the
-- segments inside its ranges.  A segment's slow requests are summed from
-- the part of each row's histogram above the threshold: upper values are
-- strictly ascending (ingest refuses others, the rollups merge in order),
-- so width_bucket finds where that part starts.
CREATE OR REPLACE FUNCTION opspulse.slo_spans(p_env text, p_services text[], p_ids integer[],
                                              p_los timestamptz[], p_his timestamptz[],
                                              p_slow_us numeric[])
RETURNS TABLE (service text, id integer, requests numeric, errors numeric, timed numeric,
               slow numeric)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' AS $$
#variable_conflict use_column
DECLARE
    off boolean := coalesce(current_setting('opspulse.rollups', true), '') = 'off';
    kept timestamptz := opspulse.request_minutes_kept();
BEGIN
RETURN QUERY
WITH given AS MATERIALIZED (
    SELECT x.s AS service, x.i AS id, x.lo, x.hi, x.slow
    FROM unnest(p_services, p_ids, p_los, p_his, p_slow_us) x(s, i, lo, hi, slow)),
-- Per service: the threshold as the whole µs an upper value must exceed
-- (upper values are integers), and the extent of its spans.
svc AS MATERIALIZED (
    SELECT g.service, floor(max(g.slow))::bigint AS slow, min(g.lo) AS lo, max(g.hi) AS hi
    FROM given g GROUP BY g.service),
dirty AS MATERIALIZED (
    SELECT DISTINCT d.service, d.hour
    FROM svc JOIN opspulse.request_hours_dirty d
      ON d.service = svc.service AND d.env = p_env
     AND d.hour >= svc.lo - interval '1 hour' AND d.hour < svc.hi),
dirty_days AS MATERIALIZED (
    SELECT DISTINCT d.service, date_trunc('day', d.hour, 'UTC') AS day FROM dirty d),
-- A span that starts inside an hour it holds to its end reads that hour
-- whole from its rollup, less the minutes before the span's start
-- [neg_lo, neg_hi), when those are fewer than the minutes after it, the
-- hour is clean and none of its minutes has been dropped (a clean hour's
-- rollup is then exactly the sum of its minutes).
spf AS (
    SELECT g.service, g.id, g.hi, g.slow,
           CASE WHEN f.flip THEN t.lo_t ELSE g.lo END AS lo, t.lo_t AS neg_lo,
           CASE WHEN f.flip THEN g.lo ELSE t.lo_t END AS neg_hi
    FROM given g
    CROSS JOIN LATERAL (SELECT date_trunc('hour', g.lo, 'UTC') AS lo_t,
                               opspulse.hour_ceil(g.lo) AS lo_c) t
    CROSS JOIN LATERAL (
        SELECT NOT off AND t.lo_t < g.lo AND t.lo_c <= g.hi
               AND g.lo - t.lo_t < t.lo_c - g.lo AND (kept IS NULL OR t.lo_t >= kept)
               AND NOT EXISTS (SELECT 1 FROM dirty d
                               WHERE d.service = g.service AND d.hour = t.lo_t) AS flip) f),
sp0 AS (
    SELECT spf.service, spf.id, spf.lo, spf.hi, spf.slow, spf.neg_lo, spf.neg_hi,
           opspulse.hour_ceil(spf.lo) AS lo_h, date_trunc('hour', spf.hi, 'UTC') AS hi_h
    FROM spf),
sp1 AS (
    SELECT sp0.service, sp0.id, sp0.lo, sp0.hi, sp0.slow, sp0.neg_lo, sp0.neg_hi,
           CASE WHEN off OR sp0.lo_h >= sp0.hi_h THEN sp0.hi ELSE sp0.lo_h END AS lo_h,
           CASE WHEN off OR sp0.lo_h >= sp0.hi_h THEN sp0.hi ELSE sp0.hi_h END AS hi_h
    FROM sp0),
sp AS MATERIALIZED (
    SELECT sp1.*,
           CASE WHEN d.lo_d >= d.hi_d OR sp1.lo_h = sp1.hi THEN sp1.hi_h ELSE d.lo_d END AS lo_d,
           CASE WHEN d.lo_d >= d.hi_d OR sp1.lo_h = sp1.hi THEN sp1.hi_h ELSE d.hi_d END AS hi_d
    FROM sp1 CROSS JOIN LATERAL (
        SELECT date_trunc('day', sp1.lo_h - interval '1 microsecond', 'UTC')
               + interval '1 day' AS lo_d,
               date_trunc('day', sp1.hi_h, 'UTC') AS hi_d) d),
-- What each span reads at each level (1 days, 2 hours, 3 minutes), and
-- whether it adds (1) or takes away (-1) what it reads.
ranges AS MATERIALIZED (
    SELECT r.* FROM (
        SELECT 1 AS level, sp.service, sp.id, sp.lo_d AS lo, sp.hi_d AS hi, 1 AS sign FROM sp
        UNION ALL
        SELECT 2, sp.service, sp.id, sp.lo_h, sp.lo_d, 1 FROM sp
        UNION ALL
        SELECT 2, sp.service, sp.id, sp.hi_d, sp.hi_h, 1 FROM sp
        UNION ALL
        SELECT 2, sp.service, sp.id, d.day, d.day + interval '1 day', 1
        FROM sp JOIN dirty_days d
          ON d.service = sp.service AND d.day >= sp.lo_d AND d.day < sp.hi_d
        UNION ALL
        SELECT 3, sp.service, sp.id, sp.lo, sp.lo_h, 1 FROM sp
        UNION ALL
        SELECT 3, sp.service, sp.id, sp.hi_h, sp.hi, 1 FROM sp
        UNION ALL
        SELECT 3, sp.service, sp.id, d.hour, d.hour + interval '1 hour', 1
        FROM sp JOIN dirty d
          ON d.service = sp.service AND d.hour >= sp.lo_h AND d.hour < sp.hi_h
        UNION ALL
        SELECT 3, sp.service, sp.id, sp.neg_lo, sp.neg_hi, -1 FROM sp) r
    WHERE r.lo < r.hi),
-- The disjoint segments between consecutive range ends of a service and
-- level that some range holds.
segs AS MATERIALIZED (
    SELECT g.level, g.service, g.lo, g.hi
    FROM (SELECT b.level, b.service, b.t AS lo,
                 lead(b.t) OVER (PARTITION BY b.level, b.service ORDER BY b.t) AS hi
          FROM (SELECT DISTINCT r.level, r.service, e.t
                FROM ranges r CROSS JOIN LATERAL (VALUES (r.lo), (r.hi)) e(t)) b) g
    WHERE g.hi IS NOT NULL
      AND EXISTS (SELECT 1 FROM ranges r
                  WHERE r.level = g.level AND r.service = g.service
                    AND r.lo <= g.lo AND r.hi >= g.hi)),
-- The rows of each segment (clean days, clean hours, every minute with
-- its hosts and parts), one index range scan each.
seg_rows AS (
    SELECT g.level, g.service, g.lo, g.hi, x.requests, x.errors, x.timed, x.latency_upper,
           x.latency_count
    FROM segs g CROSS JOIN LATERAL (
        SELECT r.requests, r.errors, r.timed, r.latency_upper, r.latency_count
        FROM opspulse.request_days r
        WHERE g.level = 1 AND r.service = g.service AND r.env = p_env
          AND r.day >= g.lo AND r.day < g.hi
          AND NOT EXISTS (SELECT 1 FROM dirty_days d
                          WHERE d.service = r.service AND d.day = r.day)
        UNION ALL
        SELECT h.requests, h.errors, h.timed, h.latency_upper, h.latency_count
        FROM opspulse.request_hours h
        WHERE g.level = 2 AND h.service = g.service AND h.env = p_env
          AND h.hour >= g.lo AND h.hour < g.hi
          AND NOT EXISTS (SELECT 1 FROM dirty d
                          WHERE d.service = h.service AND d.hour = h.hour)
        UNION ALL
        SELECT m.requests, m.errors, m.timed, m.latency_upper, m.latency_count
        FROM opspulse.request_minutes m
        WHERE g.level = 3 AND m.service = g.service AND m.env = p_env
          AND m.minute >= g.lo AND m.minute < g.hi) x),
seg_sums AS MATERIALIZED (
    SELECT x.level, x.service, x.lo, x.hi, sum(x.requests) AS requests,
           sum(x.errors) AS errors, sum(x.timed) AS timed,
           sum(CASE WHEN svc.slow IS NULL THEN 0
                    ELSE (SELECT coalesce(sum(c.c), 0)
                          FROM unnest(x.latency_count[width_bucket(svc.slow, x.latency_upper)
                                                      + 1:]) c(c)) END) AS slow
    FROM seg_rows x JOIN svc ON svc.service = x.service
    GROUP BY x.level, x.service, x.lo, x.hi),
sums AS (
    SELECT r.service, r.id, r.sign * g.requests AS requests, r.sign * g.errors AS errors,
           r.sign * g.timed AS timed, r.sign * g.slow AS slow
    FROM ranges r JOIN seg_sums g
      ON g.level = r.level AND g.service = r.service AND g.lo >= r.lo AND g.hi <= r.hi)
SELECT sp.service, sp.id, coalesce(sum(x.requests), 0)::numeric,
       coalesce(sum(x.errors), 0)::numeric, coalesce(sum(x.timed), 0)::numeric,
       coalesce(sum(x.slow), 0)::numeric
FROM sp LEFT JOIN sums x ON x.service = sp.service AND x.id = sp.id
GROUP BY sp.service, sp.id;
END
$$;

-- An objective's (total, bad) out of a span's counts: availability counts
-- requests and errors, latency timed and slow requests.
CREATE OR REPLACE FUNCTION opspulse.slo_pick(p_objective text, p_requests numeric,
                                             p_errors numeric, p_timed numeric,
                                             p_slow numeric,
                                             OUT total numeric, OUT bad numeric)
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_objective WHEN 'latency' THEN p_timed ELSE p_requests END,
           CASE p_objective WHEN 'latency' THEN p_slow ELSE p_errors END
$$;

-- Overspent: more bad events than the budget (1 - target) x total allows,
-- exactly.  A span without events is not overspent.
CREATE OR REPLACE FUNCTION opspulse.slo_overspent(p_total numeric, p_bad numeric,
                                                  p_target numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT p_total > 0 AND p_bad > (1 - p_target) * p_total
$$;

-- The burn rate of a span: (bad / total) / (1 - target); NULL without
-- events.
CREATE OR REPLACE FUNCTION opspulse.slo_burn(p_total numeric, p_bad numeric,
                                             p_target numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT p_bad / ((1 - p_target) * nullif(p_total, 0))
$$;

-- Whether a span burns at least p_rate, decided exactly; false without
-- events (a NULL burn rate makes its comparison false, SPEC §14.1).
CREATE OR REPLACE FUNCTION opspulse.slo_burns(p_total numeric, p_bad numeric,
                                              p_target numeric, p_rate numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT p_total > 0 AND p_bad >= p_rate * (1 - p_target) * p_total
$$;

-- The SRE Workbook's multi-window burn-rate rules (SPEC §12.4) on the
-- (total, bad) of the five spans: page, ticket or none.
CREATE OR REPLACE FUNCTION opspulse.slo_alert(p_target numeric,
                                              t5m numeric, b5m numeric,
                                              t30m numeric, b30m numeric,
                                              t1h numeric, b1h numeric,
                                              t6h numeric, b6h numeric,
                                              t3d numeric, b3d numeric)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN (opspulse.slo_burns(t1h, b1h, p_target, 14.4)
              AND opspulse.slo_burns(t5m, b5m, p_target, 14.4))
          OR (opspulse.slo_burns(t6h, b6h, p_target, 6)
              AND opspulse.slo_burns(t30m, b30m, p_target, 6)) THEN 'page'
        WHEN opspulse.slo_burns(t3d, b3d, p_target, 1)
         AND opspulse.slo_burns(t6h, b6h, p_target, 1) THEN 'ticket'
        ELSE 'none' END
$$;

-- The trailing window of the error budget policy, in days (default 28).
CREATE OR REPLACE FUNCTION opspulse.slo_window_days() RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT opspulse.setting('slo_window_days', '28')::integer
$$;

-- `opspulse slo` (SPEC §12.4, §14.1): one row per configured objective of
-- the selected services, even without data (then total and bad 0, every
-- derived field NULL, deploys_while_exhausted 0).  burn_rate_<span> reads
-- [until - span, until); deploys_while_exhausted counts §4.1's deploys
-- finished in the window whose trailing [finish - slo_window_days,
-- finish) was overspent.
--
-- A deploy's trailing budget is first read cut to whole UTC days, from
-- the daily rollup only: the whole days inside it (inner) and the days
-- that hold any of it (outer), whose counts bound its own.  Overspent
-- when inner's bad > (1 - target) x outer's total, not when outer's bad
-- <= (1 - target) x inner's total; only a deploy left undecided by an
-- objective (its edge days hold enough to tip it) has its span read
-- exactly, hours and minutes included.  The bounds hold because a clean
-- day's or hour's rollup holds at least the minutes still stored in it,
-- and a dirty hour is read from the minutes either way.
DROP FUNCTION IF EXISTS opspulse.slo(timestamptz, timestamptz, text, text[], text);
CREATE OR REPLACE FUNCTION opspulse.slo(p_since timestamptz, p_until timestamptz,
                                        p_env text DEFAULT 'production',
                                        p_services text[] DEFAULT NULL,
                                        p_team text DEFAULT NULL)
RETURNS TABLE (service text, objective text, target numeric, threshold_ms numeric,
               total bigint, bad bigint, achieved numeric, budget_remaining numeric,
               burn_rate_5m numeric, burn_rate_30m numeric, burn_rate_1h numeric,
               burn_rate_6h numeric, burn_rate_3d numeric, status text, alert text,
               deploys_while_exhausted bigint)
LANGUAGE plpgsql STABLE
SET jit = off SET work_mem = '64MB' SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    wdays interval := make_interval(days => opspulse.slo_window_days());
BEGIN
RETURN QUERY
WITH o AS MATERIALIZED (
    SELECT * FROM opspulse.slo_objectives(p_services, p_team)
),
k AS MATERIALIZED (
    SELECT o.service, max(o.threshold_ms) * 1000 AS slow FROM o GROUP BY o.service
),
-- The spans, per service: 0 the window, 1-5 the burn rates' (5m, 30m,
-- 1h, 6h, 3d), 100 and up the trailing budget of each deploy cut to its
-- inner days, -100 and down to its outer days.
dep AS MATERIALIZED (
    SELECT d.service, (99 + row_number() OVER (PARTITION BY d.service
                                               ORDER BY d.finished_at, d.deploy_id))::integer
                      AS id,
           d.finished_at - wdays AS lo, d.finished_at AS hi
    FROM opspulse.counted_deploys(p_since, p_until, p_env) d
    WHERE d.service IN (SELECT o.service FROM o)
),
spans AS (
    SELECT k.service, b.id, b.lo, b.hi, k.slow
    FROM k CROSS JOIN LATERAL (VALUES (0, p_since, p_until),
                                      (1, p_until - interval '5 minutes', p_until),
                                      (2, p_until - interval '30 minutes', p_until),
                                      (3, p_until - interval '1 hour', p_until),
                                      (4, p_until - interval '6 hours', p_until),
                                      (5, p_until - interval '3 days', p_until)) b(id, lo, hi)
    UNION ALL
    SELECT d.service, b.id, b.lo, b.hi, k.slow
    FROM dep d JOIN k ON k.service = d.service
    CROSS JOIN LATERAL (SELECT date_trunc('day', d.lo, 'UTC') AS lo_t,
                               date_trunc('day', d.hi, 'UTC') AS hi_t) t
    CROSS JOIN LATERAL (VALUES (d.id, CASE WHEN t.lo_t = d.lo THEN d.lo
                                           ELSE t.lo_t + interval '1 day' END, t.hi_t),
                               (-d.id, t.lo_t, CASE WHEN t.hi_t = d.hi THEN d.hi
                                                    ELSE t.hi_t + interval '1 day' END))
               b(id, lo, hi)
),
n AS MATERIALIZED (
    SELECT x.* FROM (SELECT array_agg(s.service) AS sv, array_agg(s.id) AS ids,
                            array_agg(s.lo) AS los, array_agg(s.hi) AS his,
                            array_agg(s.slow) AS slows FROM spans s) a
    CROSS JOIN LATERAL opspulse.slo_spans(p_env, a.sv, a.ids, a.los, a.his, a.slows) x
    WHERE a.sv IS NOT NULL
),
-- Per objective and span: (total, bad).
tb AS MATERIALIZED (
    SELECT o.service, o.objective, o.target, n.id, p.total, p.bad
    FROM o JOIN n ON n.service = o.service
    CROSS JOIN LATERAL opspulse.slo_pick(o.objective, n.requests, n.errors, n.timed,
                                         n.slow) p
),
c AS (
    SELECT o.*, w.total, w.bad, s5.total AS t5m, s5.bad AS b5m, s30.total AS t30m,
           s30.bad AS b30m, h1.total AS t1h, h1.bad AS b1h, h6.total AS t6h,
           h6.bad AS b6h, d3.total AS t3d, d3.bad AS b3d
    FROM o
    LEFT JOIN tb w ON w.service = o.service AND w.objective = o.objective AND w.id = 0
    LEFT JOIN tb s5 ON s5.service = o.service AND s5.objective = o.objective AND s5.id = 1
    LEFT JOIN tb s30 ON s30.service = o.service AND s30.objective = o.objective AND s30.id = 2
    LEFT JOIN tb h1 ON h1.service = o.service AND h1.objective = o.objective AND h1.id = 3
    LEFT JOIN tb h6 ON h6.service = o.service AND h6.objective = o.objective AND h6.id = 4
    LEFT JOIN tb d3 ON d3.service = o.service AND d3.objective = o.objective AND d3.id = 5
),
-- Per deploy and objective: overspent, not, or NULL when the bounds
-- leave it open.
dep_b AS MATERIALIZED (
    SELECT i.service, i.objective, i.target, i.id,
           CASE WHEN i.bad > (1 - i.target) * u.total THEN true
                WHEN u.bad <= (1 - i.target) * i.total THEN false END AS overspent
    FROM tb i JOIN tb u ON u.service = i.service AND u.objective = i.objective AND u.id = -i.id
    WHERE i.id >= 100
),
-- The open deploys' trailing budgets, read exactly.
dep_x AS MATERIALIZED (
    SELECT x.* FROM (SELECT array_agg(d.service) AS sv, array_agg(d.id) AS ids,
                            array_agg(d.lo) AS los, array_agg(d.hi) AS his,
                            array_agg(k.slow) AS slows
                     FROM dep d JOIN k ON k.service = d.service
                     WHERE EXISTS (SELECT 1 FROM dep_b b
                                   WHERE b.service = d.service AND b.id = d.id
                                     AND b.overspent IS NULL)) a
    CROSS JOIN LATERAL opspulse.slo_spans(p_env, a.sv, a.ids, a.los, a.his, a.slows) x
    WHERE a.sv IS NOT NULL
),
dep_n AS (
    SELECT b.service, b.objective, count(*) AS n
    FROM dep_b b
    LEFT JOIN dep_x x ON x.service = b.service AND x.id = b.id
    LEFT JOIN LATERAL opspulse.slo_pick(b.objective, x.requests, x.errors, x.timed,
                                        x.slow) p ON true
    WHERE coalesce(b.overspent, opspulse.slo_overspent(p.total, p.bad, b.target))
    GROUP BY b.service, b.objective
)
SELECT c.service, c.objective, c.target, c.threshold_ms, c.total::bigint, c.bad::bigint,
       1 - c.bad / nullif(c.total, 0),
       1 - c.bad / ((1 - c.target) * nullif(c.total, 0)),
       opspulse.slo_burn(c.t5m, c.b5m, c.target), opspulse.slo_burn(c.t30m, c.b30m, c.target),
       opspulse.slo_burn(c.t1h, c.b1h, c.target), opspulse.slo_burn(c.t6h, c.b6h, c.target),
       opspulse.slo_burn(c.t3d, c.b3d, c.target),
       CASE WHEN c.total = 0 THEN NULL
            WHEN opspulse.slo_overspent(c.total, c.bad, c.target) THEN 'exhausted'
            ELSE 'ok' END,
       CASE WHEN c.total > 0
            THEN opspulse.slo_alert(c.target, c.t5m, c.b5m, c.t30m, c.b30m, c.t1h, c.b1h,
                                    c.t6h, c.b6h, c.t3d, c.b3d) END,
       coalesce(dep_n.n, 0)
FROM c
LEFT JOIN dep_n ON dep_n.service = c.service AND dep_n.objective = c.objective
ORDER BY c.service, c.objective;
END
$$;

-- `opspulse slo --by month` (SPEC §12.4, §14.1 Months): per configured
-- objective and UTC calendar month whose first day lies in [since, until),
-- the counts over [month start, min(month end, until)), achieved, and met
-- (achieved >= target, decided exactly as bad <= (1 - target) x total).
DROP FUNCTION IF EXISTS opspulse.slo_by_month(timestamptz, timestamptz, text, text[], text);
CREATE OR REPLACE FUNCTION opspulse.slo_by_month(p_since timestamptz, p_until timestamptz,
                                                 p_env text DEFAULT 'production',
                                                 p_services text[] DEFAULT NULL,
                                                 p_team text DEFAULT NULL)
RETURNS TABLE (service text, objective text, month text, target numeric,
               threshold_ms numeric, total bigint, bad bigint, achieved numeric,
               met boolean)
LANGUAGE sql STABLE
SET jit = off SET work_mem = '64MB' AS $$
    WITH RECURSIVE m AS (
        SELECT opspulse.month_start(p_since - interval '1 microsecond') AS prev
        UNION ALL
        SELECT opspulse.month_after(m.prev) FROM m WHERE opspulse.month_after(m.prev) < p_until
    ),
    months AS (
        SELECT row_number() OVER (ORDER BY m.prev)::integer AS id,
               opspulse.month_after(m.prev) AS lo,
               least(opspulse.month_after(opspulse.month_after(m.prev)), p_until) AS hi
        FROM m WHERE opspulse.month_after(m.prev) < p_until
    ),
    o AS MATERIALIZED (SELECT * FROM opspulse.slo_objectives(p_services, p_team)),
    spans AS (
        SELECT k.service, months.id, months.lo, months.hi, k.slow
        FROM (SELECT o.service, max(o.threshold_ms) * 1000 AS slow FROM o
              GROUP BY o.service) k
        CROSS JOIN months
    ),
    n AS (
        SELECT x.* FROM (SELECT array_agg(s.service) AS sv, array_agg(s.id) AS ids,
                                array_agg(s.lo) AS los, array_agg(s.hi) AS his,
                                array_agg(s.slow) AS slows FROM spans s) a
        CROSS JOIN LATERAL opspulse.slo_spans(p_env, a.sv, a.ids, a.los, a.his, a.slows) x
        WHERE a.sv IS NOT NULL
    )
    SELECT o.service, o.objective, to_char(mo.lo AT TIME ZONE 'UTC', 'YYYY-MM'), o.target,
           o.threshold_ms, x.total::bigint, x.bad::bigint, 1 - x.bad / nullif(x.total, 0),
           CASE WHEN x.total > 0 THEN x.bad <= (1 - o.target) * x.total END
    FROM o
    JOIN n ON n.service = o.service
    JOIN months mo ON mo.id = n.id
    CROSS JOIN LATERAL opspulse.slo_pick(o.objective, n.requests, n.errors, n.timed,
                                         n.slow) x
    ORDER BY o.service, o.objective, mo.lo
$$;
