/*
 * Indicator queries: each is one SQL function in the migrations plus one
 * row in query.c naming it.
 */
#ifndef QUERY_H
#define QUERY_H

#include "op_codec.h"
#include "store.h"

/*
 * Runs the query req names against s.  Returns OP_OK with *out set (free
 * with store_result_free); OP_ENOTFOUND for an unknown name; OP_EINVAL for
 * bad arguments; OP_EUNAVAIL or OP_EDB from the store.  err says why.
 */
int query_run(struct store *s, const Opspulse__V1__QueryRequest *req,
              Opspulse__V1__QueryResult **out, char *err, size_t errsz);

#endif
