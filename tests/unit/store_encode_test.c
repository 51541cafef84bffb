/*
 * Unit tests for the store's binary encoders (aggregator/store_encode.h):
 * the PostgreSQL binary arrays sent as INSERT parameters, the binary COPY
 * stream, and the content keys, against golden vectors.
 *
 * How the vectors were produced, independently of the C code:
 * - content keys: a Python script building the canonical form described
 *   in aggregator/sql/014_content_keys.sql with struct.pack and taking
 *   hashlib.sha256()[:16]; the same values came out of that file's SQL
 *   functions (opspulse.toil_key, batch_run_key, component_key,
 *   capacity_key) on PostgreSQL 15.
 * - arrays: the same script following array_send's layout (dimensions,
 *   flags, element type oid, length, lower bound, then length-prefixed
 *   elements, -1 for NULL); PostgreSQL 15's array_send() gave the same
 *   bytes, except that it sets the has-nulls flag, which array_recv
 *   ignores and the encoder leaves 0.
 * - COPY: the script following the binary COPY format (signature, flags,
 *   extension length, per tuple a field count and length-prefixed
 *   fields, trailer -1); PostgreSQL 15's COPY ... TO (FORMAT binary) of
 *   the same row gave the same bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_encode.h"

#define AGENT "agent-7"

struct events {
	op_event ev[6];
	Opspulse__V1__Toil toil[2];
	Opspulse__V1__BatchRun batch;
	Opspulse__V1__Component component;
	Opspulse__V1__Capacity capacity[2];
	op_event *list[6];
	op_batch b;
};

static void
base(op_event *e, char *service, char *env, char *host, char *operator_)
{
	opspulse__v1__event__init(e);
	e->service = service;
	e->env = env;
	e->host = host;
	e->operator_ = operator_;
}

static void
toil(struct events *t, int i, char *env, char *host, char *operator_,
     char *task, int64_t started, int64_t dur, Opspulse__V1__ToilSource source)
{
	base(&t->ev[i], "checkout", env, host, operator_);
	opspulse__v1__toil__init(&t->toil[i]);
	t->toil[i].task = task;
	t->toil[i].started_us = started;
	t->toil[i].duration_s = dur;
	t->toil[i].source = source;
	t->ev[i].kind_case = OPSPULSE__V1__EVENT__KIND_TOIL;
	t->ev[i].toil = &t->toil[i];
}

static void
capacity(struct events *t, int i, int64_t at, double cpu, double mem,
         char *mount, uint64_t used, uint64_t total)
{
	Opspulse__V1__Capacity *c = &t->capacity[i];

	base(&t->ev[4 + i], "web", "production", "web-1", "");
	opspulse__v1__capacity__init(c);
	c->at_us = at;
	c->cpu_pct = cpu;
	c->mem_pct = mem;
	c->mount = mount;
	c->disk_used_bytes = used;
	c->disk_total_bytes = total;
	t->ev[4 + i].kind_case = OPSPULSE__V1__EVENT__KIND_CAPACITY;
	t->ev[4 + i].capacity = c;
}

/* The events of the vectors: two toil, a batch run, a component seen at
 * 1969-12-31 23:59:59.999999 (a negative time), and two capacity samples,
 * one without disk figures and with -0 memory use. */
static void
events_init(struct events *t)
{
	memset(t, 0, sizeof(*t));
	toil(t, 0, "production", "web-1", "alice", "rotate certs",
	     INT64_C(1700000000123456), 900,
	     OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_MANUAL);
	toil(t, 1, "staging", "web-2", "", "restart", INT64_C(1700000100000000),
	     60, OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_RUN);
	base(&t->ev[2], "billing", "production", "cron-1", "");
	opspulse__v1__batch_run__init(&t->batch);
	t->batch.task = "nightly-backup";
	t->batch.started_us = INT64_C(1700003600000000);
	t->batch.duration_s = 3600;
	t->batch.outcome = OPSPULSE__V1__OUTCOME__OUTCOME_SUCCESS;
	t->ev[2].kind_case = OPSPULSE__V1__EVENT__KIND_BATCH;
	t->ev[2].batch = &t->batch;
	base(&t->ev[3], "db", "production", "db-1", "");
	opspulse__v1__component__init(&t->component);
	t->component.name = "postgresql";
	t->component.version = "15.4";
	t->component.observed_us = -1;
	t->ev[3].kind_case = OPSPULSE__V1__EVENT__KIND_COMPONENT;
	t->ev[3].component = &t->component;
	capacity(t, 0, INT64_C(1700000400000000), 12.5, -0.0,
	         "/donn\xc3\xa9"
	         "es",
	         0, 0);
	capacity(t, 1, INT64_C(1700000460000000), 99.75, 50.0, "/",
	         UINT64_C(1073741824), UINT64_C(4294967296));
	opspulse__v1__batch__init(&t->b);
	t->b.agent_id = AGENT;
	for (int i = 0; i < 6; i++)
		t->list[i] = &t->ev[i];
	t->b.n_events = 6;
	t->b.events = t->list;
}

