/*
 * The report's layout (SPEC §6), written once: header, headline numbers,
 * trends, scorecard and actions, drawn through an emitter (report_html.c,
 * report_md.c).  It arranges the rows it is given; SQL decided which.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_time.h"
#include "report_int.h"

#define REP_NO_EVENTS "No services have recorded events."
#define REP_DASH      "\u2013"

#define REP_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* rep_item with its parts as arguments. */
#define REP_ITEM(o, ...)                                                       \
	rep_item((o), (const char *const[]){__VA_ARGS__},                      \
	         REP_COUNT(((const char *const[]){__VA_ARGS__})))
static void rep_item(struct rep_out *o, const char *const *parts, size_t n);

/* ---- headline numbers ------------------------------------------------ */

static const struct rep_metric rep_metrics[] = {
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
    {"Error rate", S_HEALTH, "error_rate", -1, U_RATE, "requests",
     "no requests"},
    {"Latency p95", S_HEALTH, "latency_p95_ms", -1, U_MS, "timed",
     "no timings"},
};
#define REP_NMETRICS REP_COUNT(rep_metrics)

/* Metric m of service: its value and its change, or what was missing. */
static void
rep_headline_cell(const struct rep *p, struct rep_out *o,
                  const struct rep_metric *m, const char *service)
{
	char v[32], ch[48];
	int recorded, prev_recorded, worse = 0, changed;
	double cur = rep_metric(p, m, service, 0, &recorded);
	double prev = rep_metric(p, m, service, 1, &prev_recorded);

	if (!recorded) {
		o->em->cell_none(o, m->nothing);
		return;
	}
	if (isnan(cur))
		snprintf(v, sizeof(v), REP_DASH);
	else
		rep_value(v, sizeof(v), cur, m->unit);
	changed =
	    prev_recorded && rep_change(ch, sizeof(ch), cur, prev, m, &worse);
	o->em->cell_value(o, v, changed ? ch : NULL, worse);
}

/* The headline table's columns: service, team and one per metric. */
static void
rep_headline_table(struct rep_out *o)
{
	struct rep_col cols[2 + REP_NMETRICS] = {{"service", A_KEY},
	                                         {"team", A_KEY}};

	for (size_t m = 0; m < REP_NMETRICS; m++)
		cols[2 + m] = (struct rep_col){rep_metrics[m].label, A_RIGHT};
	o->em->table_begin(o, "headlines", cols, REP_COUNT(cols));
}

/* One row per service of the window, with its team. */
static void
rep_headlines(const struct rep *p, struct rep_out *o)
{
	const rep_result *d = p->r[P_DORA];

	o->em->section_begin(o, "headlines", "Headline numbers");
	if (d->n_rows == 0) {
		o->em->empty(o, REP_NO_EVENTS);
		o->em->section_end(o);
		return;
	}
	o->em->note(o, N_HEADLINES, NULL);
	rep_headline_table(o);
	for (size_t i = 0; i < d->n_rows; i++) {
		const char *svc = rep_text(d, i, "service");
		const char *team = rep_team(p, svc);

		o->em->row_begin(o, svc);
		o->em->cell_text(o, team ? team : REP_DASH);
		for (size_t m = 0; m < REP_NMETRICS; m++)
			rep_headline_cell(p, o, &rep_metrics[m], svc);
		o->em->row_end(o);
	}
	o->em->table_end(o);
	o->em->section_end(o);
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
#define REP_NSERIES REP_COUNT(rep_series)

/* The last of n values with data, in s's unit, into buf ("" when none). */
static void
rep_last(char *buf, size_t size, const struct rep_series *s, const double *v,
         size_t n)
{
	buf[0] = '\0';
	for (size_t i = n; i-- > 0;) {
		if (!isnan(v[i])) {
			rep_value(buf, size, v[i], s->unit);
			return;
		}
	}
}

/* Series s of the n weekly rows from first: a chart, or what is missing. */
static void
rep_trend_cell(const struct rep *p, struct rep_out *o,
               const struct rep_series *s, size_t first, size_t n)
{
	double *v = calloc(n ? n : 1, sizeof(*v));
	const char *w0 = rep_text(p->r[P_WEEKLY], first, "week_start");
	const char *w1 = rep_text(p->r[P_WEEKLY], first + n - 1, "week_start");
	char last[32], top[32], from[8], to[8];
	double max;
	int any = 0;

	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		v[i] = rep_num(p->r[P_WEEKLY], first + i, s->col);
		if (!isnan(v[i]) && (s->is_rate || v[i] > 0))
			any = 1;
	}
	if (any) {
		rep_last(last, sizeof(last), s, v, n);
		max = rep_spark_max(s->unit == U_PCT, v, n);
		rep_value(top, sizeof(top), max, s->unit);
		/* "2026-09-07..." -> "09-07" */
		snprintf(from, sizeof(from), "%.5s",
		         w0 && strlen(w0) >= 10 ? w0 + 5 : "?");
		snprintf(to, sizeof(to), "%.5s",
		         w1 && strlen(w1) >= 10 ? w1 + 5 : "?");
		o->em->cell_spark(o, &(struct rep_spark){s->label, s->col, v, n,
		                                         max, last, top, from,
		                                         to});
	} else {
		o->em->cell_none(o, s->nothing);
	}
	free(v);
}

