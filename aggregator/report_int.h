/*
 * The report's parts, inside the aggregator's report module: fetching
 * (report_fetch.c), derived values (report_derive.c), the page layout
 * (report_render.c) and the two formats that draw it (report_html.c,
 * report_md.c), each an implementation of struct rep_emitter.
 *
 * What appears on the page (which items, how many, which thresholds) is
 * decided in SQL (sql/functions/report.sql); the layout only arranges the
 * rows it is given.
 */
#ifndef REPORT_INT_H
#define REPORT_INT_H

#include <stdint.h>
#include <stdio.h>

#include "op_codec.h"
#include "op_error.h"
#include "report.h"

typedef Opspulse__V1__QueryResult rep_result;
typedef Opspulse__V1__QueryRequest rep_request;

/* The query results a report is made of. */
enum rep_part {
	P_DORA,
	P_DORA_PREV,
	P_TOIL,
	P_TOIL_PREV,
	P_ALERTS,
	P_ALERTS_PREV,
	P_HEALTH, /* opspulse.health: requests, errors, latency */
	P_HEALTH_PREV,
	P_WEEKLY,
	P_SCORECARD,
	P_ACTIONS,   /* opspulse.report_actions: the action list */
	P_RULES,     /* opspulse.report_rules: the numbers its headings name */
	P_SLO,       /* opspulse.slo: the SLO section and its actions */
	P_READINESS, /* opspulse.report_readiness: per service */
	P_READINESS_ACTIONS, /* opspulse.report_readiness_actions */
	P_INCIDENTS,         /* opspulse.incidents_by_incident: the section */
	P_INCIDENT_ACTIONS,  /* opspulse.report_incident_actions: its actions */
	P_COUNT
};

/*
 * One report being made.  req is borrowed; r[] is owned (freed with
 * store_result_free by report_render); the rest are values.
 */
struct rep {
	const rep_request *req;
	int64_t since, until, prev_since, trend_since, now;
	rep_result *r[P_COUNT];
};

/* ---- fetching (report_fetch.c) --------------------------------------- */

struct store;

/*
 * Runs every part of p's page into p->r[], on s and, beside it, on a
 * second connection.  Returns OP_OK, or the first failing part's error
 * with err saying why; parts already fetched stay in p->r[] for the
 * caller to free.
 */
OP_MUSTCHECK int rep_fetch(struct rep *p, struct store *s, char *err,
                           size_t errsz);

/* ---- derived values (report_derive.c) -------------------------------- */

/* U_RATE: a small share, in percent to two places (error rates). */
enum rep_unit { U_COUNT, U_NUM, U_PCT, U_HOURS, U_MINUTES, U_MS, U_RATE };

/* The text of column name in row i of r, or NULL when null or absent.
 * Borrowed from r.  r may be NULL. */
const char *rep_text(const rep_result *r, size_t i, const char *name);

/* The number in column name of row i; NAN when null or not a number. */
double rep_num(const rep_result *r, size_t i, const char *name);

/* The row of r whose service is service, or -1.  r may be NULL. */
long rep_row(const rep_result *r, const char *service);

/* v in its unit into buf: "12", "3.5", "12.5 %", "7.0 h", "2.1 d",
 * "14 min", "48.1 ms", "0.02 %".  This can't fail (truncates to size). */
void rep_value(char *buf, size_t size, double v, enum rep_unit u);

/* us as "YYYY-MM-DD HH:MM UTC" into buf. */
void rep_date(char *buf, size_t size, int64_t us);

/* Where a headline metric is read from: the window and the previous one. */
enum rep_src { S_DORA, S_TOIL, S_ALERTS, S_HEALTH };

/* A headline metric: a column of one indicator. */
struct rep_metric {
	const char *label;
	enum rep_src src;
	const char *col;
	int better; /* +1: higher is better; -1: lower is better */
	enum rep_unit unit;
	const char *count;   /* column that is 0 when nothing was recorded */
	const char *nothing; /* what to say then */
};

/* Metric m of service in the window (prev = 0) or the previous one (1);
 * *recorded says whether the service recorded anything there. */
double rep_metric(const struct rep *p, const struct rep_metric *m,
                  const char *service, int prev, int *recorded);

/* The change from prev to cur as shown ("▲ 2.0", "▼ 12.5 pp", "= same")
 * into buf, with *worse set when it goes the wrong way.  Returns 0 (buf
 * untouched) when either is NAN. */
int rep_change(char *buf, size_t size, double cur, double prev,
               const struct rep_metric *m, int *worse);

/* The team of service (from the toil part), or NULL.  Borrowed. */
const char *rep_team(const struct rep *p, const char *service);

/* The scorecard level (1..3, 0 when absent) of service in area, with
 * *why set to its reason (borrowed, may be NULL). */
int rep_level(const struct rep *p, const char *service, const char *area,
              const char **why);

/* The rules' value of column name (from opspulse.report_rules), or "?"
 * when absent.  Borrowed. */
const char *rep_rule(const struct rep *p, const char *name);

/* What an end-of-life item says of its date into buf: "12 days past end
 * of life", "end of life in 30 days" or, without a date, by status. */
void rep_eol_days(char *buf, size_t size, const char *status, const char *days);

/* ---- charts (report_derive.c) ----------------------------------------- */

#define SPARK_W   132
#define SPARK_H   34
#define SPARK_PAD 4

/* One trend chart: n weekly values (NAN: no data that week) on a scale
 * up to max.  Everything borrowed. */
