/*
 * Unit tests for common/op_time: RFC 3339 parsing, relative time arguments,
 * formatting and the civil-date arithmetic under them.
 *
 * Expected epoch values come from Python's calendar.timegm or, for the
 * property tests, from mktime() under TZ=UTC: never from op_time itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "op_error.h"
#include "op_time.h"

#define S(sec) ((int64_t)(sec)*OP_US_PER_SEC)

/* 2026-10-05T09:30:00Z, from calendar.timegm((2026, 10, 5, 9, 30, 0)). */
#define T_2026_10_05_0930 INT64_C(1791192600)

/* Parses s, failing the test unless it succeeds; returns the value. */
static int64_t
parse_ok(const char *s, int allow_date)
{
	int64_t t = 0;

	if (op_time_parse_rfc3339(s, allow_date, &t) != OP_OK)
		fail_msg("\"%s\" was rejected", s);
	return t;
}

static void
test_parse_utc(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-10-05T09:30:00Z", 0),
	                 S(T_2026_10_05_0930));
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z", 0), 0);
	assert_int_equal(parse_ok("2000-01-01T00:00:00Z", 0), OP_TIME_MIN_US);
	/* calendar.timegm((1969, 7, 20, 20, 17, 40)) */
	assert_int_equal(parse_ok("1969-07-20T20:17:40Z", 0), S(-14182940));
	/* One second past the signed 32-bit time_t limit. */
	assert_int_equal(parse_ok("2038-01-19T03:14:08Z", 0),
	                 S(INT64_C(2147483648)));
	assert_int_equal(parse_ok("9999-12-31T23:59:59Z", 0),
	                 S(INT64_C(253402300799)));
}

static void
test_parse_separators_and_case(void **state)
{
	int64_t want = S(T_2026_10_05_0930);

	(void)state;
	assert_int_equal(parse_ok("2026-10-05t09:30:00z", 0), want);
	assert_int_equal(parse_ok("2026-10-05 09:30:00Z", 0), want);
	assert_int_equal(parse_ok("2026-10-05T09:30:00+00:00", 0), want);
	assert_int_equal(parse_ok("2026-10-05T09:30:00-00:00", 0), want);
}

static void
test_parse_offsets(void **state)
{
	int64_t base = S(T_2026_10_05_0930);

	(void)state;
	/* Local 09:30 at +09:00 is 00:30 UTC. */
	assert_int_equal(parse_ok("2026-10-05T09:30:00+09:00", 0),
	                 base - S(9 * 3600));
	assert_int_equal(parse_ok("2026-10-05T09:30:00-05:30", 0),
	                 base + S(5 * 3600 + 30 * 60));
	assert_int_equal(parse_ok("2026-10-05T18:30:00+09:00", 0), base);
	/* Offsets move the date across midnight and year ends. */
	assert_int_equal(parse_ok("2026-10-05T00:30:00+01:00", 0),
	                 parse_ok("2026-10-04T23:30:00Z", 0));
	assert_int_equal(parse_ok("2026-12-31T23:00:00-02:00", 0),
	                 parse_ok("2027-01-01T01:00:00Z", 0));
	assert_int_equal(parse_ok("2026-10-05T09:30:00+23:59", 0),
	                 base - S(23 * 3600 + 59 * 60));
}

static void
test_parse_fraction(void **state)
{
	int64_t base = S(T_2026_10_05_0930);

	(void)state;
	assert_int_equal(parse_ok("2026-10-05T09:30:00.5Z", 0), base + 500000);
	assert_int_equal(parse_ok("2026-10-05T09:30:00.123456Z", 0),
	                 base + 123456);
	assert_int_equal(parse_ok("2026-10-05T09:30:00.000001Z", 0), base + 1);
	assert_int_equal(parse_ok("2026-10-05T09:30:00.000000Z", 0), base);
	/* Finer than a microsecond is truncated, not rounded. */
	assert_int_equal(parse_ok("2026-10-05T09:30:00.1234569Z", 0),
	                 base + 123456);
	assert_int_equal(
	    parse_ok("2026-10-05T09:30:00.99999999999999999999Z", 0),
	    base + 999999);
	assert_int_equal(parse_ok("2026-10-05T09:30:00.25+09:00", 0),
	                 base + 250000 - S(9 * 3600));
}

