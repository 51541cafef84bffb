/*
 * Time values are int64 microseconds since the Unix epoch, UTC.
 */
#ifndef OP_TIME_H
#define OP_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "op_error.h"

#define OP_US_PER_SEC INT64_C(1000000)
#define OP_US_PER_DAY (INT64_C(86400) * OP_US_PER_SEC)
/* 2000-01-01T00:00:00Z: the earliest event time accepted (SPEC §3). */
#define OP_TIME_MIN_US (INT64_C(946684800) * OP_US_PER_SEC)

/* Current wall-clock time.  This can't fail. */
int64_t op_time_now_us(void);

/* Monotonic clock in milliseconds, for timeouts.  This can't fail. */
int64_t op_time_mono_ms(void);

/* The same clock in microseconds, for latencies.  This can't fail. */
int64_t op_time_mono_us(void);

/*
 * Parses an RFC 3339 time ("2026-10-05T09:30:00Z", fractional seconds and
 * "+09:00" offsets allowed; "t"/"z" and a space for "T" too) or, when
 * allow_date is set, a bare date ("2026-10-05", midnight UTC).  Returns
 * OP_OK or OP_EINVAL, also for a time whose UTC form falls outside the
 * years 0000-9999; *out is set only on success.
 */
OP_MUSTCHECK int op_time_parse_rfc3339(const char *s, int allow_date,
                                       int64_t *out);

/*
 * Parses a time argument as the CLI and record commands take it: RFC 3339
 * (see above, dates allowed), "now", or an age before now: a number followed
 * by s, m, h, d or w ("7d", "12w", "90m").  Returns OP_OK or OP_EINVAL.
 */
OP_MUSTCHECK int op_time_parse_arg(const char *s, int64_t now_us, int64_t *out);

/*
 * Formats t as RFC 3339 UTC ("2026-10-05T09:30:00Z", with ".uuuuuu" only
 * when there are microseconds).  buf needs OP_TIME_BUFSZ bytes.  Returns buf.
 */
#define OP_TIME_BUFSZ 40
char *op_time_format(int64_t t_us, char *buf, size_t size);

/* Days since 1970-01-01 of a proleptic Gregorian date.  This can't fail. */
int64_t op_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
