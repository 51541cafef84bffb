/*
 * The tailer's per-minute counts and their flush: Requests events into the
 * spool first, then the new position into the state file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_latency.h"
#include "op_log.h"
#include "op_time.h"
#include "tail.h"
#include "tail_int.h"

#define MOD       "tail"
#define MINUTE_US INT64_C(60000000)

/* SPEC §12.2's bucket of v as an index: v below 128, else s*64 + (v >> s)
 * with s = floor(log2 v) - 6. */
static unsigned
tail_bucket(uint64_t v)
{
	int s;

	if (v < 128)
		return (unsigned)v;
	s = 63 - __builtin_clzll(v) - 6;
	return (unsigned)s * 64 + (unsigned)(v >> s);
}

static uint64_t
tail_bucket_upper(unsigned idx)
{
	unsigned s = idx < 128 ? 0 : idx / 64 - 1;
	uint64_t m = idx - s * 64;

	return ((m + 1) << s) - 1;
}

static struct tail_minute *
tail_minute_find(struct tail_src *s, int64_t minute_us)
{
	for (size_t i = s->nmin; i-- > 0;) {
		if (s->min[i].minute_us == minute_us)
			return &s->min[i];
	}
	return NULL;
}

/* A minute slot for minute_us: NULL when the range has all it may hold. */
static struct tail_minute *
tail_minute_add(struct tail_src *s, int64_t minute_us)
{
	struct tail_minute *m;

	if (s->nmin == TAIL_MAX_MINUTES)
		return NULL;
	m = &s->min[s->nmin++];
	m->minute_us = minute_us;
	m->requests = m->errors = m->timed = 0;
	return m;
}

int
tail_count_line(struct tail_src *s, const struct alog_line *l)
{
	int64_t minute = l->time_us - l->time_us % MINUTE_US;
	struct tail_minute *m = tail_minute_find(s, minute);
	int rv;

	if (m == NULL && (m = tail_minute_add(s, minute)) == NULL) {
		if ((rv = tail_flush(s)) != OP_OK)
			return rv;
		m = tail_minute_add(s, minute);
	}
	m->requests++;
	m->errors += l->status >= 500 && l->status <= 599;
	if (!l->timed)
		return OP_OK;
	if (m->hist == NULL &&
	    (m->hist = calloc(TAIL_NBUCKETS, sizeof(*m->hist))) == NULL)
		return OP_ENOMEM;
	OP_ASSERT(tail_bucket(l->duration_us) < TAIL_NBUCKETS);
	m->hist[tail_bucket(l->duration_us)]++;
	m->timed++;
	return OP_OK;
}

void
tail_count_reset(struct tail_src *s)
{
	/* Freed rather than kept: an idle tailer holds no histogram. */
	for (size_t i = 0; i < s->nmin; i++) {
		free(s->min[i].hist);
		s->min[i].hist = NULL;
	}
	s->nmin = 0;
}

/* ---- events ------------------------------------------------------------ */

/* The latency buckets of m into b (from pool, advanced). */
static void
tail_fill_latency(const struct tail_minute *m, Opspulse__V1__Requests *r,
                  Opspulse__V1__LatencyBucket **pool_ptrs,
                  Opspulse__V1__LatencyBucket *pool, size_t *used)
{
	r->latency = pool_ptrs + *used;
	r->n_latency = 0;
	for (unsigned i = 0; m->hist && i < TAIL_NBUCKETS; i++) {
		Opspulse__V1__LatencyBucket *b;

		if (m->hist[i] == 0)
			continue;
		b = &pool[*used];
		opspulse__v1__latency_bucket__init(b);
		b->upper_us = tail_bucket_upper(i);
		OP_ASSERT(b->upper_us == op_latency_upper_us(b->upper_us));
		b->count = m->hist[i];
		pool_ptrs[(*used)++] = b;
		r->n_latency++;
	}
}

static size_t
tail_nbuckets(const struct tail_src *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nmin; i++) {
		for (unsigned k = 0; s->min[i].hist && k < TAIL_NBUCKETS; k++)
			n += s->min[i].hist[k] != 0;
	}
	return n;
}

/* Appends the range's events to the spool (one fsync). */
static int
tail_record(struct tail_src *s)
{
	struct agent_event ev[TAIL_MAX_MINUTES];
	op_event *list[TAIL_MAX_MINUTES];
	size_t nb = tail_nbuckets(s), used = 0;
	Opspulse__V1__LatencyBucket *pool = calloc(nb + 1, sizeof(*pool));
	Opspulse__V1__LatencyBucket **ptrs = calloc(nb + 1, sizeof(*ptrs));
	char part[128];
	int rv = OP_ENOMEM;

	snprintf(part, sizeof(part), "%s:%" PRIu64 ":%" PRIu64,
	         s->durable.source, s->durable.gen, s->durable.off);
	for (size_t i = 0; pool && ptrs && i < s->nmin; i++) {
		Opspulse__V1__Requests *r;

		agent_event_init(&ev[i], s->conf);
		ev[i].ev.operator_ = (char *)"";
		if (s->cfg->service)
			ev[i].ev.service = s->cfg->service;
		if (s->cfg->env)
			ev[i].ev.env = s->cfg->env;
		r = agent_event_requests(&ev[i]);
		r->minute_us = s->min[i].minute_us;
		r->requests = s->min[i].requests;
		r->errors = s->min[i].errors;
		r->timed = s->min[i].timed;
		r->part = part;
		r->part_end = s->cur.off;
		tail_fill_latency(&s->min[i], r, ptrs, pool, &used);
		list[i] = &ev[i].ev;
	}
	if (pool && ptrs)
		rv = agent_record(s->conf, list, s->nmin);
	free(pool);
	free(ptrs);
	return rv;
}

/* Whether anything changed since the durable state. */
static int
tail_dirty(const struct tail_src *s)
{
	return s->cur.off != s->durable.off ||
	       s->cur.skipping != s->durable.skipping ||
	       memcmp(s->cur.skips, s->durable.skips, sizeof(s->cur.skips)) !=
	           0 ||
	       !s->have_state;
}

int
tail_flush(struct tail_src *s)
{
	int rv = OP_OK;

	if (!tail_dirty(s))
		return OP_OK;
	if (s->nmin > 0)
		rv = tail_record(s);
	if (rv == OP_OK) {
		s->cur.nfp = 0;
		if (s->fd >= 0) {
			size_t n = tail_read_fp(s->fd, s->cur.off, s->cur.fp);
			s->cur.nfp = n == (size_t)-1 ? 0 : n;
		}
		rv = tail_state_save(s->state_path, s->cfg->path, &s->cur);
	}
	tail_count_reset(s);
	if (rv != OP_OK) {
		/* Read the range again at the next poll. */
		op_warn(MOD,
		        "%s: lines after offset %" PRIu64 " will be read "
		        "again at the next poll",
		        s->cfg->path, s->durable.off);
		s->cur = s->durable;
		s->blen = 0;
		return rv;
	}
	s->durable = s->cur;
	s->have_state = 1;
	return OP_OK;
}