static void
test_parse_date_only(void **state)
{
	int64_t t = 7;

	(void)state;
	/* calendar.timegm((2000, 3, 1, 0, 0, 0)) / 86400 = 11017 days. */
	assert_int_equal(parse_ok("2000-03-01", 1), 11017 * OP_US_PER_DAY);
	assert_int_equal(parse_ok("2026-10-05", 1),
	                 S(T_2026_10_05_0930) - S(9 * 3600 + 30 * 60));
	assert_int_equal(op_time_parse_rfc3339("2026-10-05", 0, &t), OP_EINVAL);
	assert_int_equal(t, 7);
}

static void
test_parse_calendar(void **state)
{
	(void)state;
	/* Leap years: every 4th, not every 100th, but every 400th. */
	assert_int_equal(parse_ok("2024-02-29", 1), S(INT64_C(1709164800)));
	assert_int_equal(parse_ok("2000-02-29", 1) + OP_US_PER_DAY,
	                 parse_ok("2000-03-01", 1));
	assert_int_equal(parse_ok("2026-02-28", 1) + OP_US_PER_DAY,
	                 parse_ok("2026-03-01", 1));
	assert_int_equal(parse_ok("2026-12-31", 1) + OP_US_PER_DAY,
	                 parse_ok("2027-01-01", 1));
	assert_int_equal(parse_ok("2026-04-30", 1) + OP_US_PER_DAY,
	                 parse_ok("2026-05-01", 1));
}

static void
test_parse_leap_second(void **state)
{
	(void)state;
	/* :60 is clamped to :59 (as PostgreSQL does), keeping the order. */
	assert_int_equal(parse_ok("2016-12-31T23:59:60Z", 0),
	                 parse_ok("2016-12-31T23:59:59Z", 0));
	assert_int_equal(parse_ok("2016-12-31T23:59:60.5Z", 0),
	                 parse_ok("2016-12-31T23:59:59Z", 0) + 500000);
}

static void
test_parse_year_range(void **state)
{
	char buf[OP_TIME_BUFSZ];
	int64_t t = 42;

	(void)state;
	/* 0001-01-01 is day -719162 and the year 0 a leap year, so 0000-01-01
	 * is day -719528: -62167219200 s. */
	assert_int_equal(parse_ok("0000-01-01T00:00:00Z", 0),
	                 S(INT64_C(-62167219200)));
	assert_int_equal(parse_ok("0000-01-01T00:30:00+00:30", 0),
	                 S(INT64_C(-62167219200)));
	assert_int_equal(parse_ok("9999-12-31T23:00:00-00:59", 0),
	                 S(INT64_C(253402300799) - 59));
	/* Offsets that move the time out of years 0000-9999 in UTC would
	 * format as something that is not RFC 3339 ("-001-12-31..."). */
	assert_int_equal(
	    op_time_parse_rfc3339("0000-01-01T00:00:00+00:01", 0, &t),
	    OP_EINVAL);
	assert_int_equal(
	    op_time_parse_rfc3339("9999-12-31T23:59:59-00:01", 0, &t),
	    OP_EINVAL);
	assert_int_equal(t, 42);
	assert_string_equal(
	    op_time_format(S(INT64_C(-62167219200)), buf, sizeof(buf)),
	    "0000-01-01T00:00:00Z");
}

static void
test_parse_invalid(void **state)
{
	static const char *const bad[] = {
	    "",
	    "2026-02-30T00:00:00Z", /* no 30 February */
	    "2026-02-29T00:00:00Z", /* 2026 is not a leap year */
	    "1900-02-29T00:00:00Z", /* nor is 1900 */
	    "2026-04-31T00:00:00Z",
	    "2026-13-01T00:00:00Z",
	    "2026-00-10T00:00:00Z",
	    "2026-10-00T00:00:00Z",
	    "2026-10-32T00:00:00Z",
	    "2026-10-05T24:00:00Z",
	    "2026-10-05T23:60:00Z",
	    "2026-10-05T23:59:61Z",
	    "2026-10-05T09:30:00",       /* no offset */
	    "2026-10-05T09:30Z",         /* no seconds */
	    "2026-10-05T09:30:00+0900",  /* offset without colon */
	    "2026-10-05T09:30:00+09",    /* offset without minutes */
	    "2026-10-05T09:30:00+24:00", /* offset hour */
	    "2026-10-05T09:30:00+09:60", /* offset minute */
	    "2026-10-05T09:30:00.Z",     /* dot without digits */
	    "2026-10-05T09:30:00ZZ",     /* trailing garbage */
	    "2026-10-05T09:30:00Z ",
	    " 2026-10-05T09:30:00Z",
	    "2026-10-05X09:30:00Z",
	    "2026-10-05T",
	    "2026-10-05T9:30:00Z",
	    "26-10-05T09:30:00Z",
	    "2026-1-05T09:30:00Z",
	    "2026/10/05T09:30:00Z",
	    "+2026-10-05T09:30:00Z",
	    "2026-10-05 ",
	    "2026-10",
	    "now",
	    "7d",
	};
	int64_t t = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (op_time_parse_rfc3339(bad[i], 1, &t) != OP_EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_int_equal(t, 42); /* *out is untouched on failure */
	}
	assert_int_equal(op_time_parse_rfc3339(NULL, 1, &t), OP_EINVAL);
}

