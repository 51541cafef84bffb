/*
 * Unit tests for the report's layout and emitters (aggregator/report_*.c):
 * canned query results, built here as the store would return them, drawn
 * into HTML and Markdown, and the documents checked for what a reader
 * sees: escaped names, missing values, the action lists as SQL gave them,
 * the trend charts.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "store.h"

/* 2026-12-05T00:00:00Z. */
#define UNTIL_US (INT64_C(1796428800) * 1000000)
#define DAY_US   (INT64_C(86400) * 1000000)

/* A copy of s, failing the test when out of memory. */
static char *
dup(const char *s)
{
	char *c = strdup(s);

	assert_non_null(c);
	return c;
}

/*
 * A result as store_query makes it: columns named in cols (separated by
 * ','), then ncells cells (NULL: SQL NULL) row after row.  Free with
 * store_result_free.
 */
static rep_result *
table(const char *cols, const char *const *cells, size_t ncells)
{
	size_t nrows;

	rep_result *r = calloc(1, sizeof(*r));
	char *names = dup(cols), *save = NULL;

	assert_non_null(r);
	opspulse__v1__query_result__init(r);
	r->columns = calloc(32, sizeof(*r->columns));
	assert_non_null(r->columns);
	for (char *n = strtok_r(names, ",", &save); n;
	     n = strtok_r(NULL, ",", &save)) {
		Opspulse__V1__Column *c = calloc(1, sizeof(*c));
		assert_non_null(c);
		opspulse__v1__column__init(c);
		c->name = dup(n);
		r->columns[r->n_columns++] = c;
	}
	free(names);
	assert_int_equal(ncells % r->n_columns, 0);
	nrows = ncells / r->n_columns;
	r->rows = calloc(nrows ? nrows : 1, sizeof(*r->rows));
	assert_non_null(r->rows);
	for (size_t i = 0; i < nrows; i++) {
		Opspulse__V1__Row *row = calloc(1, sizeof(*row));
		assert_non_null(row);
		opspulse__v1__row__init(row);
		row->cells = calloc(r->n_columns, sizeof(*row->cells));
		assert_non_null(row->cells);
		for (size_t c = 0; c < r->n_columns; c++) {
			const char *v = cells[i * r->n_columns + c];
			Opspulse__V1__Cell *cell = calloc(1, sizeof(*cell));
			assert_non_null(cell);
			opspulse__v1__cell__init(cell);
			cell->is_null = v == NULL;
			cell->text = dup(v ? v : "");
			row->cells[row->n_cells++] = cell;
		}
		r->rows[r->n_rows++] = row;
	}
	return r;
}

#define TABLE(cols, ...)                                                       \
	table(cols, (const char *const[]){__VA_ARGS__},                        \
	      sizeof((const char *const[]){__VA_ARGS__}) /                     \
	          sizeof(const char *))

#define DORA_COLS                                                              \
	"service,deploys,deploys_per_week,lead_time_p50_hours,"                \
	"change_failure_rate,recovery_time_p50_hours"
#define TOIL_COLS   "service,team,entries,toil_hours,bus_factor"
#define ALERT_COLS  "service,fired,noise_share,mttr_p50_minutes"
#define HEALTH_COLS "service,requests,timed,error_rate,latency_p95_ms"
#define WEEK_COLS                                                              \
	"service,deploys,change_failure_rate,toil_hours,alerts,noise_share"
#define ACTION_COLS                                                            \
	"kind,service,host,subject,detail,status,days,eol_date,due_at,"        \
	"count,share,hours,people,used_pct,days_to_full"
#define RULE_COLS                                                              \
	"disk_full_days,eol_urgent_days,noisy_rules,noise_min_episodes,"       \
	"automation_candidates,bus_factor_max"

/* The request every test renders for. */
static Opspulse__V1__QueryRequest test_req;

/* A page of one service named name (with <, & and | in it), a team
 * missing, values missing, two weeks of trends and one action of each
 * kind. */
