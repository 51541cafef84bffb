/*
 * request.c's steps, for its unit tests (tests/unit/agg_request_test.c)
 * only: the other modules use request.h.
 */
#ifndef REQUEST_INT_H
#define REQUEST_INT_H

#include <stddef.h>

#include "access.h"
#include "metrics.h"
#include "op_codec.h"
#include "op_error.h"
#include "request.h"

/* The reply being built for one request, on the handler's stack.  r
 * points at e or ack, never at heap memory, except result. */
struct request_reply {
	op_reply r;
	Opspulse__V1__Error e;
	Opspulse__V1__Ack ack;
	Opspulse__V1__QueryResult *result; /* owned; store_result_free */
	char err[1024];                    /* the message of e */
};

/* Clears rp into an empty reply of this protocol version.  This can't
 * fail. */
void request_reply_init(struct request_reply *rp);

/* Makes rp an error reply: code, msg (rp->err or a static string; not
 * copied) and the offending event's index (-1: none).  This can't fail. */
void request_reply_error(struct request_reply *rp, Opspulse__V1__ErrorCode code,
                         char *msg, int index);

/* The reason counted for a batch that broke limit.  This can't fail. */
enum metrics_reject request_limit_reason(enum op_limit limit);

/* The reply's error code for a query or import that failed with rv: an
 * unknown name is UNSUPPORTED, bad arguments INVALID, an unreachable
 * database UNAVAILABLE, anything else INTERNAL.  This can't fail. */
Opspulse__V1__ErrorCode request_error_code(int rv);

/*
 * Checks b's limits (op_batch_check, against the clock now) and that who
 * may write each of its hosts (access_hosts with ctx->access).  Returns
 * OP_OK; or OP_EINVAL after counting the rejection, logging it and making
 * rp an error reply: INVALID for a limit, FORBIDDEN for a host, with the
 * offending event's index.
 */
OP_MUSTCHECK int request_batch_check(const struct request_ctx *ctx,
                                     const struct access_who *who,
                                     const op_batch *b,
                                     struct request_reply *rp);

/*
 * Opens the len bytes at req: size limit, envelope, protocol version,
 * signature (access_open) and role (access_role).  Returns OP_OK with
 * *env (free with opspulse__v1__envelope__free_unpacked) and *who set; or
 * an error code with rp an error reply, the rejection counted and *env
 * NULL or to be freed all the same.
 */
OP_MUSTCHECK int request_open(const struct request_ctx *ctx, unsigned worker,
                              const struct op_peer *peer, const uint8_t *req,
                              size_t len, op_envelope **env,
                              struct access_who *who, struct request_reply *rp);

#endif