/* How many weekly rows from i belong to service svc. */
static size_t
rep_weeks_of(const rep_result *w, size_t i, const char *svc)
{
	size_t n = 0;

	while (i + n < w->n_rows && svc &&
	       strcmp(rep_text(w, i + n, "service"), svc) == 0)
		n++;
	return n;
}

/* The trend table's columns: service and one per series. */
static void
rep_trend_table(struct rep_out *o)
{
	struct rep_col cols[1 + REP_NSERIES] = {{"service", A_KEY}};

	for (size_t s = 0; s < REP_NSERIES; s++)
		cols[1 + s] = (struct rep_col){rep_series[s].label, A_LEFT};
	o->em->table_begin(o, "trends", cols, REP_COUNT(cols));
}

/* One row per service: a chart per series over the trend's weeks. */
static void
rep_trends(const struct rep *p, struct rep_out *o)
{
	const rep_result *w = p->r[P_WEEKLY];
	char from[40];
	size_t i = 0;

	rep_date(from, sizeof(from), p->trend_since);
	o->em->section_begin(o, "trends", "Trends");
	o->em->note(o, N_TRENDS, from);
	if (w->n_rows == 0) {
		o->em->empty(o, REP_NO_EVENTS);
		o->em->section_end(o);
		return;
	}
	rep_trend_table(o);
	while (i < w->n_rows) {
		const char *svc = rep_text(w, i, "service");
		size_t n = rep_weeks_of(w, i, svc);

		if (n == 0) { /* a row without a service: skip it */
			i++;
			continue;
		}
		o->em->row_begin(o, svc);
		for (size_t s = 0; s < REP_NSERIES; s++)
			rep_trend_cell(p, o, &rep_series[s], i, n);
		o->em->row_end(o);
		i += n;
	}
	o->em->table_end(o);
	o->em->section_end(o);
}

/* ---- scorecard ------------------------------------------------------- */

static const char *const rep_areas[] = {
    "delivery",          "toil",        "alerting",
    "incident_response", "maintenance", "capacity",
    "knowledge_spread",  "postmortem",  "slo"};
#define REP_NAREAS REP_COUNT(rep_areas)

/* The areas as column labels, '_' shown as a space. */
static void
rep_scorecard_table(struct rep_out *o)
{
	char labels[REP_NAREAS][32];
	struct rep_col cols[1 + REP_NAREAS] = {{"service", A_KEY}};

	for (size_t a = 0; a < REP_NAREAS; a++) {
		snprintf(labels[a], sizeof(labels[a]), "%s", rep_areas[a]);
		for (char *c = labels[a]; *c; c++)
			*c = *c == '_' ? ' ' : *c;
		cols[1 + a] = (struct rep_col){labels[a], A_CENTER};
	}
	o->em->table_begin(o, "grid", cols, REP_COUNT(cols));
}

