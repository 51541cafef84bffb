#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_error.h"
#include "op_time.h"
#include "query.h"
#include "report.h"
#include "store.h"

typedef Opspulse__V1__QueryResult result_t;
typedef Opspulse__V1__QueryRequest request_t;

/* The query results a report is made of. */
enum rep_part {
	P_DORA,
	P_DORA_PREV,
	P_TOIL,
	P_TOIL_PREV,
	P_ALERTS,
	P_ALERTS_PREV,
	P_WEEKLY,
	P_SCORECARD,
	P_EOL,
	P_MAINT,
	P_RULES,
	P_TASKS,
	P_CAPACITY,
	P_COUNT
};

static const struct rep_query {
	const char *name, *by;
	int window; /* 0: the window, 1: the previous one, 2: the trend's */
} rep_queries[P_COUNT] = {
    [P_DORA] = {"dora", NULL, 0},
    [P_DORA_PREV] = {"dora", NULL, 1},
    [P_TOIL] = {"toil", NULL, 0},
    [P_TOIL_PREV] = {"toil", NULL, 1},
    [P_ALERTS] = {"alerts", NULL, 0},
    [P_ALERTS_PREV] = {"alerts", NULL, 1},
    [P_WEEKLY] = {"weekly", NULL, 2},
    [P_SCORECARD] = {"scorecard", NULL, 0},
    [P_EOL] = {"eol", NULL, 0},
    [P_MAINT] = {"maintenance", NULL, 0},
    [P_RULES] = {"alerts", "rule", 0},
    [P_TASKS] = {"toil", "task", 0},
    [P_CAPACITY] = {"capacity", NULL, 0},
};

struct rep {
	const request_t *req;
	enum report_format format;
	int64_t since, until, prev_since, trend_since, now;
	result_t *r[P_COUNT];
	FILE *f;
};

/* ---- reading results ------------------------------------------------ */

/* The text of column name in row i, or NULL when null or absent. */
static const char *
rep_text(const result_t *r, size_t i, const char *name)
{
	int c = store_result_column(r, name);

	if (c < 0 || i >= r->n_rows || (size_t)c >= r->rows[i]->n_cells ||
	    r->rows[i]->cells[c]->is_null)
		return NULL;
	return r->rows[i]->cells[c]->text;
}

/* The number in column name of row i; NAN when null or not a number. */
static double
rep_num(const result_t *r, size_t i, const char *name)
{
	const char *t = rep_text(r, i, name);
	char *end;
	double v;

	if (t == NULL || *t == '\0')
		return NAN;
	v = strtod(t, &end);
	return *end == '\0' ? v : NAN;
}

/* The row of r whose service is service, or -1. */
static long
rep_row(const result_t *r, const char *service)
{
	for (size_t i = 0; r && i < r->n_rows; i++) {
		const char *s = rep_text(r, i, "service");
		if (s && strcmp(s, service) == 0)
			return (long)i;
	}
	return -1;
}

/* ---- fetching ------------------------------------------------------- */

/*
 * The parts run on a second connection, beside the others: the scorecard
 * (which computes every indicator again) and the weekly series take about
 * as long as all the rest, so the page takes about half as long when the
 * database has two cores to give it.
 */
static int
rep_beside(int part)
{
	return part == P_SCORECARD || part == P_WEEKLY;
}

struct rep_fetcher {
	struct rep *p;
	struct store *s;
	int beside; /* run the rep_beside parts, or the others */
	int rv;
	char err[512];
};

/* Runs part i of the page into p->r[i]. */
static int
rep_fetch_part(struct rep *p, struct store *s, int i, char *err, size_t errsz)
{
	const struct rep_query *q = &rep_queries[i];
	request_t req;
	char name[16], by[16];

	/* protobuf-c's strings are not const: give it copies. */
	snprintf(name, sizeof(name), "%s", q->name);
	snprintf(by, sizeof(by), "%s", q->by ? q->by : "");
	opspulse__v1__query_request__init(&req);
	req.name = name;
	req.by = by;
	req.services = p->req->services;
	req.n_services = p->req->n_services;
	req.team = p->req->team;
	req.env = p->req->env;
	req.since_us = q->window == 0   ? p->since
	               : q->window == 1 ? p->prev_since
	                                : p->trend_since;
	req.until_us = q->window == 1 ? p->since : p->until;
	store_result_free(p->r[i]); /* from an attempt on another connection */
	p->r[i] = NULL;
	return query_run(s, &req, &p->r[i], err, errsz);
}

static void *
rep_fetch_some(void *arg)
{
	struct rep_fetcher *f = arg;

	f->rv = OP_OK;
	for (int i = 0; i < P_COUNT && f->rv == OP_OK; i++) {
		if (rep_beside(i) == f->beside)
			f->rv = rep_fetch_part(f->p, f->s, i, f->err,
			                       sizeof(f->err));
	}
	return NULL;
}

