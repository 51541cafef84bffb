/*
 * opspulse-aggregator serve: the daemon's main thread.  It starts the
 * transport (whose workers answer requests, request.c) and the HTTP
 * address, then waits for signals and timers: SIGHUP reloads the
 * configuration, SIGTERM and SIGINT stop; the partition maintenance and
 * the rollup refresh run when they fall due.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "aggregator.h"
#include "http.h"
#include "metrics.h"
#include "op_error.h"
#include "op_log.h"
#include "op_time.h"
#include "op_transport.h"
#include "request.h"
#include "store.h"
#include "slos.h"
#include "teams.h"

#define MOD "serve"

/* Partition maintenance: every hour; every few seconds while it could not
 * reach the database. */
#define SERVE_MAINTAIN_MS (3600 * 1000)
#define SERVE_RETRY_MS    5000

/* Rollups: brought up to date every few seconds, a few months per call,
 * at once again while months remain. */
#define SERVE_ROLLUP_MS     5000
#define SERVE_ROLLUP_MONTHS 2

/* The daemon's state, on agg_serve's stack; serve_free frees it. */
struct serve_state {
	struct agg_conf *conf;
	struct request_ctx ctx; /* owns its stores and access */
	unsigned nworkers;
	struct teams_sync *teams; /* the main thread's */
	struct slos_sync *slos;   /* the main thread's */
	struct store *maint;      /* the main thread's, for partitions */
	struct store *fresh;      /* query_database's role and lag; or NULL */
	int fresh_standby;        /* its last role: 1 standby, 0 primary, -1 */
	int64_t maint_due_ms;     /* op_time_mono_ms of the next run */
	int64_t rollup_due_ms;    /* op_time_mono_ms of the next refresh */
	struct agg_http *http;    /* NULL when no HTTP address is set */
};

/* Frees what serve_init made, also after it failed half way. */
static void
serve_free(struct serve_state *st)
{
	for (unsigned i = 0; st->ctx.stores && i < st->nworkers; i++)
		store_free(st->ctx.stores[i]);
	free(st->ctx.stores);
	for (unsigned i = 0; st->ctx.queries && i < st->nworkers; i++)
		store_free(st->ctx.queries[i]);
	free(st->ctx.queries);
	store_free(st->fresh);
	teams_sync_free(st->teams);
	slos_sync_free(st->slos);
	access_free(st->ctx.access);
	store_free(st->maint);
}

/* With query_database set: a query store per worker and one for the
 * main thread's look at its replication lag.  Returns OP_OK or
 * OP_ENOMEM. */
static int
serve_init_queries(struct serve_state *st, const char *conninfo)
{
	st->fresh_standby = -1;
	if (conninfo == NULL || *conninfo == '\0')
		return OP_OK;
	if ((st->ctx.queries =
	         calloc(st->nworkers, sizeof(*st->ctx.queries))) == NULL ||
	    store_alloc_query(&st->fresh, conninfo) != OP_OK)
		return OP_ENOMEM;
	for (unsigned i = 0; i < st->nworkers; i++) {
		if (store_alloc_query(&st->ctx.queries[i], conninfo) != OP_OK)
			return OP_ENOMEM;
	}
	op_info(MOD, "queries, /report and the /metrics gauges use "
	             "query_database");
	return OP_OK;
}

/* A store per worker, the teams writer, the maintenance store and the
 * access checks for c (which must outlive st).  Returns OP_OK (also when
 * the database is unreachable: the daemon serves and waits for it),
 * OP_ENOMEM, OP_ECONFIG, or OP_EDB when the schema is older than this
 * build. */
static int
serve_init(struct serve_state *st, struct agg_conf *c)
{
	st->conf = c;
	st->nworkers = (unsigned)c->workers;
	if ((st->ctx.stores = calloc(st->nworkers, sizeof(*st->ctx.stores))) ==
	        NULL ||
	    teams_sync_alloc(&st->teams, c->database) != OP_OK ||
	    slos_sync_alloc(&st->slos, c->database) != OP_OK ||
	    store_alloc(&st->maint, c->database) != OP_OK)
		return OP_ENOMEM;
	if (access_alloc(&st->ctx.access, c, st->nworkers) != OP_OK)
		return OP_ECONFIG;
	for (unsigned i = 0; i < st->nworkers; i++) {
		if (store_alloc(&st->ctx.stores[i], c->database) != OP_OK)
			return OP_ENOMEM;
	}
	if (serve_init_queries(st, c->query_database) != OP_OK)
		return OP_ENOMEM;
	/* A schema older than this build is a deployment mistake: stop.  An
	 * unreachable database is an outage: serve, and wait for it. */
	return store_ready(st->ctx.stores[0]) == OP_EDB ? OP_EDB : OP_OK;
}

