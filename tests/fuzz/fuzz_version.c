/*
 * Fuzz target for version extraction from program output: the input is
 * the output.  A version found is digits and single dots, starts and ends
 * with a digit, occurs in the input, and does not depend on the buffer
 * size as long as it fits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "op_error.h"
#include "version.h"

static void
fuzz_check_shape(const char *v)
{
	size_t n = strlen(v);

	FUZZ_CHECK(n > 0 && v[0] >= '0' && v[0] <= '9');
	FUZZ_CHECK(v[n - 1] >= '0' && v[n - 1] <= '9');
	FUZZ_CHECK(strspn(v, "0123456789.") == n);
	FUZZ_CHECK(strstr(v, "..") == NULL);
}

static int
fuzz_contains(const uint8_t *data, size_t size, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= size; i++) {
		if (memcmp(data + i, s, n) == 0)
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char big[128], small[8];
	int rv, rs;

	rv = agent_version_extract((const char *)data, size, big, sizeof(big));
	rs = agent_version_extract((const char *)data, size, small,
	                           sizeof(small));
	FUZZ_CHECK(rv == OP_OK || rv == OP_ENOTFOUND || rv == OP_ETOOBIG);
	if (rv != OP_OK) {
		FUZZ_CHECK(big[0] == '\0');
		return 0;
	}
	fuzz_check_shape(big);
	FUZZ_CHECK(size >= strlen(big));
	FUZZ_CHECK(fuzz_contains(data, size, big));
	if (strlen(big) < sizeof(small))
		FUZZ_CHECK(rs == OP_OK && strcmp(big, small) == 0);
	else
		FUZZ_CHECK(rs == OP_ETOOBIG && small[0] == '\0');
	return 0;
}