/* Compares n bytes at got with the hex string want. */
static void
assert_hex(const char *got, size_t n, const char *want)
{
	char hex[1024];

	assert_true(n * 2 < sizeof(hex));
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)got[i]);
	hex[2 * n] = '\0';
	assert_string_equal(hex, want);
}

static void
assert_key(const op_event *e, const char *want)
{
	unsigned char key[STORE_KEY_BYTES];

	assert_int_equal(store_content_key(e, AGENT, key), OP_OK);
	assert_hex((const char *)key, sizeof(key), want);
}

static void
test_content_keys(void **state)
{
	struct events t;

	(void)state;
	events_init(&t);
	assert_key(&t.ev[0], "ea0f0cc6e55980342c2041c6f5e9f4df");
	/* operator "" is stored as NULL, and keyed as NULL. */
	assert_key(&t.ev[1], "3f96e4e64a2f3e4583384f75ceb0a307");
	assert_key(&t.ev[2], "0c908a80e8a684c22db142e99b622030");
	assert_key(&t.ev[3], "015468f22fdc7d5595eece34f7407ffb");
	/* -0 keyed as +0, no disk figures as two NULLs, UTF-8 mount. */
	assert_key(&t.ev[4], "258d547b2dfdc49f0447a04b7c878921");
	assert_key(&t.ev[5], "eb413732bc2b788349f4749e0693115f");
}

static void
test_content_key_other_kinds(void **state)
{
	struct events t;
	Opspulse__V1__DeployFailure f;
	unsigned char key[STORE_KEY_BYTES];

	(void)state;
	opspulse__v1__deploy_failure__init(&f);
	events_init(&t);
	/* Kinds deduplicated by their own ids have no content key. */
	t.ev[0].kind_case = OPSPULSE__V1__EVENT__KIND_DEPLOY_FAILURE;
	t.ev[0].deploy_failure = &f;
	assert_int_equal(store_content_key(&t.ev[0], AGENT, key), OP_EINVAL);
	t.ev[0].kind_case = OPSPULSE__V1__EVENT__KIND__NOT_SET;
	assert_int_equal(store_content_key(&t.ev[0], AGENT, key), OP_EINVAL);
}

/* Column col of the arrays of kind in t's batch, against want. */
static void
assert_array(const struct events *t, int kind, int col, long count,
             const char *want)
{
	char *out = NULL;
	size_t len = 0;
	long n = -1;

	assert_int_equal(store_encode_array(&t->b, kind, col, &out, &len, &n),
	                 OP_OK);
	assert_int_equal(n, count);
	assert_hex(out, len, want);
	free(out);
}

static void
test_arrays_toil(void **state)
{
	const int k = OPSPULSE__V1__EVENT__KIND_TOIL;
	struct events t;

	(void)state;
	events_init(&t);
	/* service: text[] (oid 25) */
	assert_array(&t, k, 0, 2,
	             "00000001000000000000001900000002000000010000000863686563"
	             "6b6f757400000008636865636b6f7574");
	/* operator, the second NULL */
	assert_array(&t, k, 3, 2,
	             "00000001000000000000001900000002000000010000000561"
	             "6c696365ffffffff");
	/* started_at: timestamptz[] (1184), microseconds since 2000 */
	assert_array(&t, k, 5, 2,
	             "0000000100000000000004a0000000020000000100000008"
	             "0002ad22dce84240000000080002ad22e2dc4100");
	/* duration_s: bigint[] (20) */
	assert_array(&t, k, 6, 2,
	             "000000010000000000000014000000020000000100000008"
	             "000000000000038400000008000000000000003c");
	/* incident_id: NULL for toil naming no incident */
	assert_array(
	    &t, k, 9, 2,
	    "0000000100000000000000190000000200000001ffffffffffffffff");
	/* content_key: uuid[] (2950); the incident is not part of it, so
	 * these are the keys toil had before it could name one */
	assert_array(&t, k, 10, 2,
	             "000000010000000000000b86000000020000000100000010ea0f0cc6"
	             "e55980342c2041c6f5e9f4df000000103f96e4e64a2f3e4583384f75"
	             "ceb0a307");
}

