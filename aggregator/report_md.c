/*
 * The report as Markdown (GitHub's tables): for a chat message, a ticket
 * or a terminal.  Charts are one block character per week.  An
 * implementation of struct rep_emitter.
 */
#include <math.h>
#include <stdio.h>

#include "report_int.h"

/* Starts a block: a blank line first when one is due. */
static void
md_block(struct rep_out *o)
{
	if (o->blank)
		fputc('\n', o->f);
	o->blank = 0;
}

/* s escaped for a table cell: '|' quoted, line breaks as spaces.  s may
 * be NULL. */
static void
md_escape(struct rep_out *o, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", o->f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', o->f);
		else
			fputc(*s, o->f);
	}
}

/* The title as the document's heading. */
static void
md_page_begin(struct rep_out *o, const char *title, const char *since,
              const char *until)
{
	(void)since;
	(void)until;
	fputs("# ", o->f);
	md_escape(o, title);
	fputs("\n\n", o->f);
	o->blank = 0;
}

/* Nothing: Markdown has no footer. */
static void
md_page_end(struct rep_out *o)
{
	(void)o;
}

/* Ends with a hard line break: the scope follows on the next line. */
static void
md_window(struct rep_out *o, const char *since, const char *until, double days,
          const char *prev)
{
	fprintf(o->f,
	        "Window: %s to %s (%.1f days); compared with %s to %s.  \n",
	        since, until, days, prev, since);
}

/* Nothing: a header line is plain text. */
static void
md_meta_begin(struct rep_out *o)
{
	(void)o;
}

/* A header line's end. */
static void
md_meta_end(struct rep_out *o, int last)
{
	(void)last;
	fputc('\n', o->f);
}

/* A section's heading (level 2); its id has no use here. */
static void
md_section_begin(struct rep_out *o, const char *id, const char *title)
{
	(void)id;
	fprintf(o->f, "\n## %s\n", title);
	o->blank = 1;
}

/* Nothing: a section ends where the next heading starts. */
static void
md_section_end(struct rep_out *o)
{
	(void)o;
}

/* A section's note on how to read it, worded for plain text. */
static void
md_note(struct rep_out *o, enum rep_note which, const char *arg)
{
	md_block(o);
	switch (which) {
	case N_HEADLINES:
		fputs("Change against the previous window in brackets.", o->f);
		break;
	case N_TRENDS:
		fprintf(o->f,
		        "One point per week from %s; the last value at the "
		        "end of each line.",
		        arg);
		break;
	case N_SCORECARD:
		fputs("Level 1: not measured (or past end of life), 2: "
		      "measured, 3: meets the target.",
		      o->f);
		break;
	}
	fputc('\n', o->f);
	o->blank = 1;
}

/* What a section without data says, in place of its table. */
static void
md_empty(struct rep_out *o, const char *text)
{
	md_block(o);
	fprintf(o->f, "%s\n", text);
}

/* The alignment row's cell of a column. */
static const char *
md_rule(enum rep_align a)
{
	switch (a) {
	case A_RIGHT:
		return "---:|";
	case A_CENTER:
		return ":---:|";
	case A_KEY:
	case A_LEFT:
	default:
		return "---|";
	}
}

/* A table's header and alignment rows. */
static void
md_table_begin(struct rep_out *o, const char *cls, const struct rep_col *cols,
               size_t n)
{
	(void)cls;
	md_block(o);
	fputc('|', o->f);
	for (size_t i = 0; i < n; i++)
		fprintf(o->f, " %s |", cols[i].label);
	fputs("\n|", o->f);
	for (size_t i = 0; i < n; i++)
		fputs(md_rule(cols[i].align), o->f);
	fputc('\n', o->f);
}

/* A table's end: a blank line before what follows. */
static void
md_table_end(struct rep_out *o)
{
	o->blank = 1;
}

/* A row, named by its first cell. */
static void
md_row_begin(struct rep_out *o, const char *head)
{
	fputs("| ", o->f);
	md_escape(o, head);
	fputs(" |", o->f);
}

/* A row's end. */
static void
md_row_end(struct rep_out *o)
{
	fputc('\n', o->f);
}

