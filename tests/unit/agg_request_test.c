/*
 * Unit tests for aggregator/request.c and aggregator/dispatch.c: what a
 * batch must meet before it is stored (SPEC §3 limits, §7 host binding),
 * which error code each refusal gets and how it is counted, and which
 * handler each query name reaches.  No database: every path tested here
 * answers before a store is used, or finds the database unreachable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "aggregator.h"
#include "dispatch.h"
#include "metrics.h"
#include "op_codec.h"
#include "op_error.h"
#include "op_time.h"
#include "query.h"
#include "request.h"
#include "request_int.h"
#include "store.h"

#define HOUR_US (INT64_C(3600) * OP_US_PER_SEC)
#define NEVENTS 3

/* Nothing listens here: a store that tries to connect finds no database
 * at once. */
#define NO_DATABASE                                                            \
	"host=/nonexistent/opspulse-unit-test port=1 dbname=none "             \
	"connect_timeout=1"

struct fixture {
	struct agg_conf conf;
	struct agg_identity ident;
	char *patterns[1];
	struct store *stores[1];
	struct request_ctx ctx;
	op_batch batch;
	op_event ev[NEVENTS];
	op_event *evp[NEVENTS];
	Opspulse__V1__Toil toil[NEVENTS];
	struct access_who who;
	struct request_reply rp;
	char big[OP_MAX_TEXT + 2];
};

/* A valid batch of NEVENTS toil events from host web-1, timed now. */
static void
valid_batch(struct fixture *f)
{
	int64_t now = op_time_now_us();
	static char agent[] = "web-1", version[] = "0.9.0", svc[] = "billing",
	            env[] = "production", host[] = "web-1", task[] = "rotate";

	opspulse__v1__batch__init(&f->batch);
	f->batch.agent_id = agent;
	f->batch.agent_version = version;
	f->batch.first_seq = 1;
	f->batch.last_seq = NEVENTS;
	for (int i = 0; i < NEVENTS; i++) {
		opspulse__v1__event__init(&f->ev[i]);
		opspulse__v1__toil__init(&f->toil[i]);
		f->toil[i].task = task;
		f->toil[i].started_us = now - 2 * HOUR_US;
		f->toil[i].duration_s = 600;
		f->toil[i].source =
		    OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_MANUAL;
		f->ev[i].service = svc;
		f->ev[i].env = env;
		f->ev[i].host = host;
		f->ev[i].recorded_us = now;
		f->ev[i].kind_case = OPSPULSE__V1__EVENT__KIND_TOIL;
		f->ev[i].toil = &f->toil[i];
		f->evp[i] = &f->ev[i];
	}
	f->batch.n_events = NEVENTS;
	f->batch.events = f->evp;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	static char collector[] = "collector", pattern[] = "web-*";

	if (f == NULL)
		return -1;
	/* No tls+ listener: no verifiers, requests need no signature. */
	f->patterns[0] = pattern;
	f->ident.name = collector;
	f->ident.hosts.items = f->patterns;
	f->ident.hosts.n = 1;
	f->conf.identities = &f->ident;
	f->conf.nidentities = 1;
	if (access_alloc(&f->ctx.access, &f->conf, 1) != OP_OK ||
	    store_alloc(&f->stores[0], NO_DATABASE) != OP_OK)
		return -1;
	f->ctx.stores = f->stores;
	valid_batch(f);
	request_reply_init(&f->rp);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_result_free(f->rp.result);
	store_free(f->stores[0]);
	access_free(f->ctx.access);
	free(f);
	return 0;
}

/* f->big as a string of n bytes (n <= OP_MAX_TEXT + 1). */
static char *
big(struct fixture *f, size_t n)
{
	memset(f->big, 'x', n);
	f->big[n] = '\0';
	return f->big;
}

/* The value of opspulse_requests_rejected_total{reason="reason"}. */
static unsigned long long
rejected(const char *reason)
{
	char *text = NULL, *line;
	size_t len = 0;
	char want[128];
	unsigned long long n = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	metrics_render(f);
	assert_int_equal(fclose(f), 0);
	snprintf(want, sizeof(want),
	         "opspulse_requests_rejected_total{reason=\"%s\"} ", reason);
	line = strstr(text, want);
	assert_non_null(line);
	n = strtoull(line + strlen(want), NULL, 10);
	free(text);
	return n;
}

/* Asserts that rp is an error reply with code and event index. */
static void
assert_error(const struct request_reply *rp, Opspulse__V1__ErrorCode code,
             int index)
{
	assert_non_null(rp->r.error);
	assert_int_equal(rp->r.error->code, code);
	assert_int_equal(rp->r.error->event_index, index);
	assert_int_equal(rp->r.body_case, OPSPULSE__V1__REPLY__BODY__NOT_SET);
	assert_true(rp->r.error->message && *rp->r.error->message);
}

