/*
 * Fuzz target for time arguments (--since, --at, import fields): the
 * input is one string.  Every RFC 3339 time that parses must format and
 * parse back to the same microsecond, and the argument parser must agree
 * with the RFC 3339 parser on what both accept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_error.h"
#include "op_time.h"
#include "fuzz.h"

#define FUZZ_NOW (INT64_C(1791192600) * OP_US_PER_SEC)

static void
fuzz_round_trip(int64_t t)
{
	char buf[OP_TIME_BUFSZ];
	int64_t back = ~t;

	op_time_format(t, buf, sizeof(buf));
	FUZZ_CHECK(op_time_parse_rfc3339(buf, 0, &back) == OP_OK);
	FUZZ_CHECK(back == t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int64_t strict = 0, lenient = 0, arg = 0;
	int strict_ok, lenient_ok;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0'; /* an embedded NUL just ends the string early */

	strict_ok = op_time_parse_rfc3339(s, 0, &strict) == OP_OK;
	lenient_ok = op_time_parse_rfc3339(s, 1, &lenient) == OP_OK;
	/* Allowing bare dates only ever adds inputs. */
	FUZZ_CHECK(!strict_ok || (lenient_ok && lenient == strict));
	if (lenient_ok)
		fuzz_round_trip(lenient);

	if (op_time_parse_arg(s, FUZZ_NOW, &arg) == OP_OK) {
		if (lenient_ok)
			FUZZ_CHECK(arg == lenient);
		else if (strcmp(s, "now") != 0)
			/* a relative age: never after now, at most ~274 y */
			FUZZ_CHECK(arg <= FUZZ_NOW &&
			           FUZZ_NOW - arg <=
			               INT64_C(100000) * 7 * OP_US_PER_DAY);
	} else {
		FUZZ_CHECK(!lenient_ok);
	}
	free(s);
	return 0;
}
