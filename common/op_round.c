/* Rounding for people: one rule per unit (op_round.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "op_round.h"

int
op_round_decimals(double v, enum op_unit u)
{
	double a = fabs(v);

	switch (u) {
	case OP_UNIT_COUNT:
	case OP_UNIT_MINUTES:
		return 0;
	case OP_UNIT_FRACTION:
		return 3;
	case OP_UNIT_PCT:
		return 1;
	case OP_UNIT_NUM:
		break;
	}
	/* Decided on the rounded value, so 9.996 reads 10.0, not 10.00. */
	if (a < 9.995)
		return 2;
	return a < 99.95 ? 1 : 0;
}

void
op_round_format(char *buf, size_t size, double v, enum op_unit u)
{
	int d = op_round_decimals(v, u);
	double scale = pow(10, d);

	if (round(v * scale) == 0)
		v = 0; /* no "-0.00" */
	snprintf(buf, size, "%.*f", d, v);
}

/* Whether name ends with suffix. */
static int
op_ends_with(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n >= s && strcmp(name + n - s, suffix) == 0;
}

enum op_unit
op_unit_of_column(const char *name)
{
	if (op_ends_with(name, "_minutes"))
		return OP_UNIT_MINUTES;
	if (op_ends_with(name, "_pct"))
		return OP_UNIT_PCT;
	if (op_ends_with(name, "_share") || op_ends_with(name, "_rate") ||
	    op_ends_with(name, "_ratio"))
		return OP_UNIT_FRACTION;
	return OP_UNIT_NUM;
}