static void
page_of(struct rep *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	opspulse__v1__query_request__init(&test_req);
	p->req = &test_req;
	p->until = UNTIL_US;
	p->since = UNTIL_US - 28 * DAY_US;
	p->prev_since = p->since - 28 * DAY_US;
	p->trend_since = UNTIL_US - 84 * DAY_US;
	p->now = UNTIL_US;
	/* Deploys recorded, lead time not known (NULL). */
	p->r[P_DORA] = TABLE(DORA_COLS, name, "4", "1.0", NULL, "0.25", "2.5");
	p->r[P_DORA_PREV] =
	    TABLE(DORA_COLS, name, "2", "0.5", "3", "0.5", "2.5");
	/* No team (NULL): shown as a dash. */
	p->r[P_TOIL] = TABLE(TOIL_COLS, name, NULL, "3", "7", "1");
	p->r[P_TOIL_PREV] = TABLE(TOIL_COLS, name, NULL, "0", "0", NULL);
	/* Nothing fired: "no alerts". */
	p->r[P_ALERTS] = TABLE(ALERT_COLS, name, "0", NULL, NULL);
	p->r[P_ALERTS_PREV] = TABLE(ALERT_COLS, name, "0", NULL, NULL);
	/* More errors (worse), faster (better). */
	p->r[P_HEALTH] =
	    TABLE(HEALTH_COLS, name, "1000", "900", "0.01", "48.127");
	p->r[P_HEALTH_PREV] =
	    TABLE(HEALTH_COLS, name, "2000", "1500", "0.005", "120");
	p->r[P_WEEKLY] = TABLE(WEEK_COLS, name, "1", "0", "2", "0", NULL, name,
	                       "3", "0.5", "4", "0", NULL);
	p->r[P_SCORECARD] = TABLE("service,area,level,reason", name, "delivery",
	                          "2", "level <low> & \"slow\"");
	p->r[P_ACTIONS] =
	    TABLE(ACTION_COLS,
	          /* kind service host subject detail status days eol_date
	             due_at count share hours people used_pct days_to_full */
	          "eol", name, "db-1", "postgresql", "11.22", "past_eol", "-3",
	          "2026-12-02", NULL, NULL, NULL, NULL, NULL, NULL, NULL, /**/
	          "noise", name, NULL, "Disk<Full>", NULL, NULL, NULL, NULL,
	          NULL, "24", "0.6666666666666666", NULL, NULL, NULL, NULL, /**/
	          "noise", name, NULL, "Second", NULL, NULL, NULL, NULL, NULL,
	          "4", "0.5", NULL, NULL, NULL, NULL, /**/
	          "automation", name, NULL, "restart", NULL, NULL, NULL, NULL,
	          NULL, "19", NULL, "7.75", "1", NULL, NULL, /**/
	          "disk", name, "h-1", "/var", NULL, NULL, NULL, NULL, NULL,
	          NULL, NULL, NULL, NULL, "77.2", "40.4");
	p->r[P_RULES] = TABLE(RULE_COLS, "45", "90", "5", "0.5", "5", "1");
}

static void
free_page(struct rep *p)
{
	for (int i = 0; i < P_COUNT; i++)
		store_result_free(p->r[i]);
}

/* p drawn by em, as a NUL-terminated string the caller frees. */
static char *
draw(const struct rep *p, const struct rep_emitter *em)
{
	struct rep_out o = {.em = em};
	char *doc = NULL;
	size_t len = 0;

	o.f = open_memstream(&doc, &len);
	assert_non_null(o.f);
	rep_page(p, &o);
	assert_int_equal(fclose(o.f), 0);
	assert_int_equal(strlen(doc), len);
	return doc;
}

#define assert_has(doc, s)                                                     \
	do {                                                                   \
		if (strstr((doc), (s)) == NULL)                                \
			fail_msg("missing: %s", (s));                          \
	} while (0)
#define assert_lacks(doc, s)                                                   \
	do {                                                                   \
		if (strstr((doc), (s)) != NULL)                                \
			fail_msg("unexpected: %s", (s));                       \
	} while (0)

