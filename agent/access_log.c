/*
 * Access-log line parsers: nginx and Apache combined formats with a
 * duration, and JSON objects.  Every read is bounded by the line's end;
 * nothing is allocated.
 */
#include <string.h>

#include "access_log.h"
#include "op_latency.h"
#include "op_time.h"

#define ALOG_MIN_US     INT64_C(946684800000000) /* 2000-01-01 */
#define ALOG_JSON_DEPTH 32

/* A cursor over one line. */
struct alog_cur {
	const char *p, *end;
};

/* A slice of the line. */
struct alog_str {
	const char *s;
	size_t n;
};

const char *
alog_skip_name(enum alog_skip r)
{
	static const char *const names[ALOG_NSKIP] = {
	    "ok",       "format", "time", "status",
	    "duration", "binary", "utf8", "too_long"};

	return (unsigned)r < ALOG_NSKIP ? names[r] : "unknown";
}

static const char *const alog_formats[] = {"nginx_timed", "apache_timed",
                                           "json"};

int
alog_format_parse(const char *name, enum alog_format *f)
{
	for (size_t i = 0; i < sizeof(alog_formats) / sizeof(*alog_formats);
	     i++) {
		if (strcmp(name, alog_formats[i]) == 0) {
			*f = (enum alog_format)i;
			return 0;
		}
	}
	return -1;
}

const char *
alog_format_name(enum alog_format f)
{
	return (unsigned)f < 3 ? alog_formats[f] : "unknown";
}

/* ---- text checks ---------------------------------------------------- */

/* Length of the UTF-8 sequence at p (at most n bytes), or 0 if invalid:
 * no overlong forms, surrogates or code points past U+10FFFF. */
static size_t
alog_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0xc2 || c > 0xf4 || n < len)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	return len;
}

/* ALOG_OK for printable text (tabs allowed) in valid UTF-8. */
static enum alog_skip
alog_check_text(const char *line, size_t len)
{
	const unsigned char *p = (const unsigned char *)line;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i];
		size_t n;

		if (c >= 0x20 && c < 0x7f) {
			i++;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return ALOG_SKIP_BINARY;
		if (c < 0x80)
			i++;
		else if ((n = alog_utf8_seq(p + i, len - i)) == 0)
			return ALOG_SKIP_UTF8;
		else
			i += n;
	}
	return ALOG_OK;
}

/* ---- small scanners -------------------------------------------------- */

static int
alog_digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* A status: exactly three digits, 100-999. */
static enum alog_skip
alog_status(const char *s, size_t n, int *out)
{
	if (n != 3 || alog_digits(s, 3, out) != 0 || *out < 100)
		return ALOG_SKIP_STATUS;
	return ALOG_OK;
}

/* A duration in the given unit, or "-" (not timed). */
static enum alog_skip
alog_duration(const char *s, size_t n, int unit_exp, struct alog_line *out)
{
	out->timed = 0;
	if (n == 1 && s[0] == '-')
		return ALOG_OK;
	if (op_latency_parse_us(s, n, unit_exp, &out->duration_us) != OP_OK)
		return ALOG_SKIP_DURATION;
	out->timed = 1;
	return ALOG_OK;
}

/* Advances c past the next space; the token before it into t.  -1 when
 * there is no space left. */
static int
alog_token(struct alog_cur *c, struct alog_str *t)
{
	const char *sp = memchr(c->p, ' ', (size_t)(c->end - c->p));

	if (sp == NULL)
		return -1;
	t->s = c->p;
	t->n = (size_t)(sp - c->p);
	c->p = sp + 1;
	return 0;
}

/* The closing quote of a quoted string starting after p (backslash
 * escapes honoured), or NULL. */
static const char *
alog_close_quote(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p;
	}
	return NULL;
}

/* ---- [10/Oct/2000:13:55:36 -0700] ------------------------------------ */

static int
alog_month(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int m = 0; m < 12; m++) {
		if (memcmp(s, months + 3 * m, 3) == 0)
			return m + 1;
	}
	return 0;
}

/* Checks the punctuation of "dd/Mon/yyyy:HH:MM:SS +zzzz". */
static int
alog_clf_shape(const char *s)
{
	return s[2] == '/' && s[6] == '/' && s[11] == ':' && s[14] == ':' &&
	       s[17] == ':' && s[20] == ' ' && (s[21] == '+' || s[21] == '-');
}