/* Checks f's batch, expecting a refusal counted under reason. */
static void
assert_refused(struct fixture *f, const char *reason,
               Opspulse__V1__ErrorCode code, int index)
{
	unsigned long long before = rejected(reason);

	assert_int_equal(
	    request_batch_check(&f->ctx, &f->who, &f->batch, &f->rp),
	    OP_EINVAL);
	assert_error(&f->rp, code, index);
	assert_int_equal(rejected(reason), before + 1);
}

/* ---- mappings -------------------------------------------------------- */

static void
test_limit_reasons(void **state)
{
	(void)state;
	assert_int_equal(request_limit_reason(OP_LIMIT_BATCH_SIZE),
	                 METRICS_REJECT_BATCH_SIZE);
	assert_int_equal(request_limit_reason(OP_LIMIT_STRING),
	                 METRICS_REJECT_STRING);
	assert_int_equal(request_limit_reason(OP_LIMIT_TIME),
	                 METRICS_REJECT_TIME);
	assert_int_equal(request_limit_reason(OP_LIMIT_FIELD),
	                 METRICS_REJECT_INVALID);
	assert_int_equal(request_limit_reason(OP_LIMIT_NONE),
	                 METRICS_REJECT_INVALID);
}

static void
test_error_codes(void **state)
{
	(void)state;
	assert_int_equal(request_error_code(OP_ENOTFOUND),
	                 OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNSUPPORTED);
	assert_int_equal(request_error_code(OP_EINVAL),
	                 OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID);
	assert_int_equal(request_error_code(OP_EUNAVAIL),
	                 OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE);
	assert_int_equal(request_error_code(OP_EDB),
	                 OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INTERNAL);
	assert_int_equal(request_error_code(OP_ENOMEM),
	                 OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INTERNAL);
}

/* ---- batch limits (SPEC §3) ------------------------------------------ */

static void
test_batch_valid(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    request_batch_check(&f->ctx, &f->who, &f->batch, &f->rp), OP_OK);
	assert_null(f->rp.r.error);
}

/* OP_MAX_BATCH_EVENTS events pass; one more is refused as a whole. */
static void
test_batch_size(void **state)
{
	struct fixture *f = *state;
	op_event **many = calloc(OP_MAX_BATCH_EVENTS + 1, sizeof(*many));

	assert_non_null(many);
	for (size_t i = 0; i <= OP_MAX_BATCH_EVENTS; i++)
		many[i] = &f->ev[0];
	f->batch.events = many;
	f->batch.n_events = OP_MAX_BATCH_EVENTS;
	f->batch.last_seq = OP_MAX_BATCH_EVENTS;
	assert_int_equal(
	    request_batch_check(&f->ctx, &f->who, &f->batch, &f->rp), OP_OK);
	f->batch.n_events = OP_MAX_BATCH_EVENTS + 1;
	f->batch.last_seq = OP_MAX_BATCH_EVENTS + 1;
	assert_refused(f, "batch_size",
	               OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID, -1);
	free(many);
}

/* A string at its limit passes; one byte more names the event. */
static void
test_string_lengths(void **state)
{
	struct fixture *f = *state;

	f->ev[1].service = big(f, OP_MAX_NAME);
	assert_int_equal(
	    request_batch_check(&f->ctx, &f->who, &f->batch, &f->rp), OP_OK);
	f->ev[1].service = big(f, OP_MAX_NAME + 1);
	assert_refused(f, "string_length",
	               OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID, 1);
	assert_non_null(strstr(f->rp.err, "service"));

	valid_batch(f);
	request_reply_init(&f->rp);
	f->ev[0].host = big(f, OP_MAX_HOST + 1);
	assert_refused(f, "string_length",
	               OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID, 0);
	assert_non_null(strstr(f->rp.err, "host"));

	valid_batch(f);
	request_reply_init(&f->rp);
	f->toil[2].task = big(f, OP_MAX_TEXT);
	assert_int_equal(
	    request_batch_check(&f->ctx, &f->who, &f->batch, &f->rp), OP_OK);
	f->toil[2].task = big(f, OP_MAX_TEXT + 1);
	assert_refused(f, "string_length",
	               OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID, 2);
}

