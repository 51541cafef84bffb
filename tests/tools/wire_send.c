/*
 * wire_send: sends one hand-made request to an aggregator and prints the
 * answer, for tests of what the aggregator does with bad input.
 *
 *   wire_send ADDRESS garbage N      N pseudo-random bytes
 *   wire_send ADDRESS oversize N     a well-formed batch padded to N bytes
 *   wire_send ADDRESS half-bad       a batch whose second event is invalid
 *   wire_send ADDRESS good SERVICE [HOST]   a valid one-deploy batch
 *   wire_send ADDRESS long-task N    a toil event whose task has N bytes
 *   wire_send ADDRESS query          the query behind `opspulse services`
 *   wire_send ADDRESS many N         a batch of N deploy events
 *   wire_send ADDRESS future         a deploy that starts in two days
 *   wire_send ADDRESS requests SERVICE HOST MINUTE_US PART PART_END
 *             REQUESTS ERRORS [UPPER_US:COUNT ...]
 *                                    one Requests event (a tailer's part)
 *
 * Before ADDRESS, "--tls CA CERT KEY" connects over tls+tcp:// with that
 * client certificate (requests are then signed with it).
 *
 * Prints "ack STORED DUPLICATES", "error CODE MESSAGE" or "no-answer
 * REASON"; exits 0 whenever an answer arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_codec.h"
#include "op_error.h"
#include "op_time.h"
#include "op_transport.h"

static uint8_t *
garbage(size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	uint32_t x = 2463534242u;

	for (size_t i = 0; b && i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (uint8_t)x;
	}
	return b;
}

static char default_host[] = "wire-test";

static void
deploy_event(op_event *e, Opspulse__V1__Deploy *d, char *service, char *id,
             char *host)
{
	static char env[] = "production", ver[] = "1.0";
	int64_t now = op_time_now_us();

	opspulse__v1__event__init(e);
	opspulse__v1__deploy__init(d);
	e->service = service;
	e->env = env;
	e->host = host;
	e->recorded_us = now;
	e->kind_case = OPSPULSE__V1__EVENT__KIND_DEPLOY;
	e->deploy = d;
	d->id = id;
	d->started_us = now - 120 * OP_US_PER_SEC;
	d->finished_us = now - 60 * OP_US_PER_SEC;
	d->outcome = OPSPULSE__V1__OUTCOME__OUTCOME_SUCCESS;
	d->version = ver;
}

/* Packs a batch of the given events; pad adds an unknown field of that
 * many bytes, which decoders skip, to reach a size. */
static uint8_t *
batch(op_event **events, size_t n, size_t pad, size_t *len)
{
	static char agent[] = "wire-test";
	op_envelope env;
	op_batch b;
	uint8_t *buf, *out;

	opspulse__v1__envelope__init(&env);
	opspulse__v1__batch__init(&b);
	b.agent_id = agent;
	b.spool_id = 1;
	b.first_seq = 1;
	b.last_seq = n;
	b.n_events = n;
	b.events = events;
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_BATCH;
	env.batch = &b;
	if (op_pack(&env.base, &buf, len) != OP_OK)
		return NULL;
	if (pad == 0)
		return buf;
	/* field 15, wire type 2 (length-delimited), 4-byte varint length */
	out = malloc(*len + 5 + pad);
	memcpy(out, buf, *len);
	out[*len] = (15 << 3) | 2;
	out[*len + 1] = (uint8_t)(0x80 | (pad & 0x7f));
	out[*len + 2] = (uint8_t)(0x80 | ((pad >> 7) & 0x7f));
	out[*len + 3] = (uint8_t)(0x80 | ((pad >> 14) & 0x7f));
	out[*len + 4] = (uint8_t)((pad >> 21) & 0x7f);
	memset(out + *len + 5, 'x', pad);
	*len += 5 + pad;
	free(buf);
	return out;
}

