/*
 * The aggregator's request handler and daemon loop: every request gets an
 * answer; a batch is acknowledged only after its COMMIT; a bad message gets
 * an error reply and stores nothing.
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
#include "dispatch.h"
#include "eol.h"
#include "http.h"
#include "metrics.h"
#include "op_codec.h"
#include "op_error.h"
#include "op_log.h"
#include "op_time.h"
#include "store.h"
#include "teams.h"

#define MOD "ingest"

/* Partition maintenance: every hour; every few seconds while it could not
 * reach the database. */
#define AGG_MAINTAIN_MS (3600 * 1000)
#define AGG_RETRY_MS    5000

/* Rollups: brought up to date every few seconds, a few months per call,
 * at once again while months remain. */
#define AGG_ROLLUP_MS     5000
#define AGG_ROLLUP_MONTHS 2

struct agg_server {
	struct agg_conf *conf;
	struct store **stores; /* one per worker */
	unsigned nworkers;
	struct teams_sync *teams; /* the main thread's */
	struct access *access;
	struct store *maint;   /* the main thread's, for partitions */
	int64_t maint_due_ms;  /* op_time_mono_ms of the next run */
	int64_t rollup_due_ms; /* op_time_mono_ms of the next refresh */
};

static int
agg_reply_error(op_reply *r, Opspulse__V1__Error *e,
                Opspulse__V1__ErrorCode code, char *msg, int index)
{
	e->code = code;
	e->message = (char *)msg;
	e->event_index = index;
	r->error = e;
	r->body_case = OPSPULSE__V1__REPLY__BODY__NOT_SET;
	return OP_OK;
}

static enum metrics_reject
agg_limit_reason(enum op_limit limit)
{
	switch (limit) {
	case OP_LIMIT_BATCH_SIZE:
		return METRICS_REJECT_BATCH_SIZE;
	case OP_LIMIT_STRING:
		return METRICS_REJECT_STRING;
	case OP_LIMIT_TIME:
		return METRICS_REJECT_TIME;
	default:
		return METRICS_REJECT_INVALID;
	}
}

/* Checks a batch's limits and that its sender may write its hosts. */
static int
agg_batch_check(struct agg_server *srv, const struct access_who *who,
                const op_batch *b, op_reply *r, Opspulse__V1__Error *e,
                char *err, size_t errsz)
{
	enum op_limit limit;
	int bad;

	if (op_batch_check(b, op_time_now_us(), &bad, &limit, err, errsz) !=
	    OP_OK) {
		metrics_reject(agg_limit_reason(limit));
		agg_reply_error(r, e,
		                OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID,
		                err, bad);
	} else if (access_hosts(srv->access, who, b, &bad, err, errsz) !=
	           OP_OK) {
		metrics_reject(METRICS_REJECT_HOST);
		agg_reply_error(r, e,
		                OPSPULSE__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN,
		                err, bad);
	} else {
		return OP_OK;
	}
	op_warn(MOD, "rejected a batch from agent %s (%s): %s", b->agent_id,
	        access_name(who), err);
	return OP_EINVAL;
}

static void
agg_batch(struct agg_server *srv, unsigned worker, const struct access_who *who,
          const op_batch *b, op_reply *r, Opspulse__V1__Error *e,
          Opspulse__V1__Ack *ack, char *err, size_t errsz)
{
	uint32_t stored = 0, dups = 0;
	int64_t t0 = op_time_mono_us();
	int rv;

	if (agg_batch_check(srv, who, b, r, e, err, errsz) != OP_OK)
		return;
	rv = store_ingest(srv->stores[worker], b, &stored, &dups, err, errsz);
	metrics_batch(rv == OP_OK         ? METRICS_BATCH_STORED
	              : rv == OP_EUNAVAIL ? METRICS_BATCH_UNAVAILABLE
	                                  : METRICS_BATCH_FAILED,
	              b->n_events, stored, dups,
	              (double)(op_time_mono_us() - t0) / 1e6);
	if (rv != OP_OK) {
		if (rv != OP_EUNAVAIL)
			op_error(MOD, "cannot store a batch from agent %s: %s",
			         b->agent_id, err);
		agg_reply_error(
		    r, e,
		    rv == OP_EUNAVAIL
		        ? OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE
		        : OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INTERNAL,
		    err, -1);
		return;
	}
	op_debug(MOD, "agent %s: %zu events, %u new, %u duplicates, %lld ms",
	         b->agent_id, b->n_events, stored, dups,
	         (long long)(op_time_mono_us() - t0) / 1000);
	ack->spool_id = b->spool_id;
	ack->committed_seq = b->last_seq;
	ack->stored = stored;
	ack->duplicates = dups;
	r->body_case = OPSPULSE__V1__REPLY__BODY_ACK;
	r->ack = ack;
}

