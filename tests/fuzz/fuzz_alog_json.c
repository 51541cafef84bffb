/* Fuzz target: one line of the json access-log format (fuzz_alog.h). */
#include "fuzz_alog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_alog_one(ALOG_JSON, data, size);
}
