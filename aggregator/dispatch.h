/*
 * Which query name goes to which handler: "report" to the review report
 * (report.c), every other name to the indicator queries (query.c).  The
 * one place that knows both, so that report depends on query and never
 * the reverse.  Used for the CLI's queries (request.c) and /report
 * (http.c).
 */
#ifndef DISPATCH_H
#define DISPATCH_H

#include <stddef.h>

#include "op_codec.h"
#include "op_error.h"
#include "store.h"

/*
 * A query handler.  Returns OP_OK with *out set (the caller frees it with
 * store_result_free), or an error code with err saying why.
 */
typedef int (*dispatch_fn)(struct store *s,
                           const Opspulse__V1__QueryRequest *req,
                           Opspulse__V1__QueryResult **out, char *err,
                           size_t errsz);

/* The handler of name: dispatch_report for "report", query_run for any
 * other name (which answers OP_ENOTFOUND for a name it does not know).
 * Never NULL.  This can't fail. */
dispatch_fn dispatch_find(const char *name);

/*
 * Runs req with the handler of req->name against s.  Returns what that
 * handler returns: OP_OK with *out set (free with store_result_free);
 * OP_ENOTFOUND for an unknown name; OP_EINVAL for bad arguments;
 * OP_EUNAVAIL, OP_EDB or OP_ENOMEM otherwise.  err says why.
 */
OP_MUSTCHECK int dispatch_query(struct store *s,
                                const Opspulse__V1__QueryRequest *req,
                                Opspulse__V1__QueryResult **out, char *err,
                                size_t errsz);

/*
 * The review report as a query result: one row, one text column
 * "document", with the resolved window in (*out)->since_us and until_us.
 * req->format names the format (html when empty); an unknown one is
 * OP_EINVAL before s is used.  Otherwise returns what report_render
 * returns.  *out is freed by the caller with store_result_free.
 */
OP_MUSTCHECK int dispatch_report(struct store *s,
                                 const Opspulse__V1__QueryRequest *req,
                                 Opspulse__V1__QueryResult **out, char *err,
                                 size_t errsz);

#endif
