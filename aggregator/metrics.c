#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_codec.h"

#include "metrics.h"
#include "op_codec.h"

/* Upper bounds of the latency histograms' buckets, in seconds. */
static const double metrics_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,  0.1,    0.25,  0.5,  1.0,
                                        2.5,   5.0,    10.0};
#define METRICS_NBOUNDS (sizeof(metrics_bounds) / sizeof(metrics_bounds[0]))

/* A histogram; sums are kept in microseconds to stay integral. */
struct metrics_hist {
	atomic_uint_fast64_t buckets[METRICS_NBOUNDS]; /* not cumulative */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;
};

static const char *const metrics_reject_names[METRICS_REJECT_COUNT] = {
    [METRICS_REJECT_TOO_LARGE] = "message_too_large",
    [METRICS_REJECT_MALFORMED] = "malformed",
    [METRICS_REJECT_VERSION] = "protocol_version",
    [METRICS_REJECT_BATCH_SIZE] = "batch_size",
    [METRICS_REJECT_STRING] = "string_length",
    [METRICS_REJECT_TIME] = "timestamp_range",
    [METRICS_REJECT_LABELS] = "labels",
    [METRICS_REJECT_INVALID] = "invalid_field",
    [METRICS_REJECT_HOST] = "host_not_allowed",
    [METRICS_REJECT_ROLE] = "role",
    [METRICS_REJECT_UNKNOWN] = "unknown_request",
};

static const char *const metrics_batch_names[METRICS_BATCH_COUNT] = {
    [METRICS_BATCH_STORED] = "stored",
    [METRICS_BATCH_UNAVAILABLE] = "database_unavailable",
    [METRICS_BATCH_FAILED] = "database_error",
};

static struct {
	atomic_uint_fast64_t rejected[METRICS_REJECT_COUNT];
	atomic_uint_fast64_t batches[METRICS_BATCH_COUNT];
	atomic_uint_fast64_t events_received, events_stored, events_dup;
	atomic_uint_fast64_t queries_ok, queries_failed;
	struct metrics_hist batch_latency, query_latency;
} metrics;

/* Adds one observation of seconds to h.  This can't fail. */
static void
metrics_observe(struct metrics_hist *h, double seconds)
{
	size_t i = 0;

	while (i < METRICS_NBOUNDS && seconds > metrics_bounds[i])
		i++;
	if (i < METRICS_NBOUNDS)
		atomic_fetch_add(&h->buckets[i], 1);
	atomic_fetch_add(&h->count, 1);
	atomic_fetch_add(&h->sum_us,
	                 (uint_fast64_t)(seconds > 0 ? seconds * 1e6 : 0));
}

void
metrics_reject(enum metrics_reject why)
{
	if (why < METRICS_REJECT_COUNT)
		atomic_fetch_add(&metrics.rejected[why], 1);
}

void
metrics_batch(enum metrics_batch result, size_t events, uint32_t stored,
              uint32_t dups, double seconds)
{
	if (result >= METRICS_BATCH_COUNT)
		return;
	atomic_fetch_add(&metrics.batches[result], 1);
	atomic_fetch_add(&metrics.events_received, events);
	if (result == METRICS_BATCH_STORED) {
		atomic_fetch_add(&metrics.events_stored, stored);
		atomic_fetch_add(&metrics.events_dup, dups);
	}
	metrics_observe(&metrics.batch_latency, seconds);
}

void
metrics_query(int ok, double seconds)
{
	atomic_fetch_add(ok ? &metrics.queries_ok : &metrics.queries_failed, 1);
	metrics_observe(&metrics.query_latency, seconds);
}

/* The # HELP and # TYPE lines of metric name. */
static void
metrics_help(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Histogram h as name_bucket (cumulative), name_sum and name_count. */
static void
metrics_hist_render(FILE *f, const char *name, const char *help,
                    struct metrics_hist *h)
{
	uint_fast64_t cum = 0, count = atomic_load(&h->count);

	metrics_help(f, name, "histogram", help);
	for (size_t i = 0; i < METRICS_NBOUNDS; i++) {
		cum += atomic_load(&h->buckets[i]);
		fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name,
		        metrics_bounds[i], (unsigned long long)cum);
	}
	/* Observations land in a bucket before count is raised: keep +Inf
	 * at least the sum of the buckets. */
	if (count < cum)
		count = cum;
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	        (unsigned long long)count);
	fprintf(f, "%s_sum %.6f\n", name,
	        (double)atomic_load(&h->sum_us) / 1e6);
	fprintf(f, "%s_count %llu\n", name, (unsigned long long)count);
}

