#include <stdio.h>
#include <string.h>

#include "access.h"
#include "dispatch.h"
#include "eol.h"
#include "metrics.h"
#include "op_codec.h"
#include "op_error.h"
#include "op_log.h"
#include "op_time.h"
#include "request.h"
#include "request_int.h"
#include "store.h"

#define MOD "request"

void
request_reply_init(struct request_reply *rp)
{
	opspulse__v1__reply__init(&rp->r);
	opspulse__v1__error__init(&rp->e);
	opspulse__v1__ack__init(&rp->ack);
	rp->r.protocol_version = OP_PROTOCOL_VERSION;
	rp->result = NULL;
	rp->err[0] = '\0';
}

void
request_reply_error(struct request_reply *rp, Opspulse__V1__ErrorCode code,
                    char *msg, int index)
{
	rp->e.code = code;
	rp->e.message = msg;
	rp->e.event_index = index;
	rp->r.error = &rp->e;
	rp->r.body_case = OPSPULSE__V1__REPLY__BODY__NOT_SET;
}

enum metrics_reject
request_limit_reason(enum op_limit limit)
{
	switch (limit) {
	case OP_LIMIT_BATCH_SIZE:
		return METRICS_REJECT_BATCH_SIZE;
	case OP_LIMIT_STRING:
		return METRICS_REJECT_STRING;
	case OP_LIMIT_TIME:
		return METRICS_REJECT_TIME;
	default:
		return METRICS_REJECT_INVALID;
	}
}

Opspulse__V1__ErrorCode
request_error_code(int rv)
{
	switch (rv) {
	case OP_ENOTFOUND:
		return OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNSUPPORTED;
	case OP_EINVAL:
		return OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID;
	case OP_EUNAVAIL:
		return OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE;
	default:
		return OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INTERNAL;
	}
}

int
request_batch_check(const struct request_ctx *ctx, const struct access_who *who,
                    const op_batch *b, struct request_reply *rp)
{
	enum op_limit limit;
	int bad;

	if (op_batch_check(b, op_time_now_us(), &bad, &limit, rp->err,
	                   sizeof(rp->err)) != OP_OK) {
		metrics_reject(request_limit_reason(limit));
		request_reply_error(
		    rp, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID, rp->err,
		    bad);
	} else if (access_hosts(ctx->access, who, b, &bad, rp->err,
	                        sizeof(rp->err)) != OP_OK) {
		metrics_reject(METRICS_REJECT_HOST);
		request_reply_error(
		    rp, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN, rp->err,
		    bad);
	} else {
		return OP_OK;
	}
	op_warn(MOD, "rejected a batch from agent %s (%s): %s", b->agent_id,
	        access_name(who), rp->err);
	return OP_EINVAL;
}

/* Counts a batch that reached the store, with what the store said. */
static void
request_count_batch(int rv, const op_batch *b, uint32_t stored, uint32_t dups,
                    int64_t t0_us)
{
	metrics_batch(rv == OP_OK         ? METRICS_BATCH_STORED
	              : rv == OP_EUNAVAIL ? METRICS_BATCH_UNAVAILABLE
	                                  : METRICS_BATCH_FAILED,
	              b->n_events, stored, dups,
	              (double)(op_time_mono_us() - t0_us) / 1e6);
}

/* A batch: checked, stored in one transaction, then acknowledged; or an
 * error reply (UNAVAILABLE when the agent should retry later). */
static void
request_batch(const struct request_ctx *ctx, unsigned worker,
              const struct access_who *who, const op_batch *b,
              struct request_reply *rp)
{
	uint32_t stored = 0, dups = 0;
	int64_t t0 = op_time_mono_us();
	int rv;

