/*
 * bench/access_logs.py's reader of the agent's spool: adds up the Requests
 * events in it the way the aggregator stores them (per minute and part,
 * the largest part_end kept) and prints
 *   events N requests N errors N timed N
 * usage: spool_requests SPOOL_DIR
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_codec.h"
#include "spool.h"

struct part {
	int64_t minute;
	char *name;
	uint64_t end, requests, errors, timed;
};

struct sum {
	struct part *p;
	size_t n, cap;
	uint64_t events;
};

static struct part *
sum_find(struct sum *s, int64_t minute, const char *name)
{
	for (size_t i = s->n; i-- > 0;) {
		if (s->p[i].minute == minute && strcmp(s->p[i].name, name) == 0)
			return &s->p[i];
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		if ((s->p = realloc(s->p, s->cap * sizeof(*s->p))) == NULL)
			abort();
	}
	memset(&s->p[s->n], 0, sizeof(s->p[0]));
	s->p[s->n].minute = minute;
	if ((s->p[s->n].name = strdup(name)) == NULL)
		abort();
	return &s->p[s->n++];
}

static int
on_record(void *arg, struct spool_pos at, const uint8_t *data, size_t len)
{
	struct sum *s = arg;
	op_event *e = opspulse__v1__event__unpack(NULL, len, data);
	const Opspulse__V1__Requests *r;
	struct part *p;

	(void)at;
	if (e == NULL || e->kind_case != OPSPULSE__V1__EVENT__KIND_REQUESTS) {
		if (e)
			opspulse__v1__event__free_unpacked(e, NULL);
		return 0;
	}
	r = e->requests;
	s->events++;
	p = sum_find(s, r->minute_us, r->part);
	if (p->end == 0 || r->part_end > p->end) {
		p->end = r->part_end;
		p->requests = r->requests;
		p->errors = r->errors;
		p->timed = r->timed;
	}
	opspulse__v1__event__free_unpacked(e, NULL);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sum s = {0};
	struct spool *sp;
	struct spool_pos pos;
	uint64_t req = 0, err = 0, timed = 0;
	long n;

	if (argc != 2) {
		fprintf(stderr, "usage: spool_requests SPOOL_DIR\n");
		return 2;
	}
	if (spool_open(&sp, argv[1], UINT64_C(1) << 40) != OP_OK ||
	    spool_cursor(sp, &pos) != OP_OK)
		return 1;
	while ((n = spool_read(sp, &pos, 10000, on_record, &s, NULL)) > 0)
		;
	spool_close(sp);
	if (n < 0)
		return 1;
	for (size_t i = 0; i < s.n; i++) {
		req += s.p[i].requests;
		err += s.p[i].errors;
		timed += s.p[i].timed;
		free(s.p[i].name);
	}
	free(s.p);
	printf("events %" PRIu64 " requests %" PRIu64 " errors %" PRIu64
	       " timed %" PRIu64 "\n",
	       s.events, req, err, timed);
	return 0;
}
