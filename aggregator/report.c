/*
 * The report's entry points: the format's name, and a page made of its
 * parts (fetched by report_fetch.c, drawn by report_render.c through the
 * format's emitter).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_error.h"
#include "op_time.h"
#include "query.h"
#include "report_int.h"
#include "store.h"

int
report_format_parse(const char *name, enum report_format *f)
{
	if (name == NULL || *name == '\0' || strcmp(name, "html") == 0)
		*f = REPORT_HTML;
	else if (strcmp(name, "markdown") == 0 || strcmp(name, "md") == 0)
		*f = REPORT_MARKDOWN;
	else
		return OP_EINVAL;
	return OP_OK;
}

/* p's windows from req: the window (default: QUERY_DEFAULT_WINDOW_US
 * before now), the previous one of the same length, and the trend's (at
 * least REPORT_TREND_WEEKS).  Returns OP_OK or OP_EINVAL (err set). */
static int
rep_windows(struct rep *p, const rep_request *req, char *err, size_t errsz)
{
	int64_t trend = (int64_t)REPORT_TREND_WEEKS * 7 * OP_US_PER_DAY;

	p->now = op_time_now_us();
	p->until = req->until_us ? req->until_us : p->now;
	p->since =
	    req->since_us ? req->since_us : p->until - QUERY_DEFAULT_WINDOW_US;
	if (p->since >= p->until) {
		snprintf(err, errsz,
		         "the window is empty: since must be before until");
		return OP_EINVAL;
	}
	p->prev_since = p->since - (p->until - p->since);
	p->trend_since =
	    p->until - p->since > trend ? p->since : p->until - trend;
	return OP_OK;
}

/* Draws p in format into *out (malloc'd, *len bytes).  Returns OP_OK or
 * OP_ENOMEM (err set, *out NULL). */
static int
rep_draw(const struct rep *p, enum report_format format, char **out,
         size_t *len, char *err, size_t errsz)
{
	struct rep_out o = {.em = format == REPORT_MARKDOWN ? &rep_md
	                                                    : &rep_html};
	int rv = OP_OK;

	if ((o.f = open_memstream(out, len)) == NULL) {
		rv = OP_ENOMEM;
	} else {
		rep_page(p, &o);
		if (fclose(o.f) != 0)
			rv = OP_ENOMEM;
	}
	if (rv != OP_OK) {
		snprintf(err, errsz, "out of memory rendering the report");
		free(*out);
		*out = NULL;
	}
	return rv;
}

int
report_render(struct store *s, const rep_request *req,
              enum report_format format, char **out, size_t *len, char *err,
              size_t errsz)
{
	struct rep p = {.req = req};
	int rv;

	*out = NULL;
	if ((rv = rep_windows(&p, req, err, errsz)) != OP_OK)
		return rv;
	if ((rv = rep_fetch(&p, s, err, errsz)) == OP_OK)
		rv = rep_draw(&p, format, out, len, err, errsz);
	for (int i = 0; i < P_COUNT; i++)
		store_result_free(p.r[i]);
	return rv;
}