static enum alog_skip
alog_clf_time(const char *s, size_t n, int64_t *out)
{
	int d, y, hh, mm, ss, zh, zm, mon;
	int64_t t;

	if (n != 26 || !alog_clf_shape(s) || (mon = alog_month(s + 3)) == 0 ||
	    alog_digits(s, 2, &d) || alog_digits(s + 7, 4, &y) ||
	    alog_digits(s + 12, 2, &hh) || alog_digits(s + 15, 2, &mm) ||
	    alog_digits(s + 18, 2, &ss) || alog_digits(s + 22, 2, &zh) ||
	    alog_digits(s + 24, 2, &zm))
		return ALOG_SKIP_TIME;
	if (d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || zh > 23 ||
	    zm > 59)
		return ALOG_SKIP_TIME;
	t = op_days_from_civil(y, (unsigned)mon, (unsigned)d) * 86400 +
	    hh * 3600 + mm * 60 + ss;
	t -= (s[21] == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
	*out = t * 1000000;
	return *out < ALOG_MIN_US ? ALOG_SKIP_TIME : ALOG_OK;
}

/* ---- combined formats ------------------------------------------------ */

/* After the request's closing quote: " STATUS BYTES ".  The request line
 * may hold unescaped quotes, so the caller tries each quote in turn. */
static int
alog_after_request(struct alog_cur *c, struct alog_str *status)
{
	struct alog_str bytes;
	struct alog_cur k = *c;

	if (k.p >= k.end || *k.p++ != ' ' || alog_token(&k, status) != 0 ||
	    status->n != 3 || alog_token(&k, &bytes) != 0 || bytes.n == 0 ||
	    k.p >= k.end || *k.p != '"')
		return -1;
	*c = k;
	return 0;
}

/* Skips a quoted field followed by a space; c->p is at its quote. */
static int
alog_skip_quoted(struct alog_cur *c)
{
	const char *q;

	if (c->p >= c->end || *c->p != '"' ||
	    (q = alog_close_quote(c->p + 1, c->end)) == NULL ||
	    q + 1 >= c->end || q[1] != ' ')
		return -1;
	c->p = q + 2;
	return 0;
}

/* The user agent and the duration after it: the last field of combined
 * may also hold unescaped quotes, so take the first closing quote that
 * is followed by a space and a duration token. */
static enum alog_skip
alog_ua_duration(struct alog_cur *c, int unit_exp, struct alog_line *out)
{
	const char *q = c->p;
	enum alog_skip r = ALOG_SKIP_FORMAT;

	if (q >= c->end || *q != '"')
		return ALOG_SKIP_FORMAT;
	while ((q = alog_close_quote(q + 1, c->end)) != NULL) {
		const char *t = q + 2, *sp;

		if (q + 1 >= c->end || q[1] != ' ' || t >= c->end)
			continue;
		sp = memchr(t, ' ', (size_t)(c->end - t));
		r = alog_duration(t, (size_t)((sp ? sp : c->end) - t), unit_exp,
		                  out);
		if (r == ALOG_OK)
			return r;
	}
	return r;
}

static enum alog_skip
alog_combined(const char *line, size_t len, int unit_exp, struct alog_line *out)
{
	struct alog_cur c = {line, line + len};
	struct alog_str addr, ident, status;
	const char *lb, *rb, *q;
	enum alog_skip r;

	if (alog_token(&c, &addr) || addr.n == 0 || alog_token(&c, &ident) ||
	    (lb = memchr(c.p, '[', (size_t)(c.end - c.p))) == NULL ||
	    (rb = memchr(lb, ']', (size_t)(c.end - lb))) == NULL)
		return ALOG_SKIP_FORMAT;
	if ((r = alog_clf_time(lb + 1, (size_t)(rb - lb - 1), &out->time_us)))
		return r;
	if (rb + 2 >= c.end || rb[1] != ' ' || rb[2] != '"')
		return ALOG_SKIP_FORMAT;
	c.p = rb + 3;
	for (q = c.p;; q++) {
		if ((q = alog_close_quote(q, c.end)) == NULL)
			return ALOG_SKIP_FORMAT;
		c.p = q + 1;
		if (alog_after_request(&c, &status) == 0)
			break;
	}
	if ((r = alog_status(status.s, status.n, &out->status)) != ALOG_OK)
		return r;
	if (alog_skip_quoted(&c) != 0) /* referer */
		return ALOG_SKIP_FORMAT;
	return alog_ua_duration(&c, unit_exp, out);
}

/* ---- JSON ------------------------------------------------------------ */

static void
alog_ws(struct alog_cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

/* A string at c->p ('"'): its raw contents into s. */
static int
alog_json_string(struct alog_cur *c, struct alog_str *s)
{
	const char *q;

	if (c->p >= c->end || *c->p != '"' ||
	    (q = alog_close_quote(c->p + 1, c->end)) == NULL)
		return -1;
	s->s = c->p + 1;
	s->n = (size_t)(q - s->s);
	c->p = q + 1;
	return 0;
}

/* Skips a nested object or array (strings inside honoured). */
static int
alog_json_nested(struct alog_cur *c)
{
	int depth = 0;

	while (c->p < c->end) {
		char ch = *c->p;

		if (ch == '"') {
			struct alog_str s;
			if (alog_json_string(c, &s) != 0)
				return -1;
			continue;
		}
		if (ch == '{' || ch == '[') {
			if (++depth > ALOG_JSON_DEPTH)
				return -1;
		} else if (ch == '}' || ch == ']') {
			if (--depth == 0) {
				c->p++;
				return 0;
			}
		}
		c->p++;
	}
	return -1;
}

/* A scalar (number, true, false, null): up to ',', '}' or a blank. */
static int
alog_json_scalar(struct alog_cur *c, struct alog_str *s)
{
	s->s = c->p;
	while (c->p < c->end && *c->p != ',' && *c->p != '}' && *c->p != ' ' &&
	       *c->p != '\t')
		c->p++;
	s->n = (size_t)(c->p - s->s);
	return s->n > 0 ? 0 : -1;
}

/* One value: strings and scalars into v (quoted set for strings). */
static int
alog_json_value(struct alog_cur *c, struct alog_str *v, int *quoted)
{
	*quoted = 0;
	v->s = NULL;
	v->n = 0;
	if (c->p >= c->end)
		return -1;
	if (*c->p == '"') {
		*quoted = 1;
		return alog_json_string(c, v);
	}
	if (*c->p == '{' || *c->p == '[')
		return alog_json_nested(c);
	return alog_json_scalar(c, v);
}

/* The values of the three wanted fields; unset ones keep s == NULL. */
struct alog_json_found {
	struct alog_str time, status, duration;
	int duration_quoted;
};

static int
alog_key_is(const struct alog_str *k, const char *name)
{
	return name && strlen(name) == k->n && memcmp(k->s, name, k->n) == 0;
}

static void
alog_json_keep(const struct alog_json_fields *jf, const struct alog_str *k,
               const struct alog_str *v, int quoted, struct alog_json_found *f)
{
	if (alog_key_is(k, jf->time) && quoted)
		f->time = *v;
	else if (alog_key_is(k, jf->status))
		f->status = *v;
	else if (alog_key_is(k, jf->duration)) {
		f->duration = *v;
		f->duration_quoted = quoted;
	}
}

static int
alog_json_object(struct alog_cur *c, const struct alog_json_fields *jf,
                 struct alog_json_found *f)
{
	alog_ws(c);
	if (c->p >= c->end || *c->p++ != '{')
		return -1;
	alog_ws(c);
	if (c->p < c->end && *c->p == '}') {
		c->p++;
		return 0;
	}
	for (;;) {
		struct alog_str k, v;
		int quoted;

		alog_ws(c);
		if (alog_json_string(c, &k) != 0)
			return -1;
		alog_ws(c);
		if (c->p >= c->end || *c->p++ != ':')
			return -1;
		alog_ws(c);
		if (alog_json_value(c, &v, &quoted) != 0)
			return -1;
		if (v.s != NULL)
			alog_json_keep(jf, &k, &v, quoted, f);
		alog_ws(c);
		if (c->p >= c->end)
			return -1;
		if (*c->p == '}') {
			c->p++;
			return 0;
		}
		if (*c->p++ != ',')
			return -1;
	}
}

static enum alog_skip
alog_json_time(const struct alog_str *t, int64_t *out)
{
	char buf[64];

	if (t->s == NULL || t->n == 0 || t->n >= sizeof(buf))
		return ALOG_SKIP_TIME;
	memcpy(buf, t->s, t->n);
	buf[t->n] = '\0';
	if (op_time_parse_rfc3339(buf, 0, out) != OP_OK || *out < ALOG_MIN_US)
		return ALOG_SKIP_TIME;
	return ALOG_OK;
}

static enum alog_skip
alog_json(const struct alog_json_fields *jf, const char *line, size_t len,
          struct alog_line *out)
{
	struct alog_cur c = {line, line + len};
	struct alog_json_found f;
	enum alog_skip r;

	memset(&f, 0, sizeof(f));
	if (alog_json_object(&c, jf, &f) != 0)
		return ALOG_SKIP_FORMAT;
	alog_ws(&c);
	if (c.p != c.end)
		return ALOG_SKIP_FORMAT;
	if ((r = alog_json_time(&f.time, &out->time_us)) != ALOG_OK)
		return r;
	if (f.status.s == NULL)
		return ALOG_SKIP_STATUS;
	if ((r = alog_status(f.status.s, f.status.n, &out->status)))
		return r;
	out->timed = 0;
	if (f.duration.s == NULL || (!f.duration_quoted && f.duration.n == 4 &&
	                             memcmp(f.duration.s, "null", 4) == 0))
		return ALOG_OK;
	return alog_duration(f.duration.s, f.duration.n, jf->unit_exp, out);
}

/* ---- entry ----------------------------------------------------------- */

enum alog_skip
alog_parse(enum alog_format f, const struct alog_json_fields *jf,
           const char *line, size_t len, struct alog_line *out)
{
	enum alog_skip r;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > ALOG_MAX_LINE)
		return ALOG_SKIP_TOO_LONG;
	if ((r = alog_check_text(line, len)) != ALOG_OK)
		return r;
	memset(out, 0, sizeof(*out));
	switch (f) {
	case ALOG_NGINX_TIMED:
		return alog_combined(line, len, 6, out);
	case ALOG_APACHE_TIMED:
		return alog_combined(line, len, 0, out);
	case ALOG_JSON:
		return jf ? alog_json(jf, line, len, out) : ALOG_SKIP_FORMAT;
	}
	return ALOG_SKIP_FORMAT;
}
