/*
 * Unit tests for agent/access_log: real nginx, Apache and JSON lines in,
 * time, status and duration out, or the reason a line is skipped.
 * Epoch values come from Python's calendar.timegm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access_log.h"
#include "agent.h"

/* 2026-12-05T09:55:16Z */
#define T0 INT64_C(1796464516000000)
/* 2026-12-05T14:55:16Z */
#define T5 INT64_C(1796482516000000)

static const struct alog_json_fields json_default = {"time", "status",
                                                     "request_time", 6};

static enum alog_skip
parse(enum alog_format f, const struct alog_json_fields *jf, const char *s,
      struct alog_line *l)
{
	return alog_parse(f, jf, s, strlen(s), l);
}

static void
expect_line(enum alog_format f, const char *s, int64_t t, int status, int timed,
            uint64_t us)
{
	struct alog_line l;

	assert_int_equal(parse(f, &json_default, s, &l), ALOG_OK);
	assert_int_equal(l.time_us, t);
	assert_int_equal(l.status, status);
	assert_int_equal(l.timed, timed);
	if (timed)
		assert_int_equal(l.duration_us, us);
}

static void
expect_skip(enum alog_format f, const char *s, enum alog_skip r)
{
	struct alog_line l;

	assert_string_equal(alog_skip_name(parse(f, &json_default, s, &l)),
	                    alog_skip_name(r));
}

static void
test_nginx_timed(void **state)
{
	(void)state;
	expect_line(ALOG_NGINX_TIMED,
	            "203.0.113.7 - - [05/Dec/2026:09:55:16 +0000] \"GET "
	            "/api/v1/items?id=3 HTTP/1.1\" 200 512 \"-\" "
	            "\"curl/7.88.1\" 0.123",
	            T0, 200, 1, 123000);
	/* upstream times after it, several upstreams separated by ", " */
	expect_line(ALOG_NGINX_TIMED,
	            "203.0.113.7 - - [05/Dec/2026:09:55:16 +0000] \"GET / "
	            "HTTP/1.1\" 504 0 \"-\" \"curl/7.88.1\" 60.001 30.000, "
	            "30.001",
	            T0, 504, 1, 60001000);
	/* rounding half up to whole microseconds is op_latency's */
	expect_line(ALOG_NGINX_TIMED,
	            "10.0.0.1 - - [05/Dec/2026:09:55:16 +0000] \"GET / "
	            "HTTP/1.1\" 200 1 \"-\" \"-\" 0.000 -",
	            T0, 200, 1, 0);
}

static void
test_nginx_ipv6_offset_untimed(void **state)
{
	(void)state;
	/* IPv6 client, a user name, +09:00: 18:55:16+09 is 09:55:16Z */
	expect_line(ALOG_NGINX_TIMED,
	            "2001:db8::1 - alice [05/Dec/2026:18:55:16 +0900] \"POST "
	            "/pay HTTP/2.0\" 502 0 \"https://example.com/\" "
	            "\"Mozilla/5.0 (X11; Linux x86_64)\" - -",
	            T0, 502, 0, 0);
	expect_line(ALOG_NGINX_TIMED,
	            "::ffff:192.0.2.1 - - [05/Dec/2026:04:55:16 -0500] \"GET "
	            "/ HTTP/1.1\" 200 0 \"-\" \"-\" -",
	            T0, 200, 0, 0);
}

static void
test_quotes_in_request(void **state)
{
	(void)state;
	/* nginx escapes a quote as \x22 */
	expect_line(ALOG_NGINX_TIMED,
	            "198.51.100.2 - - [05/Dec/2026:09:55:16 +0000] \"GET "
	            "/q?s=\\x22a b\\x22 HTTP/1.1\" 404 9 \"-\" \"x\" 0.002",
	            T0, 404, 1, 2000);
	/* Apache escapes it as \" */
	expect_line(ALOG_APACHE_TIMED,
	            "192.0.2.1 - - [05/Dec/2026:09:55:16 -0500] \"GET "
	            "/search?q=\\\"a b\\\" HTTP/1.1\" 404 209 \"-\" "
	            "\"Wget/1.21\" 1234",
	            T5, 404, 1, 1234);
	/* and an unescaped one, as a hand-made client can send */
	expect_line(ALOG_NGINX_TIMED,
	            "198.51.100.2 - - [05/Dec/2026:09:55:16 +0000] \"GET /a\" "
	            "b HTTP/1.1\" 400 0 \"-\" \"say \"hi\" \" 0.010",
	            T0, 400, 1, 10000);
}

static void
test_apache_timed(void **state)
{
	(void)state;
	expect_line(ALOG_APACHE_TIMED,
	            "127.0.0.1 - frank [05/Dec/2026:09:55:16 +0000] \"GET "
	            "/apache_pb.gif HTTP/1.0\" 200 2326 "
	            "\"http://www.example.com/start.html\" \"Mozilla/4.08 "
	            "[en] (Win98; I ;Nav)\" 153829",
	            T0, 200, 1, 153829);
	expect_line(ALOG_APACHE_TIMED,
	            "::1 - - [05/Dec/2026:09:55:16 +0000] \"OPTIONS * "
	            "HTTP/1.0\" 200 - \"-\" \"Apache/2.4.57 (Debian) "
	            "(internal dummy connection)\" 97",
	            T0, 200, 1, 97);
}

