/*
 * fleet_sim: a fleet of simulated agents in one process, for bench/fleet.py
 * and tests/integration/test_fleet.py.
 *
 *   fleet_sim -a ADDR[,ADDR...] -n AGENTS -d SECONDS -r EVENTS_PER_S
 *             -s SPOOL_ROOT -p PREFIX [-b BATCH] [-t TICK_MS] [-w DRAIN_S]
 *
 * Each agent is a thread with its own id and host (PREFIX-NNNNN), its own
 * spool under SPOOL_ROOT written with the agent's spool code, and its own
 * REQ socket (op_transport).  Every TICK_MS (phases spread over the fleet)
 * it records the events that fell due at EVENTS_PER_S -- a mix of toil,
 * capacity, alerts, batch runs, deploys and components built with the
 * agent's event code, validated as the record commands do, one fsync per
 * tick -- and then ships its spool as the daemon's sender does: up to BATCH
 * events per message, the cursor moved only on an acknowledgement of that
 * batch, back-off on failure.  Agent i lists the addresses starting at
 * i % (number of addresses), so a fleet spreads over the aggregators.
 *
 * After SECONDS it stops recording and drains (at most DRAIN_S).  It prints
 * "key value" lines: events generated per kind, acknowledged, messages,
 * the events-per-message histogram, round-trip and delivery latency
 * percentiles.  Exits 0 only when every event was acknowledged and no batch
 * was refused.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "op_error.h"
#include "op_log.h"
#include "op_time.h"
#include "spool.h"

enum sim_kind {
	K_TOIL,
	K_CAPACITY,
	K_ALERT,
	K_BATCH,
	K_DEPLOY,
	K_COMPONENT,
	K_N
};

static const char *const sim_kind_names[K_N] = {
    "toil", "capacity", "alert", "batch", "deploy", "component"};

/* Out of 20 events, what a busy host records (the same mix as bench/soak). */
static const enum sim_kind sim_mix[20] = {
    K_TOIL,     K_TOIL,     K_TOIL,     K_TOIL,     K_TOIL,
    K_TOIL,     K_CAPACITY, K_CAPACITY, K_CAPACITY, K_CAPACITY,
    K_CAPACITY, K_CAPACITY, K_ALERT,    K_ALERT,    K_ALERT,
    K_BATCH,    K_BATCH,    K_DEPLOY,   K_DEPLOY,   K_COMPONENT};

/* Events per message, histogram bounds (upper, inclusive). */
static const long sim_hist_upper[] = {1, 9, 99, 999, 10000};
#define SIM_HIST 5

#define SIM_SERVICES 200

struct sim {
	struct op_strlist addrs;
	long agents, batch, drain_s, tick_ms;
	double duration_s, rate;
	const char *root, *prefix;
	int64_t start_us, base_us;
	pthread_barrier_t go;
};

/* Latency of a group of events appended together: (microseconds, count). */
struct sim_lat {
	uint32_t us;
	uint32_t n;
};

struct sim_pending {
	struct spool_pos end;
	int64_t at_us;
	uint32_t n;
};

struct sim_agent {
	struct sim *sim;
	long idx;
	char id[64], service[64];
	struct agent_conf conf; /* service, environment, host for events */
	struct spool *spool;
	struct op_client *client;
	long generated, kinds[K_N], acked, messages, failures, refused;
	long hist[SIM_HIST];
	struct sim_pending *pend;
	size_t pend_head, pend_n, pend_cap;
	uint32_t *rtt;
	size_t n_rtt, cap_rtt;
	struct sim_lat *lat;
	size_t n_lat, cap_lat;
	op_event **events;
	size_t n;
	struct spool_pos first, last;
	int ok;
};