static void
test_arrays_capacity(void **state)
{
	const int k = OPSPULSE__V1__EVENT__KIND_CAPACITY;
	struct events t;

	(void)state;
	events_init(&t);
	/* cpu_pct: double precision[] (701) */
	assert_array(&t, k, 4, 2,
	             "0000000100000000000002bd000000020000000100000008"
	             "4029000000000000000000084058f00000000000");
	/* mem_pct: -0 sent as +0 */
	assert_array(&t, k, 5, 2,
	             "0000000100000000000002bd000000020000000100000008"
	             "0000000000000000000000084049000000000000");
	/* disk_used_bytes: NULL without a total */
	assert_array(&t, k, 7, 2,
	             "0000000100000000000000140000000200000001ffffffff0000"
	             "00080000000040000000");
}

static void
test_arrays_deploy(void **state)
{
	const int k = OPSPULSE__V1__EVENT__KIND_DEPLOY;
	Opspulse__V1__Deploy d;
	struct events t;

	(void)state;
	opspulse__v1__deploy__init(&d);
	events_init(&t);
	d.id = "d-1";
	d.started_us = INT64_C(1700000000000000);
	d.finished_us = INT64_C(1700000060000000);
	d.outcome = OPSPULSE__V1__OUTCOME__OUTCOME_SUCCESS;
	d.hotfix = 1;
	t.ev[0].kind_case = k;
	t.ev[0].deploy = &d;
	/* hotfix: boolean[] (16), one byte */
	assert_array(&t, k, 10, 1,
	             "00000001000000000000001000000001000000010000000101");
	/* commit_time unknown (0): NULL */
	assert_array(&t, k, 9, 1,
	             "0000000100000000000004a00000000100000001ffffffff");
}

static void
test_copy_batch(void **state)
{
	struct events t;
	char *out = NULL;
	size_t len = 0;
	long n = -1;

	(void)state;
	events_init(&t);
	assert_int_equal(store_encode_copy(&t.b,
	                                   OPSPULSE__V1__EVENT__KIND_BATCH,
	                                   &out, &len, &n),
	                 OP_OK);
	assert_int_equal(n, 1);
	assert_hex(out, len,
	           "5047434f50590aff0d0a00000000000000000000090000000762696c6c"
	           "696e670000000a70726f64756374696f6e0000000663726f6e2d310000"
	           "000e6e696768746c792d6261636b7570000000080002ad23b37a040000"
	           "0000080000000000000e100000000773756363657373000000076167"
	           "656e742d37000000100c908a80e8a684c22db142e99b622030ffff");
	free(out);
}

static void
test_empty_and_unknown(void **state)
{
	struct events t;
	char *out = NULL;
	size_t len = 0;
	long n = -1;

	(void)state;
	events_init(&t);
	/* No alerts in the batch: an empty array, zero elements. */
	assert_array(&t, OPSPULSE__V1__EVENT__KIND_ALERT, 0, 0,
	             "0000000100000000000000190000000000000001");
	assert_int_equal(store_encode_array(&t.b,
	                                    OPSPULSE__V1__EVENT__KIND_TOIL, 11,
	                                    &out, &len, &n),
	                 OP_EINVAL);
	assert_int_equal(store_encode_array(&t.b, 0, 0, &out, &len, &n),
	                 OP_EINVAL);
	assert_int_equal(store_encode_copy(&t.b, 99, &out, &len, &n),
	                 OP_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_content_keys),
	    cmocka_unit_test(test_content_key_other_kinds),
	    cmocka_unit_test(test_arrays_toil),
	    cmocka_unit_test(test_arrays_capacity),
	    cmocka_unit_test(test_arrays_deploy),
	    cmocka_unit_test(test_copy_batch),
	    cmocka_unit_test(test_empty_and_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
