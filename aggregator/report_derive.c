/*
 * Values the report derives from its query results: cells by column name,
 * numbers in their units, changes against the previous window, chart
 * scales.  Nothing here decides what appears; SQL does.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_time.h"
#include "report_int.h"
#include "store.h"

const char *
rep_text(const rep_result *r, size_t i, const char *name)
{
	int c = store_result_column(r, name);

	if (c < 0 || i >= r->n_rows || (size_t)c >= r->rows[i]->n_cells ||
	    r->rows[i]->cells[c]->is_null)
		return NULL;
	return r->rows[i]->cells[c]->text;
}

double
rep_num(const rep_result *r, size_t i, const char *name)
{
	const char *t = rep_text(r, i, name);
	char *end;
	double v;

	if (t == NULL || *t == '\0')
		return NAN;
	v = strtod(t, &end);
	return *end == '\0' ? v : NAN;
}

long
rep_row(const rep_result *r, const char *service)
{
	for (size_t i = 0; r && service && i < r->n_rows; i++) {
		const char *s = rep_text(r, i, "service");
		if (s && strcmp(s, service) == 0)
			return (long)i;
	}
	return -1;
}

/* Hours as "7.0 h", or as days from 48 h on. */
static void
rep_hours(char *buf, size_t size, double v)
{
	if (fabs(v) >= 48)
		snprintf(buf, size, "%.1f d", v / 24);
	else
		snprintf(buf, size, "%.1f h", v);
}

void
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
		rep_hours(buf, size, v);
		break;
	case U_MINUTES:
		snprintf(buf, size, "%.0f min", v);
		break;
	case U_RATE:
		snprintf(buf, size, "%.2f %%", v * 100);
		break;
	case U_MS:
		snprintf(buf, size, fabs(v) >= 100 ? "%.0f ms" : "%.1f ms", v);
		break;
	}
}

void
rep_date(char *buf, size_t size, int64_t us)
{
	char t[OP_TIME_BUFSZ];

	op_time_format(us, t, sizeof(t));
	snprintf(buf, size, "%.10s %.5s UTC", t, t + 11);
}

double
rep_metric(const struct rep *p, const struct rep_metric *m, const char *service,
           int prev, int *recorded)
{
	static const enum rep_part parts[4][2] = {{P_DORA, P_DORA_PREV},
	                                          {P_TOIL, P_TOIL_PREV},
	                                          {P_ALERTS, P_ALERTS_PREV},
	                                          {P_HEALTH, P_HEALTH_PREV}};
	const rep_result *r = p->r[parts[m->src][prev]];
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

int
rep_change(char *buf, size_t size, double cur, double prev,
           const struct rep_metric *m, int *worse)
{
	char v[32], a[32], b[32];
	double d = cur - prev;

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
	else if (m->unit == U_RATE)
		snprintf(v, sizeof(v), "%.2f pp", fabs(d) * 100);
	else
		rep_value(v, sizeof(v), fabs(d), m->unit);
	snprintf(buf, size, "%s %s", d > 0 ? "\u25b2" : "\u25bc", v);
	*worse = (d > 0) != (m->better > 0);
	return 1;
}

const char *
rep_team(const struct rep *p, const char *service)
{
	long i = rep_row(p->r[P_TOIL], service);
	return i < 0 ? NULL : rep_text(p->r[P_TOIL], (size_t)i, "team");
}

int
rep_level(const struct rep *p, const char *service, const char *area,
          const char **why)
{
	const rep_result *sc = p->r[P_SCORECARD];

	*why = NULL;
	for (size_t j = 0; service && sc && j < sc->n_rows; j++) {
		const char *s = rep_text(sc, j, "service");
		const char *ar = rep_text(sc, j, "area");
		const char *lv;

		if (!s || !ar || strcmp(s, service) != 0 ||
		    strcmp(ar, area) != 0)
			continue;
		lv = rep_text(sc, j, "level");
		*why = rep_text(sc, j, "reason");
		return lv ? atoi(lv) : 0;
	}
	return 0;
}

const char *
rep_rule(const struct rep *p, const char *name)
{
	const char *v = rep_text(p->r[P_RULES], 0, name);

	return v ? v : "?";
}

void
rep_eol_days(char *buf, size_t size, const char *status, const char *days)
{
	int past = status && strcmp(status, "past_eol") == 0;

	if (days == NULL)
		snprintf(buf, size, "%s",
		         past ? "past end of life" : "end of life soon");
	else if (atoi(days) < 0)
		snprintf(buf, size, "%d days past end of life", -atoi(days));
	else
		snprintf(buf, size, "end of life in %d days", atoi(days));
}

double
rep_spark_max(int is_pct, const double *v, size_t n)
{
	double max = 0;

	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]) && v[i] > max)
			max = v[i];
	if (is_pct && max < 1)
		max = 1; /* rates on a 0-100 % scale */
	return max > 0 ? max : 1;
}

void
rep_spark_point(size_t i, size_t n, double v, double max, double *x, double *y)
{
	*x = SPARK_PAD +
	     (n > 1 ? (double)i * (SPARK_W - 2 * SPARK_PAD) / (double)(n - 1)
	            : (SPARK_W - 2 * SPARK_PAD) / 2.0);
	*y = SPARK_H - SPARK_PAD - v / max * (SPARK_H - 2 * SPARK_PAD);
}