static int
rep_fetch(struct rep *p, struct store *s, char *err, size_t errsz)
{
	struct rep_fetcher mine = {p, s, 0, OP_OK, ""},
	                   other = {p, NULL, 1, OP_OK, ""};
	pthread_t t;

	/* Without a second connection or thread, one after the other. */
	if (store_alloc_like(&other.s, s) != OP_OK ||
	    pthread_create(&t, NULL, rep_fetch_some, &other) != 0) {
		store_free(other.s);
		for (int i = 0; i < P_COUNT; i++) {
			int rv = rep_fetch_part(p, s, i, err, errsz);

			if (rv != OP_OK)
				return rv;
		}
		return OP_OK;
	}
	rep_fetch_some(&mine);
	pthread_join(t, NULL);
	store_free(other.s);
	/* The second connection may be refused (max_connections) where the
	 * first works: its parts then run on the first. */
	if (mine.rv == OP_OK && other.rv != OP_OK) {
		other.s = s;
		rep_fetch_some(&other);
	}
	if (mine.rv != OP_OK || other.rv != OP_OK) {
		struct rep_fetcher *bad = mine.rv != OP_OK ? &mine : &other;

		snprintf(err, errsz, "%s", bad->err);
		return bad->rv;
	}
	return OP_OK;
}

/* ---- formatting ----------------------------------------------------- */

enum rep_unit { U_COUNT, U_NUM, U_PCT, U_HOURS, U_MINUTES };

static void
rep_put(struct rep *p, const char *s)
{
	fputs(s, p->f);
}

/* s, escaped for HTML text and attributes, or for a Markdown table
 * cell. */
static void
rep_esc(struct rep *p, const char *s)
{
	for (; s && *s; s++) {
		if (p->format == REPORT_MARKDOWN) {
			if (*s == '|')
				rep_put(p, "\\|");
			else if (*s == '\n' || *s == '\r')
				rep_put(p, " ");
			else
				fputc(*s, p->f);
			continue;
		}
		switch (*s) {
		case '&':
			rep_put(p, "&amp;");
			break;
		case '<':
			rep_put(p, "&lt;");
			break;
		case '>':
			rep_put(p, "&gt;");
			break;
		case '"':
			rep_put(p, "&quot;");
			break;
		case '\'':
			rep_put(p, "&#39;");
			break;
		default:
			fputc(*s, p->f);
		}
	}
}

/* A value in its unit: "12", "3.5", "12.5 %", "7.0 h", "2.1 d", "14 min". */
static void
rep_value(char *buf, size_t size, double v, enum rep_unit u)
{
	switch (u) {
	case U_COUNT:
		snprintf(buf, size, "%.0f", v);
		break;
	case U_NUM:
		snprintf(buf, size, fabs(v) >= 100 ? "%.0f" : "%.1f", v);
		break;
	case U_PCT:
		snprintf(buf, size, "%.1f %%", v * 100);
		break;
	case U_HOURS:
		if (fabs(v) >= 48)
			snprintf(buf, size, "%.1f d", v / 24);
		else
			snprintf(buf, size, "%.1f h", v);
		break;
	case U_MINUTES:
		snprintf(buf, size, "%.0f min", v);
		break;
	}
}

static void
rep_date(char *buf, size_t size, int64_t us)
{
	char t[OP_TIME_BUFSZ];

	op_time_format(us, t, sizeof(t));
	snprintf(buf, size, "%.10s %.5s UTC", t, t + 11);
}

/* ---- headline numbers ------------------------------------------------ */

enum rep_src { S_DORA, S_TOIL, S_ALERTS };

static const struct rep_metric {
	const char *label;
	enum rep_src src;
	const char *col;
	int better; /* +1: higher is better; -1: lower is better */
	enum rep_unit unit;
	const char *count;   /* column that is 0 when nothing was recorded */
	const char *nothing; /* what to say then */
} rep_metrics[] = {
    {"Deploys / week", S_DORA, "deploys_per_week", 1, U_NUM, "deploys",
     "no deploys"},
    {"Lead time p50", S_DORA, "lead_time_p50_hours", -1, U_HOURS, "deploys",
     "no deploys"},
    {"Change failure", S_DORA, "change_failure_rate", -1, U_PCT, "deploys",
     "no deploys"},
    {"Recovery p50", S_DORA, "recovery_time_p50_hours", -1, U_HOURS, "deploys",
     "no deploys"},
    {"Toil", S_TOIL, "toil_hours", -1, U_HOURS, "entries", "no toil"},
    {"Bus factor", S_TOIL, "bus_factor", 1, U_COUNT, "entries", "no toil"},
    {"Alerts", S_ALERTS, "fired", -1, U_COUNT, "fired", "no alerts"},
    {"Noise", S_ALERTS, "noise_share", -1, U_PCT, "fired", "no alerts"},
    {"MTTR p50", S_ALERTS, "mttr_p50_minutes", -1, U_MINUTES, "fired",
     "no alerts"},
};
#define REP_NMETRICS (sizeof(rep_metrics) / sizeof(rep_metrics[0]))

/* The cell of metric m for service in the window (prev = 0) or the
 * previous one. */
static double
rep_metric(const struct rep *p, const struct rep_metric *m, const char *service,
           int prev, int *recorded)
{
	static const enum rep_part parts[3][2] = {{P_DORA, P_DORA_PREV},
	                                          {P_TOIL, P_TOIL_PREV},
	                                          {P_ALERTS, P_ALERTS_PREV}};
	const result_t *r = p->r[parts[m->src][prev]];
	long i = rep_row(r, service);
	double n;

	if (i < 0) {
		*recorded = 0;
		return NAN;
	}
	n = rep_num(r, (size_t)i, m->count);
	*recorded = !isnan(n) && n > 0;
	return rep_num(r, (size_t)i, m->col);
}

