/*
 * Indicator queries: each is one SQL function in aggregator/sql/functions/
 * (one file per family) plus one row in query.c naming it.  The review
 * report is not one of them: it is built from them (report.c), and
 * dispatch.c routes its name.
 */
#ifndef QUERY_H
#define QUERY_H

#include "op_codec.h"
#include "op_error.h"
#include "op_time.h"
#include "store.h"

/* The window of a request that names none: the 28 days before until. */
#define QUERY_DEFAULT_WINDOW_US (28 * OP_US_PER_DAY)

/*
 * Runs the indicator query req names (with its grouping, req->by) against
 * s.  Returns OP_OK with *out set (free with store_result_free);
 * OP_ENOTFOUND for an unknown name and OP_EINVAL for an unknown grouping,
 * both before s is used; OP_EINVAL for other bad arguments (an empty
 * window, a team that does not exist); OP_ENOMEM; OP_EUNAVAIL or OP_EDB
 * from the store.  err says why.
 */
OP_MUSTCHECK int query_run(struct store *s,
                           const Opspulse__V1__QueryRequest *req,
                           Opspulse__V1__QueryResult **out, char *err,
                           size_t errsz);

/*
 * A PostgreSQL array literal of n strings ({"a","b\"c"}; a NULL item is
 * NULL), to pass as a parameter value, never to splice into SQL.  Returns a
 * string the caller frees, or NULL when out of memory.
 */
char *query_array_literal(char *const *items, size_t n);

#endif
