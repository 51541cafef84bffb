/*
 * The review report's incidents (SPEC §6, §13.2): the window's incidents
 * with severity, duration, the deploy that caused them, the postmortem
 * link and the error budget they consumed; and the action lists of late
 * postmortems and overdue action items, each with its owner and due date.
 * Which incidents are late and which items overdue SQL decided
 * (opspulse.incidents_by_incident, opspulse.report_incident_actions);
 * this file only draws them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_int.h"

/* A duration in minutes for people: "45 min", "3.5 h", "2.1 d". */
static void
inc_duration(char *buf, size_t size, double minutes)
{
	if (minutes < 120)
		rep_value(buf, size, minutes, U_MINUTES);
	else
		rep_value(buf, size, minutes / 60, U_HOURS);
}

/* A text cell, or a dash when the column is null. */
static void
inc_cell(struct rep_out *o, const rep_result *r, size_t i, const char *col)
{
	const char *v = rep_text(r, i, col);

	if (v)
		o->em->cell_text(o, v);
	else
		o->em->cell_none(o, "\u2013");
}

/* One incident: id, severity, title, duration, deploy, postmortem,
 * budget consumed. */
static void
inc_row(const rep_result *r, size_t i, struct rep_out *o)
{
	char sev[16], dur[32], budget[32];
	double mins = rep_num(r, i, "resolve_minutes");
	double share = rep_num(r, i, "budget_consumed_share");
	const char *late = rep_text(r, i, "postmortem_late");

	snprintf(sev, sizeof(sev), "SEV%.0f", rep_num(r, i, "severity"));
	o->em->row_begin(o, rep_text(r, i, "service"));
	inc_cell(o, r, i, "id");
	o->em->cell_value(o, sev, NULL, rep_num(r, i, "severity") <= 2);
	inc_cell(o, r, i, "title");
	if (isnan(mins)) {
		o->em->cell_none(o, rep_text(r, i, "resolved") ? "\u2013"
		                                               : "unresolved");
	} else {
		inc_duration(dur, sizeof(dur), mins);
		o->em->cell_text(o, dur);
	}
	inc_cell(o, r, i, "deploy");
	if (rep_text(r, i, "postmortem"))
		o->em->cell_value(o, rep_text(r, i, "postmortem"),
		                  late && *late == 't' ? "late" : NULL,
		                  late && *late == 't');
	else
		o->em->cell_value(o, late && *late == 't' ? "late" : "none",
		                  NULL, late && *late == 't');
	if (isnan(share)) {
		o->em->cell_none(o, "n/a");
	} else {
		rep_value(budget, sizeof(budget), share, U_PCT);
		o->em->cell_text(o, budget);
	}
	o->em->row_end(o);
}

void
rep_incidents(const struct rep *p, struct rep_out *o)
{
	static const struct rep_col cols[] = {
	    {"service", A_KEY},     {"incident", A_LEFT},
	    {"severity", A_CENTER}, {"title", A_LEFT},
	    {"duration", A_RIGHT},  {"deploy", A_LEFT},
	    {"postmortem", A_LEFT}, {"budget consumed", A_RIGHT}};
	const rep_result *r = p->r[P_INCIDENTS];

	o->em->section_begin(o, "incidents", "Incidents");
	if (r == NULL || r->n_rows == 0) {
		o->em->empty(o, "No incident started in the window.");
		o->em->section_end(o);
		return;
	}
	o->em->table_begin(o, "incidents", cols,
	                   sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < r->n_rows; i++)
		inc_row(r, i, o);
	o->em->table_end(o);
	o->em->section_end(o);
}

/* An item: the service strong, what is late, who owns it, by when. */
static void
inc_action_item(const rep_result *r, size_t i, struct rep_out *o, int is_action)
{
	char line[640];
	const char *owner = rep_text(r, i, "owner");
	const char *title = rep_text(r, i, "title");
	size_t len;

	if (is_action)
		len =
		    (size_t)snprintf(line, sizeof(line),
		                     " action item %.128s (%.256s) of incident "
		                     "%.128s",
		                     rep_text(r, i, "id"), title ? title : "",
		                     rep_text(r, i, "incident"));
	else
		len = (size_t)snprintf(
		    line, sizeof(line),
		    " postmortem of incident %.128s (%.256s)",
		    rep_text(r, i, "incident"), title ? title : "untitled");
	if (len < sizeof(line))
		snprintf(line + len, sizeof(line) - len,
		         " \u2013 owner %.64s, due %.40s",
		         owner ? owner : "nobody named",
		         rep_text(r, i, "due_text"));
	o->em->item_begin(o);
	o->em->strong(o, rep_text(r, i, "service"));
	o->em->text(o, line);
	o->em->item_end(o);
}

static const struct inc_list {
	const char *kind, *id, *title, *nothing;
	int is_action;
} inc_lists[] = {
    {"postmortem_late", "act-postmortems", "Postmortems late",
     "No postmortem is late.", 0},
    {"action_overdue", "act-action-items", "Action items overdue",
     "No action item is overdue.", 1},
};

void
rep_incident_actions(const struct rep *p, struct rep_out *o)
{
	const rep_result *r = p->r[P_INCIDENT_ACTIONS];

	for (size_t l = 0; l < sizeof(inc_lists) / sizeof(inc_lists[0]); l++) {
		size_t n = 0;

		o->em->list_begin(o, inc_lists[l].id, inc_lists[l].title);
		for (size_t i = 0; r && i < r->n_rows; i++) {
			const char *kind = rep_text(r, i, "kind");

			if (kind && strcmp(kind, inc_lists[l].kind) == 0) {
				inc_action_item(r, i, o,
				                inc_lists[l].is_action);
				n++;
			}
		}
		o->em->list_end(o, n, inc_lists[l].nothing);
	}
}