/* "▲ 2.0" / "▼ 12.5 %" / "= 0": the change against the previous window;
 * *worse is set when it goes the wrong way. */
static int
rep_change(char *buf, size_t size, double cur, double prev,
           const struct rep_metric *m, int *worse)
{
	char v[32];
	double d = cur - prev;

	char a[32], b[32];

	if (isnan(cur) || isnan(prev))
		return 0;
	/* Equal as shown is "same": 8 min against 8 min is no change. */
	rep_value(a, sizeof(a), cur, m->unit);
	rep_value(b, sizeof(b), prev, m->unit);
	if (strcmp(a, b) == 0) {
		snprintf(buf, size, "= same");
		*worse = 0;
		return 1;
	}
	if (m->unit == U_PCT) /* points, not a percentage of the value */
		snprintf(v, sizeof(v), "%.1f pp", fabs(d) * 100);
	else
		rep_value(v, sizeof(v), fabs(d), m->unit);
	snprintf(buf, size, "%s %s", d > 0 ? "\u25b2" : "\u25bc", v);
	*worse = (d > 0) != (m->better > 0);
	return 1;
}

static const char *
rep_team(const struct rep *p, const char *service)
{
	long i = rep_row(p->r[P_TOIL], service);
	return i < 0 ? NULL : rep_text(p->r[P_TOIL], (size_t)i, "team");
}

static void
rep_headline_cell(struct rep *p, const struct rep_metric *m,
                  const char *service)
{
	char v[32], ch[48];
	int recorded, prev_recorded, worse = 0, changed;
	double cur = rep_metric(p, m, service, 0, &recorded);
	double prev = rep_metric(p, m, service, 1, &prev_recorded);
	int md = p->format == REPORT_MARKDOWN;

	if (!recorded) {
		fprintf(p->f, md ? " %s |" : "<td class=\"none\">%s</td>",
		        m->nothing);
		return;
	}
	if (isnan(cur))
		snprintf(v, sizeof(v), "\u2013");
	else
		rep_value(v, sizeof(v), cur, m->unit);
	changed =
	    prev_recorded && rep_change(ch, sizeof(ch), cur, prev, m, &worse);
	if (md) {
		fprintf(p->f, " %s", v);
		if (changed)
			fprintf(p->f, " (%s%s)", ch, worse ? ", worse" : "");
		rep_put(p, " |");
		return;
	}
	fprintf(p->f, "<td><span class=\"v\">%s</span>", v);
	if (changed)
		fprintf(p->f, "<br><span class=\"d %s\">%s</span>",
		        worse ? "worse" : "better", ch);
	rep_put(p, "</td>");
}

static void
rep_headlines(struct rep *p)
{
	const result_t *d = p->r[P_DORA];
	int md = p->format == REPORT_MARKDOWN;

	rep_put(p,
	        md ? "\n## Headline numbers\n\n"
	           : "<section id=\"headlines\"><h2>Headline numbers</h2>\n");
	if (d->n_rows == 0) {
		rep_put(p, md ? "No services have recorded events.\n"
		              : "<p class=\"none\">No services have recorded "
		                "events.</p></section>\n");
		return;
	}
	rep_put(p, md ? "Change against the previous window in brackets.\n\n"
	                "| service | team |"
	              : "<p class=\"note\">Under each value: the change "
	                "against the previous window (\u25b2 up, \u25bc "
	                "down); <b>bold</b> means worse.</p>\n"
	                "<table class=\"headlines\"><thead><tr><th>Service</"
	                "th><th>Team</th>");
	for (size_t m = 0; m < REP_NMETRICS; m++)
		fprintf(p->f, md ? " %s |" : "<th>%s</th>",
		        rep_metrics[m].label);
	rep_put(p, md ? "\n|---|---|" : "</tr></thead><tbody>\n");
	if (md)
		for (size_t m = 0; m < REP_NMETRICS; m++)
			rep_put(p, "---:|");
	rep_put(p, md ? "\n" : "");
	for (size_t i = 0; i < d->n_rows; i++) {
		const char *svc = rep_text(d, i, "service");
		const char *team = rep_team(p, svc);

		rep_put(p, md ? "| " : "<tr><th>");
		rep_esc(p, svc);
		rep_put(p, md ? " | " : "</th><td>");
		rep_esc(p, team ? team : "\u2013");
		rep_put(p, md ? " |" : "</td>");
		for (size_t m = 0; m < REP_NMETRICS; m++)
			rep_headline_cell(p, &rep_metrics[m], svc);
		rep_put(p, md ? "\n" : "</tr>\n");
	}
	rep_put(p, md ? "" : "</tbody></table></section>\n");
}

/* ---- trends ---------------------------------------------------------- */

