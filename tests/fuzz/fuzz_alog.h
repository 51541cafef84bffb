/*
 * The body the access-log fuzz targets share: one input is one line of
 * the given format.  Whatever the bytes, the parser returns a reason or a
 * line whose fields are in range, and reads only inside the line (the
 * input is copied to a buffer of exactly its size, so that a sanitizer
 * sees any read past it).
 */
#ifndef FUZZ_ALOG_H
#define FUZZ_ALOG_H

#include <string.h>

#include "access_log.h"
#include "fuzz.h"

static const struct alog_json_fields fuzz_alog_fields = {"time", "status",
                                                         "request_time", 3};

static int
fuzz_alog_one(enum alog_format f, const uint8_t *data, size_t size)
{
	char *line = malloc(size ? size : 1);
	struct alog_line l;
	enum alog_skip r;

	FUZZ_CHECK(line != NULL);
	if (size)
		memcpy(line, data, size);
	r = alog_parse(f, &fuzz_alog_fields, line, size, &l);
	FUZZ_CHECK(r >= ALOG_OK && r < ALOG_NSKIP);
	FUZZ_CHECK(strcmp(alog_skip_name(r), "unknown") != 0);
	if (r == ALOG_OK) {
		FUZZ_CHECK(l.status >= 100 && l.status <= 999);
		FUZZ_CHECK(l.time_us >= INT64_C(946684800000000));
		FUZZ_CHECK(!l.timed ||
		           l.duration_us <= UINT64_C(31) * 86400 * 1000000);
	}
	free(line);
	return 0;
}

#endif
