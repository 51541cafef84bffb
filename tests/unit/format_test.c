/*
 * Unit tests for cli/format: how query results are rendered as a table,
 * JSON (RFC 8259), CSV (RFC 4180) and Markdown.  Expected texts are
 * written out by hand from those formats' rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define TEXT OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_TEXT
#define INT  OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_INTEGER
#define REAL OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_REAL
#define BOOL OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_BOOLEAN
#define TS   OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_TIMESTAMP
#define JSON OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_JSON

/* 2026-09-07T00:00:00Z and 2026-10-05T00:00:00Z (calendar.timegm). */
#define SINCE (INT64_C(1788739200) * 1000000)
#define UNTIL (INT64_C(1791158400) * 1000000)

#define MAXC 8
#define MAXR 8

/* A query result built in place; cells hold NULL for SQL null. */
struct table {
	Opspulse__V1__QueryResult r;
	Opspulse__V1__Column col[MAXC], *colp[MAXC];
	Opspulse__V1__Row row[MAXR], *rowp[MAXR];
	Opspulse__V1__Cell cell[MAXR][MAXC], *cellp[MAXR][MAXC];
};

static void
table_init(struct table *t, size_t ncols, const char *const *names,
           const int *types)
{
	memset(t, 0, sizeof(*t));
	opspulse__v1__query_result__init(&t->r);
	t->r.since_us = SINCE;
	t->r.until_us = UNTIL;
	t->r.n_columns = ncols;
	t->r.columns = t->colp;
	t->r.rows = t->rowp;
	for (size_t c = 0; c < ncols; c++) {
		opspulse__v1__column__init(&t->col[c]);
		t->col[c].name = (char *)(uintptr_t)names[c];
		t->col[c].type = (Opspulse__V1__ColumnType)types[c];
		t->colp[c] = &t->col[c];
	}
}

/* Adds a row; values[c] NULL means SQL null. */
static void
table_row(struct table *t, const char *const *values)
{
	size_t i = t->r.n_rows++;

	opspulse__v1__row__init(&t->row[i]);
	t->row[i].n_cells = t->r.n_columns;
	t->row[i].cells = t->cellp[i];
	t->rowp[i] = &t->row[i];
	for (size_t c = 0; c < t->r.n_columns; c++) {
		Opspulse__V1__Cell *cell = &t->cell[i][c];

		opspulse__v1__cell__init(cell);
		cell->is_null = values[c] == NULL;
		cell->text = (char *)(uintptr_t)(values[c] ? values[c] : "");
		t->cellp[i][c] = cell;
	}
}

/* Renders t in format f; the caller frees the text. */
static char *
render(const struct table *t, enum cli_format f, const char *title)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	assert_non_null(fp);
	cli_render(fp, f, title, &t->r);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(strlen(text), len); /* no stray NUL bytes */
	return text;
}

#define assert_renders(t, f, title, want)                                      \
	do {                                                                   \
		char *got_ = render((t), (f), (title));                        \
		assert_string_equal(got_, (want));                             \
		free(got_);                                                    \
	} while (0)

static void
test_format_parse(void **state)
{
	enum cli_format f = CLI_TABLE;

	(void)state;
	assert_int_equal(cli_format_parse("json", &f), 0);
	assert_int_equal(f, CLI_JSON);
	assert_int_equal(cli_format_parse("csv", &f), 0);
	assert_int_equal(f, CLI_CSV);
	assert_int_equal(cli_format_parse("markdown", &f), 0);
	assert_int_equal(f, CLI_MARKDOWN);
	assert_int_equal(cli_format_parse("table", &f), 0);
	assert_int_equal(f, CLI_TABLE);
	assert_int_equal(cli_format_parse("JSON", &f), -1);
	assert_int_equal(cli_format_parse("md", &f), -1);
	assert_int_equal(cli_format_parse("", &f), -1);
	assert_int_equal(f, CLI_TABLE);
}

