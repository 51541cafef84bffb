#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "op_error.h"
#include "op_time.h"

int64_t
op_time_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * OP_US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t
op_time_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
op_time_mono_ms(void)
{
	return op_time_mono_us() / 1000;
}

/* Howard Hinnant's days_from_civil: exact for every proleptic date. */
int64_t
op_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
op_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Reads exactly n digits at *p into *out and advances *p. */
static int
op_digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return OP_EINVAL;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return OP_OK;
}

static int
op_days_in_month(unsigned y, unsigned m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
	                           31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

static int
op_parse_date(const char **p, int64_t *days)
{
	unsigned y, m, d;

	if (op_digits(p, 4, &y) || *(*p)++ != '-' || op_digits(p, 2, &m) ||
	    *(*p)++ != '-' || op_digits(p, 2, &d))
		return OP_EINVAL;
	if (m < 1 || m > 12 || d < 1 || (int)d > op_days_in_month(y, m))
		return OP_EINVAL;
	*days = op_days_from_civil(y, m, d);
	return OP_OK;
}

/* Parses "hh:mm:ss[.frac]" into microseconds of the day. */
static int
op_parse_clock(const char **p, int64_t *us)
{
	unsigned h, mi, s;
	int64_t frac = 0, scale = 100000;

	if (op_digits(p, 2, &h) || *(*p)++ != ':' || op_digits(p, 2, &mi) ||
	    *(*p)++ != ':' || op_digits(p, 2, &s))
		return OP_EINVAL;
	if (h > 23 || mi > 59 || s > 60)
		return OP_EINVAL;
	if (s == 60) /* leap second: clamp, as PostgreSQL does */
		s = 59;
	if (**p == '.') {
		(*p)++;
		if (!isdigit((unsigned char)**p))
			return OP_EINVAL;
		for (; isdigit((unsigned char)**p); (*p)++) {
			frac += (**p - '0') * scale;
			scale /= 10;
		}
	}
	*us = ((int64_t)h * 3600 + mi * 60 + s) * OP_US_PER_SEC + frac;
	return OP_OK;
}

static int
op_parse_offset(const char **p, int64_t *off_us)
{
	unsigned oh, om;
	int sign;

	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		*off_us = 0;
		return OP_OK;
	}
	if (**p != '+' && **p != '-')
		return OP_EINVAL;
	sign = *(*p)++ == '-' ? -1 : 1;
	if (op_digits(p, 2, &oh) || *(*p)++ != ':' || op_digits(p, 2, &om) ||
	    oh > 23 || om > 59)
		return OP_EINVAL;
	*off_us = sign * ((int64_t)oh * 3600 + om * 60) * OP_US_PER_SEC;
	return OP_OK;
}

int
op_time_parse_rfc3339(const char *s, int allow_date, int64_t *out)
{
	const char *p = s;
	int64_t days, clock_us, off_us, t;

	if (s == NULL || op_parse_date(&p, &days))
		return OP_EINVAL;
	if (*p == '\0') {
		if (!allow_date)
			return OP_EINVAL;
		*out = days * OP_US_PER_DAY;
		return OP_OK;
	}
	if (*p != 'T' && *p != 't' && *p != ' ')
		return OP_EINVAL;
	p++;
	if (op_parse_clock(&p, &clock_us) || op_parse_offset(&p, &off_us) ||
	    *p != '\0')
		return OP_EINVAL;
	t = days * OP_US_PER_DAY + clock_us - off_us;
	/* An offset can move 0000-01-01 or 9999-12-31 out of the years that
	 * RFC 3339, and so op_time_format, can write in UTC. */
	if (t < op_days_from_civil(0, 1, 1) * OP_US_PER_DAY ||
	    t >= op_days_from_civil(10000, 1, 1) * OP_US_PER_DAY)
		return OP_EINVAL;
	*out = t;
	return OP_OK;
}

int
op_time_parse_arg(const char *s, int64_t now_us, int64_t *out)
{
	static const struct {
		char unit;
		int64_t us;
	} units[] = {{'s', OP_US_PER_SEC},
	             {'m', 60 * OP_US_PER_SEC},
	             {'h', 3600 * OP_US_PER_SEC},
	             {'d', OP_US_PER_DAY},
	             {'w', 7 * OP_US_PER_DAY}};
	char *end;
	long long n;

	if (s == NULL || *s == '\0')
		return OP_EINVAL;
	if (strcmp(s, "now") == 0) {
		*out = now_us;
		return OP_OK;
	}
	if (op_time_parse_rfc3339(s, 1, out) == OP_OK)
		return OP_OK;
	if (!isdigit((unsigned char)s[0]))
		return OP_EINVAL;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end[0] == '\0' || end[1] != '\0' || n > 100000)
		return OP_EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit == end[0]) {
			*out = now_us - n * units[i].us;
			return OP_OK;
		}
	}
	return OP_EINVAL;
}

char *
op_time_format(int64_t t_us, char *buf, size_t size)
{
	int64_t days, rem, y;
	unsigned m, d;
	int64_t sec, us;

	days = t_us / OP_US_PER_DAY;
	rem = t_us % OP_US_PER_DAY;
	if (rem < 0) {
		rem += OP_US_PER_DAY;
		days--;
	}
	op_civil_from_days(days, &y, &m, &d);
	sec = rem / OP_US_PER_SEC;
	us = rem % OP_US_PER_SEC;
	if (us)
		snprintf(buf, size,
		         "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
		         (long long)y, m, d, (long long)(sec / 3600),
		         (long long)(sec / 60 % 60), (long long)(sec % 60),
		         (long long)us);
	else
		snprintf(buf, size, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
		         (long long)y, m, d, (long long)(sec / 3600),
		         (long long)(sec / 60 % 60), (long long)(sec % 60));
	return buf;
}