static Opspulse__V1__ErrorCode
agg_query_code(int rv)
{
	switch (rv) {
	case OP_ENOTFOUND:
		return OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNSUPPORTED;
	case OP_EINVAL:
		return OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID;
	case OP_EUNAVAIL:
		return OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE;
	default:
		return OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INTERNAL;
	}
}

/* `opspulse eol import`: answered with the product's catalog. */
static void
agg_eol_import(struct agg_server *srv, unsigned worker,
               const Opspulse__V1__EolImport *imp, op_reply *r,
               Opspulse__V1__Error *e, Opspulse__V1__QueryResult **result,
               char *err, size_t errsz)
{
	int rv = eol_import(srv->stores[worker], imp, result, err, errsz);

	if (rv == OP_OK) {
		op_info(MOD, "EOL catalog: imported %zu cycles of %s",
		        imp->n_cycles, imp->product);
		r->body_case = OPSPULSE__V1__REPLY__BODY_RESULT;
		r->result = *result;
	} else {
		agg_reply_error(r, e, agg_query_code(rv), err, -1);
	}
}

/* A request refused before its body is looked at (access.h). */
static void
agg_refuse(int rv, const struct op_peer *peer, const struct access_who *who,
           op_reply *r, Opspulse__V1__Error *e, char *err)
{
	op_warn(MOD, "refused a request from %s%s: %s", access_name(who),
	        peer->tls ? " over TLS" : "", err);
	metrics_reject(rv == OP_EPROTO ? METRICS_REJECT_MALFORMED
	                               : METRICS_REJECT_ROLE);
	agg_reply_error(r, e,
	                rv == OP_EPROTO
	                    ? OPSPULSE__V1__ERROR_CODE__ERROR_CODE_MALFORMED
	                    : OPSPULSE__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN,
	                err, -1);
}

static int
agg_handle(void *arg, unsigned worker, const struct op_peer *peer,
           const uint8_t *req, size_t len, uint8_t **out, size_t *outlen)
{
	struct agg_server *srv = arg;
	op_reply r;
	Opspulse__V1__Error e;
	Opspulse__V1__Ack ack;
	Opspulse__V1__QueryResult *result = NULL;
	op_envelope *env = NULL;
	struct access_who who = {0};
	static char empty_request[] = "empty or unknown request";
	char err[1024];
	int rv;

	opspulse__v1__reply__init(&r);
	opspulse__v1__error__init(&e);
	opspulse__v1__ack__init(&ack);
	r.protocol_version = OP_PROTOCOL_VERSION;
	if (len > OP_MAX_MESSAGE_BYTES) {
		snprintf(err, sizeof(err),
		         "message of %zu bytes exceeds the limit of %u bytes; "
		         "send smaller batches",
		         len, OP_MAX_MESSAGE_BYTES);
		metrics_reject(METRICS_REJECT_TOO_LARGE);
		agg_reply_error(&r, &e,
		                OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID,
		                err, -1);
	} else if ((env = opspulse__v1__envelope__unpack(NULL, len, req)) ==
	           NULL) {
		snprintf(err, sizeof(err),
		         "message of %zu bytes is not an "
		         "OpsPulse envelope",
		         len);
		metrics_reject(METRICS_REJECT_MALFORMED);
		agg_reply_error(&r, &e,
		                OPSPULSE__V1__ERROR_CODE__ERROR_CODE_MALFORMED,
		                err, -1);
	} else if (env->protocol_version < OP_PROTOCOL_VERSION_MIN) {
		snprintf(
		    err, sizeof(err),
		    "protocol version %u is too old; this aggregator needs "
		    "%d or newer: upgrade the sender",
		    env->protocol_version, OP_PROTOCOL_VERSION_MIN);
		metrics_reject(METRICS_REJECT_VERSION);
		agg_reply_error(
		    &r, &e, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNSUPPORTED,
		    err, -1);
	} else if ((rv = access_open(srv->access, worker, peer, &env, &who, err,
	                             sizeof(err))) != OP_OK ||
	           (rv = access_role(&who, env, err, sizeof(err))) != OP_OK) {
		agg_refuse(rv, peer, &who, &r, &e, err);
	} else if (env->body_case == OPSPULSE__V1__ENVELOPE__BODY_BATCH) {
		agg_batch(srv, worker, &who, env->batch, &r, &e, &ack, err,
		          sizeof(err));
	} else if (env->body_case == OPSPULSE__V1__ENVELOPE__BODY_QUERY) {
		int64_t t0 = op_time_mono_us();

		rv = dispatch_query(srv->stores[worker], env->query, &result,
		                    err, sizeof(err));
		metrics_query(rv == OP_OK,
		              (double)(op_time_mono_us() - t0) / 1e6);
		if (rv == OP_OK) {
			r.body_case = OPSPULSE__V1__REPLY__BODY_RESULT;
			r.result = result;
		} else {
			agg_reply_error(&r, &e, agg_query_code(rv), err, -1);
		}
	} else if (env->body_case == OPSPULSE__V1__ENVELOPE__BODY_EOL_IMPORT) {
		agg_eol_import(srv, worker, env->eol_import, &r, &e, &result,
		               err, sizeof(err));
	} else {
		metrics_reject(METRICS_REJECT_UNKNOWN);
		agg_reply_error(
		    &r, &e, OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNSUPPORTED,
		    empty_request, -1);
	}
	if (r.error)
		op_debug(MOD, "answering with an error: %s", r.error->message);
	rv = op_pack(&r.base, out, outlen);
	store_result_free(result);
	if (env)
		opspulse__v1__envelope__free_unpacked(env, NULL);
	return rv;
}