static const struct rep_series {
	const char *label, *col, *nothing;
	enum rep_unit unit;
	int is_rate; /* NULL in a week without events, not 0 */
} rep_series[] = {
    {"Deploys", "deploys", "no deploys", U_COUNT, 0},
    {"Change failure", "change_failure_rate", "no deploys", U_PCT, 1},
    {"Toil hours", "toil_hours", "no toil", U_NUM, 0},
    {"Alerts", "alerts", "no alerts", U_COUNT, 0},
    {"Noise", "noise_share", "no alerts", U_PCT, 1},
};
#define REP_NSERIES (sizeof(rep_series) / sizeof(rep_series[0]))

#define SPARK_W   132
#define SPARK_H   34
#define SPARK_PAD 4

/* The top of a chart's scale: the largest value, at least 100 % for
 * rates, and positive. */
static double
rep_spark_max(const struct rep_series *s, const double *v, size_t n)
{
	double max = 0;

	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]) && v[i] > max)
			max = v[i];
	if (s->unit == U_PCT && max < 1)
		max = 1; /* rates on a 0-100 % scale */
	return max > 0 ? max : 1;
}

/* Where week i of n, of value v on a scale up to max, sits in the SVG. */
static void
rep_spark_point(size_t i, size_t n, double v, double max, double *x, double *y)
{
	*x = SPARK_PAD +
	     (n > 1 ? (double)i * (SPARK_W - 2 * SPARK_PAD) / (double)(n - 1)
	            : (SPARK_W - 2 * SPARK_PAD) / 2.0);
	*y = SPARK_H - SPARK_PAD - v / max * (SPARK_H - 2 * SPARK_PAD);
}

/* One chart: n weekly values (NAN: no data that week). */
static void
rep_spark_svg(struct rep *p, const struct rep_series *s, const double *v,
              size_t n)
{
	double max = rep_spark_max(s, v, n), x, y;
	size_t points = 0;
	int open = 0;

	for (size_t i = 0; i < n; i++)
		points += !isnan(v[i]);
	fprintf(p->f,
	        "<svg class=\"spark\" width=\"%d\" height=\"%d\" viewBox=\"0 0 "
	        "%d %d\" role=\"img\" data-metric=\"%s\" data-weeks=\"%zu\" "
	        "data-points=\"%zu\"><title>",
	        SPARK_W, SPARK_H, SPARK_W, SPARK_H, s->col, n, points);
	rep_esc(p, s->label);
	fprintf(p->f,
	        ", %zu weeks</title><line class=\"base\" x1=\"%d\" "
	        "y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
	        n, SPARK_PAD, SPARK_H - SPARK_PAD, SPARK_W - SPARK_PAD,
	        SPARK_H - SPARK_PAD);
	/* The line, broken where a week has no value. */
	for (size_t i = 0; i < n; i++) {
		if (isnan(v[i])) {
			if (open)
				rep_put(p, "\"/>");
			open = 0;
			continue;
		}
		rep_spark_point(i, n, v[i], max, &x, &y);
		fprintf(p->f, "%s%.1f,%.1f",
		        open ? " " : "<polyline class=\"line\" points=\"", x,
		        y);
		open = 1;
	}
	if (open)
		rep_put(p, "\"/>");
	for (size_t i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		rep_spark_point(i, n, v[i], max, &x, &y);
		fprintf(
		    p->f,
		    "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"1.8\"/>",
		    x, y);
	}
	rep_put(p, "</svg>");
}

/* The same as text: one block character per week, "·" without data. */
static void
rep_spark_text(struct rep *p, const struct rep_series *s, const double *v,
               size_t n)
{
	static const char *const blocks[] = {"\u2581", "\u2582", "\u2583",
	                                     "\u2584", "\u2585", "\u2586",
	                                     "\u2587", "\u2588"};
	double max = rep_spark_max(s, v, n);

	for (size_t i = 0; i < n; i++) {
		int b = isnan(v[i]) ? 0 : (int)lround(v[i] / max * 7);
		rep_put(p, isnan(v[i]) ? "\u00b7" : blocks[b < 0 ? 0 : b]);
	}
}

static void
rep_trend_cell(struct rep *p, const struct rep_series *s, size_t first,
               size_t n)
{
	const result_t *w = p->r[P_WEEKLY];
	double *v = calloc(n ? n : 1, sizeof(*v));
	int any = 0, md = p->format == REPORT_MARKDOWN;
	char last[32];

	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		v[i] = rep_num(w, first + i, s->col);
		if (!isnan(v[i]) && (s->is_rate || v[i] > 0))
			any = 1;
	}
	if (!any) {
		fprintf(p->f, md ? " %s |" : "<td class=\"none\">%s</td>",
		        s->nothing);
		free(v);
		return;
	}
	last[0] = '\0';
	for (size_t i = n; i-- > 0;) {
		if (!isnan(v[i])) {
			rep_value(last, sizeof(last), v[i], s->unit);
			break;
		}
	}
	rep_put(p, md ? " " : "<td>");
	if (md)
		rep_spark_text(p, s, v, n);
	else
		rep_spark_svg(p, s, v, n);
	fprintf(p->f, md ? " %s |" : "<span class=\"last\">%s</span></td>",
	        last);
	free(v);
}