static int64_t
sim_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
sim_sleep_until(int64_t us)
{
	int64_t left = us - sim_now_us();
	struct timespec ts;

	if (left <= 0)
		return;
	ts.tv_sec = left / 1000000;
	ts.tv_nsec = (left % 1000000) * 1000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Grows *arr (elements of size sz) to hold one more; 0 or -1. */
static int
sim_grow(void *arr, size_t *cap, size_t n, size_t sz)
{
	void **p = arr;
	size_t c = *cap ? *cap * 2 : 256;
	void *q;

	if (n < *cap)
		return 0;
	if ((q = realloc(*p, c * sz)) == NULL)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

/* ---- recording ------------------------------------------------------ */

/* Strings an event borrows until it is packed. */
struct sim_strs {
	char a[96], b[32];
};

/* Fills e as event number k of agent a: distinct content per (a, k). */
static void
sim_event(struct sim_agent *a, long k, struct agent_event *e,
          struct sim_strs *s)
{
	int64_t t = a->sim->base_us + (int64_t)k * OP_US_PER_SEC;
	enum sim_kind kind = sim_mix[k % 20];

	agent_event_init(e, &a->conf);
	a->kinds[kind]++;
	switch (kind) {
	case K_TOIL: {
		Opspulse__V1__Toil *m = agent_event_toil(e);
		snprintf(s->a, sizeof(s->a), "task-%ld", k);
		m->task = s->a;
		m->started_us = t;
		m->duration_s = 60 + k % 600;
		m->source = OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_MANUAL;
		break;
	}
	case K_CAPACITY: {
		Opspulse__V1__Capacity *m = agent_event_capacity(e);
		static char root[] = "/";
		m->at_us = t;
		m->cpu_pct = (double)(k % 100);
		m->mem_pct = (double)((k * 7) % 100);
		m->mount = root;
		m->disk_total_bytes = UINT64_C(100) << 30;
		m->disk_used_bytes = (UINT64_C(40) << 30) + (uint64_t)k;
		break;
	}
	case K_ALERT: {
		Opspulse__V1__Alert *m = agent_event_alert(e);
		static char name[] = "HighLatency", sev[] = "warning";
		snprintf(s->a, sizeof(s->a), "%s-%ld", a->id, k);
		m->alertname = name;
		m->severity = sev;
		m->fingerprint = s->a;
		m->starts_us = t;
		m->ends_us = t + 300 * OP_US_PER_SEC;
		break;
	}
	case K_BATCH: {
		Opspulse__V1__BatchRun *m = agent_event_batch(e);
		snprintf(s->a, sizeof(s->a), "job-%ld", k);
		m->task = s->a;
		m->started_us = t;
		m->duration_s = 120;
		m->outcome = OPSPULSE__V1__OUTCOME__OUTCOME_SUCCESS;
		break;
	}
	case K_DEPLOY: {
		Opspulse__V1__Deploy *m = agent_event_deploy(e);
		snprintf(s->a, sizeof(s->a), "%s-%ld", a->id, k);
		snprintf(s->b, sizeof(s->b), "1.%ld", k);
		m->id = s->a;
		m->version = s->b;
		m->started_us = t;
		m->finished_us = t + 90 * OP_US_PER_SEC;
		m->outcome = OPSPULSE__V1__OUTCOME__OUTCOME_SUCCESS;
		break;
	}
	default: {
		Opspulse__V1__Component *m = agent_event_component(e);
		static char name[] = "postgresql";
		snprintf(s->a, sizeof(s->a), "15.%ld", k);
		m->name = name;
		m->version = s->a;
		m->observed_us = t;
		break;
	}
	}
}

/* Records events a->generated .. upto-1 with one fsync, as a record
 * command does: validated, encoded, appended. */
static int
sim_record(struct sim_agent *a, long upto)
{
	size_t n = (size_t)(upto - a->generated);
	uint8_t **bufs = calloc(n, sizeof(*bufs));
	size_t *lens = calloc(n, sizeof(*lens));
	int64_t now = op_time_now_us();
	struct agent_event e;
	struct sim_strs s;
	char err[256];
	int rv = bufs && lens ? OP_OK : OP_ENOMEM;

	for (size_t i = 0; rv == OP_OK && i < n; i++) {
		sim_event(a, a->generated + (long)i, &e, &s);
		if (op_event_validate(&e.ev, now, err, sizeof(err)) != OP_OK) {
			fprintf(stderr, "fleet_sim: invalid %s: %s\n",
			        op_event_kind_name(&e.ev), err);
			rv = OP_EINVAL;
		} else {
			rv = op_pack(&e.ev.base, &bufs[i], &lens[i]);
		}
	}
	if (rv == OP_OK)
		rv = spool_append(a->spool, (const uint8_t *const *)bufs, lens,
		                  n);
	if (rv == OP_OK && sim_grow(&a->pend, &a->pend_cap, a->pend_n,
	                            sizeof(*a->pend)) == 0) {
		struct sim_pending *p = &a->pend[a->pend_n];
		/* Without its end the batch cannot be timed: leave it out. */
		if (spool_end(a->spool, &p->end) == OP_OK) {
			p->at_us = sim_now_us();
			p->n = (uint32_t)n;
			a->pend_n++;
		}
	}
	for (size_t i = 0; bufs && i < n; i++)
		free(bufs[i]);
	free(bufs);
	free(lens);
	if (rv == OP_OK)
		a->generated = upto;
	return rv;
}

/* ---- shipping (what agent/sender.c does) ----------------------------- */

static int
sim_collect(void *arg, struct spool_pos at, const uint8_t *data, size_t len)
{
	struct sim_agent *a = arg;
	op_event *e = opspulse__v1__event__unpack(NULL, len, data);

	if (e == NULL)
		return 0;
	if (a->n == 0)
		a->first = at;
	a->last = at;
	a->events[a->n++] = e;
	return 0;
}

static void
sim_clear(struct sim_agent *a)
{
	for (size_t i = 0; i < a->n; i++)
		opspulse__v1__event__free_unpacked(a->events[i], NULL);
	a->n = 0;
}

/* Did the aggregator acknowledge exactly the batch sent? */
static int
sim_answer(struct sim_agent *a, const uint8_t *buf, size_t len)
{
	op_reply *r = opspulse__v1__reply__unpack(NULL, len, buf);
	int rv = OP_EPROTO;

	if (r != NULL && r->error != NULL && r->error->code != 0) {
		fprintf(stderr, "fleet_sim: %s: batch of %zu refused: %s\n",
		        a->id, a->n, r->error->message);
		a->refused++;
		rv = OP_EREJECTED;
	} else if (r != NULL && r->body_case == OPSPULSE__V1__REPLY__BODY_ACK &&
	           r->ack->spool_id == spool_id(a->spool) &&
	           r->ack->committed_seq == SPOOL_SEQ(a->last)) {
		rv = OP_OK;
	}
	if (r)
		opspulse__v1__reply__free_unpacked(r, NULL);
	return rv;
}

static int
sim_encode(struct sim_agent *a, uint8_t **buf, size_t *len)
{
	op_envelope env;
	op_batch b;

	opspulse__v1__envelope__init(&env);
	opspulse__v1__batch__init(&b);
	b.agent_id = a->id;
	b.agent_version = (char *)OPSPULSE_VERSION;
	b.spool_id = spool_id(a->spool);
	b.first_seq = SPOOL_SEQ(a->first);
	b.last_seq = SPOOL_SEQ(a->last);
	b.n_events = a->n;
	b.events = a->events;
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_BATCH;
	env.batch = &b;
	return op_pack(&env.base, buf, len);
}

/* Counts what an acknowledgement up to pos delivered. */
static void
sim_delivered(struct sim_agent *a, struct spool_pos pos, int64_t now)
{
	while (a->pend_head < a->pend_n &&
	       !spool_pos_before(pos, a->pend[a->pend_head].end)) {
		struct sim_pending *p = &a->pend[a->pend_head++];
		if (sim_grow(&a->lat, &a->cap_lat, a->n_lat, sizeof(*a->lat)))
			continue;
		a->lat[a->n_lat].us = (uint32_t)(now - p->at_us);
		a->lat[a->n_lat++].n = p->n;
	}
}

static void
sim_histogram(struct sim_agent *a, size_t n)
{
	for (int i = 0; i < SIM_HIST; i++) {
		if ((long)n <= sim_hist_upper[i]) {
			a->hist[i]++;
			return;
		}
	}
}

/* Sends one batch from the cursor.  1: sent and acknowledged; 0: nothing
 * to send; negative: failed. */
static int
sim_ship(struct sim_agent *a)
{
	struct spool_pos pos;
	uint8_t *req = NULL, *rep = NULL;
	size_t reqlen, replen;
	int64_t t0, t1;
	long got;
	int rv;

	sim_clear(a);
	if (spool_cursor(a->spool, &pos) != OP_OK)
		return -1;
	got = spool_read(a->spool, &pos, (size_t)a->sim->batch, sim_collect, a,
	                 NULL);
	if (got < 0)
		return -1;
	if (a->n == 0)
		return 0;
	if (sim_encode(a, &req, &reqlen) != OP_OK)
		return -1;
	t0 = sim_now_us();
	rv = op_client_call(a->client, req, reqlen, &rep, &replen);
	t1 = sim_now_us();
	free(req);
	if (rv == OP_OK)
		rv = sim_answer(a, rep, replen);
	free(rep);
	if (rv != OP_OK || spool_ack(a->spool, pos) != OP_OK) {
		a->failures++;
		return -1;
	}
	if (sim_grow(&a->rtt, &a->cap_rtt, a->n_rtt, sizeof(*a->rtt)) == 0)
		a->rtt[a->n_rtt++] = (uint32_t)(t1 - t0);
	a->acked += (long)a->n;
	a->messages++;
	sim_histogram(a, a->n);
	sim_delivered(a, pos, t1);
	return 1;
}

/* ---- one agent ------------------------------------------------------- */

static int
sim_agent_open(struct sim_agent *a)
{
	struct sim *s = a->sim;
	struct op_tls_conf tls = {NULL, NULL, NULL, 1};
	struct op_strlist addrs = {NULL, 0};
	static char env[] = "production";
	char dir[4096];
	int rv;

	snprintf(a->id, sizeof(a->id), "%s-%05ld", s->prefix, a->idx);
	snprintf(a->service, sizeof(a->service), "%s-svc-%03ld", s->prefix,
	         a->idx % SIM_SERVICES);
	a->conf.service = a->service;
	a->conf.environment = env;
	a->conf.host = a->id;
	snprintf(dir, sizeof(dir), "%s/%s", s->root, a->id);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "fleet_sim: cannot create %s: %s\n", dir,
		        strerror(errno));
		return OP_EIO;
	}
	for (size_t i = 0; i < s->addrs.n; i++) {
		size_t j = ((size_t)a->idx + i) % s->addrs.n;
		if (op_strlist_add(&addrs, s->addrs.items[j]))
			return OP_ENOMEM;
	}
	a->events = calloc((size_t)s->batch, sizeof(*a->events));
	if (a->events == NULL)
		rv = OP_ENOMEM;
	else if ((rv = spool_open(&a->spool, dir, UINT64_C(64) << 20)) == OP_OK)
		rv = op_client_alloc(&a->client, &addrs, &tls, 30000);
	op_strlist_free(&addrs);
	return rv;
}