void
metrics_render(FILE *f)
{
	metrics_help(f, "opspulse_requests_rejected_total", "counter",
	             "Requests refused, by reason (nothing of them stored).");
	for (int i = 0; i < METRICS_REJECT_COUNT; i++)
		fprintf(f,
		        "opspulse_requests_rejected_total{reason=\"%s\"} "
		        "%llu\n",
		        metrics_reject_names[i],
		        (unsigned long long)atomic_load(&metrics.rejected[i]));
	metrics_help(f, "opspulse_ingest_batches_total", "counter",
	             "Valid batches received, by what became of them.");
	for (int i = 0; i < METRICS_BATCH_COUNT; i++)
		fprintf(f,
		        "opspulse_ingest_batches_total{result=\"%s\"} %llu\n",
		        metrics_batch_names[i],
		        (unsigned long long)atomic_load(&metrics.batches[i]));
	metrics_help(f, "opspulse_ingest_events_received_total", "counter",
	             "Events in valid batches, stored or not.");
	fprintf(f, "opspulse_ingest_events_received_total %llu\n",
	        (unsigned long long)atomic_load(&metrics.events_received));
	metrics_help(f, "opspulse_ingest_events_total", "counter",
	             "Events of committed batches: new or changed rows, and "
	             "duplicates of rows already stored.");
	fprintf(f, "opspulse_ingest_events_total{result=\"stored\"} %llu\n",
	        (unsigned long long)atomic_load(&metrics.events_stored));
	fprintf(f, "opspulse_ingest_events_total{result=\"duplicate\"} %llu\n",
	        (unsigned long long)atomic_load(&metrics.events_dup));
	metrics_hist_render(f, "opspulse_ingest_batch_seconds",
	                    "Time from a batch's receipt to its answer "
	                    "(validation, transaction, COMMIT).",
	                    &metrics.batch_latency);
	metrics_help(f, "opspulse_queries_total", "counter",
	             "Indicator queries answered, by outcome.");
	fprintf(f, "opspulse_queries_total{result=\"ok\"} %llu\n",
	        (unsigned long long)atomic_load(&metrics.queries_ok));
	fprintf(f, "opspulse_queries_total{result=\"error\"} %llu\n",
	        (unsigned long long)atomic_load(&metrics.queries_failed));
	metrics_hist_render(f, "opspulse_query_seconds",
	                    "Time to answer an indicator query.",
	                    &metrics.query_latency);
}

/* ---- SLO gauges ------------------------------------------------------- */

/* The index of r's column name, or -1. */
static int
metrics_column(const Opspulse__V1__QueryResult *r, const char *name)
{
	for (size_t i = 0; r && i < r->n_columns; i++)
		if (strcmp(r->columns[i]->name, name) == 0)
			return (int)i;
	return -1;
}

/* The text of cell c of row i, or NULL when null or absent. */
static const char *
metrics_cell(const Opspulse__V1__QueryResult *r, size_t i, int c)
{
	const Opspulse__V1__Row *row = r->rows[i];

	if (c < 0 || (size_t)c >= row->n_cells || row->cells[c]->is_null)
		return NULL;
	return row->cells[c]->text;
}

/* A label value: backslash, quote and newline escaped. */
static void
metrics_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static const struct metrics_incident_gauge {
	const char *column, *metric, *help;
} metrics_incident_gauges[] = {
    {"incidents", "opspulse_incidents",
     "Incidents that started in the last 28 days."},
    {"action_items_open", "opspulse_action_items_open",
     "Postmortem action items whose latest record says open."},
    {"action_items_overdue", "opspulse_action_items_overdue",
     "Open postmortem action items due before now."},
};

void
metrics_incidents_render(FILE *f, const struct Opspulse__V1__QueryResult *r)
{
	const size_t n =
	    sizeof(metrics_incident_gauges) / sizeof(*metrics_incident_gauges);

	for (size_t g = 0; g < n; g++) {
		const struct metrics_incident_gauge *m =
		    &metrics_incident_gauges[g];
		int sc = r ? metrics_column(r, "service") : -1;
		int vc = r ? metrics_column(r, m->column) : -1;

		metrics_help(f, m->metric, "gauge", m->help);
		for (size_t i = 0; sc >= 0 && vc >= 0 && i < r->n_rows; i++) {
			const Opspulse__V1__Row *row = r->rows[i];
			if ((size_t)vc >= row->n_cells ||
			    (size_t)sc >= row->n_cells ||
			    row->cells[vc]->is_null)
				continue;
			fprintf(f, "%s{service=\"", m->metric);
			metrics_label(f, row->cells[sc]->text);
			fprintf(f, "\"} %s\n", row->cells[vc]->text);
		}
	}
}

/* One sample of metric for row i, window (NULL: none) and column col;
 * nothing when the value is null. */
static void
metrics_slo_sample(FILE *f, const Opspulse__V1__QueryResult *r, size_t i,
                   const char *metric, const char *window, const char *col)
{
	const char *svc = metrics_cell(r, i, metrics_column(r, "service"));
	const char *obj = metrics_cell(r, i, metrics_column(r, "objective"));
	const char *v = metrics_cell(r, i, metrics_column(r, col));

	if (svc == NULL || obj == NULL || v == NULL)
		return;
	fprintf(f, "%s{service=\"", metric);
	metrics_label(f, svc);
	fputs("\",objective=\"", f);
	metrics_label(f, obj);
	if (window)
		fprintf(f, "\",window=\"%s", window);
	fprintf(f, "\"} %.17g\n", strtod(v, NULL));
}

void
metrics_slo_render(FILE *f, const Opspulse__V1__QueryResult *r)
{
	static const char *const windows[] = {"5m", "30m", "1h", "6h", "3d"};
	char col[32];

	metrics_help(f, "opspulse_slo_budget_remaining", "gauge",
	             "Share of the error budget left (1 untouched, 0 spent, "
	             "below 0 overspent). Window: the last 28 days.");
	for (size_t i = 0; r && i < r->n_rows; i++)
		metrics_slo_sample(f, r, i, "opspulse_slo_budget_remaining",
		                   NULL, "budget_remaining");
	metrics_help(f, "opspulse_slo_burn_rate", "gauge",
	             "Error rate over the window before now divided by the "
	             "error budget (1 - target): 1 spends the budget exactly "
	             "in the SLO period.");
	for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
		snprintf(col, sizeof(col), "burn_rate_%s", windows[w]);
		for (size_t i = 0; r && i < r->n_rows; i++)
			metrics_slo_sample(f, r, i, "opspulse_slo_burn_rate",
			                   windows[w], col);
	}
}
