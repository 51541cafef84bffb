/*
 * Latency histograms of explicit request records (requests.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_latency.h"
#include "requests.h"

/* Milliseconds: one unit is 10^3 µs (op_latency_parse_us). */
#define REQ_MS_EXP 3

static int
hist_grow(struct agent_hist *h)
{
	Opspulse__V1__LatencyBucket *nb;
	size_t cap;

	if (h->n < h->cap)
		return OP_OK;
	cap = h->cap ? 2 * h->cap : 16;
	if ((nb = realloc(h->b, cap * sizeof(*nb))) == NULL)
		return OP_ENOMEM;
	h->b = nb;
	h->cap = cap;
	return OP_OK;
}

int
agent_hist_add(struct agent_hist *h, const char *s, size_t len, uint64_t count,
               char *err, size_t errsz)
{
	uint64_t us;

	if (op_latency_parse_us(s, len, REQ_MS_EXP, &us) != OP_OK) {
		snprintf(err, errsz,
		         "latency '%.*s' is not a duration in milliseconds; "
		         "write digits with at most one '.', such as 12.5 "
		         "(at most 31 days)",
		         (int)(len > 40 ? 40 : len), s);
		return OP_EINVAL;
	}
	if (count == 0 || count > OP_MAX_MINUTE_REQUESTS ||
	    h->total + count > OP_MAX_MINUTE_REQUESTS) {
		snprintf(err, errsz,
		         "latency count for %.*s ms must be 1 to %llu, and all "
		         "counts together at most that",
		         (int)(len > 40 ? 40 : len), s,
		         (unsigned long long)OP_MAX_MINUTE_REQUESTS);
		return OP_EINVAL;
	}
	if (h->n >= OP_MAX_LATENCY_BUCKETS) {
		snprintf(err, errsz,
		         "more than %d latency pairs; merge durations of one "
		         "bucket before recording",
		         OP_MAX_LATENCY_BUCKETS);
		return OP_EINVAL;
	}
	if (hist_grow(h) != OP_OK)
		return OP_ENOMEM;
	opspulse__v1__latency_bucket__init(&h->b[h->n]);
	h->b[h->n].upper_us = op_latency_upper_us(us);
	h->b[h->n].count = count;
	h->n++;
	h->total += count;
	return OP_OK;
}

static int
hist_cmp(const void *a, const void *b)
{
	const Opspulse__V1__LatencyBucket *x = a, *y = b;

	return (x->upper_us > y->upper_us) - (x->upper_us < y->upper_us);
}

int
agent_hist_finish(struct agent_hist *h, Opspulse__V1__Requests *r)
{
	size_t out = 0;

	if (h->n > 0)
		qsort(h->b, h->n, sizeof(*h->b), hist_cmp);
	for (size_t i = 0; i < h->n; i++) {
		if (out > 0 && h->b[out - 1].upper_us == h->b[i].upper_us)
			h->b[out - 1].count += h->b[i].count;
		else
			h->b[out++] = h->b[i];
	}
	h->n = out;
	free(h->p);
	h->p = NULL;
	if (out > 0 && (h->p = malloc(out * sizeof(*h->p))) == NULL)
		return OP_ENOMEM;
	r->timed = h->total;
	r->n_latency = out;
	r->latency = h->p;
	for (size_t i = 0; i < out; i++)
		h->p[i] = &h->b[i];
	return OP_OK;
}

void
agent_hist_free(struct agent_hist *h)
{
	free(h->b);
	free(h->p);
	memset(h, 0, sizeof(*h));
}