static void
test_json(void **state)
{
	static const struct alog_json_fields ms = {"ts", "code", "dur_ms", 3};
	struct alog_line l;

	(void)state;
	expect_line(ALOG_JSON,
	            "{\"time\":\"2026-12-05T09:55:16+00:00\",\"remote_addr\":"
	            "\"::1\",\"status\":503,\"request_time\":\"0.250\","
	            "\"h\":{\"a\":[1,\"}\"]}}",
	            T0, 503, 1, 250000);
	expect_line(ALOG_JSON,
	            "{ \"status\": \"200\", \"time\": "
	            "\"2026-12-05T18:55:16+09:00\", \"request_time\": null }",
	            T0, 200, 0, 0);
	expect_line(ALOG_JSON,
	            "{\"time\":\"2026-12-05T09:55:16Z\",\"status\":200}", T0,
	            200, 0, 0);
	assert_int_equal(parse(ALOG_JSON, &ms,
	                       "{\"ts\":\"2026-12-05T09:55:16.5Z\",\"code\":"
	                       "\"201\",\"dur_ms\":12.5005}",
	                       &l),
	                 ALOG_OK);
	assert_int_equal(l.time_us, T0 + 500000);
	assert_int_equal(l.status, 201);
	assert_int_equal(l.duration_us, 12501);
}

static void
test_skips(void **state)
{
	(void)state;
	expect_skip(ALOG_NGINX_TIMED, "", ALOG_SKIP_FORMAT);
	expect_skip(ALOG_NGINX_TIMED,
	            "1.2.3.4 - - [32/Dec/2026:09:55:16 +0000] \"GET / "
	            "HTTP/1.1\" 200 1 \"-\" \"-\" 0.1",
	            ALOG_SKIP_TIME);
	expect_skip(ALOG_NGINX_TIMED,
	            "1.2.3.4 - - [05/Dec/1999:09:55:16 +0000] \"GET / "
	            "HTTP/1.1\" 200 1 \"-\" \"-\" 0.1",
	            ALOG_SKIP_TIME);
	expect_skip(ALOG_NGINX_TIMED,
	            "1.2.3.4 - - [05/Dec/2026:09:55:16 +0000] \"GET / "
	            "HTTP/1.1\" 20x 1 \"-\" \"-\" 0.1",
	            ALOG_SKIP_STATUS);
	expect_skip(ALOG_NGINX_TIMED,
	            "1.2.3.4 - - [05/Dec/2026:09:55:16 +0000] \"GET / "
	            "HTTP/1.1\" 200 1 \"-\" \"-\" 1.5e-3",
	            ALOG_SKIP_DURATION);
	/* combined without the duration: not nginx_timed */
	expect_skip(ALOG_NGINX_TIMED,
	            "1.2.3.4 - - [05/Dec/2026:09:55:16 +0000] \"GET / "
	            "HTTP/1.1\" 200 1 \"-\" \"-\"",
	            ALOG_SKIP_FORMAT);
	expect_skip(ALOG_JSON, "{\"time\":\"2026-12-05T09:55:16Z\"}",
	            ALOG_SKIP_STATUS);
	expect_skip(ALOG_JSON, "{\"status\":200}", ALOG_SKIP_TIME);
	expect_skip(ALOG_JSON, "{\"time\":\"2026-12-05T09:55:16Z\",",
	            ALOG_SKIP_FORMAT);
	expect_skip(ALOG_JSON,
	            "{\"time\":\"2026-12-05T09:55:16Z\",\"status\":200,"
	            "\"request_time\":-1}",
	            ALOG_SKIP_DURATION);
}

static void
test_bad_bytes(void **state)
{
	static const char utf8[] =
	    "1.2.3.4 - - [05/Dec/2026:09:55:16 +0000] \"GET /\xc3\x28 "
	    "HTTP/1.1\" 200 1 \"-\" \"-\" 0.1";
	static const char good8[] =
	    "1.2.3.4 - - [05/Dec/2026:09:55:16 +0000] \"GET /caf\xc3\xa9 "
	    "HTTP/1.1\" 200 1 \"-\" \"\xe2\x82\xac\" 0.1";
	static const char bin[] = "1.2.3.4 - - [05/Dec/2026\0:09:55:16";
	struct alog_line l;

	(void)state;
	expect_skip(ALOG_NGINX_TIMED, utf8, ALOG_SKIP_UTF8);
	/* surrogates and overlong forms are not UTF-8 either */
	expect_skip(ALOG_JSON, "{\"a\":\"\xed\xa0\x80\"}", ALOG_SKIP_UTF8);
	expect_skip(ALOG_JSON, "{\"a\":\"\xc0\xaf\"}", ALOG_SKIP_UTF8);
	expect_line(ALOG_NGINX_TIMED, good8, T0, 200, 1, 100000);
	assert_int_equal(
	    alog_parse(ALOG_NGINX_TIMED, NULL, bin, sizeof(bin) - 1, &l),
	    ALOG_SKIP_BINARY);
	assert_string_equal(alog_skip_name(ALOG_SKIP_TOO_LONG), "too_long");
}

