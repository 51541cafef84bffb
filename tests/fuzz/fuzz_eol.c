/*
 * Fuzz target for `opspulse eol import`: the input is an endoflife.date
 * API v0 file.  Whatever it holds, parsing must not crash or leak; what
 * it accepts must be 1 to 2000 cycles, each with its cycle name, and must
 * encode into the message the aggregator receives.
 */
#include <string.h>

#include "cli.h"
#include "op_error.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Opspulse__V1__EolImport imp;
	static char product[] = "fuzz";

	opspulse__v1__eol_import__init(&imp);
	imp.product = product;
	if (cli_eol_parse("fuzz.json", (const char *)data, size, &imp) == 0) {
		uint8_t *buf;
		size_t len;

		FUZZ_CHECK(imp.n_cycles >= 1 && imp.n_cycles <= 2000);
		for (size_t i = 0; i < imp.n_cycles; i++)
			FUZZ_CHECK(imp.cycles[i]->cycle != NULL &&
			           imp.cycles[i]->cycle[0] != '\0');
		FUZZ_CHECK(op_pack(&imp.base, &buf, &len) == OP_OK);
		free(buf);
	}
	cli_eol_free(&imp);
	return 0;
}