static void
test_format(void **state)
{
	char buf[OP_TIME_BUFSZ];

	(void)state;
	assert_string_equal(op_time_format(0, buf, sizeof(buf)),
	                    "1970-01-01T00:00:00Z");
	assert_string_equal(
	    op_time_format(S(T_2026_10_05_0930), buf, sizeof(buf)),
	    "2026-10-05T09:30:00Z");
	assert_string_equal(
	    op_time_format(S(T_2026_10_05_0930) + 7, buf, sizeof(buf)),
	    "2026-10-05T09:30:00.000007Z");
	assert_string_equal(
	    op_time_format(S(T_2026_10_05_0930) + 500000, buf, sizeof(buf)),
	    "2026-10-05T09:30:00.500000Z");
	/* Before the epoch the remainder must not go negative. */
	assert_string_equal(op_time_format(-1, buf, sizeof(buf)),
	                    "1969-12-31T23:59:59.999999Z");
	assert_string_equal(op_time_format(S(-14182940), buf, sizeof(buf)),
	                    "1969-07-20T20:17:40Z");
	assert_string_equal(
	    op_time_format(S(INT64_C(253402300799)), buf, sizeof(buf)),
	    "9999-12-31T23:59:59Z");
	assert_ptr_equal(op_time_format(0, buf, sizeof(buf)), buf);
}

static void
test_format_truncates_to_size(void **state)
{
	char buf[11];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	op_time_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01");
}

/* A small deterministic generator, so that failures reproduce. */
static uint64_t
next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
test_round_trip(void **state)
{
	/* 1900-01-01 .. 2200-01-01, every microsecond equally likely. */
	const int64_t lo = S(INT64_C(-2208988800));
	const int64_t hi = S(INT64_C(7258118400));
	uint64_t x = 0x9e3779b97f4a7c15u;
	char buf[OP_TIME_BUFSZ];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		int64_t t = lo + (int64_t)(next_rand(&x) % (uint64_t)(hi - lo));
		int64_t back = 0;

		if (i % 2)
			t -= t % OP_US_PER_SEC; /* whole seconds too */
		op_time_format(t, buf, sizeof(buf));
		if (op_time_parse_rfc3339(buf, 0, &back) != OP_OK || back != t)
			fail_msg("%lld formats as %s, which parses as %lld",
			         (long long)t, buf, (long long)back);
	}
}

/* Days since the epoch per mktime() in UTC: an oracle independent of ours. */
static int64_t
mktime_days(int y, int m, int d)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12; /* away from any day boundary */
	return ((int64_t)mktime(&tm) - 12 * 3600) / 86400;
}

