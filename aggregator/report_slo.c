/*
 * The review report's SLO section and SLO actions (SPEC §6, §12.4): one
 * row per objective of opspulse.slo with its budget drawn as a bar, and
 * the lists of exhausted budgets, page and ticket burns and deploys made
 * while a budget was exhausted.  Which rows are which (status, alert,
 * deploys_while_exhausted) SQL decided; this file only draws them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_int.h"

#define SLO_NONE "no SLOs are configured (aggregator.slos in aggregator.conf)"

/* A 0-1 fraction as a percentage for people: "99.95 %", at most three
 * decimals, no trailing zeros. */
static void
slo_pct(char *buf, size_t size, double v)
{
	char *end;

	snprintf(buf, size, "%.3f", v * 100);
	end = buf + strlen(buf);
	while (end > buf && end[-1] == '0')
		*--end = '\0';
	if (end > buf && end[-1] == '.')
		*--end = '\0';
	snprintf(end, size - (size_t)(end - buf), " %%");
}

/* "availability" or "latency <= 300 ms" for row i. */
static void
slo_objective(char *buf, size_t size, const rep_result *r, size_t i)
{
	const char *obj = rep_text(r, i, "objective");
	const char *ms = rep_text(r, i, "threshold_ms");

	if (ms)
		snprintf(buf, size, "%s \u2264 %s ms", obj ? obj : "?", ms);
	else
		snprintf(buf, size, "%s", obj ? obj : "?");
}

/* One objective: target, achieved, the budget bar, status, alert. */
static void
slo_row(const rep_result *r, size_t i, struct rep_out *o)
{
	char obj[96], target[32], achieved[32], left[32];
	double budget = rep_num(r, i, "budget_remaining");
	const char *status = rep_text(r, i, "status");
	const char *alert = rep_text(r, i, "alert");

	slo_objective(obj, sizeof(obj), r, i);
	slo_pct(target, sizeof(target), rep_num(r, i, "target"));
	o->em->row_begin(o, rep_text(r, i, "service"));
	o->em->cell_text(o, obj);
	o->em->cell_text(o, target);
	if (isnan(budget)) {
		o->em->cell_none(o, "no requests");
		o->em->cell_none(o, "\u2013");
		o->em->cell_none(o, "\u2013");
		o->em->cell_none(o, "\u2013");
		o->em->row_end(o);
		return;
	}
	slo_pct(achieved, sizeof(achieved), rep_num(r, i, "achieved"));
	slo_pct(left, sizeof(left), budget);
	o->em->cell_text(o, achieved);
	o->em->cell_bar(o, budget, left);
	o->em->cell_value(o, status ? status : "?", NULL, 0);
	o->em->cell_value(o, alert ? alert : "?", NULL, 0);
	o->em->row_end(o);
}

void
rep_slo(const struct rep *p, struct rep_out *o)
{
	static const struct rep_col cols[] = {
	    {"service", A_KEY},      {"objective", A_LEFT},
	    {"target", A_RIGHT},     {"achieved", A_RIGHT},
	    {"budget left", A_LEFT}, {"status", A_CENTER},
	    {"alert", A_CENTER}};
	const rep_result *r = p->r[P_SLO];

	o->em->section_begin(o, "slo", "Service level objectives");
	if (r == NULL || r->n_rows == 0) {
		o->em->empty(o, "No SLOs: " SLO_NONE ".");
		o->em->section_end(o);
		return;
	}
	o->em->table_begin(o, "slo", cols, sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < r->n_rows; i++)
		slo_row(r, i, o);
	o->em->table_end(o);
	o->em->section_end(o);
}

/* The start of an item: the service strong, then its objective. */
static void
slo_item_begin(const rep_result *r, size_t i, struct rep_out *o)
{
	char obj[96];

	slo_objective(obj, sizeof(obj), r, i);
	o->em->item_begin(o);
	o->em->strong(o, rep_text(r, i, "service"));
	o->em->text(o, " ");
	o->em->text(o, obj);
	o->em->text(o, ": ");
}