/* A toil event whose task is n bytes of 'x' (the limit is OP_MAX_TEXT). */
static uint8_t *
long_task(size_t n, size_t *len)
{
	static char svc[] = "wire-long", env[] = "production";
	op_event e, *ev = &e;
	Opspulse__V1__Toil t;
	char *task = malloc(n + 1);
	uint8_t *out;

	if (task == NULL)
		return NULL;
	memset(task, 'x', n);
	task[n] = '\0';
	opspulse__v1__event__init(&e);
	opspulse__v1__toil__init(&t);
	e.service = svc;
	e.env = env;
	e.host = default_host;
	e.recorded_us = op_time_now_us();
	e.kind_case = OPSPULSE__V1__EVENT__KIND_TOIL;
	e.toil = &t;
	t.task = task;
	t.started_us = e.recorded_us - 3600 * OP_US_PER_SEC;
	t.duration_s = 60;
	t.source = OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_MANUAL;
	out = batch(&ev, 1, 0, len);
	free(task);
	return out;
}

/* n copies of one deploy event: only the count matters. */
static uint8_t *
many(char *service, char *id, size_t n, size_t *len)
{
	op_event e, **ev = malloc((n ? n : 1) * sizeof(*ev));
	Opspulse__V1__Deploy d;
	uint8_t *out;

	if (ev == NULL)
		return NULL;
	deploy_event(&e, &d, service, id, default_host);
	for (size_t i = 0; i < n; i++)
		ev[i] = &e;
	out = batch(ev, n, 0, len);
	free(ev);
	return out;
}

/* One Requests event from argv (see the usage above); argc counts from
 * SERVICE.  The buckets are given as they go on the wire. */
static uint8_t *
requests(int argc, char **argv, size_t *len)
{
	static char env[] = "production";
	Opspulse__V1__LatencyBucket b[64], *bp[64];
	Opspulse__V1__Requests r;
	op_event e, *ev = &e;

	if (argc < 7 || argc - 7 > 64)
		return NULL;
	opspulse__v1__event__init(&e);
	opspulse__v1__requests__init(&r);
	e.service = argv[0];
	e.env = env;
	e.host = argv[1];
	e.recorded_us = op_time_now_us();
	e.kind_case = OPSPULSE__V1__EVENT__KIND_REQUESTS;
	e.requests = &r;
	r.minute_us = strtoll(argv[2], NULL, 10);
	r.part = argv[3];
	r.part_end = strtoull(argv[4], NULL, 10);
	r.requests = strtoull(argv[5], NULL, 10);
	r.errors = strtoull(argv[6], NULL, 10);
	for (int i = 7; i < argc; i++) {
		Opspulse__V1__LatencyBucket *x = &b[r.n_latency];

		opspulse__v1__latency_bucket__init(x);
		x->upper_us = strtoull(argv[i], NULL, 10);
		x->count = strtoull(
		    strchr(argv[i], ':') ? strchr(argv[i], ':') + 1 : "0", NULL,
		    10);
		r.timed += x->count;
		bp[r.n_latency++] = x;
	}
	r.latency = bp;
	return batch(&ev, 1, 0, len);
}

static uint8_t *
query(size_t *len)
{
	static char name[] = "services";
	op_envelope env;
	Opspulse__V1__QueryRequest q;
	uint8_t *out;

	opspulse__v1__envelope__init(&env);
	opspulse__v1__query_request__init(&q);
	q.name = name;
	q.until_us = op_time_now_us();
	q.since_us = q.until_us - 86400 * OP_US_PER_SEC;
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_QUERY;
	env.query = &q;
	return op_pack(&env.base, &out, len) == OP_OK ? out : NULL;
}