static void
rep_trends(struct rep *p)
{
	const result_t *w = p->r[P_WEEKLY];
	int md = p->format == REPORT_MARKDOWN;
	char from[40];
	size_t i = 0;

	rep_date(from, sizeof(from), p->trend_since);
	fprintf(p->f,
	        md ? "\n## Trends\n\nOne point per week from %s; the last "
	             "value at the end of each line.\n\n"
	           : "<section id=\"trends\"><h2>Trends</h2>\n<p "
	             "class=\"note\">One point per week from %s; the last "
	             "week's value beside each chart.</p>\n",
	        from);
	if (w->n_rows == 0) {
		rep_put(p, md ? "No services have recorded events.\n"
		              : "<p class=\"none\">No services have recorded "
		                "events.</p></section>\n");
		return;
	}
	rep_put(p, md ? "| service |"
	              : "<table class=\"trends\"><thead><tr><th>"
	                "Service</th>");
	for (size_t s = 0; s < REP_NSERIES; s++)
		fprintf(p->f, md ? " %s |" : "<th>%s</th>",
		        rep_series[s].label);
	rep_put(p, md ? "\n|---|" : "</tr></thead><tbody>\n");
	if (md)
		for (size_t s = 0; s < REP_NSERIES; s++)
			rep_put(p, "---|");
	rep_put(p, md ? "\n" : "");
	while (i < w->n_rows) {
		const char *svc = rep_text(w, i, "service");
		size_t n = 0;

		while (i + n < w->n_rows && svc &&
		       strcmp(rep_text(w, i + n, "service"), svc) == 0)
			n++;
		if (n == 0) { /* a row without a service: skip it */
			i++;
			continue;
		}
		rep_put(p, md ? "| " : "<tr><th>");
		rep_esc(p, svc);
		rep_put(p, md ? " |" : "</th>");
		for (size_t s = 0; s < REP_NSERIES; s++)
			rep_trend_cell(p, &rep_series[s], i, n);
		rep_put(p, md ? "\n" : "</tr>\n");
		i += n;
	}
	rep_put(p, md ? "" : "</tbody></table></section>\n");
}

/* ---- scorecard ------------------------------------------------------- */

static const char *const rep_areas[] = {
    "delivery",    "toil",     "alerting",        "incident_response",
    "maintenance", "capacity", "knowledge_spread"};
#define REP_NAREAS (sizeof(rep_areas) / sizeof(rep_areas[0]))

static void
rep_scorecard(struct rep *p)
{
	const result_t *sc = p->r[P_SCORECARD], *d = p->r[P_DORA];
	static const char *const dots[] = {"", "\u25cf\u25cb\u25cb",
	                                   "\u25cf\u25cf\u25cb",
	                                   "\u25cf\u25cf\u25cf"};
	int md = p->format == REPORT_MARKDOWN;

	rep_put(p, md ? "\n## Scorecard\n\nLevel 1: not measured (or past "
	                "end of life), 2: measured, 3: meets the target.\n\n"
	              : "<section id=\"scorecard\"><h2>Scorecard</h2>\n<p "
	                "class=\"note\">\u25cf\u25cb\u25cb 1: not measured "
	                "(or past end of life) \u00b7 \u25cf\u25cf\u25cb 2: "
	                "measured \u00b7 \u25cf\u25cf\u25cf 3: meets the "
	                "target. Hover a cell for the reason.</p>\n");
	if (d->n_rows == 0) {
		rep_put(p, md ? "No services have recorded events.\n"
		              : "<p class=\"none\">No services have recorded "
		                "events.</p></section>\n");
		return;
	}
	rep_put(p, md ? "| service |"
	              : "<table class=\"grid\"><thead><tr><th>"
	                "Service</th>");
	for (size_t a = 0; a < REP_NAREAS; a++) {
		rep_put(p, md ? " " : "<th>");
		for (const char *c = rep_areas[a]; *c; c++)
			fputc(*c == '_' ? ' ' : *c, p->f);
		rep_put(p, md ? " |" : "</th>");
	}
	rep_put(p, md ? "\n|---|" : "</tr></thead><tbody>\n");
	if (md)
		for (size_t a = 0; a < REP_NAREAS; a++)
			rep_put(p, ":---:|");
	rep_put(p, md ? "\n" : "");
	for (size_t i = 0; i < d->n_rows; i++) {
		const char *svc = rep_text(d, i, "service");

		rep_put(p, md ? "| " : "<tr><th>");
		rep_esc(p, svc);
		rep_put(p, md ? " |" : "</th>");
		for (size_t a = 0; a < REP_NAREAS; a++) {
			const char *lv = NULL, *why = NULL;
			int level;

			for (size_t j = 0; j < sc->n_rows; j++) {
				const char *s = rep_text(sc, j, "service");
				const char *ar = rep_text(sc, j, "area");
				if (s && ar && strcmp(s, svc) == 0 &&
				    strcmp(ar, rep_areas[a]) == 0) {
					lv = rep_text(sc, j, "level");
					why = rep_text(sc, j, "reason");
					break;
				}
			}
			level = lv ? atoi(lv) : 0;
			if (level < 1 || level > 3) {
				rep_put(p,
				        md ? " \u2013 |"
				           : "<td class=\"none\">\u2013</td>");
				continue;
			}
			if (md) {
				fprintf(p->f, " %d |", level);
				continue;
			}
			fprintf(p->f, "<td class=\"l%d\" title=\"", level);
			rep_esc(p, why);
			fprintf(p->f, "\">%s <span class=\"n\">%d</span></td>",
			        dots[level], level);
		}
		rep_put(p, md ? "\n" : "</tr>\n");
	}
	rep_put(p, md ? "" : "</tbody></table></section>\n");
}

