/* Fuzz target: one line of the apache_timed access-log format (fuzz_alog.h). */
#include "fuzz_alog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_alog_one(ALOG_APACHE_TIMED, data, size);
}
