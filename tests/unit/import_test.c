/*
 * Unit tests for agent/import: one JSON Lines record into one event.
 * Expected epoch values come from Python's calendar.timegm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "op_error.h"
#include "op_time.h"

#define S(sec) ((int64_t)(sec)*OP_US_PER_SEC)
/* 2026-10-05T09:30:00Z: the "now" of these tests */
#define NOW S(1791192600)

static struct agent_conf conf;

static int
setup(void **state)
{
	static char svc[] = "def-svc", env[] = "production", host[] = "h-1";

	(void)state;
	memset(&conf, 0, sizeof(conf));
	conf.service = svc;
	conf.environment = env;
	conf.host = host;
	setenv("USER", "importer", 1);
	unsetenv("SUDO_USER");
	return 0;
}

/* Parses line, failing the test unless it is accepted. */
static void
parse_ok(const char *line, struct import_line *l)
{
	char err[512] = "";

	if (import_parse_line(line, strlen(line), &conf, NOW, l, err,
	                      sizeof(err)) != OP_OK)
		fail_msg("rejected: %s: %s", line, err);
}

/* Parses line expecting a refusal whose reason contains want. */
static void
parse_bad(const char *line, const char *want)
{
	struct import_line l;
	char err[512] = "";

	assert_int_equal(import_parse_line(line, strlen(line), &conf, NOW, &l,
	                                   err, sizeof(err)),
	                 OP_EINVAL);
	if (strstr(err, want) == NULL)
		fail_msg("'%s': reason '%s' does not say '%s'", line, err,
		         want);
	import_line_clear(&l);
}

static void
test_deploy_all_fields(void **state)
{
	struct import_line l;
	const Opspulse__V1__Deploy *d;

	(void)state;
	parse_ok(
	    "{\"type\":\"deploy\",\"service\":\"billing\",\"env\":"
	    "\"staging\",\"host\":\"ci\",\"id\":\"d-42\",\"started_at\":"
	    "\"2026-10-05T09:00:00Z\",\"finished_at\":\"2026-10-05T09:12:"
	    "00Z\",\"outcome\":\"rolled_back\",\"version\":\"1.4.2\","
	    "\"commit_time\":\"2026-10-04T18:00:00+09:00\",\"hotfix\":true,"
	    "\"operator\":\"aiko\"}",
	    &l);
	assert_int_equal(l.e.ev.kind_case, OPSPULSE__V1__EVENT__KIND_DEPLOY);
	d = l.e.ev.deploy;
	assert_string_equal(l.e.ev.service, "billing");
	assert_string_equal(l.e.ev.env, "staging");
	assert_string_equal(l.e.ev.host, "ci");
	assert_string_equal(l.e.ev.operator_, "aiko");
	assert_string_equal(d->id, "d-42");
	assert_true(d->started_us == S(1791190800));
	assert_true(d->finished_us == S(1791191520));
	assert_true(d->commit_time_us == S(1791104400));
	assert_int_equal(d->outcome,
	                 OPSPULSE__V1__OUTCOME__OUTCOME_ROLLED_BACK);
	assert_string_equal(d->version, "1.4.2");
	assert_true(d->hotfix);
	import_line_clear(&l);
}

static void
test_defaults_and_derived_id(void **state)
{
	const char *line =
	    "{\"type\":\"deploy\",\"started_at\":\"2026-10-05T0"
	    "9:00:00Z\",\"finished_at\":\"2026-10-05T09:12:00Z\","
	    "\"outcome\":\"success\",\"commit_time\":null}";
	struct import_line a, b, c;

	(void)state;
	parse_ok(line, &a);
	parse_ok(line, &b);
	parse_ok("{\"type\":\"deploy\",\"started_at\":\"2026-10-05T09:00:00Z\","
	         "\"finished_at\":\"2026-10-05T09:12:00Z\",\"outcome\":"
	         "\"success\",\"version\":\"2\"}",
	         &c);
	assert_string_equal(a.e.ev.service, "def-svc");
	assert_string_equal(a.e.ev.env, "production");
	assert_string_equal(a.e.ev.host, "h-1");
	assert_string_equal(a.e.ev.operator_, "importer");
	assert_true(a.e.ev.deploy->commit_time_us == 0);
	assert_true(strncmp(a.e.ev.deploy->id, "auto-", 5) == 0);
	/* the same content, the same id; other content, another */
	assert_string_equal(a.e.ev.deploy->id, b.e.ev.deploy->id);
	assert_string_not_equal(a.e.ev.deploy->id, c.e.ev.deploy->id);
	import_line_clear(&a);
	import_line_clear(&b);
	import_line_clear(&c);
}