static void
test_csv_quoting(void **state)
{
	static const char *const names[] = {"service", "note"};
	static const int types[] = {TEXT, TEXT};
	struct table t;

	(void)state;
	table_init(&t, 2, names, types);
	table_row(&t, (const char *[]){"plain", "a,b"});
	table_row(&t, (const char *[]){"say \"hi\"", "line1\nline2"});
	table_row(&t, (const char *[]){" lead", "cr\rhere"});
	table_row(&t, (const char *[]){"", NULL});
	table_row(&t, (const char *[]){"\"", "trail "});
	assert_renders(&t, CLI_CSV, "x",
	               "service,note\r\n"
	               "plain,\"a,b\"\r\n"
	               "\"say \"\"hi\"\"\",\"line1\nline2\"\r\n"
	               "\" lead\",\"cr\rhere\"\r\n"
	               ",\r\n"
	               "\"\"\"\",trail \r\n");
}

static void
test_csv_types(void **state)
{
	static const char *const names[] = {"n", "x", "ok", "at", "j"};
	static const int types[] = {INT, REAL, BOOL, TS, JSON};
	struct table t;

	(void)state;
	table_init(&t, 5, names, types);
	table_row(&t,
	          (const char *[]){"12", "0.125", "t", "2026-10-05 09:30:00+00",
	                           "[\"a\",\"b\"]"});
	table_row(&t, (const char *[]){NULL, NULL, "f", NULL, NULL});
	table_row(&t, (const char *[]){"-3", "1e-05", NULL, "x", "[]"});
	/* Numbers as PostgreSQL wrote them (no rounding), bools spelled out,
	 * null empty, and the JSON's own quotes doubled. */
	assert_renders(&t, CLI_CSV, "x",
	               "n,x,ok,at,j\r\n"
	               "12,0.125,true,2026-10-05 09:30:00+00,"
	               "\"[\"\"a\"\",\"\"b\"\"]\"\r\n"
	               ",,false,,\r\n"
	               "-3,1e-05,,x,[]\r\n");
}

static void
test_csv_header_quoted(void **state)
{
	static const char *const names[] = {"a,b", "c"};
	static const int types[] = {TEXT, TEXT};
	struct table t;

	(void)state;
	table_init(&t, 2, names, types);
	assert_renders(&t, CLI_CSV, "x", "\"a,b\",c\r\n");
}

static void
test_json_values(void **state)
{
	static const char *const names[] = {"service", "deploys", "rate",
	                                    "hotfix",  "at",      "rules"};
	static const int types[] = {TEXT, INT, REAL, BOOL, TS, JSON};
	struct table t;

	(void)state;
	table_init(&t, 6, names, types);
	table_row(&t, (const char *[]){"billing", "12", "0.25", "t",
	                               "2026-10-05 09:30:00+00",
	                               "[\"HighLatency\"]"});
	table_row(&t, (const char *[]){"search", NULL, NULL, "f", NULL, NULL});
	table_row(&t, (const char *[]){"x", "0", "-1.5e-07", NULL, "y", "[]"});
	assert_renders(&t, CLI_JSON, "x",
	               "{\"since\":\"2026-09-07T00:00:00Z\","
	               "\"until\":\"2026-10-05T00:00:00Z\",\"rows\":["
	               "{\"service\":\"billing\",\"deploys\":12,\"rate\":0.25,"
	               "\"hotfix\":true,\"at\":\"2026-10-05 09:30:00+00\","
	               "\"rules\":[\"HighLatency\"]},"
	               "{\"service\":\"search\",\"deploys\":null,\"rate\":null,"
	               "\"hotfix\":false,\"at\":null,\"rules\":null},"
	               "{\"service\":\"x\",\"deploys\":0,\"rate\":-1.5e-07,"
	               "\"hotfix\":null,\"at\":\"y\",\"rules\":[]}"
	               "]}\n");
}