/* The reasons of every level below 3, printed under the grid (the grid
 * shows them only on hover, which paper and shared screens lack). */
static void
rep_scorecard_reasons(const struct rep *p, struct rep_out *o)
{
	const rep_result *d = p->r[P_DORA];
	size_t n = 0;

	o->em->list_begin(o, "scorecard-reasons", "Why a level is below 3");
	for (size_t i = 0; i < d->n_rows; i++) {
		const char *svc = rep_text(d, i, "service"), *why;

		for (size_t a = 0; a < REP_NAREAS; a++) {
			char area[32], level[16];
			int l = rep_level(p, svc, rep_areas[a], &why);

			if (l < 1 || l > 2 || why == NULL)
				continue;
			snprintf(area, sizeof(area), "%s", rep_areas[a]);
			for (char *c = area; *c; c++)
				*c = *c == '_' ? ' ' : *c;
			snprintf(level, sizeof(level), "%d", l);
			REP_ITEM(o, svc, " \u2013 ", area, " at level ", level,
			         ": ", NULL, why);
			n++;
		}
	}
	o->em->list_end(o, n, "Every area of every service is at level 3.");
}

/* One row per service of the window, one level per area. */
static void
rep_scorecard(const struct rep *p, struct rep_out *o)
{
	const rep_result *d = p->r[P_DORA];

	o->em->section_begin(o, "scorecard", "Scorecard");
	o->em->note(o, N_SCORECARD, NULL);
	if (d->n_rows == 0) {
		o->em->empty(o, REP_NO_EVENTS);
		o->em->section_end(o);
		return;
	}
	rep_scorecard_table(o);
	for (size_t i = 0; i < d->n_rows; i++) {
		const char *svc = rep_text(d, i, "service"), *why;

		o->em->row_begin(o, svc);
		for (size_t a = 0; a < REP_NAREAS; a++) {
			int level = rep_level(p, svc, rep_areas[a], &why);

			if (level < 1 || level > 3)
				o->em->cell_none(o, REP_DASH);
			else
				o->em->cell_level(o, level, why);
		}
		o->em->row_end(o);
	}
	o->em->table_end(o);
	rep_scorecard_reasons(p, o);
	o->em->section_end(o);
}

/* ---- actions --------------------------------------------------------- */

/* One item: even parts are data, shown strong; odd parts join them.  A
 * NULL part is left out. */
static void
rep_item(struct rep_out *o, const char *const *parts, size_t n)
{
	o->em->item_begin(o);
	for (size_t i = 0; i < n; i++) {
		if (parts[i] == NULL)
			continue;
		if (i % 2 == 0)
			o->em->strong(o, parts[i]);
		else
			o->em->text(o, parts[i]);
	}
	o->em->item_end(o);
}

/* The item of an end-of-life row i of r. */
static void
rep_eol_item(const rep_result *r, size_t i, struct rep_out *o, const char *rule)
{
	char days[48];
	const char *date = rep_text(r, i, "eol_date");

	(void)rule;
	rep_eol_days(days, sizeof(days), rep_text(r, i, "status"),
	             rep_text(r, i, "days"));
	REP_ITEM(o, rep_text(r, i, "service"), " on ", rep_text(r, i, "host"),
	         ": ", rep_text(r, i, "subject"), " ", rep_text(r, i, "detail"),
	         " \u2013 ", days, date ? " (" : NULL, date, date ? ")" : NULL);
}

/* The item of an overdue maintenance row i of r. */
static void
rep_maint_item(const rep_result *r, size_t i, struct rep_out *o,
               const char *rule)
{
	const char *at = rep_text(r, i, "due_at");
	char due[16];

	(void)rule;
	snprintf(due, sizeof(due), "%.10s", at ? at : "?");
	REP_ITEM(o, rep_text(r, i, "service"), ": ", rep_text(r, i, "subject"),
	         " (", rep_text(r, i, "detail"), "), due ", due);
}

