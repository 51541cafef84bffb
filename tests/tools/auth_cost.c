/*
 * auth_cost: what signing a request costs the sender and checking it
 * costs the aggregator, per batch (docs/SECURITY.md records the figures).
 *
 *   auth_cost CA CERT KEY [EVENTS [ROUNDS]]
 *
 * Builds one batch of EVENTS toil events (default 1000), then times over
 * ROUNDS rounds (default 200): packing it (what every batch costs anyway),
 * sealing it (SHA-256 and signature), unpacking the signed envelope, and
 * verifying it with a warm certificate cache; and once, verifying with a
 * cold cache (chain check).  Prints microseconds per batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_auth.h"
#include "op_error.h"
#include "op_time.h"

static op_batch *
make_batch(size_t n)
{
	static char svc[] = "billing", env[] = "production", host[] = "web-1";
	op_batch *b = calloc(1, sizeof(*b));
	op_event *ev = calloc(n, sizeof(*ev));
	Opspulse__V1__Toil *t = calloc(n, sizeof(*t));
	char *tasks = calloc(n, 48);

	opspulse__v1__batch__init(b);
	b->agent_id = host;
	b->events = calloc(n, sizeof(*b->events));
	b->n_events = n;
	for (size_t i = 0; i < n; i++) {
		opspulse__v1__event__init(&ev[i]);
		opspulse__v1__toil__init(&t[i]);
		snprintf(tasks + 48 * i, 48, "rotate certificates %zu", i);
		ev[i].service = svc;
		ev[i].env = env;
		ev[i].host = host;
		ev[i].recorded_us = op_time_now_us();
		ev[i].kind_case = OPSPULSE__V1__EVENT__KIND_TOIL;
		ev[i].toil = &t[i];
		t[i].task = tasks + 48 * i;
		t[i].started_us = ev[i].recorded_us - 3600 * OP_US_PER_SEC;
		t[i].duration_s = 600;
		t[i].source = OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_MANUAL;
		b->events[i] = &ev[i];
	}
	return b;
}

static double
per_round(int64_t t0, int rounds)
{
	return (double)(op_time_mono_us() - t0) / rounds;
}

int
main(int argc, char **argv)
{
	struct op_auth_signer *s;
	struct op_auth_verifier *v;
	struct op_auth_identity id;
	op_envelope env, *in;
	uint8_t *req, *sealed;
	size_t len, slen;
	size_t n = argc > 4 ? strtoul(argv[4], NULL, 10) : 1000;
	int rounds = argc > 5 ? atoi(argv[5]) : 200;
	char err[256];
	int64_t t0;

	if (argc < 4 || rounds < 1) {
		fprintf(stderr,
		        "usage: auth_cost CA CERT KEY [EVENTS [ROUNDS]]\n");
		return 2;
	}
	if (op_auth_signer_alloc(&s, argv[2], argv[3]) != OP_OK ||
	    op_auth_verifier_alloc(&v, argv[1]) != OP_OK)
		return 1;
	opspulse__v1__envelope__init(&env);
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_BATCH;
	env.batch = make_batch(n);

	t0 = op_time_mono_us();
	for (int i = 0; i < rounds; i++) {
		if (op_pack(&env.base, &req, &len) != OP_OK)
			return 1;
		if (i + 1 < rounds)
			free(req);
	}
	printf("batch of %zu events, %zu bytes\n", n, len);
	printf("pack (every batch):       %8.1f us\n", per_round(t0, rounds));
	t0 = op_time_mono_us();
	for (int i = 0; i < rounds; i++) {
		if (op_auth_seal(s, req, len, &sealed, &slen) != OP_OK)
			return 1;
		if (i + 1 < rounds)
			free(sealed);
	}
	printf("sign (agent):             %8.1f us, +%zu bytes\n",
	       per_round(t0, rounds), slen - len);
	in = opspulse__v1__envelope__unpack(NULL, slen, sealed);
	t0 = op_time_mono_us();
	if (in == NULL ||
	    op_auth_verify(v, in->signed_, &id, err, sizeof(err)) != OP_OK) {
		fprintf(stderr, "auth_cost: %s\n", in ? err : "unpack failed");
		return 1;
	}
	printf("verify, cold cache:       %8.1f us (%s, role %s)\n",
	       per_round(t0, 1), id.name, op_role_name(id.role));
	opspulse__v1__envelope__free_unpacked(in, NULL);
	t0 = op_time_mono_us();
	for (int i = 0; i < rounds; i++) {
		in = opspulse__v1__envelope__unpack(NULL, slen, sealed);
		if (in == NULL)
			return 1;
		opspulse__v1__envelope__free_unpacked(in, NULL);
	}
	printf("unwrap signed envelope:   %8.1f us\n", per_round(t0, rounds));
	in = opspulse__v1__envelope__unpack(NULL, slen, sealed);
	t0 = op_time_mono_us();
	for (int i = 0; i < rounds; i++) {
		if (op_auth_verify(v, in->signed_, &id, err, sizeof(err)))
			return 1;
	}
	printf("verify, warm (aggregator): %7.1f us\n", per_round(t0, rounds));
	opspulse__v1__envelope__free_unpacked(in, NULL);
	free(req);
	free(sealed);
	op_auth_signer_free(s);
	op_auth_verifier_free(v);
	return 0;
}
