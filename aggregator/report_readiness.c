/*
 * The review report's readiness section and readiness actions (SPEC §6,
 * §14): per service the checks passed out of all, with the failing,
 * unknown and expired ones named; then the failing checks to fix and the
 * records that expire within 30 days.  SQL decided every row
 * (opspulse.report_readiness, report_readiness_actions); this file only
 * draws them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_int.h"

#define RDY_NONE                                                               \
	"no known service; record events, then checks with opspulse-agent "    \
	"check record"

/* "failing: a, b; unknown: c; expired: d", the lists that are not
 * empty, into buf; a dash when all are. */
static void
rdy_names(char *buf, size_t size, const rep_result *r, size_t i)
{
	static const char *const cols[] = {"failing", "unknown", "expired"};
	size_t len = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < 3 && len < size; k++) {
		const char *names = rep_text(r, i, cols[k]);

		if (names)
			len +=
			    (size_t)snprintf(buf + len, size - len, "%s%s: %s",
			                     len ? "; " : "", cols[k], names);
	}
	if (len == 0)
		snprintf(buf, size, "\u2013");
}

static void
rdy_row(const rep_result *r, size_t i, struct rep_out *o)
{
	char score[48], names[1024];
	double share = rep_num(r, i, "ready_share");

	if (isnan(share))
		snprintf(score, sizeof(score), "%.0f/%.0f",
		         rep_num(r, i, "passed"), rep_num(r, i, "total"));
	else
		snprintf(score, sizeof(score), "%.0f/%.0f (%.0f %%)",
		         rep_num(r, i, "passed"), rep_num(r, i, "total"),
		         share * 100);
	rdy_names(names, sizeof(names), r, i);
	o->em->row_begin(o, rep_text(r, i, "service"));
	o->em->cell_value(o, score, NULL, 0);
	o->em->cell_text(o, names);
	o->em->row_end(o);
}

void
rep_readiness(const struct rep *p, struct rep_out *o)
{
	static const struct rep_col cols[] = {{"service", A_KEY},
	                                      {"passed", A_RIGHT},
	                                      {"checks not passed", A_LEFT}};
	const rep_result *r = p->r[P_READINESS];

	o->em->section_begin(o, "readiness", "Production readiness");
	if (r == NULL || r->n_rows == 0) {
		o->em->empty(o, "No readiness checks: " RDY_NONE ".");
		o->em->section_end(o);
		return;
	}
	o->em->table_begin(o, "readiness", cols,
	                   sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < r->n_rows; i++)
		rdy_row(r, i, o);
	o->em->table_end(o);
	o->em->section_end(o);
}

/* "pay restore_tested: " with the service strong. */
static void
rdy_item_begin(const rep_result *r, size_t i, struct rep_out *o)
{
	o->em->item_begin(o);
	o->em->strong(o, rep_text(r, i, "service"));
	o->em->text(o, " ");
	o->em->text(o, rep_text(r, i, "check"));
	o->em->text(o, ": ");
}

static void
rdy_fix_item(const rep_result *r, size_t i, struct rep_out *o)
{
	const char *ev = rep_text(r, i, "evidence");

	o->em->item_begin(o);
	o->em->strong(o, rep_text(r, i, "service"));
	o->em->text(o, ": ");
	o->em->text(o, ev ? ev : "failed");
	o->em->item_end(o);
}

static void
rdy_renew_item(const rep_result *r, size_t i, struct rep_out *o)
{
	char when[64];
	const char *at = rep_text(r, i, "expires");
	const char *status = rep_text(r, i, "status");
	double days = rep_num(r, i, "days_left");

	snprintf(when, sizeof(when), "expires in %.0f %s", days,
	         days == 1 ? "day" : "days");
	rdy_item_begin(r, i, o);
	o->em->strong(o, when);
	o->em->text(o, " (");
	o->em->text(o, at ? at : "?");
	o->em->text(o, "); ");
	o->em->text(o, status && strcmp(status, "exempt") == 0
	                   ? "renew the exemption or run the check"
	                   : "run the check again and record it");
	o->em->item_end(o);
}

static const struct rdy_list {
	const char *id, *title, *action, *nothing;
	void (*item)(const rep_result *r, size_t i, struct rep_out *o);
} rdy_lists[] = {
    {"act-readiness-fail", "Readiness checks failing", "fix",
     "No readiness check fails.", rdy_fix_item},
    {"act-readiness-expiring", "Readiness checks expiring within 30 days",
     "renew", "No readiness record expires within 30 days.", rdy_renew_item},
};

void
rep_readiness_actions(const struct rep *p, struct rep_out *o)
{
	const rep_result *r = p->r[P_READINESS_ACTIONS];

	if (p->r[P_READINESS] == NULL || p->r[P_READINESS]->n_rows == 0)
		return;
	for (size_t l = 0; l < sizeof(rdy_lists) / sizeof(rdy_lists[0]); l++) {
		size_t n = 0;

		o->em->list_begin(o, rdy_lists[l].id, rdy_lists[l].title);
		for (size_t i = 0; r && i < r->n_rows; i++) {
			const char *a = rep_text(r, i, "action");

			if (a && strcmp(a, rdy_lists[l].action) == 0) {
				rdy_lists[l].item(r, i, o);
				n++;
			}
		}
		o->em->list_end(o, n, rdy_lists[l].nothing);
	}
}
