/*
 * Unit tests for aggregator/http.c's /report query strings: %-escapes
 * and '+', repeated service=, the limits, since/until/format/team/env,
 * and the HTTP status of each failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "http_int.h"
#include "op_codec.h"
#include "op_error.h"
#include "op_time.h"

/* What http_report_request fills in, freed after each test. */
struct parsed {
	Opspulse__V1__QueryRequest req;
	char *services[HTTP_MAX_SERVICE];
	char *buf;
	char err[512];
};

static int
teardown(void **state)
{
	struct parsed *p = *state;

	if (p)
		free(p->buf);
	free(p);
	return 0;
}

/* Decodes query into a fresh *state; returns http_report_request's
 * result. */
static int
parse(void **state, const char *query)
{
	struct parsed *p = *state;

	if (p == NULL) {
		p = calloc(1, sizeof(*p));
		assert_non_null(p);
		*state = p;
	}
	free(p->buf);
	p->err[0] = '\0';
	return http_report_request(query, &p->buf, p->services, &p->req, p->err,
	                           sizeof(p->err));
}

/* Unescapes a copy of in; asserts the result and the output. */
static void
assert_unescape(const char *in, int rv, const char *out)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", in);
	assert_int_equal(http_unescape(buf), rv);
	if (out)
		assert_string_equal(buf, out);
}

/* ---- http_unescape ----------------------------------------------------- */

static void
test_unescape(void **state)
{
	(void)state;
	assert_unescape("plain", OP_OK, "plain");
	assert_unescape("", OP_OK, "");
	assert_unescape("a+b", OP_OK, "a b");
	assert_unescape("a%20b", OP_OK, "a b");
	assert_unescape("%2B%2b", OP_OK, "++");
	assert_unescape("%2f%2F", OP_OK, "//");
	assert_unescape("caf%C3%A9", OP_OK, "caf\xc3\xa9");
	assert_unescape("100%25", OP_OK, "100%");
	assert_unescape("%41%62c", OP_OK, "Abc");
}

static void
test_unescape_bad(void **state)
{
	(void)state;
	assert_unescape("%", OP_EINVAL, NULL);
	assert_unescape("a%4", OP_EINVAL, NULL);
	assert_unescape("%zz", OP_EINVAL, NULL);
	assert_unescape("%g0", OP_EINVAL, NULL);
	assert_unescape("%0g", OP_EINVAL, NULL);
	assert_unescape("%%41", OP_EINVAL, NULL);
	assert_unescape("a%00b", OP_EINVAL, NULL); /* an encoded NUL */
}

/* ---- http_report_request ----------------------------------------------- */

static void
test_empty(void **state)
{
	struct parsed *p;

	assert_int_equal(parse(state, ""), OP_OK);
	p = *state;
	assert_string_equal(p->req.name, "report");
	assert_int_equal(p->req.since_us, 0);
	assert_int_equal(p->req.until_us, 0);
	assert_int_equal(p->req.n_services, 0);
	assert_true(p->req.format == NULL || *p->req.format == '\0');
	assert_int_equal(parse(state, "&&"), OP_OK);
}

static void
test_fields(void **state)
{
	struct parsed *p;

	assert_int_equal(parse(state, "since=2026-10-01&until=2026-10-05T09:"
	                              "00:00Z&format=markdown&team=sre+core&"
	                              "env=staging"),
	                 OP_OK);
	p = *state;
	assert_int_equal(p->req.since_us, INT64_C(1790812800) * OP_US_PER_SEC);
	assert_int_equal(p->req.until_us, INT64_C(1791190800) * OP_US_PER_SEC);
	assert_string_equal(p->req.format, "markdown");
	assert_string_equal(p->req.team, "sre core");
	assert_string_equal(p->req.env, "staging");
	assert_string_equal(p->req.name, "report");
}

/* The pair is split first, then decoded: an escaped '&' or '=' is data,
 * and a name may be escaped too. */
static void
test_escaped_separators(void **state)
{
	struct parsed *p;

	assert_int_equal(parse(state, "team=a%26b%3Dc&for%6Dat=md"), OP_OK);
	p = *state;
	assert_string_equal(p->req.team, "a&b=c");
	assert_string_equal(p->req.format, "md");
	assert_int_equal(parse(state, "env=a=b"), OP_OK);
	assert_string_equal(p->req.env, "a=b");
	assert_int_equal(parse(state, "team="), OP_OK);
	assert_string_equal(p->req.team, "");
}

/* The last of a repeated parameter wins, except service=, which adds. */
static void
test_repeated(void **state)
{
	struct parsed *p;

	assert_int_equal(
	    parse(state, "service=api&service=b%20c&team=x&service=d+e&team=y"),
	    OP_OK);
	p = *state;
	assert_int_equal(p->req.n_services, 3);
	assert_ptr_equal(p->req.services, p->services);
	assert_string_equal(p->req.services[0], "api");
	assert_string_equal(p->req.services[1], "b c");
	assert_string_equal(p->req.services[2], "d e");
	assert_string_equal(p->req.team, "y");
}