/* Events due by time now: the rate over the window, never past its end. */
static long
sim_due(const struct sim *s, int64_t now)
{
	double t = (double)(now - s->start_us) / 1e6;

	if (t > s->duration_s)
		t = s->duration_s;
	return t < 0 ? 0 : (long)(s->rate * t);
}

static void *
sim_agent_main(void *arg)
{
	struct sim_agent *a = arg;
	struct sim *s = a->sim;
	int64_t tick = s->tick_ms * 1000, backoff = 200000;
	int64_t next, end, deadline;
	int open = sim_agent_open(a);

	/* Once every agent is open, main sets the start; then all go. */
	pthread_barrier_wait(&s->go);
	pthread_barrier_wait(&s->go);
	if (open != OP_OK)
		return NULL;
	next = s->start_us + tick * a->idx / s->agents;
	end = s->start_us + (int64_t)(s->duration_s * 1e6);
	deadline = end + s->drain_s * 1000000;
	for (;;) {
		int64_t now = sim_now_us();
		long due = sim_due(s, now);
		int r = 0;
		if (now >= next || now >= end) {
			if (due > a->generated && sim_record(a, due) != OP_OK)
				break;
			while (next <= now)
				next += tick;
		}
		while ((r = sim_ship(a)) > 0)
			backoff = 200000;
		if (now >= deadline)
			break;
		if (r < 0) {
			sim_sleep_until(sim_now_us() + backoff);
			backoff = backoff * 2 > 5000000 ? 5000000 : backoff * 2;
		} else if (now >= end && a->generated == sim_due(s, end)) {
			a->ok = a->acked == a->generated && a->refused == 0;
			break;
		} else {
			sim_sleep_until(next < end ? next : end);
		}
	}
	sim_clear(a);
	return NULL;
}