/* ---- actions --------------------------------------------------------- */

/* One item of the actions list; fields are NULL-terminated strings,
 * escaped here. */
static void
rep_item(struct rep *p, const char *const *parts, size_t n)
{
	int md = p->format == REPORT_MARKDOWN;

	rep_put(p, md ? "- " : "<li>");
	for (size_t i = 0; i < n; i++) {
		if (parts[i] == NULL)
			continue;
		if (i % 2 == 0) { /* even parts: data, shown strong */
			rep_put(p, md ? "**" : "<b>");
			rep_esc(p, parts[i]);
			rep_put(p, md ? "**" : "</b>");
		} else {
			rep_esc(p, parts[i]);
		}
	}
	rep_put(p, md ? "\n" : "</li>\n");
}

static void
rep_action_head(struct rep *p, const char *id, const char *title)
{
	if (p->format == REPORT_MARKDOWN)
		fprintf(p->f, "\n### %s\n\n", title);
	else
		fprintf(p->f,
		        "<div class=\"action\" id=\"%s\"><h3>%s</h3><ul>\n", id,
		        title);
}

static void
rep_action_end(struct rep *p, size_t items, const char *nothing)
{
	int md = p->format == REPORT_MARKDOWN;

	if (items == 0)
		fprintf(p->f, md ? "%s\n" : "<li class=\"none\">%s</li>\n",
		        nothing);
	rep_put(p, md ? "" : "</ul></div>\n");
}

static void
rep_eol_actions(struct rep *p)
{
	const result_t *r = p->r[P_EOL];
	size_t n = 0;
	char days[48];

	rep_action_head(p, "act-eol",
	                "Components past end of life or due within 90 days");
	for (size_t i = 0; i < r->n_rows; i++) {
		const char *st = rep_text(r, i, "status");
		const char *d = rep_text(r, i, "days_to_eol");
		if (st == NULL ||
		    (strcmp(st, "past_eol") != 0 && strcmp(st, "urgent") != 0))
			continue;
		if (d == NULL)
			snprintf(days, sizeof(days), "%s",
			         strcmp(st, "past_eol") == 0
			             ? "past end of life"
			             : "end of life soon");
		else if (atoi(d) < 0)
			snprintf(days, sizeof(days), "%d days past end of life",
			         -atoi(d));
		else
			snprintf(days, sizeof(days), "end of life in %d days",
			         atoi(d));
		const char *date = rep_text(r, i, "eol_date");
		const char *parts[] = {rep_text(r, i, "service"),
		                       " on ",
		                       rep_text(r, i, "host"),
		                       ": ",
		                       rep_text(r, i, "component"),
		                       " ",
		                       rep_text(r, i, "version"),
		                       " \u2013 ",
		                       days,
		                       date ? " (" : NULL,
		                       date,
		                       date ? ")" : NULL};
		rep_item(p, parts, sizeof(parts) / sizeof(parts[0]));
		n++;
	}
	rep_action_end(p, n,
	               "Nothing past end of life or within 90 days of it.");
}

static void
rep_maint_actions(struct rep *p)
{
	const result_t *r = p->r[P_MAINT];
	size_t n = 0;

	rep_action_head(p, "act-maintenance", "Overdue maintenance");
	for (size_t i = 0; i < r->n_rows; i++) {
		const char *o = rep_text(r, i, "overdue");
		if (o == NULL || o[0] != 't')
			continue;
		const char *at = rep_text(r, i, "due_at");
		char due[16];
		snprintf(due, sizeof(due), "%.10s", at ? at : "?");
		const char *parts[] = {rep_text(r, i, "service"),
		                       ": ",
		                       rep_text(r, i, "title"),
		                       " (",
		                       rep_text(r, i, "component"),
		                       "), due ",
		                       due,
		                       NULL};
		rep_item(p, parts, 7);
		n++;
	}
	rep_action_end(p, n, "No maintenance is overdue.");
}

#define REP_TOP 5

struct rep_rank {
	double v;
	size_t i;
};