/* SIGHUP: check the file; a bad one keeps the running configuration.
 * Teams, time zone, noise_minutes and targets take effect at once, and
 * both timers fall due.  This can't fail. */
static void
serve_reload(struct serve_state *st, struct agg_conf *c)
{
	struct agg_conf next;

	if (agg_conf_load(&next, c->config_file, NULL) != OP_OK) {
		op_error(MOD,
		         "reload of %s failed; keeping the running "
		         "configuration",
		         c->config_file);
	} else {
		op_info(MOD,
		        "%s is valid; listen addresses, database, TLS, "
		        "workers and identities take effect on restart",
		        c->config_file);
		if (st->http && agg_http_reload(st->http, &next) != OP_OK)
			op_error(MOD, "the HTTP address keeps its running "
			              "certificate and credentials");
		teams_take(c, &next);
		teams_sync_run(st->teams, c);
		slos_take(c, &next);
		slos_sync_run(st->slos, c);
		c->retention_days = next.retention_days;
		st->maint_due_ms = op_time_mono_ms(); /* now */
		st->rollup_due_ms = st->maint_due_ms;
	}
	agg_conf_free(&next);
}

/* Logs what opspulse.maintain_partitions changed (result r), if
 * anything.  This can't fail. */
static void
serve_maintain_log(const Opspulse__V1__QueryResult *r, long long days)
{
	const char *created, *dropped;

	if (r->n_rows != 1 || r->rows[0]->n_cells != 2)
		return;
	created = r->rows[0]->cells[0]->text;
	dropped = r->rows[0]->cells[1]->text;
	if (strcmp(created, "0") != 0)
		op_info(MOD, "created %s monthly event partitions", created);
	if (strcmp(dropped, "0") != 0)
		op_info(MOD,
		        "dropped %s monthly event partitions older than "
		        "retention_days = %lld, with their events",
		        dropped, days);
}

/*
 * Creates the event partitions of the coming months and drops those past
 * retention_days (opspulse.maintain_partitions).  Events never wait for
 * it: those of a month without a partition go to the default one.  On
 * failure it logs why and is due again a few seconds later.
 */
static void
serve_maintain(struct serve_state *st)
{
	static const char sql[] = "SELECT created, dropped FROM "
	                          "opspulse.maintain_partitions($1::integer)";
	Opspulse__V1__QueryResult *r = NULL;
	char days[24], err[512];
	const char *params[1] = {days};
	int rv;

	snprintf(days, sizeof(days), "%lld", st->conf->retention_days);
	rv = store_query(st->maint, sql, params, 1, &r, err, sizeof(err));
	if (rv == OP_OK)
		serve_maintain_log(r, st->conf->retention_days);
	else if (rv != OP_EUNAVAIL)
		op_error(MOD, "partition maintenance failed: %s; retrying",
		         err);
	store_result_free(r);
	st->maint_due_ms = op_time_mono_ms() +
	                   (rv == OP_OK ? SERVE_MAINTAIN_MS : SERVE_RETRY_MS);
}

/*
 * Brings the monthly rollups up to date (opspulse.refresh_rollups): the
 * months whose events changed since, and closed months not rolled up yet.
 * Queries read the events wherever a rollup is not current, so a late or
 * failed refresh makes them slower, never wrong.
 */
static void
serve_refresh_rollups(struct serve_state *st)
{
	static const char sql[] =
	    "SELECT opspulse.refresh_rollups($1::integer)";
	Opspulse__V1__QueryResult *r = NULL;
	char months[16], err[512];
	const char *params[1] = {months};
	int64_t t0 = op_time_mono_ms(), next = SERVE_ROLLUP_MS;
	int rv;

	snprintf(months, sizeof(months), "%d", SERVE_ROLLUP_MONTHS);
	rv = store_query(st->maint, sql, params, 1, &r, err, sizeof(err));
	if (rv == OP_OK && r->n_rows == 1 && r->rows[0]->n_cells == 1 &&
	    r->rows[0]->cells[0]->text) {
		long n = strtol(r->rows[0]->cells[0]->text, NULL, 10);

		if (n > 0)
			op_debug(MOD, "rolled up %ld months in %lld ms", n,
			         (long long)(op_time_mono_ms() - t0));
		if (n >= SERVE_ROLLUP_MONTHS)
			next = 0; /* more to do */
	} else if (rv != OP_OK && rv != OP_EUNAVAIL) {
		op_error(MOD, "rollup refresh failed: %s; retrying", err);
	}
	store_result_free(r);
	st->rollup_due_ms = op_time_mono_ms() + next;
}