/* ---- results --------------------------------------------------------- */

static int
sim_cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

static int
sim_cmp_lat(const void *x, const void *y)
{
	return sim_cmp_u32(&((const struct sim_lat *)x)->us,
	                   &((const struct sim_lat *)y)->us);
}

/* Prints the p50/p95/p99 of weighted samples in milliseconds. */
static void
sim_print_pct(const char *name, struct sim_lat *v, size_t n)
{
	static const double q[] = {0.50, 0.95, 0.99};
	uint64_t total = 0, seen = 0;
	size_t i = 0;

	qsort(v, n, sizeof(*v), sim_cmp_lat);
	for (size_t j = 0; j < n; j++)
		total += v[j].n;
	printf("%s_ms", name);
	for (int k = 0; k < 3; k++) {
		while (i < n && (double)(seen + v[i].n) < q[k] * (double)total)
			seen += v[i++].n;
		printf(" %.2f",
		       n ? (double)v[i < n ? i : n - 1].us / 1000 : 0.0);
	}
	printf("\n");
}

static int
sim_report(struct sim_agent *ag, long n, int64_t t_end)
{
	long kinds[K_N] = {0}, hist[SIM_HIST] = {0};
	long gen = 0, acked = 0, msgs = 0, fail = 0, refused = 0, ok = 0;
	size_t n_rtt = 0, n_lat = 0;
	struct sim_lat *rtt, *lat;

	for (long i = 0; i < n; i++) {
		for (int k = 0; k < K_N; k++)
			kinds[k] += ag[i].kinds[k];
		for (int k = 0; k < SIM_HIST; k++)
			hist[k] += ag[i].hist[k];
		gen += ag[i].generated;
		acked += ag[i].acked;
		msgs += ag[i].messages;
		fail += ag[i].failures;
		refused += ag[i].refused;
		ok += ag[i].ok;
		n_rtt += ag[i].n_rtt;
		n_lat += ag[i].n_lat;
	}
	rtt = calloc(n_rtt + 1, sizeof(*rtt));
	lat = calloc(n_lat + 1, sizeof(*lat));
	if (rtt == NULL || lat == NULL)
		return 1;
	n_rtt = n_lat = 0;
	for (long i = 0; i < n; i++) {
		for (size_t j = 0; j < ag[i].n_rtt; j++)
			rtt[n_rtt++] = (struct sim_lat){ag[i].rtt[j], 1};
		memcpy(lat + n_lat, ag[i].lat, ag[i].n_lat * sizeof(*lat));
		n_lat += ag[i].n_lat;
	}
	for (int k = 0; k < K_N; k++)
		printf("generated_%s %ld\n", sim_kind_names[k], kinds[k]);
	printf("generated %ld\nacknowledged %ld\nmessages %ld\n", gen, acked,
	       msgs);
	printf("failed_calls %ld\nrefused %ld\nagents_done %ld\n", fail,
	       refused, ok);
	printf("elapsed_s %.3f\n", (double)t_end / 1e6);
	printf("events_per_message %.1f\n", msgs ? (double)acked / msgs : 0.0);
	printf("message_sizes");
	for (int k = 0; k < SIM_HIST; k++)
		printf(" le%ld=%ld", sim_hist_upper[k], hist[k]);
	printf("\n");
	sim_print_pct("round_trip", rtt, n_rtt);
	sim_print_pct("delivery", lat, n_lat);
	free(rtt);
	free(lat);
	return ok == n && acked == gen && refused == 0 ? 0 : 1;
}