/* agent_id is the batch's own: its failure names no event. */
static void
test_agent_id(void **state)
{
	struct fixture *f = *state;
	static char empty[] = "";

	f->batch.agent_id = empty;
	assert_int_equal(
	    request_batch_check(&f->ctx, &f->who, &f->batch, &f->rp),
	    OP_EINVAL);
	assert_error(&f->rp, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID, -1);
	request_reply_init(&f->rp);
	f->batch.agent_id = big(f, OP_MAX_HOST + 1);
	assert_refused(f, "string_length",
	               OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID, -1);
}

/* Times run from 2000-01-01 to one day after the receiver's clock. */
static void
test_timestamps(void **state)
{
	struct fixture *f = *state;

	f->toil[0].started_us = op_time_now_us() + 2 * 24 * HOUR_US;
	assert_refused(f, "timestamp_range",
	               OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID, 0);
	valid_batch(f);
	request_reply_init(&f->rp);
	f->toil[1].started_us = INT64_C(946684800) * OP_US_PER_SEC - 1;
	assert_refused(f, "timestamp_range",
	               OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID, 1);
	valid_batch(f);
	request_reply_init(&f->rp);
	f->toil[1].started_us = op_time_now_us() + HOUR_US;
	assert_int_equal(
	    request_batch_check(&f->ctx, &f->who, &f->batch, &f->rp), OP_OK);
}

static void
test_other_rules(void **state)
{
	struct fixture *f = *state;

	f->batch.last_seq = 0; /* below first_seq */
	assert_refused(f, "invalid_field",
	               OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID, -1);
	valid_batch(f);
	request_reply_init(&f->rp);
	f->ev[2].kind_case = OPSPULSE__V1__EVENT__KIND__NOT_SET;
	assert_refused(f, "invalid_field",
	               OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID, 2);
}

/* ---- host binding (SPEC §7) ------------------------------------------ */

static void
set_who(struct fixture *f, const char *name)
{
	f->who.verified = 1;
	f->who.id.role = OP_ROLE_AGENT;
	snprintf(f->who.id.name, sizeof(f->who.id.name), "%s", name);
}

/* An agent writes its own host only; unsigned senders are not bound. */
static void
test_own_host(void **state)
{
	struct fixture *f = *state;
	static char other[] = "db-1";

	set_who(f, "web-1");
	assert_int_equal(
	    request_batch_check(&f->ctx, &f->who, &f->batch, &f->rp), OP_OK);
	f->ev[1].host = other;
	assert_refused(f, "host_not_allowed",
	               OPSPULSE__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN, 1);
	assert_non_null(strstr(f->rp.err, "db-1"));
	f->who.verified = 0;
	request_reply_init(&f->rp);
	assert_int_equal(
	    request_batch_check(&f->ctx, &f->who, &f->batch, &f->rp), OP_OK);
}

/* aggregator.identities patterns widen an identity's hosts. */
static void
test_identity_patterns(void **state)
{
	struct fixture *f = *state;
	static char web9[] = "web-9", db[] = "db-1";

	set_who(f, "collector");
	f->ev[0].host = web9;
	assert_int_equal(
	    request_batch_check(&f->ctx, &f->who, &f->batch, &f->rp), OP_OK);
	f->ev[2].host = db;
	assert_refused(f, "host_not_allowed",
	               OPSPULSE__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN, 2);
}

/* ---- whole requests --------------------------------------------------- */

/* Runs request_handle on the len bytes at msg and unpacks the reply. */
static Opspulse__V1__Reply *
handle_bytes(struct fixture *f, int tls, const uint8_t *msg, size_t len)
{
	struct op_peer peer = {NULL, tls};
	Opspulse__V1__Reply *reply;
	uint8_t *out = NULL;
	size_t outlen = 0;

	assert_int_equal(
	    request_handle(&f->ctx, 0, &peer, msg, len, &out, &outlen), OP_OK);
	reply = opspulse__v1__reply__unpack(NULL, outlen, out);
	free(out);
	assert_non_null(reply);
	assert_int_equal(reply->protocol_version, OP_PROTOCOL_VERSION);
	return reply;
}

/* Packs env, handles it, and checks the reply's error code. */
static void
assert_reply(struct fixture *f, int tls, const op_envelope *env,
             Opspulse__V1__ErrorCode code, const char *says)
{
	Opspulse__V1__Reply *reply;
	uint8_t *msg = NULL;
	size_t len = 0;

	assert_int_equal(op_pack(&env->base, &msg, &len), OP_OK);
	reply = handle_bytes(f, tls, msg, len);
	assert_non_null(reply->error);
	assert_int_equal(reply->error->code, code);
	if (says)
		assert_non_null(strstr(reply->error->message, says));
	opspulse__v1__reply__free_unpacked(reply, NULL);
	free(msg);
}