/* The item of a noisy alert rule, row i of r. */
static void
rep_noise_item(const rep_result *r, size_t i, struct rep_out *o,
               const char *rule)
{
	char fired[160], share[32];
	double count = rep_num(r, i, "count");

	rep_value(share, sizeof(share), rep_num(r, i, "share"), U_PCT);
	snprintf(fired, sizeof(fired),
	         " fired %.0f time%s; %s resolved by themselves within %s "
	         "min (the noise threshold)",
	         count, count == 1 ? "" : "s", share, rule ? rule : "?");
	REP_ITEM(o, rep_text(r, i, "subject"), " (", rep_text(r, i, "service"),
	         "):", NULL, fired);
}

/* The item of an automation candidate, row i of r. */
static void
rep_task_item(const rep_result *r, size_t i, struct rep_out *o,
              const char *rule)
{
	char what[96], hours[32];
	double people = rep_num(r, i, "people"), runs = rep_num(r, i, "count");

	(void)rule;
	rep_value(hours, sizeof(hours), rep_num(r, i, "hours"), U_HOURS);
	snprintf(what, sizeof(what), ": %s in %.0f run%s by %.0f %s", hours,
	         runs, runs == 1 ? "" : "s", people,
	         people == 1 ? "person" : "people");
	REP_ITEM(o, rep_text(r, i, "subject"), " (", rep_text(r, i, "service"),
	         ")", NULL, what);
}

/* The item of a service whose toil one person carries, row i of r. */
static void
rep_bus_item(const rep_result *r, size_t i, struct rep_out *o, const char *rule)
{
	char share[120], pct[32], hours[32];

	(void)rule;
	rep_value(pct, sizeof(pct), rep_num(r, i, "share"), U_PCT);
	rep_value(hours, sizeof(hours), rep_num(r, i, "hours"), U_HOURS);
	snprintf(share, sizeof(share), ": one person did %s of %s of toil", pct,
	         hours);
	REP_ITEM(o, rep_text(r, i, "service"), share);
}

/* The item of a disk filling up, row i of r. */
static void
rep_disk_item(const rep_result *r, size_t i, struct rep_out *o,
              const char *rule)
{
	char when[96], used[32];

	(void)rule;
	rep_value(used, sizeof(used), rep_num(r, i, "used_pct") / 100, U_PCT);
	snprintf(when, sizeof(when), " is %s full, full in %.0f days", used,
	         rep_num(r, i, "days_to_full"));
	REP_ITEM(o, rep_text(r, i, "service"), " on ", rep_text(r, i, "host"),
	         ": ", rep_text(r, i, "subject"), when);
}

/* One list of the actions: the rows of opspulse.report_actions of a kind. */
struct rep_list {
	const char *kind, *id;
	const char *title, *nothing; /* may name the rule: %s */
	const char *rule;            /* its column of report_rules, or NULL */
	/* rule: the value of rule, or NULL */
	void (*item)(const rep_result *r, size_t i, struct rep_out *o,
	             const char *rule);
};

static const struct rep_list rep_lists[] = {
    {"eol", "act-eol", "Components past end of life or due within %s days",
     "Nothing past end of life or within %s days of it.", "eol_urgent_days",
     rep_eol_item},
    {"maintenance", "act-maintenance", "Overdue maintenance",
     "No maintenance is overdue.", NULL, rep_maint_item},
    {"noise", "act-noise", "Noisiest alert rules",
     "No alert rule produced noise in this window.", "noise_minutes",
     rep_noise_item},
    {"automation", "act-automation", "Top automation candidates",
     "No toil recorded in this window.", NULL, rep_task_item},
    {"bus", "act-bus", "Bus factor %s: toil carried by one person",
     "No service depends on a single person's toil.", "bus_factor_max",
     rep_bus_item},
    {"disk", "act-disk", "Disks filling within %s days",
     "No disk is on course to fill within %s days.", "disk_full_days",
     rep_disk_item},
};

