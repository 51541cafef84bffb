/*
 * The report as one self-contained HTML page: inline CSS and SVG, no
 * scripts, no external assets.  An implementation of struct rep_emitter.
 */
#include <math.h>
#include <stdio.h>

#include "report_int.h"

static const char html_css[] =
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
    "size:12px;margin-left:4px}.scale{display:block;font-size:10px;"
    "color:#555}"
    ".grid td{text-align:center;white-space:nowrap}.grid .l1{background:"
    "#fde2e0}.grid .l2{background:#fff4cc}.grid .l3{background:#dcf5e3}"
    ".grid .n{font-size:11px;color:#333}"
    ".action ul{margin:0;padding-left:20px}"
    ".slo td{text-align:left;white-space:nowrap}.slo .bar{vertical-align:"
    "middle;margin-right:6px}.bar .left{fill:#1a7f37}.bar .over{fill:"
    "#b42318}.bar .rest{fill:#e4e7eb;stroke:#999;stroke-width:.5}"
    ".readiness td{text-align:left;font-size:12px}.readiness "
    "td:nth-child(2){text-align:"
    "right;white-space:nowrap}"
    ".incidents td{text-align:left}.incidents td:nth-child(3),"
    ".incidents td:nth-child(5),.incidents td:nth-child(8){text-align:right}"
    "footer{margin-top:24px;color:#666;font-size:12px}"
    "@media print{@page{size:A4 landscape;margin:12mm}body{margin:0;"
    "max-width:none;font-size:11px}section{break-inside:avoid-page}"
    "tr{break-inside:avoid}thead{display:table-header-group}"
    ".grid .l1,.grid .l2,.grid .l3,thead th{print-color-adjust:exact;"
    "-webkit-print-color-adjust:exact}}";

/* The entity for c, or NULL when c stands for itself. */
static const char *
html_entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

/* s escaped for HTML text and attribute values.  s may be NULL. */
static void
html_escape(struct rep_out *o, const char *s)
{
	for (; s && *s; s++) {
		const char *e = html_entity(*s);

		if (e)
			fputs(e, o->f);
		else
			fputc(*s, o->f);
	}
}

/* The document up to the header's title: head, inline CSS, <h1>. */
static void
html_page_begin(struct rep_out *o, const char *title, const char *since,
                const char *until)
{
	fprintf(o->f,
	        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
	        "charset=\"utf-8\"><meta name=\"viewport\" "
	        "content=\"width=device-width\"><title>OpsPulse "
	        "review, %.10s to %.10s</title><style>%s</style>"
	        "</head><body>\n<header><h1>",
	        since, until, html_css);
	html_escape(o, title);
	fputs("</h1>\n", o->f);
}

/* The footer and the document's end. */
static void
html_page_end(struct rep_out *o)
{
	fputs("<footer>OpsPulse \u00b7 definitions: <code>man opspulse</code> "
	      "and /usr/share/doc/opspulse-aggregator/README.md "
	      "\u00b7 every number is also available as "
	      "<code>opspulse dora|toil|alerts|eol|maintenance|"
	      "capacity|scorecard</code></footer>\n</body></html>\n",
	      o->f);
}

/* The header's window line, its dates in bold. */
static void
html_window(struct rep_out *o, const char *since, const char *until,
            double days, const char *prev)
{
	fprintf(o->f,
	        "<p class=\"meta\">Window: <b>%s</b> to <b>%s</b> (%.1f "
	        "days); compared with %s to %s.</p>\n",
	        since, until, days, prev, since);
}

/* A header line's start. */
static void
html_meta_begin(struct rep_out *o)
{
	fputs("<p class=\"meta\">", o->f);
}

/* A header line's end; the last one closes the header. */
static void
html_meta_end(struct rep_out *o, int last)
{
	fputs(last ? "</p></header>\n" : "</p>\n", o->f);
}

/* A section with its id (for links and tests) and heading. */
static void
html_section_begin(struct rep_out *o, const char *id, const char *title)
{
	fprintf(o->f, "<section id=\"%s\"><h2>%s</h2>\n", id, title);
}

/* A section's end. */
static void
html_section_end(struct rep_out *o)
{
	fputs("</section>\n", o->f);
}

