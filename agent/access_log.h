/*
 * Access-log line parsers (SPEC §12.1): one line of a web server's access
 * log in, the request's time, status and duration out, or the reason the
 * line was skipped.  Pure functions over borrowed bytes: no allocation, no
 * state, so the tailer (tail.h), the tests and the fuzz targets share them.
 */
#ifndef ACCESS_LOG_H
#define ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>

/* Longest line parsed; a longer one is skipped as too_long. */
#define ALOG_MAX_LINE (64u << 10)

enum alog_format {
	ALOG_NGINX_TIMED,  /* combined + " $request_time" [+ upstream time] */
	ALOG_APACHE_TIMED, /* combined + " %D" (microseconds) */
	ALOG_JSON,         /* one object per line, field names configured */
};

/* Why a line was skipped.  The names (alog_skip_name) are what status,
 * the wire (Batch.line_skips) and `opspulse agents` show. */
enum alog_skip {
	ALOG_OK = 0,
	ALOG_SKIP_FORMAT,   /* not the configured format */
	ALOG_SKIP_TIME,     /* time missing, unreadable or out of range */
	ALOG_SKIP_STATUS,   /* status not three digits */
	ALOG_SKIP_DURATION, /* duration neither a number nor "-" */
	ALOG_SKIP_BINARY,   /* control characters (binary data) */
	ALOG_SKIP_UTF8,     /* invalid UTF-8 */
	ALOG_SKIP_TOO_LONG, /* longer than ALOG_MAX_LINE (tailer only) */
	ALOG_NSKIP
};

/* The json format's field names and duration unit. */
struct alog_json_fields {
	const char *time, *status, *duration;
	int unit_exp; /* 6: seconds, 3: milliseconds, 0: microseconds */
};

struct alog_line {
	int64_t time_us;      /* when the line was written, UTC */
	int status;           /* 100-999 */
	int timed;            /* 0 when the duration is "-" or missing */
	uint64_t duration_us; /* when timed */
};

/* "format", "time", ...; "ok" for ALOG_OK.  Never NULL. */
const char *alog_skip_name(enum alog_skip r);

/* The format called name ("nginx_timed", "apache_timed", "json"): 0 and
 * *f set, or -1 when there is none. */
int alog_format_parse(const char *name, enum alog_format *f);
const char *alog_format_name(enum alog_format f);

/*
 * Parses one line (len bytes, no newline; need not be NUL-terminated) of
 * format f (json: with the names in jf).  Returns ALOG_OK with *out set,
 * or the reason to skip it.  Never reads outside [line, line + len).
 * Times before 2000 or past 9999 are ALOG_SKIP_TIME; the caller checks
 * its own clock.
 */
enum alog_skip alog_parse(enum alog_format f, const struct alog_json_fields *jf,
                          const char *line, size_t len, struct alog_line *out);

#endif