	if (request_batch_check(ctx, who, b, rp) != OP_OK)
		return;
	rv = store_ingest(ctx->stores[worker], b, &stored, &dups, rp->err,
	                  sizeof(rp->err));
	request_count_batch(rv, b, stored, dups, t0);
	if (rv != OP_OK) {
		if (rv != OP_EUNAVAIL)
			op_error(MOD, "cannot store a batch from agent %s: %s",
			         b->agent_id, rp->err);
		request_reply_error(
		    rp,
		    rv == OP_EUNAVAIL
		        ? OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE
		        : OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INTERNAL,
		    rp->err, -1);
		return;
	}
	op_debug(MOD, "agent %s: %zu events, %u new, %u duplicates, %lld ms",
	         b->agent_id, b->n_events, stored, dups,
	         (long long)(op_time_mono_us() - t0) / 1000);
	rp->ack.spool_id = b->spool_id;
	rp->ack.committed_seq = b->last_seq;
	rp->ack.stored = stored;
	rp->ack.duplicates = dups;
	rp->r.body_case = OPSPULSE__V1__REPLY__BODY_ACK;
	rp->r.ack = &rp->ack;
}

/* Marks r as answered by a standby, with its replay lag, when s's server
 * is one.  Left unmarked when that cannot be told.  This can't fail. */
static void
request_freshness(struct store *s, Opspulse__V1__QueryResult *r)
{
	char err[256];
	double lag;
	int standby;

	if (store_freshness(s, &standby, &lag, err, sizeof(err)) == OP_OK &&
	    standby) {
		r->from_standby = 1;
		r->replay_lag_seconds = lag;
	}
}

/* A query or the report (dispatch.h), answered with its result, from
 * query_database when it is set. */
static void
request_query(const struct request_ctx *ctx, unsigned worker,
              const Opspulse__V1__QueryRequest *q, struct request_reply *rp)
{
	struct store *s =
	    ctx->queries ? ctx->queries[worker] : ctx->stores[worker];
	int64_t t0 = op_time_mono_us();
	int rv = dispatch_query(s, q, &rp->result, rp->err, sizeof(rp->err));

	metrics_query(rv == OP_OK, (double)(op_time_mono_us() - t0) / 1e6);
	if (rv == OP_OK && ctx->queries)
		request_freshness(s, rp->result);
	if (rv == OP_OK) {
		rp->r.body_case = OPSPULSE__V1__REPLY__BODY_RESULT;
		rp->r.result = rp->result;
	} else {
		request_reply_error(rp, request_error_code(rv), rp->err, -1);
	}
}

/* `opspulse eol import`: answered with the product's catalog. */
static void
request_eol_import(const struct request_ctx *ctx, unsigned worker,
                   const Opspulse__V1__EolImport *imp, struct request_reply *rp)
{
	int rv = eol_import(ctx->stores[worker], imp, &rp->result, rp->err,
	                    sizeof(rp->err));

	if (rv == OP_OK) {
		op_info(MOD, "EOL catalog: imported %zu cycles of %s",
		        imp->n_cycles, imp->product);
		rp->r.body_case = OPSPULSE__V1__REPLY__BODY_RESULT;
		rp->r.result = rp->result;
	} else {
		request_reply_error(rp, request_error_code(rv), rp->err, -1);
	}
}

/* A request refused before its body is looked at (access.h): rv is
 * access_open's or access_role's error. */
static void
request_refuse(int rv, const struct op_peer *peer, const struct access_who *who,
               struct request_reply *rp)
{
	op_warn(MOD, "refused a request from %s%s: %s", access_name(who),
	        peer->tls ? " over TLS" : "", rp->err);
	metrics_reject(rv == OP_EPROTO ? METRICS_REJECT_MALFORMED
	                               : METRICS_REJECT_ROLE);
	request_reply_error(
	    rp,
	    rv == OP_EPROTO ? OPSPULSE__V1__ERROR_CODE__ERROR_CODE_MALFORMED
	                    : OPSPULSE__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN,
	    rp->err, -1);
}

/* The size, envelope and version checks of request_open.  Returns OP_OK
 * with *env set; or, with rp an error reply and the rejection counted,
 * OP_EINVAL (too large, too old) or OP_EPROTO (no envelope). */