static int
answer(const uint8_t *rep, size_t len)
{
	op_reply *r = opspulse__v1__reply__unpack(NULL, len, rep);

	if (r == NULL) {
		printf("no-answer undecodable-reply\n");
		return 1;
	}
	if (r->error && r->error->code)
		printf("error %d %s\n", r->error->code, r->error->message);
	else if (r->body_case == OPSPULSE__V1__REPLY__BODY_ACK)
		printf("ack %u %u\n", r->ack->stored, r->ack->duplicates);
	else if (r->body_case == OPSPULSE__V1__REPLY__BODY_RESULT)
		printf("result %zu\n", r->result->n_rows);
	else
		printf("other\n");
	opspulse__v1__reply__free_unpacked(r, NULL);
	return 0;
}

int
main(int argc, char **argv)
{
	struct op_strlist addrs = {NULL, 0};
	struct op_tls_conf tls = {NULL, NULL, NULL, 1};
	struct op_client *c;
	op_event e[2], *ev[2] = {&e[0], &e[1]};
	Opspulse__V1__Deploy d[2];
	char svc_ok[] = "wire-ok", svc_bad[] = "", id1[] = "w-1", id2[] = "w-2";
	uint8_t *req = NULL, *rep;
	size_t len = 0, replen;
	int rv;

	if (argc > 4 && strcmp(argv[1], "--tls") == 0) {
		tls = (struct op_tls_conf){argv[2], argv[3], argv[4], 0};
		argv += 4;
		argc -= 4;
	}
	if (argc < 3) {
		fprintf(stderr,
		        "usage: wire_send [--tls CA CERT KEY] ADDRESS "
		        "garbage|oversize|half-bad|good|long-task|query "
		        "[ARG]\n");
		return 2;
	}
	if (strcmp(argv[2], "garbage") == 0 && argc > 3) {
		len = strtoul(argv[3], NULL, 10);
		req = garbage(len);
	} else if (strcmp(argv[2], "oversize") == 0 && argc > 3) {
		deploy_event(&e[0], &d[0], svc_ok, id1, default_host);
		req = batch(ev, 1, strtoul(argv[3], NULL, 10), &len);
	} else if (strcmp(argv[2], "half-bad") == 0) {
		deploy_event(&e[0], &d[0], svc_ok, id1, default_host);
		deploy_event(&e[1], &d[1], svc_bad, id2, default_host);
		req = batch(ev, 2, 0, &len);
	} else if (strcmp(argv[2], "good") == 0 && argc > 3) {
		deploy_event(&e[0], &d[0], argv[3], id1,
		             argc > 4 ? argv[4] : default_host);
		req = batch(ev, 1, 0, &len);
	} else if (strcmp(argv[2], "long-task") == 0 && argc > 3) {
		req = long_task(strtoul(argv[3], NULL, 10), &len);
	} else if (strcmp(argv[2], "query") == 0) {
		req = query(&len);
	} else if (strcmp(argv[2], "many") == 0 && argc > 3) {
		req = many(svc_ok, id1, strtoul(argv[3], NULL, 10), &len);
	} else if (strcmp(argv[2], "requests") == 0) {
		req = requests(argc - 3, argv + 3, &len);
	} else if (strcmp(argv[2], "future") == 0) {
		deploy_event(&e[0], &d[0], svc_ok, id1, default_host);
		d[0].started_us += 2 * 86400 * OP_US_PER_SEC;
		d[0].finished_us += 2 * 86400 * OP_US_PER_SEC;
		req = batch(ev, 1, 0, &len);
	} else {
		fprintf(stderr, "wire_send: unknown mode %s\n", argv[2]);
		return 2;
	}
	if (req == NULL || op_strlist_add(&addrs, argv[1]) != OP_OK ||
	    op_client_alloc(&c, &addrs, &tls, 10000) != OP_OK)
		return 2;
	rv = op_client_call(c, req, len, &rep, &replen);
	if (rv != OP_OK) {
		printf("no-answer %s\n", op_strerror(rv));
		rv = 1;
	} else {
		rv = answer(rep, replen);
		free(rep);
	}
	op_client_free(c);
	op_strlist_free(&addrs);
	free(req);
	return rv;
}