/* ---- daemon --------------------------------------------------------- */

static void
agg_server_free(struct agg_server *srv)
{
	for (unsigned i = 0; srv->stores && i < srv->nworkers; i++)
		store_free(srv->stores[i]);
	free(srv->stores);
	teams_sync_free(srv->teams);
	access_free(srv->access);
	store_free(srv->maint);
}

static int
agg_server_init(struct agg_server *srv, struct agg_conf *c)
{
	srv->conf = c;
	srv->nworkers = (unsigned)c->workers;
	if ((srv->stores = calloc(srv->nworkers, sizeof(*srv->stores))) ==
	        NULL ||
	    teams_sync_alloc(&srv->teams, c->database) != OP_OK ||
	    store_alloc(&srv->maint, c->database) != OP_OK)
		return OP_ENOMEM;
	if (access_alloc(&srv->access, c, srv->nworkers) != OP_OK)
		return OP_ECONFIG;
	for (unsigned i = 0; i < srv->nworkers; i++) {
		if (store_alloc(&srv->stores[i], c->database) != OP_OK)
			return OP_ENOMEM;
	}
	/* A schema older than this build is a deployment mistake: stop.  An
	 * unreachable database is an outage: serve, and wait for it. */
	return store_ready(srv->stores[0]) == OP_EDB ? OP_EDB : OP_OK;
}

/* SIGHUP: check the file; a bad one keeps the running configuration.
 * Teams, time zone, noise_minutes and targets take effect at once. */
static void
agg_reload(struct agg_server *srv, struct agg_conf *c)
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
		teams_take(c, &next);
		teams_sync_run(srv->teams, c);
		c->retention_days = next.retention_days;
		srv->maint_due_ms = op_time_mono_ms(); /* now */
		srv->rollup_due_ms = srv->maint_due_ms;
	}
	agg_conf_free(&next);
}

static void
agg_maintain_log(const Opspulse__V1__QueryResult *r, long long days)
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
agg_maintain(struct agg_server *srv)
{
	static const char sql[] = "SELECT created, dropped FROM "
	                          "opspulse.maintain_partitions($1::integer)";
	Opspulse__V1__QueryResult *r = NULL;
	char days[24], err[512];
	const char *params[1] = {days};
	int rv;

	snprintf(days, sizeof(days), "%lld", srv->conf->retention_days);
	rv = store_query(srv->maint, sql, params, 1, &r, err, sizeof(err));
	if (rv == OP_OK)
		agg_maintain_log(r, srv->conf->retention_days);
	else if (rv != OP_EUNAVAIL)
		op_error(MOD, "partition maintenance failed: %s; retrying",
		         err);
	store_result_free(r);
	srv->maint_due_ms =
	    op_time_mono_ms() + (rv == OP_OK ? AGG_MAINTAIN_MS : AGG_RETRY_MS);
}

