#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_error.h"
#include "op_time.h"
#include "query.h"

/*
 * Parameters every query may use: $1 since, $2 until (timestamptz text),
 * $3 environment, $4 services (text[] literal, NULL for all), $5 team,
 * $6 grouping ("by").
 */
static const struct query_def {
	const char *name;
	const char *sql;
} query_defs[] = {
    {"dora", "SELECT * FROM opspulse.dora($1::timestamptz, $2::timestamptz, "
             "$3, $4::text[])"},
};

#define QUERY_DEFAULT_WINDOW_US (28 * OP_US_PER_DAY)

static const struct query_def *
query_find(const char *name)
{
	for (size_t i = 0; i < sizeof(query_defs) / sizeof(query_defs[0]);
	     i++) {
		if (strcmp(query_defs[i].name, name) == 0)
			return &query_defs[i];
	}
	return NULL;
}

/* A PostgreSQL array literal of strings: {"a","b\"c"}.  Passed as a
 * parameter value, never spliced into SQL.  Caller frees. */
static char *
query_array_literal(char **items, size_t n)
{
	size_t size = 3;
	char *buf, *p;

	for (size_t i = 0; i < n; i++)
		size += 2 * strlen(items[i]) + 3;
	if ((p = buf = malloc(size)) == NULL)
		return NULL;
	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		for (const char *c = items[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				*p++ = '\\';
			*p++ = *c;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return buf;
}

int
query_run(struct store *s, const Opspulse__V1__QueryRequest *req,
          Opspulse__V1__QueryResult **out, char *err, size_t errsz)
{
	const struct query_def *q = query_find(req->name);
	char since[OP_TIME_BUFSZ], until[OP_TIME_BUFSZ], *services = NULL;
	int64_t until_us = req->until_us ? req->until_us : op_time_now_us();
	int64_t since_us =
	    req->since_us ? req->since_us : until_us - QUERY_DEFAULT_WINDOW_US;
	const char *params[6];
	int rv;

	if (q == NULL) {
		snprintf(err, errsz, "unknown query '%s'", req->name);
		return OP_ENOTFOUND;
	}
	if (since_us >= until_us) {
		snprintf(err, errsz,
		         "the window is empty: since must be before "
		         "until");
		return OP_EINVAL;
	}
	if (req->n_services && (services = query_array_literal(
	                            req->services, req->n_services)) == NULL)
		return OP_ENOMEM;
	params[0] = op_time_format(since_us, since, sizeof(since));
	params[1] = op_time_format(until_us, until, sizeof(until));
	params[2] = req->env && *req->env ? req->env : "production";
	params[3] = services;
	params[4] = req->team && *req->team ? req->team : NULL;
	params[5] = req->by && *req->by ? req->by : NULL;
	rv = store_query(s, q->sql, params, 6, out, err, errsz);
	free(services);
	if (rv == OP_OK) {
		(*out)->since_us = since_us;
		(*out)->until_us = until_us;
	}
	return rv;
}