static int
rep_rank_cmp(const void *a, const void *b)
{
	const struct rep_rank *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? 1 : -1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void
rep_rule_actions(struct rep *p)
{
	const result_t *r = p->r[P_RULES];
	struct rep_rank *rank =
	    calloc(r->n_rows ? r->n_rows : 1, sizeof(*rank));
	size_t n = 0;

	/* The rules with the most noise episodes (fired x noise share). */
	for (size_t i = 0; rank && i < r->n_rows; i++) {
		double v =
		    rep_num(r, i, "fired") * rep_num(r, i, "noise_share");
		if (!isnan(v) && v >= 0.5)
			rank[n++] = (struct rep_rank){v, i};
	}
	qsort(rank, n, sizeof(*rank), rep_rank_cmp);
	if (n > REP_TOP)
		n = REP_TOP;
	rep_action_head(p, "act-noise", "Noisiest alert rules");
	for (size_t j = 0; j < n; j++) {
		size_t i = rank[j].i;
		char fired[96];
		snprintf(fired, sizeof(fired),
		         " fired %.0f times; %.0f %% resolved by themselves "
		         "within the noise threshold",
		         rep_num(r, i, "fired"),
		         rep_num(r, i, "noise_share") * 100);
		const char *parts[] = {rep_text(r, i, "alertname"),
		                       " (",
		                       rep_text(r, i, "service"),
		                       "):",
		                       NULL,
		                       fired};
		rep_item(p, parts, 6);
	}
	free(rank);
	rep_action_end(p, n, "No alert rule produced noise in this window.");
}

static void
rep_task_actions(struct rep *p)
{
	const result_t *r = p->r[P_TASKS];
	size_t n = 0;

	rep_action_head(p, "act-automation", "Top automation candidates");
	for (size_t i = 0; i < r->n_rows && n < REP_TOP; i++, n++) {
		char what[96];
		double people = rep_num(r, i, "operators");
		snprintf(what, sizeof(what), ": %.1f h in %.0f runs by %.0f %s",
		         rep_num(r, i, "total_hours"), rep_num(r, i, "count"),
		         people, people == 1 ? "person" : "people");
		const char *parts[] = {rep_text(r, i, "task"),
		                       " (",
		                       rep_text(r, i, "service"),
		                       ")",
		                       NULL,
		                       what};
		rep_item(p, parts, 6);
	}
	rep_action_end(p, n, "No toil recorded in this window.");
}

static void
rep_bus_actions(struct rep *p)
{
	const result_t *r = p->r[P_TOIL];
	size_t n = 0;

	rep_action_head(p, "act-bus",
	                "Bus factor 1: toil carried by one person");
	for (size_t i = 0; i < r->n_rows; i++) {
		char share[80];
		if (rep_num(r, i, "bus_factor") != 1)
			continue;
		snprintf(share, sizeof(share),
		         ": one person did %.0f %% of %.1f toil hours",
		         rep_num(r, i, "top_operator_share") * 100,
		         rep_num(r, i, "toil_hours"));
		const char *parts[] = {rep_text(r, i, "service"), share};
		rep_item(p, parts, 2);
		n++;
	}
	rep_action_end(p, n, "No service depends on a single person's toil.");
}

static void
rep_disk_actions(struct rep *p)
{
	const result_t *r = p->r[P_CAPACITY];
	size_t n = 0;

	rep_action_head(p, "act-disk", "Disks filling within 30 days");
	for (size_t i = 0; i < r->n_rows; i++) {
		double days = rep_num(r, i, "disk_days_to_full");
		char when[96];
		if (isnan(days) || days > 30)
			continue;
		snprintf(when, sizeof(when),
		         " is %.0f %% full, full in %.0f days",
		         rep_num(r, i, "disk_used_pct"), days);
		const char *parts[] = {rep_text(r, i, "service"), " on ",
		                       rep_text(r, i, "host"),    ": ",
		                       rep_text(r, i, "mount"),   when};
		rep_item(p, parts, 6);
		n++;
	}
	rep_action_end(p, n, "No disk is on course to fill within 30 days.");
}

static void
rep_actions(struct rep *p)
{
	rep_put(p, p->format == REPORT_MARKDOWN
	               ? "\n## Actions\n"
	               : "<section id=\"actions\"><h2>Actions</h2>\n");
	rep_eol_actions(p);
	rep_maint_actions(p);
	rep_rule_actions(p);
	rep_task_actions(p);
	rep_bus_actions(p);
	rep_disk_actions(p);
	rep_put(p, p->format == REPORT_MARKDOWN ? "" : "</section>\n");
}

/* ---- page ------------------------------------------------------------ */

static const char rep_css[] =
    "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'DejaVu Sans',sans-serif;color:#1b1f24;margin:24px auto;max-width:"
    "1200px;padding:0 16px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 6px;"
    "border-bottom:2px solid #1b1f24;padding-bottom:2px}h3{font-size:14px;"
    "margin:12px 0 4px}"
    ".meta{color:#444;margin:0}.note{color:#555;font-size:12px;margin:2px 0 "
    "6px}"
    "table{border-collapse:collapse;width:100%;font-variant-numeric:"
    "tabular-nums}th,td{border:1px solid #bbb;padding:3px 6px;text-align:"
    "right;vertical-align:top}thead th{background:#eceff3;text-align:"
    "center;font-size:12px}tbody th{text-align:left;white-space:nowrap}"
    "td.none,li.none,p.none{color:#666;font-style:italic}"
    ".d{font-size:12px}.better{color:#1a7f37}.worse{color:#b42318;"
    "font-weight:bold;text-decoration:underline dotted}"
    ".trends td{text-align:left;white-space:nowrap}.spark{vertical-align:"
    "middle}.spark .line{fill:none;stroke:#1f4e99;stroke-width:1.6}.spark "
    ".pt{fill:#1f4e99}.spark .base{stroke:#ccc;stroke-width:1}.last{font-"
    "size:12px;margin-left:4px}"
    ".grid td{text-align:center;white-space:nowrap}.grid .l1{background:"
    "#fde2e0}.grid .l2{background:#fff4cc}.grid .l3{background:#dcf5e3}"
    ".grid .n{font-size:11px;color:#333}"
    ".action ul{margin:0;padding-left:20px}"
    "footer{margin-top:24px;color:#666;font-size:12px}"
    "@media print{@page{size:A4 landscape;margin:12mm}body{margin:0;"
    "max-width:none;font-size:11px}section{break-inside:avoid-page}"
    "tr{break-inside:avoid}thead{display:table-header-group}"
    ".grid .l1,.grid .l2,.grid .l3,thead th{print-color-adjust:exact;"
    "-webkit-print-color-adjust:exact}}";

static void
rep_scope(struct rep *p)
{
	const result_t *d = p->r[P_DORA];
	int md = p->format == REPORT_MARKDOWN;
	const request_t *q = p->req;

	rep_put(p, md ? "Services: " : "<p class=\"meta\">Services: ");
	if (d->n_rows == 0)
		rep_put(p, "none recorded");
	for (size_t i = 0; i < d->n_rows; i++) {
		if (i)
			rep_put(p, ", ");
		if (i == 40 && d->n_rows > 50) {
			fprintf(p->f, "and %zu more", d->n_rows - i);
			break;
		}
		rep_esc(p, rep_text(d, i, "service"));
	}
	fprintf(p->f, " (%zu)", d->n_rows);
	if (q->team && *q->team) {
		rep_put(p, "; team ");
		rep_esc(p, q->team);
	}
	rep_put(p, "; environment ");
	rep_esc(p, q->env && *q->env ? q->env : "production");
	rep_put(p, md ? ".\n" : ".</p>\n");
}

static void
rep_page(struct rep *p)
{
	char since[40], until[40], prev[40], now[40];
	int md = p->format == REPORT_MARKDOWN;
	double days = (double)(p->until - p->since) / (double)OP_US_PER_DAY;

	rep_date(since, sizeof(since), p->since);
	rep_date(until, sizeof(until), p->until);
	rep_date(prev, sizeof(prev), p->prev_since);
	rep_date(now, sizeof(now), p->now);
	if (!md)
		fprintf(p->f,
		        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
		        "charset=\"utf-8\"><meta name=\"viewport\" "
		        "content=\"width=device-width\"><title>OpsPulse "
		        "review, %.10s to %.10s</title><style>%s</style>"
		        "</head><body>\n<header><h1>OpsPulse weekly review"
		        "</h1>\n",
		        since, until, rep_css);
	else
		rep_put(p, "# OpsPulse weekly review\n\n");
	fprintf(p->f,
	        md ? "Window: %s to %s (%.1f days); compared with %s to %s.  \n"
	           : "<p class=\"meta\">Window: <b>%s</b> to <b>%s</b> (%.1f "
	             "days); compared with %s to %s.</p>\n",
	        since, until, days, prev, since);
	rep_scope(p);
	fprintf(p->f,
	        md ? "Generated %s.\n"
	           : "<p class=\"meta\">Generated %s."
	             "</p></header>\n",
	        now);
	rep_headlines(p);
	rep_trends(p);
	rep_scorecard(p);
	rep_actions(p);
	if (!md)
		rep_put(p,
		        "<footer>OpsPulse \u00b7 definitions: SPEC \u00a74 "
		        "\u00b7 every number is also available as "
		        "<code>opspulse dora|toil|alerts|eol|maintenance|"
		        "capacity|scorecard</code></footer>\n</body></html>\n");
}

int
report_format_parse(const char *name, enum report_format *f)
{
	if (name == NULL || *name == '\0' || strcmp(name, "html") == 0)
		*f = REPORT_HTML;
	else if (strcmp(name, "markdown") == 0 || strcmp(name, "md") == 0)
		*f = REPORT_MARKDOWN;
	else
		return OP_EINVAL;
	return OP_OK;
}

int
report_render(struct store *s, const request_t *req, enum report_format format,
              char **out, size_t *len, char *err, size_t errsz)
{
	struct rep p = {.req = req, .format = format};
	int64_t trend = (int64_t)REPORT_TREND_WEEKS * 7 * OP_US_PER_DAY;
	int rv;

	p.now = op_time_now_us();
	p.until = req->until_us ? req->until_us : p.now;
	p.since =
	    req->since_us ? req->since_us : p.until - QUERY_DEFAULT_WINDOW_US;
	if (p.since >= p.until) {
		snprintf(err, errsz,
		         "the window is empty: since must be before until");
		return OP_EINVAL;
	}
	p.prev_since = p.since - (p.until - p.since);
	p.trend_since = p.until - p.since > trend ? p.since : p.until - trend;
	*out = NULL;
	if ((rv = rep_fetch(&p, s, err, errsz)) == OP_OK) {
		if ((p.f = open_memstream(out, len)) == NULL) {
			rv = OP_ENOMEM;
		} else {
			rep_page(&p);
			if (fclose(p.f) != 0)
				rv = OP_ENOMEM;
		}
		if (rv != OP_OK)
			snprintf(err, errsz,
			         "out of memory rendering the report");
	}
	for (int i = 0; i < P_COUNT; i++)
		store_result_free(p.r[i]);
	if (rv != OP_OK) {
		free(*out);
		*out = NULL;
	}
	return rv;
}