/* ---- main ------------------------------------------------------------ */

static int
sim_args(struct sim *s, int argc, char **argv)
{
	const char *addrs = NULL;
	int opt;

	s->batch = 1000;
	s->tick_ms = 1000;
	s->drain_s = 300;
	while ((opt = getopt(argc, argv, "a:n:d:r:s:p:b:t:w:")) != -1) {
		switch (opt) {
		case 'a':
			addrs = optarg;
			break;
		case 'n':
			s->agents = atol(optarg);
			break;
		case 'd':
			s->duration_s = atof(optarg);
			break;
		case 'r':
			s->rate = atof(optarg);
			break;
		case 's':
			s->root = optarg;
			break;
		case 'p':
			s->prefix = optarg;
			break;
		case 'b':
			s->batch = atol(optarg);
			break;
		case 't':
			s->tick_ms = atol(optarg);
			break;
		case 'w':
			s->drain_s = atol(optarg);
			break;
		default:
			return 1;
		}
	}
	if (addrs == NULL || s->root == NULL || s->prefix == NULL ||
	    s->agents < 1 || s->duration_s <= 0 || s->rate <= 0 ||
	    s->batch < 1 || s->batch > OP_MAX_BATCH_EVENTS || s->tick_ms < 1 ||
	    s->drain_s < 0 || strlen(s->prefix) > 40)
		return 1;
	for (const char *p = addrs; *p;) {
		size_t len = strcspn(p, ",");
		char *one = strndup(p, len);
		if (one == NULL || op_strlist_add(&s->addrs, one))
			return 1;
		free(one);
		p += len + (p[len] == ',');
	}
	return s->addrs.n == 0;
}