static int
request_unpack(const uint8_t *req, size_t len, op_envelope **env,
               struct request_reply *rp)
{
	if (len > OP_MAX_MESSAGE_BYTES) {
		snprintf(rp->err, sizeof(rp->err),
		         "message of %zu bytes exceeds the limit of %u bytes; "
		         "send smaller batches",
		         len, OP_MAX_MESSAGE_BYTES);
		metrics_reject(METRICS_REJECT_TOO_LARGE);
		request_reply_error(
		    rp, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID, rp->err,
		    -1);
		return OP_EINVAL;
	}
	if ((*env = opspulse__v1__envelope__unpack(NULL, len, req)) == NULL) {
		snprintf(rp->err, sizeof(rp->err),
		         "message of %zu bytes is not an OpsPulse envelope",
		         len);
		metrics_reject(METRICS_REJECT_MALFORMED);
		request_reply_error(
		    rp, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_MALFORMED, rp->err,
		    -1);
		return OP_EPROTO;
	}
	if ((*env)->protocol_version < OP_PROTOCOL_VERSION_MIN) {
		snprintf(rp->err, sizeof(rp->err),
		         "protocol version %u is too old; this aggregator "
		         "needs %d or newer: upgrade the sender",
		         (*env)->protocol_version, OP_PROTOCOL_VERSION_MIN);
		metrics_reject(METRICS_REJECT_VERSION);
		request_reply_error(
		    rp, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNSUPPORTED,
		    rp->err, -1);
		return OP_EINVAL;
	}
	return OP_OK;
}

int
request_open(const struct request_ctx *ctx, unsigned worker,
             const struct op_peer *peer, const uint8_t *req, size_t len,
             op_envelope **env, struct access_who *who,
             struct request_reply *rp)
{
	int rv;

	*env = NULL;
	memset(who, 0, sizeof(*who));
	if ((rv = request_unpack(req, len, env, rp)) != OP_OK)
		return rv;
	if ((rv = access_open(ctx->access, worker, peer, env, who, rp->err,
	                      sizeof(rp->err))) != OP_OK ||
	    (rv = access_role(who, *env, rp->err, sizeof(rp->err))) != OP_OK) {
		request_refuse(rv, peer, who, rp);
		return rv;
	}
	return OP_OK;
}

/* The answer to an opened request, by what its envelope carries. */
static void
request_answer(const struct request_ctx *ctx, unsigned worker,
               const struct access_who *who, const op_envelope *env,
               struct request_reply *rp)
{
	static char unknown[] = "empty or unknown request";

	switch (env->body_case) {
	case OPSPULSE__V1__ENVELOPE__BODY_BATCH:
		request_batch(ctx, worker, who, env->batch, rp);
		break;
	case OPSPULSE__V1__ENVELOPE__BODY_QUERY:
		request_query(ctx, worker, env->query, rp);
		break;
	case OPSPULSE__V1__ENVELOPE__BODY_EOL_IMPORT:
		request_eol_import(ctx, worker, env->eol_import, rp);
		break;
	default:
		metrics_reject(METRICS_REJECT_UNKNOWN);
		request_reply_error(
		    rp, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNSUPPORTED,
		    unknown, -1);
	}
}

int
request_handle(void *arg, unsigned worker, const struct op_peer *peer,
               const uint8_t *req, size_t len, uint8_t **out, size_t *outlen)
{
	const struct request_ctx *ctx = arg;
	struct request_reply rp;
	struct access_who who;
	op_envelope *env = NULL;
	int rv;

	request_reply_init(&rp);
	if (request_open(ctx, worker, peer, req, len, &env, &who, &rp) == OP_OK)
		request_answer(ctx, worker, &who, env, &rp);
	if (rp.r.error)
		op_debug(MOD, "answering with an error: %s",
		         rp.r.error->message);
	rv = op_pack(&rp.r.base, out, outlen);
	store_result_free(rp.result);
	if (env)
		opspulse__v1__envelope__free_unpacked(env, NULL);
	return rv;
}
