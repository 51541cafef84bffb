/*
 * Fetching a report's parts through query_run (the indicators, and the
 * report's own rules of sql/functions/report.sql), half of them on a
 * second connection and thread.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "op_error.h"
#include "op_time.h"
#include "query.h"
#include "report_int.h"
#include "store.h"

static const struct rep_query {
	const char *name, *by;
	int window; /* 0: the window, 1: the previous one, 2: the trend's */
} rep_queries[P_COUNT] = {
    [P_DORA] = {"dora", NULL, 0},
    [P_DORA_PREV] = {"dora", NULL, 1},
    [P_TOIL] = {"toil", NULL, 0},
    [P_TOIL_PREV] = {"toil", NULL, 1},
    [P_ALERTS] = {"alerts", NULL, 0},
    [P_ALERTS_PREV] = {"alerts", NULL, 1},
    [P_HEALTH] = {"health", NULL, 0},
    [P_HEALTH_PREV] = {"health", NULL, 1},
    [P_WEEKLY] = {"weekly", NULL, 2},
    [P_SCORECARD] = {"scorecard", NULL, 0},
    [P_ACTIONS] = {"report_actions", NULL, 0},
    [P_RULES] = {"report_rules", NULL, 0},
    [P_SLO] = {"slo", NULL, 0},
    [P_READINESS] = {"ready_report", NULL, 0},
    [P_READINESS_ACTIONS] = {"ready_actions", NULL, 0},
    [P_INCIDENTS] = {"incidents", "incident", 0},
    [P_INCIDENT_ACTIONS] = {"report_incidents", NULL, 0},
};

/* The window (since, until) of part q of p. */
static void
rep_window(const struct rep *p, const struct rep_query *q, int64_t *since,
           int64_t *until)
{
	*since = q->window == 0   ? p->since
	         : q->window == 1 ? p->prev_since
	                          : p->trend_since;
	*until = q->window == 1 ? p->since : p->until;
}

/* Runs q, a query of query.c's table, into *out.  Returns query_run's
 * result. */
static int
rep_fetch_query(const struct rep *p, struct store *s, const struct rep_query *q,
                rep_result **out, char *err, size_t errsz)
{
	rep_request req;
	char name[32], by[16];

	/* protobuf-c's strings are not const: give it copies. */
	snprintf(name, sizeof(name), "%s", q->name);
	snprintf(by, sizeof(by), "%s", q->by ? q->by : "");
	opspulse__v1__query_request__init(&req);
	req.name = name;
	req.by = by;
	req.services = p->req->services;
	req.n_services = p->req->n_services;
	req.team = p->req->team;
	req.env = p->req->env;
	rep_window(p, q, &req.since_us, &req.until_us);
	return query_run(s, &req, out, err, errsz);
}

/* Runs part i of the page into p->r[i], replacing what an attempt on
 * another connection left.  Returns the query's result. */
static int
rep_fetch_part(struct rep *p, struct store *s, int i, char *err, size_t errsz)
{
	const struct rep_query *q = &rep_queries[i];

	store_result_free(p->r[i]);
	p->r[i] = NULL;
	return rep_fetch_query(p, s, q, &p->r[i], err, errsz);
}

/*
 * The parts run on a second connection, beside the others: the scorecard
 * (which computes every indicator again) and the weekly series take about
 * as long as all the rest, so the page takes about half as long when the
 * database has two cores to give it.
 */
static int
rep_beside(int part)
{
	return part == P_SCORECARD || part == P_WEEKLY;
}

/* One connection's share of the parts; rv and err its outcome. */
struct rep_fetcher {
	struct rep *p;
	struct store *s;
	int beside; /* run the rep_beside parts, or the others */
	int rv;
	char err[512];
};

/* Runs f's share of the parts in order, stopping at the first failure
 * (f->rv, f->err).  A pthread start routine; returns NULL. */
static void *
rep_fetch_some(void *arg)
{
	struct rep_fetcher *f = arg;

	f->rv = OP_OK;
	for (int i = 0; i < P_COUNT && f->rv == OP_OK; i++) {
		if (rep_beside(i) == f->beside)
			f->rv = rep_fetch_part(f->p, f->s, i, f->err,
			                       sizeof(f->err));
	}
	return NULL;
}

/* Every part, one after the other on s.  Returns the first failure. */
static int
rep_fetch_serial(struct rep *p, struct store *s, char *err, size_t errsz)
{
	for (int i = 0; i < P_COUNT; i++) {
		int rv = rep_fetch_part(p, s, i, err, errsz);

		if (rv != OP_OK)
			return rv;
	}
	return OP_OK;
}

int
rep_fetch(struct rep *p, struct store *s, char *err, size_t errsz)
{
	struct rep_fetcher mine = {p, s, 0, OP_OK, ""},
	                   other = {p, NULL, 1, OP_OK, ""};
	pthread_t t;

	/* Without a second connection or thread, one after the other. */
	if (store_alloc_like(&other.s, s) != OP_OK ||
	    pthread_create(&t, NULL, rep_fetch_some, &other) != 0) {
		store_free(other.s);
		return rep_fetch_serial(p, s, err, errsz);
	}
	rep_fetch_some(&mine);
	pthread_join(t, NULL);
	store_free(other.s);
	/* The second connection may be refused (max_connections) where the
	 * first works: its parts then run on the first. */
	if (mine.rv == OP_OK && other.rv != OP_OK) {
		other.s = s;
		rep_fetch_some(&other);
	}
	if (mine.rv != OP_OK || other.rv != OP_OK) {
		struct rep_fetcher *bad = mine.rv != OP_OK ? &mine : &other;

		snprintf(err, errsz, "%s", bad->err);
		return bad->rv;
	}
	return OP_OK;
}