static void
test_json_escaping(void **state)
{
	static const char *const names[] = {"we\"ird\\"};
	static const int types[] = {TEXT};
	struct table t;

	(void)state;
	table_init(&t, 1, names, types);
	table_row(&t, (const char *[]){"q\"b\\s/n\nt\tc\x01\x1f\re\x7f"
	                               "\xc3\xa9"});
	/* Quote, backslash and control characters escaped; '/', DEL and
	 * UTF-8 passed through as they are. */
	assert_renders(&t, CLI_JSON, "x",
	               "{\"since\":\"2026-09-07T00:00:00Z\","
	               "\"until\":\"2026-10-05T00:00:00Z\",\"rows\":["
	               "{\"we\\\"ird\\\\\":"
	               "\"q\\\"b\\\\s/n\\nt\\tc\\u0001\\u001f\\u000de\x7f"
	               "\xc3\xa9\"}]}\n");
}

static void
test_json_empty(void **state)
{
	static const char *const names[] = {"service"};
	static const int types[] = {TEXT};
	struct table t;

	(void)state;
	table_init(&t, 1, names, types);
	t.r.since_us = SINCE + 1;
	assert_renders(&t, CLI_JSON, "x",
	               "{\"since\":\"2026-09-07T00:00:00.000001Z\","
	               "\"until\":\"2026-10-05T00:00:00Z\",\"rows\":[]}\n");
}

/* A standby's answer carries its replay lag, in JSON and above the
 * table; unknown lag is null. */
static void
test_from_standby(void **state)
{
	static const char *const names[] = {"service"};
	static const int types[] = {TEXT};
	struct table t;

	(void)state;
	table_init(&t, 1, names, types);
	t.r.from_standby = 1;
	t.r.replay_lag_seconds = 1.25;
	assert_renders(&t, CLI_JSON, "x",
	               "{\"since\":\"2026-09-07T00:00:00Z\","
	               "\"until\":\"2026-10-05T00:00:00Z\","
	               "\"from_standby\":true,\"replay_lag_seconds\":1.250,"
	               "\"rows\":[]}\n");
	assert_renders(&t, CLI_TABLE, "x",
	               "x, 2026-09-07T00:00:00Z to 2026-10-05T00:00:00Z\n"
	               "(from a standby, 1.2 s behind the primary: events "
	               "acknowledged since may be missing)\n\n"
	               "service\n"
	               "(no rows)\n");
	t.r.replay_lag_seconds = -1;
	assert_renders(&t, CLI_JSON, "x",
	               "{\"since\":\"2026-09-07T00:00:00Z\","
	               "\"until\":\"2026-10-05T00:00:00Z\","
	               "\"from_standby\":true,\"replay_lag_seconds\":null,"
	               "\"rows\":[]}\n");
}

static void
test_markdown(void **state)
{
	static const char *const names[] = {"service", "deploys", "rate", "ok",
	                                    "note|x"};
	static const int types[] = {TEXT, INT, REAL, BOOL, TEXT};
	struct table t;

	(void)state;
	table_init(&t, 5, names, types);
	table_row(&t, (const char *[]){"a|b", "3", "0.25", "t", "x\ny\rz"});
	table_row(&t, (const char *[]){"c", NULL, "41.56", "f", NULL});
	table_row(&t, (const char *[]){"d", "0", "0", NULL, ""});
	/* Pipes escaped, line breaks flattened, numbers right-aligned, reals
	 * rounded as in the table, null as "-". */
	assert_renders(&t, CLI_MARKDOWN, "x",
	               "| service | deploys | rate | ok | note\\|x |\n"
	               "| --- | ---: | ---: | --- | --- |\n"
	               "| a\\|b | 3 | 0.25 | yes | x y z |\n"
	               "| c | - | 41.6 | no | - |\n"
	               "| d | 0 | 0.00 | - |  |\n");
}

static void
test_table(void **state)
{
	static const char *const names[] = {"service", "deploys", "rate", "ok"};
	static const int types[] = {TEXT, INT, REAL, BOOL};
	struct table t;

	(void)state;
	table_init(&t, 4, names, types);
	table_row(&t, (const char *[]){"billing", "12", "-0.5", "t"});
	table_row(&t, (const char *[]){"search-frontend", NULL, "100", "f"});
	/* Columns as wide as their widest cell, numbers right-aligned. */
	assert_renders(&t, CLI_TABLE, "DORA: production",
	               "DORA: production, 2026-09-07T00:00:00Z to "
	               "2026-10-05T00:00:00Z\n\n"
	               "service          deploys  rate   ok \n"
	               "billing               12  -0.50  yes\n"
	               "search-frontend        -    100  no \n");
}