/* An exhausted budget: how far over, in requests too. */
static void
slo_exhausted_item(const rep_result *r, size_t i, struct rep_out *o)
{
	char left[32], achieved[32], target[32], what[160];
	double total = rep_num(r, i, "total");

	slo_pct(left, sizeof(left), rep_num(r, i, "budget_remaining"));
	slo_pct(achieved, sizeof(achieved), rep_num(r, i, "achieved"));
	slo_pct(target, sizeof(target), rep_num(r, i, "target"));
	snprintf(what, sizeof(what),
	         " of the budget left; achieved %s against %s, %.0f bad of "
	         "%.0f (%.1f allowed)",
	         achieved, target, rep_num(r, i, "bad"), total,
	         (1 - rep_num(r, i, "target")) * total);
	slo_item_begin(r, i, o);
	o->em->strong(o, left);
	o->em->text(o, what);
	o->em->item_end(o);
}

/* A burn rate for people, "n/a" without requests. */
static void
slo_rate(char *buf, size_t size, const rep_result *r, size_t i, const char *col)
{
	double v = rep_num(r, i, col);

	if (isnan(v))
		snprintf(buf, size, "n/a");
	else
		snprintf(buf, size, "%.3g", v);
}

/* A page or ticket: the five burn rates. */
static void
slo_burn_item(const rep_result *r, size_t i, struct rep_out *o)
{
	static const char *const cols[] = {"burn_rate_5m", "burn_rate_30m",
	                                   "burn_rate_1h", "burn_rate_6h",
	                                   "burn_rate_3d"};
	char rate[5][16], what[160];

	for (size_t k = 0; k < 5; k++)
		slo_rate(rate[k], sizeof(rate[k]), r, i, cols[k]);
	snprintf(what, sizeof(what),
	         " \u2013 burn rate 5m %s, 30m %s, 1h %s, 6h %s, 3d %s",
	         rate[0], rate[1], rate[2], rate[3], rate[4]);
	slo_item_begin(r, i, o);
	o->em->strong(o, rep_text(r, i, "alert"));
	o->em->text(o, what);
	o->em->item_end(o);
}

/* Deploys finished while the trailing budget was overspent. */
static void
slo_deploys_item(const rep_result *r, size_t i, struct rep_out *o)
{
	char n[32];
	double d = rep_num(r, i, "deploys_while_exhausted");

	snprintf(n, sizeof(n), "%.0f %s", d, d == 1 ? "deploy" : "deploys");
	slo_item_begin(r, i, o);
	o->em->strong(o, n);
	o->em->text(o, " finished while its trailing error budget was "
	               "overspent");
	o->em->item_end(o);
}

/* Whether row i belongs in a list: status exhausted, alert page or
 * ticket, deploys while exhausted. */
static int
slo_is_exhausted(const rep_result *r, size_t i)
{
	const char *s = rep_text(r, i, "status");
	return s && strcmp(s, "exhausted") == 0;
}

static int
slo_is_burning(const rep_result *r, size_t i)
{
	const char *a = rep_text(r, i, "alert");
	return a && (strcmp(a, "page") == 0 || strcmp(a, "ticket") == 0);
}

static int
slo_has_deploys(const rep_result *r, size_t i)
{
	return rep_num(r, i, "deploys_while_exhausted") > 0;
}

static const struct slo_list {
	const char *id, *title, *nothing;
	int (*in)(const rep_result *r, size_t i);
	void (*item)(const rep_result *r, size_t i, struct rep_out *o);
} slo_lists[] = {
    {"act-slo-exhausted", "Error budgets exhausted",
     "No error budget is overspent.", slo_is_exhausted, slo_exhausted_item},
    {"act-slo-burn", "Error budgets burning (page or ticket)",
     "No error budget burns fast enough to page or ticket.", slo_is_burning,
     slo_burn_item},
    {"act-slo-deploys", "Deploys while an error budget was exhausted",
     "No deploy was made while its service's error budget was overspent.",
     slo_has_deploys, slo_deploys_item},
};

void
rep_slo_actions(const struct rep *p, struct rep_out *o)
{
	const rep_result *r = p->r[P_SLO];

	if (r == NULL || r->n_rows == 0)
		return;
	for (size_t l = 0; l < sizeof(slo_lists) / sizeof(slo_lists[0]); l++) {
		size_t n = 0;

		o->em->list_begin(o, slo_lists[l].id, slo_lists[l].title);
		for (size_t i = 0; i < r->n_rows; i++) {
			if (slo_lists[l].in(r, i)) {
				slo_lists[l].item(r, i, o);
				n++;
			}
		}
		o->em->list_end(o, n, slo_lists[l].nothing);
	}
}