/* A section's note on how to read it, worded for the page. */
static void
html_note(struct rep_out *o, enum rep_note which, const char *arg)
{
	fputs("<p class=\"note\">", o->f);
	switch (which) {
	case N_HEADLINES:
		fputs("Under each value: the change against the previous "
		      "window (\u25b2 up, \u25bc down); <b>bold</b> means "
		      "worse.",
		      o->f);
		break;
	case N_TRENDS:
		fprintf(o->f,
		        "One point per week from %s; the last week's value "
		        "beside each chart; under it the scale (0 to the "
		        "top) and the first and last week (month-day).",
		        arg);
		break;
	case N_SCORECARD:
		fputs("\u25cf\u25cb\u25cb 1: not measured (or past end of "
		      "life) \u00b7 \u25cf\u25cf\u25cb 2: measured \u00b7 "
		      "\u25cf\u25cf\u25cf 3: meets the target. The reasons "
		      "of levels below 3 are listed under the grid.",
		      o->f);
		break;
	}
	fputs("</p>\n", o->f);
}

/* What a section without data says, in place of its table. */
static void
html_empty(struct rep_out *o, const char *text)
{
	fprintf(o->f, "<p class=\"none\">%s</p>", text);
}

/* A header label; key columns start with a capital ("Service"). */
static void
html_label(struct rep_out *o, const struct rep_col *c)
{
	fputs("<th>", o->f);
	if (c->align == A_KEY && c->label[0] >= 'a' && c->label[0] <= 'z') {
		fputc(c->label[0] - 'a' + 'A', o->f);
		fputs(c->label + 1, o->f);
	} else {
		fputs(c->label, o->f);
	}
	fputs("</th>", o->f);
}

/* A table with its header row; cls names its style. */
static void
html_table_begin(struct rep_out *o, const char *cls, const struct rep_col *cols,
                 size_t n)
{
	fprintf(o->f, "<table class=\"%s\"><thead><tr>", cls);
	for (size_t i = 0; i < n; i++)
		html_label(o, &cols[i]);
	fputs("</tr></thead><tbody>\n", o->f);
}

/* A table's end. */
static void
html_table_end(struct rep_out *o)
{
	fputs("</tbody></table>", o->f);
}

/* A row, named by its header cell. */
static void
html_row_begin(struct rep_out *o, const char *head)
{
	fputs("<tr><th>", o->f);
	html_escape(o, head);
	fputs("</th>", o->f);
}

/* A row's end. */
static void
html_row_end(struct rep_out *o)
{
	fputs("</tr>\n", o->f);
}

/* A cell of escaped text. */
static void
html_cell_text(struct rep_out *o, const char *text)
{
	fputs("<td>", o->f);
	html_escape(o, text);
	fputs("</td>", o->f);
}

/* A cell without a value, in grey italics. */
static void
html_cell_none(struct rep_out *o, const char *text)
{
	fprintf(o->f, "<td class=\"none\">%s</td>", text);
}

/* A value, with its change below it (worse in bold). */
static void
html_cell_value(struct rep_out *o, const char *value, const char *change,
                int worse)
{
	fprintf(o->f, "<td><span class=\"v\">%s</span>", value);
	if (change)
		fprintf(o->f, "<br><span class=\"d %s\">%s</span>",
		        worse ? "worse" : "better", change);
	fputs("</td>", o->f);
}

/* The chart's line, broken where a week has no value. */
static void
html_spark_line(struct rep_out *o, const struct rep_spark *sp)
{
	int open = 0;
	double x, y;

	for (size_t i = 0; i < sp->n; i++) {
		if (isnan(sp->v[i])) {
			if (open)
				fputs("\"/>", o->f);
			open = 0;
			continue;
		}
		rep_spark_point(i, sp->n, sp->v[i], sp->max, &x, &y);
		fprintf(o->f, "%s%.1f,%.1f",
		        open ? " " : "<polyline class=\"line\" points=\"", x,
		        y);
		open = 1;
	}
	if (open)
		fputs("\"/>", o->f);
}

/* A dot on each week with a value. */
static void
html_spark_points(struct rep_out *o, const struct rep_spark *sp)
{
	double x, y;

	for (size_t i = 0; i < sp->n; i++) {
		if (isnan(sp->v[i]))
			continue;
		rep_spark_point(i, sp->n, sp->v[i], sp->max, &x, &y);
		fprintf(
		    o->f,
		    "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"1.8\"/>",
		    x, y);
	}
}

/* The chart as inline SVG. */
static void
html_spark_svg(struct rep_out *o, const struct rep_spark *sp)
{
	size_t points = 0;

	for (size_t i = 0; i < sp->n; i++)
		points += !isnan(sp->v[i]);
	fprintf(o->f,
	        "<svg class=\"spark\" width=\"%d\" height=\"%d\" viewBox=\"0 0 "
	        "%d %d\" role=\"img\" data-metric=\"%s\" data-weeks=\"%zu\" "
	        "data-points=\"%zu\"><title>",
	        SPARK_W, SPARK_H, SPARK_W, SPARK_H, sp->metric, sp->n, points);
	html_escape(o, sp->label);
	fprintf(o->f,
	        ", %zu weeks</title><line class=\"base\" x1=\"%d\" "
	        "y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
	        sp->n, SPARK_PAD, SPARK_H - SPARK_PAD, SPARK_W - SPARK_PAD,
	        SPARK_H - SPARK_PAD);
	html_spark_line(o, sp);
	html_spark_points(o, sp);
	fputs("</svg>", o->f);
}