int
main(int argc, char **argv)
{
	struct sim s;
	struct sim_agent *ag;
	pthread_t *th;
	pthread_attr_t attr;
	int rv;

	memset(&s, 0, sizeof(s));
	if (sim_args(&s, argc, argv)) {
		fprintf(
		    stderr,
		    "usage: fleet_sim -a ADDR[,ADDR...] -n AGENTS -d SECONDS "
		    "-r EVENTS_PER_S -s SPOOL_ROOT -p PREFIX [-b BATCH] "
		    "[-t TICK_MS] [-w DRAIN_S]\n");
		return 2;
	}
	op_log_init("fleet_sim", OP_LOG_WARN);
	/* Before the agents' threads open their clients at once. */
	if (op_transport_init() != OP_OK) {
		fprintf(stderr, "fleet_sim: cannot initialise nng\n");
		return 1;
	}
	ag = calloc((size_t)s.agents, sizeof(*ag));
	th = calloc((size_t)s.agents, sizeof(*th));
	if (ag == NULL || th == NULL)
		return 1;
	pthread_barrier_init(&s.go, NULL, (unsigned)s.agents + 1);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (long i = 0; i < s.agents; i++) {
		ag[i].sim = &s;
		ag[i].idx = i;
		if (pthread_create(&th[i], &attr, sim_agent_main, &ag[i]) !=
		    0) {
			fprintf(stderr, "fleet_sim: cannot start agent %ld\n",
			        i);
			return 1;
		}
	}
	pthread_barrier_wait(&s.go);
	/* Event times lie in the last two days, so that each is valid. */
	s.base_us = op_time_now_us() - 2 * 86400 * (int64_t)OP_US_PER_SEC;
	s.start_us = sim_now_us();
	pthread_barrier_wait(&s.go);
	printf("started %ld agents\n", s.agents);
	fflush(stdout);
	for (long i = 0; i < s.agents; i++)
		pthread_join(th[i], NULL);
	rv = sim_report(ag, s.agents, sim_now_us() - s.start_us);
	for (long i = 0; i < s.agents; i++) {
		op_client_free(ag[i].client);
		spool_close(ag[i].spool);
		free(ag[i].events);
		free(ag[i].pend);
		free(ag[i].rtt);
		free(ag[i].lat);
	}
	free(ag);
	free(th);
	op_strlist_free(&s.addrs);
	return rv;
}