static void
test_days_from_civil(void **state)
{
	uint64_t x = 12345;

	(void)state;
	assert_int_equal(op_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(op_days_from_civil(2000, 1, 1), 10957);
	assert_int_equal(op_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(op_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(op_days_from_civil(1, 1, 1), -719162);
	setenv("TZ", "UTC", 1);
	tzset();
	for (int i = 0; i < 5000; i++) {
		int y = 1902 + (int)(next_rand(&x) % 300);
		int m = 1 + (int)(next_rand(&x) % 12);
		int d = 1 + (int)(next_rand(&x) % 28);

		if (op_days_from_civil(y, (unsigned)m, (unsigned)d) !=
		    mktime_days(y, m, d))
			fail_msg("%04d-%02d-%02d: %lld, mktime says %lld", y, m,
			         d,
			         (long long)op_days_from_civil(y, (unsigned)m,
			                                       (unsigned)d),
			         (long long)mktime_days(y, m, d));
	}
}

static void
test_parse_against_mktime(void **state)
{
	uint64_t x = 777;
	char s[64];

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	for (int i = 0; i < 3000; i++) {
		int y = 1970 + (int)(next_rand(&x) % 130);
		int mo = 1 + (int)(next_rand(&x) % 12);
		int d = 1 + (int)(next_rand(&x) % 28);
		int h = (int)(next_rand(&x) % 24);
		int mi = (int)(next_rand(&x) % 60);
		int sec = (int)(next_rand(&x) % 60);
		struct tm tm = {0};

		snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo,
		         d, h, mi, sec);
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
		assert_int_equal(parse_ok(s, 0), S(mktime(&tm)));
	}
}

static void
test_arg_relative(void **state)
{
	const int64_t now = S(T_2026_10_05_0930) + 123;
	int64_t t = 0;

	(void)state;
	assert_int_equal(op_time_parse_arg("now", now, &t), OP_OK);
	assert_int_equal(t, now);
	assert_int_equal(op_time_parse_arg("7d", now, &t), OP_OK);
	assert_int_equal(t, now - S(7 * 86400));
	assert_int_equal(op_time_parse_arg("12w", now, &t), OP_OK);
	assert_int_equal(t, now - S(12 * 7 * 86400));
	assert_int_equal(op_time_parse_arg("90m", now, &t), OP_OK);
	assert_int_equal(t, now - S(90 * 60));
	assert_int_equal(op_time_parse_arg("2h", now, &t), OP_OK);
	assert_int_equal(t, now - S(2 * 3600));
	assert_int_equal(op_time_parse_arg("45s", now, &t), OP_OK);
	assert_int_equal(t, now - S(45));
	assert_int_equal(op_time_parse_arg("0d", now, &t), OP_OK);
	assert_int_equal(t, now);
	assert_int_equal(op_time_parse_arg("007d", now, &t), OP_OK);
	assert_int_equal(t, now - S(7 * 86400));
	assert_int_equal(op_time_parse_arg("100000d", now, &t), OP_OK);
	assert_int_equal(t, now - S(INT64_C(100000) * 86400));
}

static void
test_arg_absolute(void **state)
{
	const int64_t now = 1;
	int64_t t = 0;

	(void)state;
	assert_int_equal(op_time_parse_arg("2026-10-05T09:30:00Z", now, &t),
	                 OP_OK);
	assert_int_equal(t, S(T_2026_10_05_0930));
	assert_int_equal(
	    op_time_parse_arg("2026-10-05T18:30:00+09:00", now, &t), OP_OK);
	assert_int_equal(t, S(T_2026_10_05_0930));
	/* A bare date is allowed here, unlike in the strict parser. */
	assert_int_equal(op_time_parse_arg("2026-10-05", now, &t), OP_OK);
	assert_int_equal(t, S(T_2026_10_05_0930 - 9 * 3600 - 30 * 60));
}

static void
test_arg_invalid(void **state)
{
	static const char *const bad[] = {
	    "",      "7",    "d",         "7x",      "7dd",
	    "-7d",   "+7d",  " 7d",       "7 d",     "7D",
	    "Now",   "now ", "1.5d",      "100001d", "2026-02-30",
	    "0x10d", "7d\n", "yesterday", "2026-10", "99999999999999999999999d",
	};
	int64_t t = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (op_time_parse_arg(bad[i], 0, &t) != OP_EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_int_equal(t, 42);
	}
	assert_int_equal(op_time_parse_arg(NULL, 0, &t), OP_EINVAL);
}

static void
test_clocks(void **state)
{
	int64_t before = S(time(NULL));
	int64_t now = op_time_now_us();
	int64_t after = S(time(NULL) + 1);
	int64_t m1 = op_time_mono_ms(), m2 = op_time_mono_ms();

	(void)state;
	assert_true(now >= before && now <= after);
	assert_true(m2 >= m1);
	assert_true(m1 > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_utc),
	    cmocka_unit_test(test_parse_separators_and_case),
	    cmocka_unit_test(test_parse_offsets),
	    cmocka_unit_test(test_parse_fraction),
	    cmocka_unit_test(test_parse_date_only),
	    cmocka_unit_test(test_parse_calendar),
	    cmocka_unit_test(test_parse_leap_second),
	    cmocka_unit_test(test_parse_year_range),
	    cmocka_unit_test(test_parse_invalid),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_format_truncates_to_size),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_days_from_civil),
	    cmocka_unit_test(test_parse_against_mktime),
	    cmocka_unit_test(test_arg_relative),
	    cmocka_unit_test(test_arg_absolute),
	    cmocka_unit_test(test_arg_invalid),
	    cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
