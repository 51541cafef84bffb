/*
 * Rendering of query results: an aligned table for people, JSON for
 * programs ({"since","until","rows":[...]}), CSV for spreadsheets and
 * Markdown for documents.  Column types come from the aggregator.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "op_round.h"
#include "op_time.h"

typedef Opspulse__V1__QueryResult result_t;
typedef Opspulse__V1__Cell cell_t;

#define T_INT  OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_INTEGER
#define T_REAL OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_REAL
#define T_BOOL OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_BOOLEAN
#define T_JSON OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_JSON

int
cli_format_parse(const char *s, enum cli_format *f)
{
	static const char *const names[] = {"table", "json", "csv", "markdown"};

	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*f = (enum cli_format)i;
			return 0;
		}
	}
	return -1;
}

/* Cell c of row i.  A row with fewer cells than columns (a broken reply)
 * reads as null there instead of past its end. */
static const cell_t *
cell_at(const result_t *r, size_t i, size_t c)
{
	static cell_t missing;

	if (c < r->rows[i]->n_cells)
		return r->rows[i]->cells[c];
	opspulse__v1__cell__init(&missing);
	missing.is_null = 1;
	return &missing;
}

static void
json_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", fp);
		else if (*p == '\t')
			fputs("\\t", fp);
		else if (*p < 0x20)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

static void
json_value(FILE *fp, int type, const cell_t *c)
{
	if (c->is_null)
		fputs("null", fp);
	else if (type == T_BOOL)
		fputs(c->text[0] == 't' ? "true" : "false", fp);
	else if (type == T_INT || type == T_REAL || type == T_JSON)
		fputs(c->text, fp);
	else
		json_string(fp, c->text);
}

static void
render_json(FILE *fp, const result_t *r)
{
	char since[OP_TIME_BUFSZ], until[OP_TIME_BUFSZ];

	fprintf(fp, "{\"since\":\"%s\",\"until\":\"%s\",",
	        op_time_format(r->since_us, since, sizeof(since)),
	        op_time_format(r->until_us, until, sizeof(until)));
	/* A standby's answer says how far behind the primary it is. */
	if (r->from_standby && r->replay_lag_seconds >= 0)
		fprintf(fp,
		        "\"from_standby\":true,\"replay_lag_seconds\":%.3f,",
		        r->replay_lag_seconds);
	else if (r->from_standby)
		fputs("\"from_standby\":true,\"replay_lag_seconds\":null,", fp);
	fputs("\"rows\":[", fp);
	for (size_t i = 0; i < r->n_rows; i++) {
		fputs(i ? ",{" : "{", fp);
		for (size_t c = 0; c < r->n_columns; c++) {
			if (c)
				fputc(',', fp);
			json_string(fp, r->columns[c]->name);
			fputc(':', fp);
			json_value(fp, r->columns[c]->type, cell_at(r, i, c));
		}
		fputc('}', fp);
	}
	fputs("]}\n", fp);
}

/* A JSON array of strings as a list: ["a","b"] -> "a, b", [] -> "-".
 * Anything else is shown as it is. */
static const char *
human_list(const char *json, char *buf, size_t size)
{
	size_t o = 0;
	int in_str = 0;

	if (json[0] != '[' || size == 0)
		return json;
	for (const char *p = json + 1; *p && o + 3 < size; p++) {
		if (in_str && *p == '\\' && p[1])
			buf[o++] = *++p;
		else if (*p == '"')
			in_str = !in_str;
		else if (in_str)
			buf[o++] = *p;
		else if (*p == ',') {
			buf[o++] = ',';
			buf[o++] = ' ';
		} else if (*p != ']' && *p != ' ')
			buf[o++] = *p;
	}
	buf[o] = '\0';
	return o ? buf : "-";
}

/* A cell of column col as people read it: "-" for null, reals rounded by
 * their unit's rule (common/op_round.h, as in the report), yes/no, lists
 * without JSON's brackets. */
static const char *
human(const Opspulse__V1__Column *col, const cell_t *c, char *buf, size_t size)
{
	int type = col->type;

	if (c->is_null)
		return "-";
	if (type == T_BOOL)
		return c->text[0] == 't' ? "yes" : "no";
	if (type == T_JSON)
		return human_list(c->text, buf, size);
	if (type != T_REAL)
		return c->text;
	op_round_format(buf, size, strtod(c->text, NULL),
	                op_unit_of_column(col->name));
	return buf;
}

/* t truncated to the second as RFC 3339 text: a window's edges read
 * "2026-09-07T00:00:00Z", not with the microseconds of "now". */