/* HTTP_MAX_SERVICE services pass; one more is refused. */
static void
test_too_many_services(void **state)
{
	char query[HTTP_MAX_SERVICE * 16];
	size_t len = 0;
	struct parsed *p;

	for (int i = 0; i < HTTP_MAX_SERVICE; i++)
		len += (size_t)snprintf(query + len, sizeof(query) - len,
		                        "%sservice=s%d", i ? "&" : "", i);
	assert_int_equal(parse(state, query), OP_OK);
	p = *state;
	assert_int_equal(p->req.n_services, HTTP_MAX_SERVICE);
	assert_string_equal(p->req.services[HTTP_MAX_SERVICE - 1], "s63");
	snprintf(query + len, sizeof(query) - len, "&service=one-more");
	assert_int_equal(parse(state, query), OP_EINVAL);
	assert_non_null(strstr(p->err, "too many"));
}

/* HTTP_MAX_QUERY bytes pass; one more is refused before decoding. */
static void
test_query_length(void **state)
{
	char *query = malloc(HTTP_MAX_QUERY + 2);
	struct parsed *p;

	assert_non_null(query);
	memcpy(query, "team=", 5);
	memset(query + 5, 't', HTTP_MAX_QUERY - 5);
	query[HTTP_MAX_QUERY] = '\0';
	assert_int_equal(parse(state, query), OP_OK);
	p = *state;
	assert_int_equal(strlen(p->req.team), HTTP_MAX_QUERY - 5);
	query[HTTP_MAX_QUERY] = 't';
	query[HTTP_MAX_QUERY + 1] = '\0';
	assert_int_equal(parse(state, query), OP_EINVAL);
	assert_non_null(strstr(p->err, "over 8192 bytes"));
	assert_null(p->buf);
	free(query);
}

static void
test_bad_escape(void **state)
{
	struct parsed *p;

	assert_int_equal(parse(state, "format=md&team=%zz"), OP_EINVAL);
	p = *state;
	assert_string_equal(p->err, "bad %-escape in the query string");
	assert_int_equal(parse(state, "team=a%00"), OP_EINVAL);
	assert_int_equal(parse(state, "te%am=a"), OP_EINVAL);
	assert_int_equal(parse(state, "team=50%"), OP_EINVAL);
}

static void
test_bad_parameters(void **state)
{
	struct parsed *p;

	assert_int_equal(parse(state, "format=md&team"), OP_EINVAL);
	p = *state;
	assert_string_equal(p->err, "parameter 'team' has no value");
	assert_int_equal(parse(state, "foo=1"), OP_EINVAL);
	assert_non_null(strstr(p->err, "unknown parameter 'foo'"));
	assert_int_equal(parse(state, "Format=md"), OP_EINVAL);
	assert_int_equal(parse(state, "=md"), OP_EINVAL);
	assert_non_null(strstr(p->err, "unknown parameter ''"));
}

static void
test_times(void **state)
{
	int64_t now = op_time_now_us();
	struct parsed *p;

	assert_int_equal(parse(state, "since=7d&until=now"), OP_OK);
	p = *state;
	assert_true(p->req.since_us >= now - 7 * OP_US_PER_DAY);
	assert_true(p->req.since_us <
	            now - 7 * OP_US_PER_DAY + 60 * OP_US_PER_SEC);
	assert_true(p->req.until_us >= now);
	assert_int_equal(parse(state, "since=yesterday"), OP_EINVAL);
	assert_non_null(strstr(p->err, "since=yesterday: not a time"));
	assert_int_equal(parse(state, "until=2026-13-01"), OP_EINVAL);
	assert_non_null(strstr(p->err, "until=2026-13-01"));
}

/* ---- status and dispatch ----------------------------------------------- */

static void
test_status(void **state)
{
	(void)state;
	assert_int_equal(http_status(OP_EINVAL), 400);
	assert_int_equal(http_status(OP_ENOTFOUND), 400);
	assert_int_equal(http_status(OP_EUNAVAIL), 503);
	assert_int_equal(http_status(OP_EDB), 500);
	assert_int_equal(http_status(OP_ENOMEM), 500);
}

/* A decoded /report request reaches the report through dispatch.h: an
 * unknown format is a 400 before any database is asked. */
static void
test_report_dispatch(void **state)
{
	Opspulse__V1__QueryResult *out = NULL;
	struct parsed *p;
	int rv;

	assert_int_equal(parse(state, "format=pdf&since=7d"), OP_OK);
	p = *state;
	assert_ptr_equal(dispatch_find(p->req.name), dispatch_report);
	rv = dispatch_query(NULL, &p->req, &out, p->err, sizeof(p->err));
	assert_int_equal(rv, OP_EINVAL);
	assert_int_equal(http_status(rv), 400);
	assert_string_equal(
	    p->err, "unknown report format 'pdf'; use html or markdown");
	assert_null(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unescape),
	    cmocka_unit_test(test_unescape_bad),
	    cmocka_unit_test_teardown(test_empty, teardown),
	    cmocka_unit_test_teardown(test_fields, teardown),
	    cmocka_unit_test_teardown(test_escaped_separators, teardown),
	    cmocka_unit_test_teardown(test_repeated, teardown),
	    cmocka_unit_test_teardown(test_too_many_services, teardown),
	    cmocka_unit_test_teardown(test_query_length, teardown),
	    cmocka_unit_test_teardown(test_bad_escape, teardown),
	    cmocka_unit_test_teardown(test_bad_parameters, teardown),
	    cmocka_unit_test_teardown(test_times, teardown),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test_teardown(test_report_dispatch, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
