/*
 * common/op_latency.c: the SPEC §12.2 bucket upper values at their edges,
 * the properties every bucket has, and durations parsed from decimal text
 * with rounding half up (SPEC §14.1), refusals included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_latency.h"

/* The bucket of v by the words of §12.2, computed another way: s from a
 * loop over the bits, the upper value in 128-bit arithmetic. */
static uint64_t
spec_upper(uint64_t v)
{
	unsigned bits = 0, s;
	unsigned __int128 u;

	for (uint64_t x = v; x > 1; x >>= 1)
		bits++; /* floor(log2 v) */
	s = v < 128 ? 0 : bits - 6;
	u = (((unsigned __int128)(v >> s) + 1) << s) - 1;
	return u > UINT64_MAX ? UINT64_MAX : (uint64_t)u;
}

static void
test_upper_edges(void **state)
{
	/* Worked by hand from §12.2. */
	static const uint64_t cases[][2] = {
	    {0, 0},           {1, 1},
	    {127, 127},       {128, 129},
	    {129, 129},       {130, 131},
	    {255, 255},       {256, 259},
	    {259, 259},       {260, 263},
	    {1000, 1007},     {12500, 12543},
	    {480000, 483327}, {UINT64_MAX, UINT64_MAX},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(op_latency_upper_us(cases[i][0]), cases[i][1]);
}

/* Around every power of two: the definition, the upper value is in its
 * own bucket, buckets at most 1/64 wide above 128 µs and exact below. */
static void
test_upper_properties(void **state)
{
	(void)state;
	for (unsigned p = 0; p < 64; p++) {
		for (int d = -3; d <= 3; d++) {
			uint64_t v = ((uint64_t)1 << p) + (uint64_t)(int64_t)d;
			uint64_t u = op_latency_upper_us(v);

			assert_int_equal(u, spec_upper(v));
			assert_true(u >= v);
			if (u == UINT64_MAX)
				continue;
			assert_int_equal(op_latency_upper_us(u), u);
			assert_true(op_latency_is_upper(u));
			if (v < 128)
				assert_int_equal(u, v);
			else
				assert_true((u - v) * 64 <= v);
		}
	}
	assert_false(op_latency_is_upper(128));
	assert_false(op_latency_is_upper(UINT64_MAX));
}

static uint64_t
parse_ok(const char *s, int unit_exp)
{
	uint64_t us = 12345;

	assert_int_equal(op_latency_parse_us(s, strlen(s), unit_exp, &us),
	                 OP_OK);
	return us;
}

static void
test_parse_rounding(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("12.5", 3), 12500);
	assert_int_equal(parse_ok("0.0005", 3), 1); /* 0.5 µs, half up */
	assert_int_equal(parse_ok("0.0004999", 3), 0);
	assert_int_equal(parse_ok("1.2345", 3), 1235);
	assert_int_equal(parse_ok("1.2344", 3), 1234);
	assert_int_equal(parse_ok("0.1234565", 6), 123457);
	assert_int_equal(parse_ok("0.123", 6), 123000);
	assert_int_equal(parse_ok("12.5", 0), 13);
	assert_int_equal(parse_ok("12.4999", 0), 12);
	assert_int_equal(parse_ok("007", 0), 7);
	assert_int_equal(parse_ok(".5", 3), 500);
	assert_int_equal(parse_ok("2.", 3), 2000);
	/* 31 days is the limit, inclusive. */
	assert_int_equal(parse_ok("2678400", 6), 2678400000000ULL);
	/* Only len bytes are read. */
	{
		uint64_t us;
		assert_int_equal(op_latency_parse_us("12:34", 2, 3, &us),
		                 OP_OK);
		assert_int_equal(us, 12000);
	}
}

static void
test_parse_refusals(void **state)
{
	static const char *bad[] = {
	    "",
	    ".",
	    "-1",
	    "+1",
	    "1e3",
	    "1.2.3",
	    " 1",
	    "1 ",
	    "abc",
	    "0x10",
	    "2678400.0000005",
	    "2678401",
	    "99999999999999999999999999",
	};
	uint64_t us = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    op_latency_parse_us(bad[i], strlen(bad[i]), 6, &us),
		    OP_EINVAL);
		assert_int_equal(us, 7); /* untouched */
	}
	assert_int_equal(op_latency_parse_us("1", 1, 7, &us), OP_EINVAL);
	assert_int_equal(op_latency_parse_us("1", 1, -1, &us), OP_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_upper_edges),
	    cmocka_unit_test(test_upper_properties),
	    cmocka_unit_test(test_parse_rounding),
	    cmocka_unit_test(test_parse_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