/*
 * Asks query_database whether it is a standby and how far it lags, for
 * /metrics; logs when its role changes (a promotion).  Nothing when
 * query_database is unset.  This can't fail: an unreachable server is
 * logged by the store and asked again next time.
 */
static void
serve_freshness(struct serve_state *st)
{
	char err[256];
	double lag;
	int standby;

	if (st->fresh == NULL || store_freshness(st->fresh, &standby, &lag, err,
	                                         sizeof(err)) != OP_OK)
		return;
	metrics_query_database(standby, lag);
	if (standby != st->fresh_standby)
		op_info(MOD, "query_database is %s: queries %s",
		        standby ? "a standby" : "a primary",
		        standby ? "are answered as of its last replayed "
		                  "transaction (replay lag on /metrics)"
		                : "see every acknowledged event");
	st->fresh_standby = standby;
}

/* The next signal; 0 when partition maintenance or the rollup refresh
 * falls due, or after a few seconds when a teams write is pending (it is
 * retried then); -1 on failure. */
static int
serve_wait(const sigset_t *set, const struct serve_state *st)
{
	int64_t now = op_time_mono_ms();
	int64_t ms = st->maint_due_ms - now;
	struct timespec wait;
	int sig;

	if (st->rollup_due_ms - now < ms)
		ms = st->rollup_due_ms - now;
	if ((teams_sync_pending(st->teams) || slos_sync_pending(st->slos)) &&
	    ms > SERVE_RETRY_MS)
		ms = SERVE_RETRY_MS;
	ms = ms < 0 ? 0 : ms;
	wait.tv_sec = (time_t)(ms / 1000);
	wait.tv_nsec = (long)(ms % 1000) * 1000000L;
	sig = sigtimedwait(set, NULL, &wait);
	return sig < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : sig;
}

/* Blocks SIGTERM, SIGINT and SIGHUP in this thread, and so in every
 * thread started after it: serve_wait takes them.  SIGPIPE is ignored.
 * This can't fail. */
static void
serve_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Waits for signals and timers until SIGTERM or SIGINT (returned), or a
 * failed wait (-1).  This can't fail otherwise. */
static int
serve_loop(struct serve_state *st, struct agg_conf *c, const sigset_t *set)
{
	int sig;

	while ((sig = serve_wait(set, st)) == 0 || sig == SIGHUP) {
		if (sig == SIGHUP)
			serve_reload(st, c);
		else if (teams_sync_pending(st->teams))
			teams_sync_run(st->teams, c);
		if (sig == 0 && slos_sync_pending(st->slos))
			slos_sync_run(st->slos, c);
		if (op_time_mono_ms() >= st->maint_due_ms)
			serve_maintain(st);
		if (op_time_mono_ms() >= st->rollup_due_ms) {
			serve_refresh_rollups(st);
			serve_freshness(st);
		}
	}
	return sig;
}

int
agg_serve(struct agg_conf *c)
{
	struct serve_state st = {0};
	struct op_server *server = NULL;
	struct agg_http *http = NULL;
	sigset_t set;
	int sig;

	/* Block the signals before nng starts threads; sigwait takes them. */
	serve_signals(&set);
	if (c->tls.insecure)
		op_warn(MOD,
		        "tls.insecure is set: plain tcp:// is allowed; "
		        "events are unencrypted and not bound to identities");
	if (serve_init(&st, c) != OP_OK) {
		serve_free(&st);
		return 1;
	}
	/* Teams first, so that no query is answered with stale ones.
	 * Partition maintenance waits for the loop (maint_due_ms is 0):
	 * events never need it, and it can wait on locks. */
	teams_sync_run(st.teams, c);
	slos_sync_run(st.slos, c);
	serve_freshness(&st);
	if (op_server_start(&server, &c->listen, &c->tls, st.nworkers,
	                    request_handle, &st.ctx) != OP_OK) {
		serve_free(&st);
		return 1;
	}
	if (c->http && *c->http && agg_http_start(&http, c, server) != OP_OK) {
		op_server_free(server);
		serve_free(&st);
		return 1;
	}
	st.http = http;
	op_info(MOD, "serving with %u workers", st.nworkers);
	sig = serve_loop(&st, c, &set);
	op_info(MOD, "stopping on signal %d", sig);
	agg_http_stop(http);
	op_server_free(server);
	serve_free(&st);
	return 0;
}