static const char *
human_time(int64_t us, char *buf, size_t size)
{
	return op_time_format(us - us % OP_US_PER_SEC, buf, size);
}

static void
render_table(FILE *fp, const char *title, const result_t *r)
{
	size_t *w = calloc(r->n_columns ? r->n_columns : 1, sizeof(*w));
	char buf[512], since[OP_TIME_BUFSZ], until[OP_TIME_BUFSZ];

	if (w == NULL)
		return;
	for (size_t c = 0; c < r->n_columns; c++) {
		w[c] = strlen(r->columns[c]->name);
		for (size_t i = 0; i < r->n_rows; i++) {
			size_t l = strlen(human(r->columns[c], cell_at(r, i, c),
			                        buf, sizeof(buf)));
			if (l > w[c])
				w[c] = l;
		}
	}
	fprintf(fp, "%s, %s to %s\n", title,
	        human_time(r->since_us, since, sizeof(since)),
	        human_time(r->until_us, until, sizeof(until)));
	if (r->from_standby && r->replay_lag_seconds >= 0)
		fprintf(fp,
		        "(from a standby, %.1f s behind the primary: events "
		        "acknowledged since may be missing)\n",
		        r->replay_lag_seconds);
	else if (r->from_standby)
		fputs("(from a standby that cannot tell how far behind the "
		      "primary it is: recent events may be missing)\n",
		      fp);
	fputc('\n', fp);
	for (size_t c = 0; c < r->n_columns; c++)
		fprintf(fp, "%-*s%s", (int)w[c], r->columns[c]->name,
		        c + 1 < r->n_columns ? "  " : "\n");
	for (size_t i = 0; i < r->n_rows; i++) {
		for (size_t c = 0; c < r->n_columns; c++) {
			int type = r->columns[c]->type;
			int right = type == T_INT || type == T_REAL;
			fprintf(fp, right ? "%*s%s" : "%-*s%s", (int)w[c],
			        human(r->columns[c], cell_at(r, i, c), buf,
			              sizeof(buf)),
			        c + 1 < r->n_columns ? "  " : "\n");
		}
	}
	if (r->n_rows == 0)
		fputs("(no rows)\n", fp);
	free(w);
}

static void
csv_field(FILE *fp, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL && s[0] != ' ') {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
render_csv(FILE *fp, const result_t *r)
{
	for (size_t c = 0; c < r->n_columns; c++) {
		if (c)
			fputc(',', fp);
		csv_field(fp, r->columns[c]->name);
	}
	fputs("\r\n", fp);
	for (size_t i = 0; i < r->n_rows; i++) {
		for (size_t c = 0; c < r->n_columns; c++) {
			const cell_t *cell = cell_at(r, i, c);
			if (c)
				fputc(',', fp);
			if (!cell->is_null)
				csv_field(fp,
				          r->columns[c]->type == T_BOOL
				              ? (cell->text[0] == 't' ? "true"
				                                      : "false")
				              : cell->text);
		}
		fputs("\r\n", fp);
	}
}

static void
md_cell(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", fp);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', fp);
		else
			fputc(*s, fp);
	}
}

static void
render_markdown(FILE *fp, const result_t *r)
{
	char buf[512];

	fputc('|', fp);
	for (size_t c = 0; c < r->n_columns; c++) {
		fputc(' ', fp);
		md_cell(fp, r->columns[c]->name);
		fputs(" |", fp);
	}
	fputs("\n|", fp);
	for (size_t c = 0; c < r->n_columns; c++) {
		int type = r->columns[c]->type;
		fputs(type == T_INT || type == T_REAL ? " ---: |" : " --- |",
		      fp);
	}
	fputc('\n', fp);
	for (size_t i = 0; i < r->n_rows; i++) {
		fputc('|', fp);
		for (size_t c = 0; c < r->n_columns; c++) {
			fputc(' ', fp);
			md_cell(fp, human(r->columns[c], cell_at(r, i, c), buf,
			                  sizeof(buf)));
			fputs(" |", fp);
		}
		fputc('\n', fp);
	}
}

void
cli_render(FILE *fp, enum cli_format f, const char *title, const result_t *r)
{
	switch (f) {
	case CLI_JSON:
		render_json(fp, r);
		break;
	case CLI_CSV:
		render_csv(fp, r);
		break;
	case CLI_MARKDOWN:
		render_markdown(fp, r);
		break;
	default:
		render_table(fp, title, r);
		break;
	}
}
