/* Fuzz target: one line of the nginx_timed access-log format (fuzz_alog.h). */
#include "fuzz_alog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_alog_one(ALOG_NGINX_TIMED, data, size);
}