/* A trend chart and the last value beside it. */
static void
html_cell_spark(struct rep_out *o, const struct rep_spark *sp)
{
	fputs("<td>", o->f);
	html_spark_svg(o, sp);
	fprintf(o->f,
	        "<span class=\"last\">%s</span><span class=\"scale\">"
	        "0\u2013%s \u00b7 %s to %s</span></td>",
	        sp->last, sp->top, sp->from, sp->to);
}

/* An error budget as a bar 120 px wide: the remaining share filled, all
 * of it red and hatched when overspent (so it reads in grey print). */
static void
html_cell_bar(struct rep_out *o, double remaining, const char *label)
{
	double w = remaining < 0 ? 120 : remaining > 1 ? 120 : remaining * 120;

	fputs("<td><svg class=\"bar\" width=\"120\" height=\"12\" "
	      "viewBox=\"0 0 120 12\" role=\"img\" aria-label=\"",
	      o->f);
	html_escape(o, label);
	fputs(" of the error budget left\"><rect class=\"rest\" width=\"120\" "
	      "height=\"12\"/>",
	      o->f);
	if (remaining < 0)
		fputs(
		    "<rect class=\"over\" width=\"120\" height=\"12\"/>"
		    "<path d=\"M0 12L12 0M12 12L24 0M24 12L36 0M36 12L48 0M48 "
		    "12L60 0M60 12L72 0M72 12L84 0M84 12L96 0M96 12L108 0M108 "
		    "12L120 0\" stroke=\"#fff\" stroke-width=\"2\"/>",
		    o->f);
	else
		fprintf(o->f,
		        "<rect class=\"left\" width=\"%.1f\" height=\"12\"/>",
		        w);
	fputs("</svg>", o->f);
	fprintf(o->f, "<span class=\"%s\">", remaining < 0 ? "worse" : "v");
	html_escape(o, label);
	fputs("</span></td>", o->f);
}

/* A scorecard level as dots, coloured, its reason on hover. */
static void
html_cell_level(struct rep_out *o, int level, const char *why)
{
	static const char *const dots[] = {"", "\u25cf\u25cb\u25cb",
	                                   "\u25cf\u25cf\u25cb",
	                                   "\u25cf\u25cf\u25cf"};

	fprintf(o->f, "<td class=\"l%d\" title=\"", level);
	html_escape(o, why);
	fprintf(o->f, "\">%s <span class=\"n\">%d</span></td>",
	        dots[level < 1 || level > 3 ? 0 : level], level);
}

/* A titled list of actions. */
static void
html_list_begin(struct rep_out *o, const char *id, const char *title)
{
	fprintf(o->f, "<div class=\"action\" id=\"%s\"><h3>%s</h3><ul>\n", id,
	        title);
}

/* An item's start. */
static void
html_item_begin(struct rep_out *o)
{
	fputs("<li>", o->f);
}

/* An item's end. */
static void
html_item_end(struct rep_out *o)
{
	fputs("</li>\n", o->f);
}

/* A list's end, saying nothing when it had no items. */
static void
html_list_end(struct rep_out *o, size_t items, const char *nothing)
{
	if (items == 0)
		fprintf(o->f, "<li class=\"none\">%s</li>\n", nothing);
	fputs("</ul></div>\n", o->f);
}

/* Escaped text in bold. */
static void
html_strong(struct rep_out *o, const char *text)
{
	fputs("<b>", o->f);
	html_escape(o, text);
	fputs("</b>", o->f);
}

const struct rep_emitter rep_html = {
    .name = "html",
    .escape = html_escape,
    .page_begin = html_page_begin,
    .page_end = html_page_end,
    .window = html_window,
    .meta_begin = html_meta_begin,
    .meta_end = html_meta_end,
    .section_begin = html_section_begin,
    .section_end = html_section_end,
    .note = html_note,
    .empty = html_empty,
    .table_begin = html_table_begin,
    .table_end = html_table_end,
    .row_begin = html_row_begin,
    .row_end = html_row_end,
    .cell_text = html_cell_text,
    .cell_none = html_cell_none,
    .cell_value = html_cell_value,
    .cell_spark = html_cell_spark,
    .cell_bar = html_cell_bar,
    .cell_level = html_cell_level,
    .list_begin = html_list_begin,
    .item_begin = html_item_begin,
    .item_end = html_item_end,
    .list_end = html_list_end,
    .strong = html_strong,
    .text = html_escape,
};