/*
 * Brings the monthly rollups up to date (opspulse.refresh_rollups): the
 * months whose events changed since, and closed months not rolled up yet.
 * Queries read the events wherever a rollup is not current, so a late or
 * failed refresh makes them slower, never wrong.
 */
static void
agg_refresh_rollups(struct agg_server *srv)
{
	static const char sql[] =
	    "SELECT opspulse.refresh_rollups($1::integer)";
	Opspulse__V1__QueryResult *r = NULL;
	char months[16], err[512];
	const char *params[1] = {months};
	int64_t t0 = op_time_mono_ms(), next = AGG_ROLLUP_MS;
	int rv;

	snprintf(months, sizeof(months), "%d", AGG_ROLLUP_MONTHS);
	rv = store_query(srv->maint, sql, params, 1, &r, err, sizeof(err));
	if (rv == OP_OK && r->n_rows == 1 && r->rows[0]->n_cells == 1 &&
	    r->rows[0]->cells[0]->text) {
		long n = strtol(r->rows[0]->cells[0]->text, NULL, 10);

		if (n > 0)
			op_debug(MOD, "rolled up %ld months in %lld ms", n,
			         (long long)(op_time_mono_ms() - t0));
		if (n >= AGG_ROLLUP_MONTHS)
			next = 0; /* more to do */
	} else if (rv != OP_OK && rv != OP_EUNAVAIL) {
		op_error(MOD, "rollup refresh failed: %s; retrying", err);
	}
	store_result_free(r);
	srv->rollup_due_ms = op_time_mono_ms() + next;
}

/* The next signal; 0 when partition maintenance or the rollup refresh
 * falls due, or after a few seconds when a teams write is pending (it is
 * retried then); -1 on failure. */
static int
agg_wait(const sigset_t *set, const struct agg_server *srv)
{
	int64_t now = op_time_mono_ms();
	int64_t ms = srv->maint_due_ms - now;
	struct timespec wait;
	int sig;

	if (srv->rollup_due_ms - now < ms)
		ms = srv->rollup_due_ms - now;
	if (teams_sync_pending(srv->teams) && ms > AGG_RETRY_MS)
		ms = AGG_RETRY_MS;
	ms = ms < 0 ? 0 : ms;
	wait.tv_sec = (time_t)(ms / 1000);
	wait.tv_nsec = (long)(ms % 1000) * 1000000L;
	sig = sigtimedwait(set, NULL, &wait);
	return sig < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : sig;
}

int
agg_serve(struct agg_conf *c)
{
	struct agg_server srv = {0};
	struct op_server *server = NULL;
	struct agg_http *http = NULL;
	struct op_tls_conf tls;
	sigset_t set;
	int sig = 0, rv;

	/* Block the signals before nng starts threads; sigwait takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	agg_conf_tls(c, &tls);
	if (c->tls_insecure)
		op_warn(MOD,
		        "tls.insecure is set: plain tcp:// is allowed; "
		        "events are unencrypted and not bound to identities");
	if ((rv = agg_server_init(&srv, c)) != OP_OK) {
		agg_server_free(&srv);
		return 1;
	}
	/* Teams first, so that no query is answered with stale ones. */
	teams_sync_run(srv.teams, c);
	agg_maintain(&srv);
	if ((rv = op_server_start(&server, &c->listen, &tls, srv.nworkers,
	                          agg_handle, &srv)) != OP_OK) {
		agg_server_free(&srv);
		return 1;
	}
	if (c->http && *c->http &&
	    agg_http_start(&http, c->http, c->database, server) != OP_OK) {
		op_server_free(server);
		agg_server_free(&srv);
		return 1;
	}
	op_info(MOD, "serving with %u workers", srv.nworkers);
	while ((sig = agg_wait(&set, &srv)) == 0 || sig == SIGHUP) {
		if (sig == SIGHUP)
			agg_reload(&srv, c);
		else if (teams_sync_pending(srv.teams))
			teams_sync_run(srv.teams, c);
		if (op_time_mono_ms() >= srv.maint_due_ms)
			agg_maintain(&srv);
		if (op_time_mono_ms() >= srv.rollup_due_ms)
			agg_refresh_rollups(&srv);
	}
	op_info(MOD, "stopping on signal %d", sig);
	agg_http_stop(http);
	op_server_free(server);
	agg_server_free(&srv);
	return 0;
}