static void
test_format_names(void **state)
{
	enum alog_format f;

	(void)state;
	assert_int_equal(alog_format_parse("apache_timed", &f), 0);
	assert_int_equal(f, ALOG_APACHE_TIMED);
	assert_string_equal(alog_format_name(ALOG_JSON), "json");
	assert_int_equal(alog_format_parse("combined", &f), -1);
}

/* ---- agent.access_logs in the configuration --------------------------- */

/* Loads body as an agent configuration; its stderr into err. */
static int
load_conf(const char *body, struct agent_conf *c, char *err, size_t errsz)
{
	char path[] = "/tmp/alog_conf.XXXXXX", epath[] = "/tmp/alog_err.XXXXXX";
	int fd = mkstemp(path), efd = mkstemp(epath), saved = dup(2), rv;
	FILE *fp;
	size_t n;

	assert_true(fd >= 0 && efd >= 0 && saved >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
	fflush(stderr);
	dup2(efd, 2);
	rv = agent_conf_load(c, path, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fp = fdopen(efd, "r");
	rewind(fp);
	n = fread(err, 1, errsz - 1, fp);
	err[n] = '\0';
	fclose(fp);
	unlink(path);
	unlink(epath);
	return rv;
}

static void
expect_conf_error(const char *entries, const char *msg)
{
	char body[2048], err[2048];
	struct agent_conf c;

	snprintf(body, sizeof(body),
	         "agent = {\n  access_logs = (\n%s  );\n};\n", entries);
	assert_int_equal(load_conf(body, &c, err, sizeof(err)), OP_ECONFIG);
	if (strstr(err, msg) == NULL)
		fail_msg("wanted \"%s\" in: %s", msg, err);
	agent_conf_free(&c);
}

static void
test_config(void **state)
{
	static const char good[] =
	    "agent = {\n access_logs = (\n"
	    "  { path = \"/var/log/nginx/access.log\"; format = "
	    "\"nginx_timed\"; service = \"billing\"; },\n"
	    "  { path = \"/var/log/app/r.json\"; format = \"json\"; env = "
	    "\"staging\";\n"
	    "    fields = { time = \"ts\"; duration = \"ms\"; duration_unit = "
	    "\"ms\"; }; }\n );\n};\n";
	struct agent_conf c;
	char err[2048];

	(void)state;
	assert_int_equal(load_conf(good, &c, err, sizeof(err)), OP_OK);
	assert_int_equal(c.access_logs.n, 2);
	assert_int_equal(c.access_logs.items[0].format, ALOG_NGINX_TIMED);
	assert_string_equal(c.access_logs.items[0].service, "billing");
	assert_null(c.access_logs.items[0].env);
	assert_int_equal(c.access_logs.items[1].format, ALOG_JSON);
	assert_null(c.access_logs.items[1].service);
	assert_string_equal(c.access_logs.items[1].env, "staging");
	assert_string_equal(c.access_logs.items[1].json_time, "ts");
	assert_string_equal(c.access_logs.items[1].json_status, "status");
	assert_string_equal(c.access_logs.items[1].json_duration, "ms");
	assert_int_equal(c.access_logs.items[1].unit_exp, 3);
	agent_conf_free(&c);
}

static void
test_config_errors(void **state)
{
	(void)state;
	expect_conf_error("    { path = \"/a.log\"; format = \"json\";\n"
	                  "      fields = { duration_unit = \"min\"; }; }\n",
	                  "fields.duration_unit must be \"s\", \"ms\" or "
	                  "\"us\" (line 4)");
	expect_conf_error("    { path = \"/a.log\"; format = \"combined\"; }\n",
	                  "format must be \"nginx_timed\", \"apache_timed\" or "
	                  "\"json\" (line 3)");
	expect_conf_error(
	    "    { path = \"a.log\"; format = \"json\"; }\n",
	    "each entry needs path = \"/absolute/path\" (line 3)");
	expect_conf_error("    { path = \"/a.log\"; format = \"nginx_timed\";\n"
	                  "      fields = { time = \"t\"; }; }\n",
	                  "fields applies to format \"json\" only (line 4)");
	expect_conf_error("    { path = \"/a.log\"; format = \"json\"; },\n"
	                  "    { path = \"/a.log\"; format = \"json\"; }\n",
	                  "/a.log is listed twice (line 4); each file may be "
	                  "followed once");
	expect_conf_error("    { path = \"/a.log\"; format = \"json\"; "
	                  "servce = \"x\"; }\n",
	                  "unknown key 'servce' in access_logs at line 3");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nginx_timed),
	    cmocka_unit_test(test_nginx_ipv6_offset_untimed),
	    cmocka_unit_test(test_quotes_in_request),
	    cmocka_unit_test(test_apache_timed),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_skips),
	    cmocka_unit_test(test_bad_bytes),
	    cmocka_unit_test(test_format_names),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_config_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
