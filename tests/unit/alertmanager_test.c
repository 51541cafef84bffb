/*
 * Unit tests for agent/alertmanager: webhook payloads (version 4) into
 * alert events.  Expected epoch values come from Python's calendar.timegm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertmanager.h"
#include "op_error.h"
#include "op_time.h"

#define S(sec) ((int64_t)(sec)*OP_US_PER_SEC)
#define NOW    S(1791192600 + 3600)

static struct agent_conf conf;
static char lab_service[] = "service", lab_job[] = "job";
static char *labels[2];

static int
setup(void **state)
{
	static char svc[] = "def-svc", env[] = "production", host[] = "h-1";

	(void)state;
	memset(&conf, 0, sizeof(conf));
	conf.service = svc;
	conf.environment = env;
	conf.host = host;
	labels[0] = lab_service;
	labels[1] = lab_job;
	conf.webhook_labels.items = labels;
	conf.webhook_labels.n = 2;
	return 0;
}

static const char firing[] =
    "{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"r\","
    "\"alerts\":["
    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"HighLatency\","
    "\"service\":\"billing\",\"job\":\"api\",\"severity\":\"warning\"},"
    "\"startsAt\":\"2026-10-05T09:40:00.123456789Z\",\"endsAt\":"
    "\"0001-01-01T00:00:00Z\",\"fingerprint\":\"6f1c\"},"
    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"QueueStuck\","
    "\"job\":\"worker\"},\"startsAt\":\"2026-10-05T09:41:00+09:00\","
    "\"endsAt\":\"2026-10-05T10:41:00Z\",\"fingerprint\":\"77aa\"},"
    "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"Disk\","
    "\"service\":\"\"},\"startsAt\":\"2026-10-05T09:40:00Z\","
    "\"endsAt\":\"2026-10-05T09:52:00Z\",\"fingerprint\":\"d1\"},"
    "{\"status\":\"firing\",\"labels\":{\"severity\":\"page\"},"
    "\"startsAt\":\"2026-10-05T09:40:00Z\",\"fingerprint\":\"noname\"}"
    "]}";

static void
test_alerts(void **state)
{
	struct am_payload p;
	char err[256];
	const Opspulse__V1__Alert *a;

	(void)state;
	assert_int_equal(
	    am_parse(firing, strlen(firing), &conf, NOW, &p, err, sizeof(err)),
	    OP_OK);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.skipped, 1); /* no alertname */
	assert_non_null(strstr(p.skip_reason, "alertname"));

	a = p.events[0].ev.alert;
	assert_string_equal(p.events[0].ev.service, "billing");
	assert_string_equal(p.events[0].ev.env, "production");
	assert_string_equal(p.events[0].ev.host, "h-1");
	assert_string_equal(p.events[0].ev.operator_, "");
	assert_string_equal(a->alertname, "HighLatency");
	assert_string_equal(a->severity, "warning");
	assert_string_equal(a->fingerprint, "6f1c");
	/* nanoseconds are cut to microseconds */
	assert_true(a->starts_us == S(1791193200) + 123456);
	assert_true(a->ends_us == 0);

	/* job when there is no service label; a firing alert's endsAt is a
	 * guess and is not taken */
	a = p.events[1].ev.alert;
	assert_string_equal(p.events[1].ev.service, "worker");
	assert_true(a->starts_us == S(1791160860));
	assert_true(a->ends_us == 0);

	/* an empty service label counts as absent: the default service */
	a = p.events[2].ev.alert;
	assert_string_equal(p.events[2].ev.service, "def-svc");
	assert_true(a->starts_us == S(1791193200));
	assert_true(a->ends_us == S(1791193920));
	am_payload_free(&p);
}

static void
test_label_order(void **state)
{
	struct am_payload p;
	char err[256];

	(void)state;
	labels[0] = lab_job;
	labels[1] = lab_service;
	assert_int_equal(
	    am_parse(firing, strlen(firing), &conf, NOW, &p, err, sizeof(err)),
	    OP_OK);
	assert_string_equal(p.events[0].ev.service, "api");
	am_payload_free(&p);
}

static void
parse_bad(const char *body, const char *want)
{
	struct am_payload p;
	char err[256] = "";

	assert_int_equal(
	    am_parse(body, strlen(body), &conf, NOW, &p, err, sizeof(err)),
	    OP_EINVAL);
	if (strstr(err, want) == NULL)
		fail_msg("'%s': reason '%s' does not say '%s'", body, err,
		         want);
	assert_int_equal(p.n, 0);
	am_payload_free(&p);
}

static void
test_refusals(void **state)
{
	(void)state;
	parse_bad("{\"alerts\": [", "malformed JSON");
	parse_bad("[]", "not a JSON object");
	parse_bad("{\"version\":\"3\",\"alerts\":[]}", "version 3");
	parse_bad("{\"version\":\"4\"}", "no \"alerts\" array");
	parse_bad("{\"alerts\":[],\"alerts\":[]}", "malformed JSON");
}

static void
test_bad_alerts_skipped(void **state)
{
	const char *body =
	    "{\"alerts\":[1,{\"status\":\"firing\"},"
	    "{\"status\":\"weird\",\"labels\":{\"alertname\":\"A\"},"
	    "\"fingerprint\":\"f\",\"startsAt\":\"2026-10-05T09:40:00Z\"},"
	    "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"A\"},"
	    "\"fingerprint\":\"f\",\"startsAt\":\"2026-10-05T09:40:00Z\","
	    "\"endsAt\":\"2026-10-05T09:00:00Z\"},"
	    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"},"
	    "\"fingerprint\":\"f\",\"startsAt\":\"1999-12-31T23:59:59Z\"}]}";
	struct am_payload p;
	char err[256];

	(void)state;
	assert_int_equal(
	    am_parse(body, strlen(body), &conf, NOW, &p, err, sizeof(err)),
	    OP_OK);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.skipped, 5);
	am_payload_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_alerts, setup),
	    cmocka_unit_test_setup(test_label_order, setup),
	    cmocka_unit_test_setup(test_refusals, setup),
	    cmocka_unit_test_setup(test_bad_alerts_skipped, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
