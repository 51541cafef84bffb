/*
 * Fuzz target for import lines (SPEC §2.1): the input is one line.  A
 * line that parses must be a valid event (the parser validates), encode,
 * decode back and still be valid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "import.h"
#include "op_error.h"
#include "op_time.h"

#define FUZZ_NOW (INT64_C(1791192600) * OP_US_PER_SEC)

static void
fuzz_conf(struct agent_conf *c)
{
	static char svc[] = "fuzz-svc", env[] = "production", host[] = "fuzz";

	memset(c, 0, sizeof(*c));
	c->service = svc;
	c->environment = env;
	c->host = host;
	c->id = host;
}

static void
fuzz_round_trip(const op_event *e)
{
	char err[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	op_event *back;

	FUZZ_CHECK(op_pack(&e->base, &buf, &len) == OP_OK);
	back = opspulse__v1__event__unpack(NULL, len, buf);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(op_event_validate(back, FUZZ_NOW, err, sizeof(err)) ==
	           OP_OK);
	FUZZ_CHECK(strcmp(op_event_kind_name(back), op_event_kind_name(e)) ==
	           0);
	opspulse__v1__event__free_unpacked(back, NULL);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_conf c;
	struct import_line l;
	char err[512];

	fuzz_conf(&c);
	err[0] = '\0';
	if (import_parse_line((const char *)data, size, &c, FUZZ_NOW, &l, err,
	                      sizeof(err)) == OP_OK)
		fuzz_round_trip(&l.e.ev);
	else
		FUZZ_CHECK(err[0] != '\0'); /* a refusal always says why */
	import_line_clear(&l);
	return 0;
}
