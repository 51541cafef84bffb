#include <stddef.h>
#include <stdint.h>

#include "op_latency.h"

/* Largest duration accepted from text: 31 days, as for every duration
 * (SPEC §3). */
#define OP_LATENCY_MAX_US (31ULL * 86400 * 1000000)

uint64_t
op_latency_upper_us(uint64_t v)
{
	unsigned s = 0;
	uint64_t hi;

	if (v >= 128)
		s = (unsigned)(63 - __builtin_clzll(v)) - 6;
	hi = (v >> s) + 1;
	if (hi > (UINT64_MAX >> s))
		return UINT64_MAX;
	return (hi << s) - 1;
}

int
op_latency_is_upper(uint64_t u)
{
	return u != UINT64_MAX && op_latency_upper_us(u) == u;
}

int
op_latency_parse_us(const char *s, size_t len, int unit_exp, uint64_t *us)
{
	uint64_t whole = 0;
	int frac_digits = 0, seen_dot = 0, digits = 0, round_up = 0;

	if (unit_exp < 0 || unit_exp > 6)
		return OP_EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.' && !seen_dot) {
			seen_dot = 1;
			continue;
		}
		if (c < '0' || c > '9')
			return OP_EINVAL;
		digits++;
		if (seen_dot && frac_digits >= unit_exp) {
			/* Only the first dropped digit decides the rounding;
			 * the rest are already below one microsecond. */
			if (frac_digits++ == unit_exp)
				round_up = c >= '5';
			continue;
		}
		if (seen_dot)
			frac_digits++;
		if (whole > OP_LATENCY_MAX_US)
			return OP_EINVAL;
		whole = whole * 10 + (uint64_t)(c - '0');
	}
	if (digits == 0)
		return OP_EINVAL;
	for (int i = frac_digits < unit_exp ? frac_digits : unit_exp;
	     i < unit_exp; i++) {
		if (whole > OP_LATENCY_MAX_US)
			return OP_EINVAL;
		whole *= 10;
	}
	whole += (uint64_t)round_up;
	if (whole > OP_LATENCY_MAX_US)
		return OP_EINVAL;
	*us = whole;
	return OP_OK;
}
