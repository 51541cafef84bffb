/*
 * Fuzz target for os-release parsing: the input is a file's content.  The
 * results always fit their buffers, are found only when both are
 * non-empty, and never grow when the buffers shrink.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "op_error.h"
#include "version.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[64], ver[64], sid[4], sver[4];
	int rv;

	memset(id, 'x', sizeof(id));
	memset(ver, 'x', sizeof(ver));
	rv = agent_os_release_parse((const char *)data, size, id, sizeof(id),
	                            ver, sizeof(ver));
	FUZZ_CHECK(memchr(id, '\0', sizeof(id)) != NULL);
	FUZZ_CHECK(memchr(ver, '\0', sizeof(ver)) != NULL);
	FUZZ_CHECK(rv == OP_OK || rv == OP_ENOTFOUND);
	if (rv == OP_OK)
		FUZZ_CHECK(*id && *ver && agent_os_product(id) != NULL);

	/* Either result: a value too long for the small buffers is cut. */
	rv = agent_os_release_parse((const char *)data, size, sid, sizeof(sid),
	                            sver, sizeof(sver));
	FUZZ_CHECK(rv == OP_OK || rv == OP_ENOTFOUND);
	FUZZ_CHECK(strlen(sid) < sizeof(sid) && strlen(sver) < sizeof(sver));
	/* A truncated value is a prefix of the whole one. */
	FUZZ_CHECK(strncmp(sid, id, strlen(sid)) == 0);
	FUZZ_CHECK(strncmp(sver, ver, strlen(sver)) == 0);
	return 0;
}