static void
test_other_types(void **state)
{
	struct import_line l;

	(void)state;
	parse_ok("{\"type\":\"toil\",\"task\":\"rotate\",\"started_at\":\"2026-"
	         "10-05T09:00:00Z\",\"duration_s\":2700}",
	         &l);
	assert_int_equal(l.e.ev.toil->source,
	                 OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_IMPORT);
	assert_int_equal(l.e.ev.toil->duration_s, 2700);
	import_line_clear(&l);

	parse_ok(
	    "{\"type\":\"alert\",\"alertname\":\"A\",\"fingerprint\":\"f\","
	    "\"starts_at\":\"2026-10-05T09:40:00Z\",\"ends_at\":\"2026-10-"
	    "05T09:52:00Z\"}",
	    &l);
	assert_true(l.e.ev.alert->starts_us == S(1791193200));
	assert_true(l.e.ev.alert->ends_us == S(1791193920));
	assert_string_equal(l.e.ev.operator_, "");
	import_line_clear(&l);

	parse_ok("{\"type\":\"maintenance\",\"component\":\"pg\",\"title\":\"up"
	         "\",\"due_at\":\"2027-01-15T00:00:00Z\",\"status\":\"done\"}",
	         &l);
	assert_true(l.e.ev.maintenance->due_us == S(1799971200));
	assert_int_equal(
	    l.e.ev.maintenance->status,
	    OPSPULSE__V1__MAINTENANCE_STATUS__MAINTENANCE_STATUS_DONE);
	assert_true(strncmp(l.e.ev.maintenance->id, "auto-", 5) == 0);
	import_line_clear(&l);

	parse_ok("{\"type\":\"capacity\",\"at\":\"2026-10-05T09:00:00Z\","
	         "\"cpu_pct\":41.5,\"mem_pct\":63,\"mount\":\"/\","
	         "\"disk_used_bytes\":10,\"disk_total_bytes\":100}",
	         &l);
	assert_true(l.e.ev.capacity->cpu_pct == 41.5);
	assert_true(l.e.ev.capacity->mem_pct == 63.0);
	assert_true(l.e.ev.capacity->disk_total_bytes == 100);
	import_line_clear(&l);
}

static void
test_refusals(void **state)
{
	(void)state;
	parse_bad("not json", "not JSON");
	parse_bad("[1]", "one JSON object");
	parse_bad("{\"service\":\"x\"}", "\"type\" is missing");
	parse_bad("{\"type\":\"party\"}", "unknown type");
	parse_bad("{\"type\":\"toil\",\"task\":\"t\",\"started_at\":\"2026-10-0"
	          "5T09:00:00Z\",\"duration_s\":1,\"colour\":1}",
	          "unknown field \"colour\"");
	parse_bad("{\"type\":\"toil\",\"task\":\"t\",\"started_at\":\"2026-10-0"
	          "5T09:00:00Z\"}",
	          "duration_s is missing");
	parse_bad("{\"type\":\"toil\",\"task\":\"t\",\"started_at\":\"2026-10-0"
	          "5T09:00:00Z\",\"duration_s\":\"60\"}",
	          "duration_s must be an integer");
	parse_bad("{\"type\":\"toil\",\"task\":\"t\",\"task\":\"u\"}",
	          "not JSON");
	parse_bad("{\"type\":\"deploy\",\"started_at\":\"yesterday\"}",
	          "started_at must be an RFC 3339 time");
	parse_bad(
	    "{\"type\":\"deploy\",\"started_at\":\"2026-10-05T09:00:00Z\","
	    "\"finished_at\":null,\"outcome\":\"success\"}",
	    "finished_at must be");
	parse_bad(
	    "{\"type\":\"batch\",\"task\":\"t\",\"started_at\":\"2026-10-0"
	    "5T09:00:00Z\",\"duration_s\":1,\"outcome\":\"meh\"}",
	    "outcome must be success");
	parse_bad(
	    "{\"type\":\"alert\",\"alertname\":\"A\",\"fingerprint\":\"f\","
	    "\"starts_at\":\"2026-10-05T09:40:00Z\",\"ends_at\":\"2026-10-"
	    "05T09:00:00Z\"}",
	    "ends_at is before starts_at");
	parse_bad("{\"type\":\"toil\",\"task\":\"t\",\"started_at\":\"2031-01-0"
	          "1T00:00:00Z\",\"duration_s\":1}",
	          "outside 2000-01-01");
	parse_bad("{\"type\":\"toil\",\"task\":\"t\",\"started_at\":\"2026-10-0"
	          "5T09:00:00Z\",\"duration_s\":1} trailing",
	          "not JSON");
}

