/*
 * ingest_load: drives an aggregator with batches of distinct toil events
 * from several concurrent senders and reports committed events per second.
 *
 *   ingest_load ADDRESS BATCHES EVENTS_PER_BATCH SENDERS RUN [SERVICES]
 *
 * Each sender sends BATCHES batches and waits for each acknowledgement, as
 * an agent does.  RUN makes the events of one run distinct from another's.
 * SERVICES (default 1: "bench") spreads each batch's events over that many
 * services ("bench-0" ...), event i to service i % SERVICES, as an import
 * of many services' history is.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_codec.h"
#include "op_error.h"
#include "op_time.h"
#include "op_transport.h"

struct load {
	const char *address;
	long batches, per_batch, run, services;
	int sender;
	long acked;
	int failed;
};

/* Builds batch b of sender l as an encoded envelope; caller frees. */
static uint8_t *
load_batch(const struct load *l, long b, size_t *len)
{
	static char svc[] = "bench", env[] = "production",
	            host[] = "bench-host", agent[] = "bench-agent";
	op_event *ev = calloc((size_t)l->per_batch, sizeof(*ev));
	Opspulse__V1__Toil *toil = calloc((size_t)l->per_batch, sizeof(*toil));
	op_event **ptrs = calloc((size_t)l->per_batch, sizeof(*ptrs));
	char(*tasks)[64] = calloc((size_t)l->per_batch, sizeof(*tasks));
	char(*svcs)[32] = calloc((size_t)l->per_batch, sizeof(*svcs));
	op_envelope envl;
	op_batch batch;
	/* Fixed, so that a repeated run sends exactly the same events. */
	int64_t base = op_days_from_civil(2026, 1, 1) * OP_US_PER_DAY;
	uint8_t *buf = NULL;

	opspulse__v1__envelope__init(&envl);
	opspulse__v1__batch__init(&batch);
	for (long i = 0; i < l->per_batch; i++) {
		opspulse__v1__event__init(&ev[i]);
		opspulse__v1__toil__init(&toil[i]);
		snprintf(tasks[i], sizeof(tasks[i]), "r%ld-s%d-b%ld-e%ld",
		         l->run, l->sender, b, i);
		if (l->services > 1) {
			snprintf(svcs[i], sizeof(svcs[i]), "bench-%ld",
			         i % l->services);
			ev[i].service = svcs[i];
		} else {
			ev[i].service = svc;
		}
		ev[i].env = env;
		ev[i].host = host;
		ev[i].kind_case = OPSPULSE__V1__EVENT__KIND_TOIL;
		ev[i].toil = &toil[i];
		toil[i].task = tasks[i];
		toil[i].started_us = base + i * OP_US_PER_SEC;
		toil[i].duration_s = 600;
		toil[i].source = OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_MANUAL;
		ptrs[i] = &ev[i];
	}
	batch.agent_id = agent;
	batch.spool_id = (uint64_t)(l->run * 1000 + l->sender);
	batch.first_seq = batch.last_seq = (uint64_t)b;
	batch.n_events = (size_t)l->per_batch;
	batch.events = ptrs;
	envl.protocol_version = OP_PROTOCOL_VERSION;
	envl.body_case = OPSPULSE__V1__ENVELOPE__BODY_BATCH;
	envl.batch = &batch;
	if (op_pack(&envl.base, &buf, len) != OP_OK)
		buf = NULL;
	free(ev);
	free(toil);
	free(ptrs);
	free(tasks);
	free(svcs);
	return buf;
}

static void *
load_main(void *arg)
{
	struct load *l = arg;
	struct op_strlist addrs = {NULL, 0};
	struct op_tls_conf tls = {NULL, NULL, NULL, 1};
	struct op_client *c;

	if (op_strlist_add(&addrs, l->address) != OP_OK ||
	    op_client_alloc(&c, &addrs, &tls, 60000) != OP_OK) {
		l->failed = 1;
		return NULL;
	}
	for (long b = 0; b < l->batches && !l->failed; b++) {
		size_t len, rlen;
		uint8_t *req = load_batch(l, b, &len), *rep = NULL;
		op_reply *r;

		if (req == NULL ||
		    op_client_call(c, req, len, &rep, &rlen) != OP_OK ||
		    (r = opspulse__v1__reply__unpack(NULL, rlen, rep)) ==
		        NULL) {
			l->failed = 1;
		} else {
			if (r->body_case == OPSPULSE__V1__REPLY__BODY_ACK)
				l->acked += l->per_batch;
			else
				l->failed = 1;
			opspulse__v1__reply__free_unpacked(r, NULL);
		}
		free(req);
		free(rep);
	}
	op_client_free(c);
	op_strlist_free(&addrs);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct load *loads;
	pthread_t *threads;
	long total = 0;
	int n, failed = 0;
	int64_t t0, t1;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: ingest_load ADDRESS BATCHES "
		                "EVENTS_PER_BATCH SENDERS RUN [SERVICES]\n");
		return 2;
	}
	n = atoi(argv[4]);
	loads = calloc((size_t)n, sizeof(*loads));
	threads = calloc((size_t)n, sizeof(*threads));
	for (int i = 0; i < n; i++) {
		loads[i].address = argv[1];
		loads[i].batches = atol(argv[2]);
		loads[i].per_batch = atol(argv[3]);
		loads[i].run = atol(argv[5]);
		loads[i].services = argc == 7 ? atol(argv[6]) : 1;
		loads[i].sender = i;
	}
	t0 = op_time_mono_ms();
	for (int i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, load_main, &loads[i]);
	for (int i = 0; i < n; i++) {
		pthread_join(threads[i], NULL);
		total += loads[i].acked;
		failed |= loads[i].failed;
	}
	t1 = op_time_mono_ms();
	printf("%ld events acknowledged in %.3f s: %.0f events/s%s\n", total,
	       (double)(t1 - t0) / 1000,
	       (double)total * 1000 / (double)(t1 - t0 ? t1 - t0 : 1),
	       failed ? " (some batches failed)" : "");
	free(loads);
	free(threads);
	return failed;
}