/* A cell of escaped text. */
static void
md_cell_text(struct rep_out *o, const char *text)
{
	fputc(' ', o->f);
	md_escape(o, text);
	fputs(" |", o->f);
}

/* A cell without a value. */
static void
md_cell_none(struct rep_out *o, const char *text)
{
	fprintf(o->f, " %s |", text);
}

/* A value, with its change in brackets (", worse" when so). */
static void
md_cell_value(struct rep_out *o, const char *value, const char *change,
              int worse)
{
	fprintf(o->f, " %s", value);
	if (change)
		fprintf(o->f, " (%s%s)", change, worse ? ", worse" : "");
	fputs(" |", o->f);
}

/* One block character per week, "·" without data, then the last value. */
static void
md_cell_spark(struct rep_out *o, const struct rep_spark *sp)
{
	static const char *const blocks[] = {"\u2581", "\u2582", "\u2583",
	                                     "\u2584", "\u2585", "\u2586",
	                                     "\u2587", "\u2588"};

	fputc(' ', o->f);
	for (size_t i = 0; i < sp->n; i++) {
		int b =
		    isnan(sp->v[i]) ? 0 : (int)lround(sp->v[i] / sp->max * 7);
		fputs(isnan(sp->v[i]) ? "\u00b7" : blocks[b < 0 ? 0 : b], o->f);
	}
	fprintf(o->f, " %s |", sp->last);
}

/* An error budget as ten blocks, "!" for each tenth overspent (at most
 * ten), then the share left. */
static void
md_cell_bar(struct rep_out *o, double remaining, const char *label)
{
	long full = lround((remaining > 1 ? 1 : remaining) * 10);

	fputs(" `", o->f);
	for (long i = 0; i < 10; i++) {
		if (remaining < 0)
			fputc(i < -full ? '!' : '.', o->f);
		else
			fputs(i < full ? "#" : ".", o->f);
	}
	fputs("` ", o->f);
	md_escape(o, label);
	fputs(" |", o->f);
}

/* A scorecard level as its digit; the reason is left out. */
static void
md_cell_level(struct rep_out *o, int level, const char *why)
{
	(void)why;
	fprintf(o->f, " %d |", level);
}

/* A titled list of actions (a level 3 heading). */
static void
md_list_begin(struct rep_out *o, const char *id, const char *title)
{
	(void)id;
	fprintf(o->f, "\n### %s\n", title);
	o->blank = 1;
}

/* An item's start. */
static void
md_item_begin(struct rep_out *o)
{
	md_block(o);
	fputs("- ", o->f);
}

/* An item's end. */
static void
md_item_end(struct rep_out *o)
{
	fputc('\n', o->f);
}

/* A list's end, saying nothing when it had no items. */
static void
md_list_end(struct rep_out *o, size_t items, const char *nothing)
{
	if (items == 0) {
		md_block(o);
		fprintf(o->f, "%s\n", nothing);
	}
	o->blank = 0;
}

/* Escaped text in bold. */
static void
md_strong(struct rep_out *o, const char *text)
{
	fputs("**", o->f);
	md_escape(o, text);
	fputs("**", o->f);
}

const struct rep_emitter rep_md = {
    .name = "markdown",
    .escape = md_escape,
    .page_begin = md_page_begin,
    .page_end = md_page_end,
    .window = md_window,
    .meta_begin = md_meta_begin,
    .meta_end = md_meta_end,
    .section_begin = md_section_begin,
    .section_end = md_section_end,
    .note = md_note,
    .empty = md_empty,
    .table_begin = md_table_begin,
    .table_end = md_table_end,
    .row_begin = md_row_begin,
    .row_end = md_row_end,
    .cell_text = md_cell_text,
    .cell_none = md_cell_none,
    .cell_value = md_cell_value,
    .cell_spark = md_cell_spark,
    .cell_bar = md_cell_bar,
    .cell_level = md_cell_level,
    .list_begin = md_list_begin,
    .item_begin = md_item_begin,
    .item_end = md_item_end,
    .list_end = md_list_end,
    .strong = md_strong,
    .text = md_escape,
};