static void
test_message_too_large(void **state)
{
	struct fixture *f = *state;
	size_t len = OP_MAX_MESSAGE_BYTES + 1;
	uint8_t *msg = calloc(1, len);
	unsigned long long before = rejected("message_too_large");
	Opspulse__V1__Reply *reply;

	assert_non_null(msg);
	reply = handle_bytes(f, 0, msg, len);
	assert_int_equal(reply->error->code,
	                 OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID);
	assert_int_equal(reply->error->event_index, -1);
	assert_int_equal(rejected("message_too_large"), before + 1);
	opspulse__v1__reply__free_unpacked(reply, NULL);
	free(msg);
}

static void
test_not_an_envelope(void **state)
{
	struct fixture *f = *state;
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	unsigned long long before = rejected("malformed");
	Opspulse__V1__Reply *reply = handle_bytes(f, 0, junk, sizeof(junk));

	assert_int_equal(reply->error->code,
	                 OPSPULSE__V1__ERROR_CODE__ERROR_CODE_MALFORMED);
	assert_int_equal(rejected("malformed"), before + 1);
	opspulse__v1__reply__free_unpacked(reply, NULL);
}

static void
test_old_version_and_empty(void **state)
{
	struct fixture *f = *state;
	op_envelope env;
	unsigned long long before = rejected("protocol_version");

	opspulse__v1__envelope__init(&env);
	env.protocol_version = OP_PROTOCOL_VERSION_MIN - 1;
	assert_reply(f, 0, &env,
	             OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNSUPPORTED,
	             "too old");
	assert_int_equal(rejected("protocol_version"), before + 1);
	before = rejected("unknown_request");
	env.protocol_version = OP_PROTOCOL_VERSION;
	assert_reply(f, 0, &env,
	             OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNSUPPORTED,
	             "empty or unknown request");
	assert_int_equal(rejected("unknown_request"), before + 1);
}

/* Over TLS every request must be signed; a Signed envelope must carry an
 * envelope. */
static void
test_signatures(void **state)
{
	struct fixture *f = *state;
	static uint8_t junk[] = {0xff, 0xff, 0xff};
	Opspulse__V1__Signed sig;
	op_envelope env;

	opspulse__v1__envelope__init(&env);
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_BATCH;
	env.batch = &f->batch;
	assert_reply(f, 1, &env, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN,
	             "must be signed");
	opspulse__v1__signed__init(&sig);
	sig.envelope.data = junk;
	sig.envelope.len = sizeof(junk);
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_SIGNED;
	env.signed_ = &sig;
	assert_reply(f, 0, &env, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_MALFORMED,
	             "not an OpsPulse envelope");
}

/* A batch over a limit is refused whole, naming the event. */
static void
test_batch_request(void **state)
{
	struct fixture *f = *state;
	Opspulse__V1__Reply *reply;
	op_envelope env;
	uint8_t *msg = NULL;
	size_t len = 0;

	opspulse__v1__envelope__init(&env);
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_BATCH;
	env.batch = &f->batch;
	f->toil[1].started_us = 0;
	assert_int_equal(op_pack(&env.base, &msg, &len), OP_OK);
	reply = handle_bytes(f, 0, msg, len);
	assert_int_equal(reply->error->code,
	                 OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID);
	assert_int_equal(reply->error->event_index, 1);
	assert_int_equal(reply->body_case, OPSPULSE__V1__REPLY__BODY__NOT_SET);
	opspulse__v1__reply__free_unpacked(reply, NULL);
	free(msg);
}

/* A valid batch meets an unreachable database: retry later, no ack. */
static void
test_batch_unavailable(void **state)
{
	struct fixture *f = *state;
	op_envelope env;

	opspulse__v1__envelope__init(&env);
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_BATCH;
	env.batch = &f->batch;
	assert_reply(f, 0, &env,
	             OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE, NULL);
}

/* Query names: unknown ones, bad groupings and report formats are
 * answered before the database is asked. */
static void
test_query_requests(void **state)
{
	struct fixture *f = *state;
	static char nope[] = "nope", dora[] = "dora", report[] = "report",
	            pdf[] = "pdf";
	Opspulse__V1__QueryRequest q;
	op_envelope env;

	opspulse__v1__query_request__init(&q);
	opspulse__v1__envelope__init(&env);
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_QUERY;
	env.query = &q;
	q.name = nope;
	assert_reply(f, 0, &env,
	             OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNSUPPORTED,
	             "unknown query 'nope'");
	q.name = dora;
	q.by = nope;
	assert_reply(f, 0, &env, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID,
	             "dora takes no --by");
	q.name = report;
	q.format = pdf;
	assert_reply(f, 0, &env, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID,
	             "unknown report format 'pdf'");
}