/* How often s occurs in doc. */
static size_t
count_of(const char *doc, const char *s)
{
	size_t n = 0;

	for (const char *at = doc; (at = strstr(at, s)) != NULL; at++)
		n++;
	return n;
}

static void
test_html_escapes_names(void **state)
{
	struct rep p;
	char *doc;

	(void)state;
	page_of(&p, "a<b&c|d");
	doc = draw(&p, &rep_html);
	assert_has(doc, "<tr><th>a&lt;b&amp;c|d</th>");
	assert_has(doc, "Services: a&lt;b&amp;c|d (1)");
	assert_has(doc, "<b>Disk&lt;Full&gt;</b>");
	assert_has(doc, "title=\"level &lt;low&gt; &amp; &quot;slow&quot;\"");
	assert_lacks(doc, "a<b");
	assert_lacks(doc, "Disk<Full>");
	assert_int_equal(strncmp(doc, "<!DOCTYPE html>\n", 16), 0);
	assert_has(doc, "</body></html>\n");
	free(doc);
	free_page(&p);
}

static void
test_markdown_escapes_pipes(void **state)
{
	struct rep p;
	char *doc;

	(void)state;
	page_of(&p, "a<b&c|d");
	doc = draw(&p, &rep_md);
	/* Markdown keeps < and & but a | would split the table's cell. */
	assert_has(doc, "\n| a<b&c\\|d |");
	assert_has(doc, "- **Disk<Full>** (**a<b&c\\|d**):");
	assert_lacks(doc, "c|d");
	assert_lacks(doc, "<td");
	assert_int_equal(strncmp(doc, "# OpsPulse weekly review\n\n", 26), 0);
	free(doc);
	free_page(&p);
}

static void
test_missing_values(void **state)
{
	struct rep p;
	char *html, *md;

	(void)state;
	page_of(&p, "billing");
	html = draw(&p, &rep_html);
	md = draw(&p, &rep_md);
	/* No team, no lead time: a dash; nothing fired: "no alerts". */
	assert_has(md, "| billing | \u2013 | 1.0 (\u25b2 0.5) | \u2013 |");
	assert_has(html, "</th><td>\u2013</td><td><span class=\"v\">1.0");
	assert_has(html, "<td class=\"none\">no alerts</td>");
	/* Three headline cells and two trend cells. */
	assert_int_equal(count_of(md, " no alerts |"), 5);
	/* Bus factor and toil: nothing recorded before, so no change. */
	assert_has(md, " 7.0 h | 1 |");
	/* Change failure went down: better, in points. */
	assert_has(md, " 25.0 % (\u25bc 25.0 pp) |");
	assert_has(html, "<span class=\"d better\">\u25bc 25.0 pp</span>");
	/* Error rate in points, latency p95 in ms, each with its change. */
	assert_has(
	    md, " 1.00 % (\u25b2 0.50 pp, worse) | 48.1 ms (\u25bc 71.9 ms) |");
	assert_has(html, "<span class=\"d worse\">\u25b2 0.50 pp</span>");
	assert_has(html, "<span class=\"d better\">\u25bc 71.9 ms</span>");
	/* An area without a level is a dash. */
	assert_has(md, "| billing | 2 | \u2013 | \u2013 |");
	free(html);
	free(md);
	free_page(&p);
}