/* A requests line: durations as numbers and as strings become whole µs
 * half up, then their §12.2 buckets (worked by hand), merged and in
 * ascending order; timed is their sum. */
static void
test_requests(void **state)
{
	struct import_line l;
	const Opspulse__V1__Requests *r;

	(void)state;
	parse_ok(
	    "{\"type\":\"requests\",\"service\":\"billing\",\"host\":"
	    "\"web-1\",\"minute\":\"2026-10-05T09:31:00Z\",\"requests\":1300,"
	    "\"errors\":3,\"latency_ms\":[[480,97],[12.5,1100],[\"12.543\",3],"
	    "[0.0005,2],[0.0004,1],[1.2345,4]]}",
	    &l);
	r = l.e.ev.requests;
	assert_int_equal(l.e.ev.kind_case, OPSPULSE__V1__EVENT__KIND_REQUESTS);
	assert_string_equal(l.e.ev.host, "web-1");
	assert_int_equal(r->minute_us, NOW + S(60));
	assert_int_equal(r->requests, 1300);
	assert_int_equal(r->errors, 3);
	assert_int_equal(r->timed, 1207);
	assert_int_equal(r->n_latency, 5);
	/* 0.0004 ms = 0.4 µs -> 0 */
	assert_int_equal(r->latency[0]->upper_us, 0);
	assert_int_equal(r->latency[0]->count, 1);
	/* 0.0005 ms = 0.5 µs -> 1, half up */
	assert_int_equal(r->latency[1]->upper_us, 1);
	assert_int_equal(r->latency[1]->count, 2);
	/* 1234.5 µs -> 1235, in [1232, 1248) */
	assert_int_equal(r->latency[2]->upper_us, 1247);
	assert_int_equal(r->latency[2]->count, 4);
	/* 12500 and 12543 µs share [12416, 12544) */
	assert_int_equal(r->latency[3]->upper_us, 12543);
	assert_int_equal(r->latency[3]->count, 1103);
	assert_int_equal(r->latency[4]->upper_us, 483327);
	assert_int_equal(r->latency[4]->count, 97);
	import_line_clear(&l);

	parse_bad("{\"type\":\"requests\",\"minute\":\"2026-10-05T09:31:00Z\","
	          "\"requests\":5,\"errors\":0,\"latency_ms\":[[1,2,3]]}",
	          "latency_ms must be an array of [milliseconds, count] pairs");
	parse_bad(
	    "{\"type\":\"requests\",\"minute\":\"2026-10-05T09:31:00Z\","
	    "\"requests\":5,\"errors\":0,\"latency_ms\":[[2678400000.001,1]]}",
	    "latency '2678400000.001' is not a duration in milliseconds");
	/* An exponent is written out: 1e-7 ms is 0 µs. */
	parse_ok(
	    "{\"type\":\"requests\",\"minute\":\"2026-10-05T09:31:00Z\","
	    "\"requests\":5,\"errors\":0,\"latency_ms\":[[1e-7,1],[2E3,1]]}",
	    &l);
	r = l.e.ev.requests;
	assert_int_equal(r->n_latency, 2);
	assert_int_equal(r->latency[0]->upper_us, 0);
	assert_int_equal(r->latency[1]->upper_us, 2015231); /* 2e6 µs */
	assert_int_equal(r->timed, 2);
	import_line_clear(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_deploy_all_fields, setup),
	    cmocka_unit_test_setup(test_defaults_and_derived_id, setup),
	    cmocka_unit_test_setup(test_other_types, setup),
	    cmocka_unit_test_setup(test_refusals, setup),
	    cmocka_unit_test_setup(test_requests, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