/* With query_database set, a query goes to the worker's query store and
 * a batch to its ingest store: only the store used has tried to connect,
 * and keeps why it could not, on one line. */
static void
test_query_routing(void **state)
{
	struct fixture *f = *state;
	static char dora[] = "dora";
	struct store *queries[1] = {NULL};
	Opspulse__V1__QueryRequest q;
	op_envelope env;

	assert_int_equal(store_alloc_query(&queries[0], NO_DATABASE), OP_OK);
	f->ctx.queries = queries;
	opspulse__v1__query_request__init(&q);
	opspulse__v1__envelope__init(&env);
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_QUERY;
	env.query = &q;
	q.name = dora;
	assert_reply(f, 0, &env,
	             OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE,
	             "database unavailable");
	assert_non_null(strstr(store_why(queries[0]), "opspulse-unit-test"));
	assert_null(strchr(store_why(queries[0]), '\n'));
	assert_non_null(strstr(store_why(queries[0]), "; Is the server"));
	assert_string_equal(store_why(f->stores[0]), "");
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_BATCH;
	env.query = NULL;
	env.batch = &f->batch;
	assert_reply(f, 0, &env,
	             OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE, NULL);
	assert_non_null(strstr(store_why(f->stores[0]), "opspulse-unit-test"));
	f->ctx.queries = NULL;
	store_free(queries[0]);
}

/* The value of the unlabelled series name on /metrics, or -1 when it is
 * not rendered. */
static double
series(const char *name)
{
	char *text = NULL, want[128], *line;
	size_t len = 0;
	double v = -1;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	metrics_render(f);
	assert_int_equal(fclose(f), 0);
	snprintf(want, sizeof(want), "\n%s ", name);
	if ((line = strstr(text, want)) != NULL)
		v = strtod(line + strlen(want), NULL);
	free(text);
	return v;
}

/* Reconnections count up; the query database's role and lag appear once
 * known, the lag only when the standby can tell it. */
static void
test_metrics_replication(void **state)
{
	double before = series("opspulse_database_reconnections_total");

	(void)state;
	assert_true(before >= 0);
	metrics_reconnect();
	assert_true(series("opspulse_database_reconnections_total") ==
	            before + 1);
	assert_true(series("opspulse_query_database_standby") == -1);
	metrics_query_database(1, 2.5);
	assert_true(series("opspulse_query_database_standby") == 1);
	assert_true(series("opspulse_query_database_replay_lag_seconds") ==
	            2.5);
	metrics_query_database(0, -1);
	assert_true(series("opspulse_query_database_standby") == 0);
	assert_true(series("opspulse_query_database_replay_lag_seconds") == -1);
}

/* ---- dispatch ---------------------------------------------------------- */

static void
test_dispatch_table(void **state)
{
	(void)state;
	assert_ptr_equal(dispatch_find("report"), dispatch_report);
	assert_ptr_equal(dispatch_find("dora"), query_run);
	assert_ptr_equal(dispatch_find("weekly"), query_run);
	assert_ptr_equal(dispatch_find("nope"), query_run);
	assert_ptr_equal(dispatch_find("Report"), query_run);
	assert_ptr_equal(dispatch_find(NULL), query_run);
}

static void
test_dispatch_query(void **state)
{
	static char nope[] = "nope", report[] = "report", pdf[] = "pdf";
	Opspulse__V1__QueryRequest q;
	Opspulse__V1__QueryResult *out = NULL;
	char err[256] = "";

	(void)state;
	opspulse__v1__query_request__init(&q);
	q.name = nope;
	assert_int_equal(dispatch_query(NULL, &q, &out, err, sizeof(err)),
	                 OP_ENOTFOUND);
	assert_string_equal(err, "unknown query 'nope'");
	q.name = report;
	q.format = pdf;
	assert_int_equal(dispatch_query(NULL, &q, &out, err, sizeof(err)),
	                 OP_EINVAL);
	assert_non_null(strstr(err, "use html or markdown"));
	assert_null(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limit_reasons),
	    cmocka_unit_test(test_error_codes),
	    cmocka_unit_test_setup_teardown(test_batch_valid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_string_lengths, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_agent_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timestamps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_identity_patterns, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_message_too_large, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_not_an_envelope, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_old_version_and_empty, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_signatures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_request, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_batch_unavailable, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_query_requests, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_query_routing, setup,
	                                    teardown),
	    cmocka_unit_test(test_metrics_replication),
	    cmocka_unit_test(test_dispatch_table),
	    cmocka_unit_test(test_dispatch_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