static void
test_action_lists(void **state)
{
	struct rep p;
	char *md, *html;

	(void)state;
	page_of(&p, "billing");
	md = draw(&p, &rep_md);
	html = draw(&p, &rep_html);
	assert_has(md, "\n## Actions\n\n### Components past end of life or "
	               "due within 90 days\n\n- **billing** on **db-1**: "
	               "**postgresql** **11.22** \u2013 **3 days past end "
	               "of life** (**2026-12-02**)\n");
	assert_has(md, "### Overdue maintenance\n\nNo maintenance is "
	               "overdue.\n");
	/* Both noisy rules, in the order SQL ranked them. */
	assert_has(md, "### Noisiest alert rules\n\n- **Disk<Full>** "
	               "(**billing**): fired 24 times; 67 % resolved by "
	               "themselves within the noise threshold\n- **Second** "
	               "(**billing**): fired 4 times; 50 %");
	assert_has(md, "- **restart** (**billing**): 7.8 h in 19 runs by 1 "
	               "person\n");
	assert_has(md, "### Bus factor 1: toil carried by one person\n\nNo "
	               "service depends on a single person's toil.\n");
	/* The heading names the setting's value, and the disk is listed
	 * because SQL listed it (40 days > the old fixed 30). */
	assert_has(md, "### Disks filling within 45 days\n\n- **billing** on "
	               "**h-1**: **/var** is 77 % full, full in 40 days\n");
	assert_has(html, "<div class=\"action\" id=\"act-disk\"><h3>Disks "
	                 "filling within 45 days</h3><ul>\n<li><b>billing</b>");
	assert_has(html, "<li class=\"none\">No maintenance is overdue.</li>");
	assert_int_equal(count_of(html, "<li>"), 5);
	assert_int_equal(count_of(md, "\n- "), 5);
	free(md);
	free(html);
	free_page(&p);
}

static void
test_sparklines(void **state)
{
	struct rep p;
	char *md, *html;

	(void)state;
	page_of(&p, "billing");
	html = draw(&p, &rep_html);
	md = draw(&p, &rep_md);
	assert_has(html, "<svg class=\"spark\" width=\"132\" height=\"34\"");
	assert_has(html, "data-metric=\"deploys\" data-weeks=\"2\" "
	                 "data-points=\"2\"><title>Deploys, 2 weeks</title>");
	assert_has(html, "<polyline class=\"line\" points=\"4.0,21.3 "
	                 "128.0,4.0\"/>");
	assert_has(html, "<span class=\"last\">3</span></td>");
	/* 1 of 3 and 3 of 3: the third and the last block. */
	assert_has(md, "| billing | \u2583\u2588 3 |");
	/* No alerts in either week: no chart. */
	assert_has(md, " no alerts | no alerts |\n");
	assert_int_equal(count_of(html, "<svg"), 3);
	free(md);
	free(html);
	free_page(&p);
}

static void
test_empty_page(void **state)
{
	struct rep p;
	char *md, *html;

	(void)state;
	page_of(&p, "x");
	for (int i = 0; i < P_COUNT; i++) {
		store_result_free(p.r[i]);
		p.r[i] = NULL;
	}
	p.r[P_DORA] = table(DORA_COLS, NULL, 0);
	p.r[P_WEEKLY] = table(WEEK_COLS, NULL, 0);
	p.r[P_ACTIONS] = table(ACTION_COLS, NULL, 0);
	p.r[P_RULES] = table(RULE_COLS, NULL, 0);
	md = draw(&p, &rep_md);
	html = draw(&p, &rep_html);
	assert_has(md,
	           "Services: none recorded (0); environment production.\n");
	assert_int_equal(count_of(md, "No services have recorded events."), 3);
	assert_has(md, "\n## Headline numbers\n\nNo services have recorded "
	               "events.\n\n## Trends\n");
	assert_has(html, "<p class=\"none\">No services have recorded "
	                 "events.</p></section>\n");
	/* Without the rules' row the heading says so rather than guess. */
	assert_has(md, "### Disks filling within ? days\n");
	free(md);
	free(html);
	free_page(&p);
}

static void
test_format_parse(void **state)
{
	enum report_format f = REPORT_MARKDOWN;

	(void)state;
	assert_int_equal(report_format_parse(NULL, &f), OP_OK);
	assert_int_equal(f, REPORT_HTML);
	assert_int_equal(report_format_parse("md", &f), OP_OK);
	assert_int_equal(f, REPORT_MARKDOWN);
	assert_int_equal(report_format_parse("markdown", &f), OP_OK);
	assert_int_equal(report_format_parse("csv", &f), OP_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_html_escapes_names),
	    cmocka_unit_test(test_markdown_escapes_pipes),
	    cmocka_unit_test(test_missing_values),
	    cmocka_unit_test(test_action_lists),
	    cmocka_unit_test(test_sparklines),
	    cmocka_unit_test(test_empty_page),
	    cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
