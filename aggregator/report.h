/*
 * The weekly review report (SPEC §6): one page per window with headline
 * numbers and their change against the previous window, weekly trend
 * charts, the scorecard grid and a list of actions.  Every number comes
 * from the indicator queries (query.c) and the report's own SQL functions
 * (sql/functions/report.sql); this module only arranges them, as
 * self-contained HTML (inline CSS and SVG, no scripts, no external assets)
 * or as Markdown.  Its parts: report_int.h.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>

#include "op_codec.h"
#include "op_error.h"
#include "store.h"

/* Trend charts cover at least this many weeks before until. */
#define REPORT_TREND_WEEKS 12

enum report_format { REPORT_HTML, REPORT_MARKDOWN };

/* "html" or "markdown" (or "md") into *f; NULL or "" is html.  Returns
 * OP_OK or OP_EINVAL. */
OP_MUSTCHECK int report_format_parse(const char *name, enum report_format *f);

/*
 * Renders the report for req's window and filters (its name and grouping
 * are ignored) into *out, a malloc'd NUL-terminated document of *len
 * bytes, which the caller frees.  Returns OP_OK, OP_EINVAL for an empty
 * window, OP_ENOMEM, or an error of query_run or store_query with err
 * saying why (*out then NULL).  What the page lists is decided by the SQL
 * functions opspulse.report_actions and opspulse.report_rules.
 */
OP_MUSTCHECK int report_render(struct store *s,
                               const Opspulse__V1__QueryRequest *req,
                               enum report_format format, char **out,
                               size_t *len, char *err, size_t errsz);

#endif