/* t with its "%s" (if any) replaced by v, into buf. */
static void
rep_fill(char *buf, size_t size, const char *t, const char *v)
{
	const char *at = strstr(t, "%s");

	if (at == NULL || v == NULL)
		snprintf(buf, size, "%s", t);
	else
		snprintf(buf, size, "%.*s%s%s", (int)(at - t), t, v, at + 2);
}

/* List l: its title, its rows of the actions, or what it says without. */
static void
rep_action_list(const struct rep *p, struct rep_out *o,
                const struct rep_list *l)
{
	const rep_result *r = p->r[P_ACTIONS];
	const char *rule = l->rule ? rep_rule(p, l->rule) : NULL;
	char title[128], nothing[128];
	size_t n = 0;

	rep_fill(title, sizeof(title), l->title, rule);
	rep_fill(nothing, sizeof(nothing), l->nothing, rule);
	o->em->list_begin(o, l->id, title);
	for (size_t i = 0; i < r->n_rows; i++) {
		const char *kind = rep_text(r, i, "kind");

		if (kind && strcmp(kind, l->kind) == 0) {
			l->item(r, i, o, rule);
			n++;
		}
	}
	o->em->list_end(o, n, nothing);
}

/* The action lists, in the order of rep_lists. */
static void
rep_actions(const struct rep *p, struct rep_out *o)
{
	o->em->section_begin(o, "actions", "Actions");
	for (size_t l = 0; l < REP_COUNT(rep_lists); l++)
		rep_action_list(p, o, &rep_lists[l]);
	rep_slo_actions(p, o);
	rep_readiness_actions(p, o);
	rep_incident_actions(p, o);
	o->em->section_end(o);
}

/* ---- page ------------------------------------------------------------ */

/* The header's scope line: the services (at most 40 of more than 50
 * named), the team and the environment. */
static void
rep_scope(const struct rep *p, struct rep_out *o)
{
	const rep_result *d = p->r[P_DORA];
	const rep_request *q = p->req;

	o->em->meta_begin(o);
	fputs("Services: ", o->f);
	if (d->n_rows == 0)
		fputs("none recorded", o->f);
	for (size_t i = 0; i < d->n_rows; i++) {
		if (i)
			fputs(", ", o->f);
		if (i == 40 && d->n_rows > 50) {
			fprintf(o->f, "and %zu more", d->n_rows - i);
			break;
		}
		o->em->escape(o, rep_text(d, i, "service"));
	}
	fprintf(o->f, " (%zu)", d->n_rows);
	if (q->team && *q->team) {
		fputs("; team ", o->f);
		o->em->escape(o, q->team);
	}
	fputs("; environment ", o->f);
	o->em->escape(o, q->env && *q->env ? q->env : "production");
	fputc('.', o->f);
	o->em->meta_end(o, 0);
}

/* The title, the window, the scope and when the page was made. */
static void
rep_header(const struct rep *p, struct rep_out *o)
{
	char since[40], until[40], prev[40], now[40];
	double days = (double)(p->until - p->since) / (double)OP_US_PER_DAY;

	rep_date(since, sizeof(since), p->since);
	rep_date(until, sizeof(until), p->until);
	rep_date(prev, sizeof(prev), p->prev_since);
	rep_date(now, sizeof(now), p->now);
	o->em->page_begin(o, "OpsPulse weekly review", since, until);
	o->em->window(o, since, until, days, prev);
	rep_scope(p, o);
	o->em->meta_begin(o);
	fprintf(o->f, "Generated %s.", now);
	o->em->meta_end(o, 1);
}

void
rep_page(const struct rep *p, struct rep_out *o)
{
	rep_header(p, o);
	rep_headlines(p, o);
	rep_trends(p, o);
	rep_scorecard(p, o);
	rep_slo(p, o);
	rep_readiness(p, o);
	rep_incidents(p, o);
	rep_actions(p, o);
	o->em->page_end(o);
}
