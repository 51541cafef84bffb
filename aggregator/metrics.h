/*
 * The aggregator's own counters, served on /metrics in Prometheus text
 * format.  Counting is lock-free and safe from any thread; rendering reads
 * a consistent-enough snapshot (each counter atomically).
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Why a request was refused; each is a label value of
 * opspulse_requests_rejected_total{reason="..."}. */
enum metrics_reject {
	METRICS_REJECT_TOO_LARGE,  /* message over the size limit */
	METRICS_REJECT_MALFORMED,  /* not an OpsPulse envelope */
	METRICS_REJECT_VERSION,    /* protocol version too old */
	METRICS_REJECT_BATCH_SIZE, /* too many events in one batch */
	METRICS_REJECT_STRING,     /* a string over its length limit */
	METRICS_REJECT_TIME,       /* a timestamp out of range */
	METRICS_REJECT_LABELS,     /* too many labels */
	METRICS_REJECT_INVALID,    /* any other invalid field */
	METRICS_REJECT_HOST,       /* events for a host not allowed */
	METRICS_REJECT_ROLE,       /* the credential's role may not do this */
	METRICS_REJECT_UNKNOWN,    /* an empty or unknown request */
	METRICS_REJECT_COUNT
};

/* What happened to a batch that passed validation. */
enum metrics_batch {
	METRICS_BATCH_STORED,      /* committed and acknowledged */
	METRICS_BATCH_UNAVAILABLE, /* database unreachable; the agent retries */
	METRICS_BATCH_FAILED,      /* database error */
	METRICS_BATCH_COUNT
};

/* Counts one refused request under why.  This can't fail. */
void metrics_reject(enum metrics_reject why);

/* A batch of events; stored and dups count only for METRICS_BATCH_STORED.
 * seconds is the time from receipt to the answer.  This can't fail. */
void metrics_batch(enum metrics_batch result, size_t events, uint32_t stored,
                   uint32_t dups, double seconds);

/* A query (CLI, report) answered, ok or not, in seconds.  This can't
 * fail. */
void metrics_query(int ok, double seconds);

/* Writes the incident gauges of SPEC §13 (incidents that started in the
 * window, open and overdue action items, per service) from r, the result
 * of the "incidents" query over the last 28 days.  r may be NULL (the
 * database did not answer): then only the HELP and TYPE lines.  This
 * can't fail; write errors stay in f. */
struct Opspulse__V1__QueryResult;
void metrics_incidents_render(FILE *f,
                              const struct Opspulse__V1__QueryResult *r);

/* Writes the counters to f in Prometheus text format (version 0.0.4).
 * Write errors are left in f's error state for the caller. */
void metrics_render(FILE *f);

/* The SLO gauges (SPEC §12.4) from r, the rows of opspulse.slo over the
 * last 28 days: opspulse_slo_budget_remaining{service,objective} and
 * opspulse_slo_burn_rate{service,objective,window="5m|30m|1h|6h|3d"}; a
 * value without data has no sample.  r may be NULL (only the HELP and
 * TYPE lines).  Write errors are left in f's error state. */
struct Opspulse__V1__QueryResult;
void metrics_slo_render(FILE *f, const struct Opspulse__V1__QueryResult *r);

#endif
