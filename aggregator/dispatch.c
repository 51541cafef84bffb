#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "op_error.h"
#include "op_time.h"
#include "query.h"
#include "report.h"

/* The names with a handler of their own; any other goes to query_run. */
static const struct dispatch_route {
	const char *name;
	dispatch_fn fn;
} dispatch_routes[] = {
    {"report", dispatch_report},
};

#define DISPATCH_NROUTES (sizeof(dispatch_routes) / sizeof(dispatch_routes[0]))

dispatch_fn
dispatch_find(const char *name)
{
	for (size_t i = 0; name && i < DISPATCH_NROUTES; i++) {
		if (strcmp(dispatch_routes[i].name, name) == 0)
			return dispatch_routes[i].fn;
	}
	return query_run;
}

int
dispatch_query(struct store *s, const Opspulse__V1__QueryRequest *req,
               Opspulse__V1__QueryResult **out, char *err, size_t errsz)
{
	return dispatch_find(req->name)(s, req, out, err, errsz);
}

/* req with its window resolved once, for the page and the reply alike:
 * until defaults to now, since to QUERY_DEFAULT_WINDOW_US before until.
 * This can't fail. */
static Opspulse__V1__QueryRequest
dispatch_window(const Opspulse__V1__QueryRequest *req)
{
	Opspulse__V1__QueryRequest w = *req;

	w.until_us = req->until_us ? req->until_us : op_time_now_us();
	w.since_us = req->since_us ? req->since_us
	                           : w.until_us - QUERY_DEFAULT_WINDOW_US;
	return w;
}

int
dispatch_report(struct store *s, const Opspulse__V1__QueryRequest *req,
                Opspulse__V1__QueryResult **out, char *err, size_t errsz)
{
	Opspulse__V1__QueryRequest w;
	enum report_format format;
	char *doc;
	size_t len;
	int rv;

	if (report_format_parse(req->format, &format) != OP_OK) {
		snprintf(err, errsz,
		         "unknown report format '%s'; use html or markdown",
		         req->format);
		return OP_EINVAL;
	}
	w = dispatch_window(req);
	rv = report_render(s, &w, format, &doc, &len, err, errsz);
	if (rv != OP_OK)
		return rv;
	if ((*out = store_result_text("document", doc)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return OP_ENOMEM;
	}
	(*out)->since_us = w.since_us;
	(*out)->until_us = w.until_us;
	return OP_OK;
}