/* Reals by their column's unit, as the report rounds them
 * (common/op_round.h): numbers 2 decimals below 10, 1 below 100, none
 * from 100; shares 3 decimals; percent 1; minutes none.  Lists without
 * JSON's brackets and quotes, an empty one as "-". */
static void
test_table_units(void **state)
{
	static const char *const names[] = {"service",          "toil_hours",
	                                    "noise_share",      "cpu_p95_pct",
	                                    "mttr_p50_minutes", "rules"};
	static const int types[] = {TEXT, REAL, REAL, REAL, REAL, JSON};
	struct table t;

	(void)state;
	table_init(&t, 6, names, types);
	table_row(
	    &t, (const char *[]){"a", "0.75", "0.25", "31.145", "14.6", "[]"});
	table_row(&t, (const char *[]){"b", "9.996", "1", "100", "0.4",
	                               "[\"Disk\", \"A\\\"B\"]"});
	table_row(&t, (const char *[]){"c", "123.45", "0.0004", "0.04", "120",
	                               "[\"x\"]"});
	assert_renders(&t, CLI_MARKDOWN, "x",
	               "| service | toil_hours | noise_share | cpu_p95_pct | "
	               "mttr_p50_minutes | rules |\n"
	               "| --- | ---: | ---: | ---: | ---: | --- |\n"
	               "| a | 0.75 | 0.250 | 31.1 | 15 | - |\n"
	               "| b | 10.0 | 1.000 | 100.0 | 0 | Disk, A\"B |\n"
	               "| c | 123 | 0.000 | 0.0 | 120 | x |\n");
}

static void
test_table_no_rows(void **state)
{
	static const char *const names[] = {"service"};
	static const int types[] = {TEXT};
	struct table t;

	(void)state;
	table_init(&t, 1, names, types);
	assert_renders(&t, CLI_TABLE, "Toil",
	               "Toil, 2026-09-07T00:00:00Z to 2026-10-05T00:00:00Z\n\n"
	               "service\n"
	               "(no rows)\n");
}

/*
 * A reply whose rows have fewer cells than it has columns comes from a
 * broken or hostile server; the missing cells render as null instead of
 * reading past the row.
 */
static void
test_short_row(void **state)
{
	static const char *const names[] = {"service", "deploys"};
	static const int types[] = {TEXT, INT};
	struct table t;

	(void)state;
	table_init(&t, 2, names, types);
	table_row(&t, (const char *[]){"billing", "1"});
	t.row[0].n_cells = 1;
	assert_renders(&t, CLI_JSON, "x",
	               "{\"since\":\"2026-09-07T00:00:00Z\","
	               "\"until\":\"2026-10-05T00:00:00Z\",\"rows\":["
	               "{\"service\":\"billing\",\"deploys\":null}]}\n");
	assert_renders(&t, CLI_CSV, "x", "service,deploys\r\nbilling,\r\n");
	assert_renders(&t, CLI_MARKDOWN, "x",
	               "| service | deploys |\n| --- | ---: |\n"
	               "| billing | - |\n");
	t.row[0].n_cells = 0;
	t.row[0].cells = NULL;
	assert_renders(&t, CLI_TABLE, "T",
	               "T, 2026-09-07T00:00:00Z to 2026-10-05T00:00:00Z\n\n"
	               "service  deploys\n"
	               "-              -\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_parse),
	    cmocka_unit_test(test_csv_quoting),
	    cmocka_unit_test(test_csv_types),
	    cmocka_unit_test(test_csv_header_quoted),
	    cmocka_unit_test(test_json_values),
	    cmocka_unit_test(test_json_escaping),
	    cmocka_unit_test(test_json_empty),
	    cmocka_unit_test(test_from_standby),
	    cmocka_unit_test(test_markdown),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_table_units),
	    cmocka_unit_test(test_table_no_rows),
	    cmocka_unit_test(test_short_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