struct rep_spark {
	const char *label;  /* the series, for people */
	const char *metric; /* its column, for machines */
	const double *v;
	size_t n;
	double max;
	const char *last;      /* the last value with data, in its unit */
	const char *top;       /* max, the top of the scale (its bottom is 0) */
	const char *from, *to; /* the first and last week, "09-07" */
};

/* The top of a chart's scale: the largest value, at least 1 when rates
 * (is_pct), and positive. */
double rep_spark_max(int is_pct, const double *v, size_t n);

/* Where week i of n, of value v on a scale up to max, sits in the SVG. */
void rep_spark_point(size_t i, size_t n, double v, double max, double *x,
                     double *y);

/* ---- the emitter interface (report_html.c, report_md.c) --------------- */

/* The notes a format words its own way (they describe its marks). */
enum rep_note { N_HEADLINES, N_TRENDS, N_SCORECARD };

/* How a table column is drawn.  A key column names the row. */
enum rep_align { A_KEY, A_RIGHT, A_CENTER, A_LEFT };

struct rep_col {
	const char *label; /* lower case for key columns */
	enum rep_align align;
};

struct rep_emitter;

/* Where a page is written: the stream (borrowed), the format, and the
 * format's own state. */
struct rep_out {
	FILE *f;
	const struct rep_emitter *em;
	int blank; /* Markdown: a blank line is due before the next block */
};

/*
 * One output format, as a table of operations (designated initialisers).
 * Text arguments are escaped by the emitter unless said otherwise; none is
 * kept.  None can fail: write errors show when the stream is closed.
 */
struct rep_emitter {
	const char *name;
	/* s escaped for the format's text. */
	void (*escape)(struct rep_out *o, const char *s);
	/* The document's start, with its title and window; its end. */
	void (*page_begin)(struct rep_out *o, const char *title,
	                   const char *since, const char *until);
	void (*page_end)(struct rep_out *o);
	/* The window line of the header (dates as rep_date writes them). */
	void (*window)(struct rep_out *o, const char *since, const char *until,
	               double days, const char *prev);
	/* A header line written between these by the layout; last ends the
	 * header. */
	void (*meta_begin)(struct rep_out *o);
	void (*meta_end)(struct rep_out *o, int last);
	void (*section_begin)(struct rep_out *o, const char *id,
	                      const char *title);
	void (*section_end)(struct rep_out *o);
	/* The format's explanation of a section; arg is what it names (the
	 * trends' first week). */
	void (*note)(struct rep_out *o, enum rep_note which, const char *arg);
	/* A section without data: text is plain (not escaped). */
	void (*empty)(struct rep_out *o, const char *text);
	/* Labels are plain (not escaped). */
	void (*table_begin)(struct rep_out *o, const char *cls,
	                    const struct rep_col *cols, size_t n);
	void (*table_end)(struct rep_out *o);
	/* A row named head; its cells; its end. */
	void (*row_begin)(struct rep_out *o, const char *head);
	void (*row_end)(struct rep_out *o);
	void (*cell_text)(struct rep_out *o, const char *text);
	/* No value: text is plain (not escaped). */
	void (*cell_none)(struct rep_out *o, const char *text);
	/* A value, with its change (NULL: none) and whether that is worse. */
	void (*cell_value)(struct rep_out *o, const char *value,
	                   const char *change, int worse);
	void (*cell_spark)(struct rep_out *o, const struct rep_spark *sp);
	/* An error budget's remaining share (1 whole, 0 spent, below 0
	 * overspent) as a bar, with label (escaped) beside it. */
	void (*cell_bar)(struct rep_out *o, double remaining,
	                 const char *label);
	/* A scorecard level 1..3 with its reason (may be NULL). */
	void (*cell_level)(struct rep_out *o, int level, const char *why);
	/* A titled list (title plain); its items; its end, saying nothing
	 * (plain) when it had no items. */
	void (*list_begin)(struct rep_out *o, const char *id,
	                   const char *title);
	void (*item_begin)(struct rep_out *o);
	void (*item_end)(struct rep_out *o);
	void (*list_end)(struct rep_out *o, size_t items, const char *nothing);
	/* Text inside an item, shown strong or plain. */
	void (*strong)(struct rep_out *o, const char *text);
	void (*text)(struct rep_out *o, const char *text);
};

extern const struct rep_emitter rep_html;
extern const struct rep_emitter rep_md;

/* ---- the SLO section and its actions (report_slo.c) ---------------------- */

/* The SLO section of p; the SLO lists of the actions.  These can't
 * fail. */
void rep_slo(const struct rep *p, struct rep_out *o);
void rep_slo_actions(const struct rep *p, struct rep_out *o);

/* ---- the readiness section and its actions (report_readiness.c) ------- */

/* The readiness section of p; the readiness lists of the actions.  These
 * can't fail. */
void rep_readiness(const struct rep *p, struct rep_out *o);
void rep_readiness_actions(const struct rep *p, struct rep_out *o);
/* ---- the incidents section and its actions (report_incidents.c) -------- */

/* The window's incidents; the lists of late postmortems and overdue
 * action items.  These can't fail. */
void rep_incidents(const struct rep *p, struct rep_out *o);
void rep_incident_actions(const struct rep *p, struct rep_out *o);

/* ---- layout (report_render.c) ------------------------------------------ */

/* Draws the page of p (fetched) through o.  This can't fail; write errors
 * show when o->f is closed. */
void rep_page(const struct rep *p, struct rep_out *o);

#endif
