/*
 * The batch write path: one transaction per batch, and per event kind one
 * multi-row INSERT ... SELECT FROM unnest(column arrays), so that a batch
 * of thousands of events costs a handful of statements.  Every statement
 * is idempotent (ON CONFLICT on the SPEC §2.1 keys); values travel as
 * parameters (PostgreSQL array literals), never spliced into SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_error.h"
#include "op_time.h"
#include "store.h"
#include "store_int.h"

#define STORE_MAX_COLS 12

/*
 * One row per event kind: its table, its columns in the order
 * store_bind_event produces them with their types, and what to do on
 * conflict.  "pick" keeps one row per key within a batch, for the kinds
 * whose conflict clause updates (PostgreSQL cannot update a row twice in
 * one statement).
 */
static const struct store_kind {
	const char *stmt;
	const char *table;
	const char *columns;
	const char *types;
	const char *pick; /* DISTINCT ON (...) ORDER BY ..., or NULL */
	const char *conflict;
} store_kinds[] = {
    [OPSPULSE__V1__EVENT__KIND_DEPLOY] =
        {"bulk_deploy", "deploys",
         "service, env, host, deploy_id, operator, started_at, "
         "finished_at, outcome, version, commit_time, hotfix, agent_id",
         "text, text, text, text, text, timestamptz, timestamptz, text, "
         "text, timestamptz, boolean, text",
         NULL, "ON CONFLICT DO NOTHING"},
    [OPSPULSE__V1__EVENT__KIND_DEPLOY_FAILURE] =
        {"bulk_deploy_failure", "deploy_failures",
         "service, env, host, deploy_id, at, agent_id",
         "text, text, text, text, timestamptz, text", NULL,
         "ON CONFLICT DO NOTHING"},
    [OPSPULSE__V1__EVENT__KIND_TOIL] =
        {"bulk_toil", "toil",
         "service, env, host, operator, task, started_at, duration_s, "
         "source, agent_id",
         "text, text, text, text, text, timestamptz, bigint, text, text", NULL,
         "ON CONFLICT DO NOTHING"},
    [OPSPULSE__V1__EVENT__KIND_BATCH] =
        {"bulk_batch", "batch_runs",
         "service, env, host, task, started_at, duration_s, outcome, "
         "agent_id",
         "text, text, text, text, timestamptz, bigint, text, text", NULL,
         "ON CONFLICT DO NOTHING"},
    /* An episode, once it has an end, keeps it. */
    [OPSPULSE__V1__EVENT__KIND_ALERT] =
        {"bulk_alert", "alerts",
         "service, env, host, fingerprint, starts_at, alertname, severity, "
         "ends_at, agent_id",
         "text, text, text, text, timestamptz, text, text, timestamptz, "
         "text",
         "DISTINCT ON (fingerprint, starts_at) * FROM u ORDER BY "
         "fingerprint, starts_at, ends_at NULLS LAST",
         "ON CONFLICT (fingerprint, starts_at) DO UPDATE SET ends_at = "
         "EXCLUDED.ends_at WHERE alerts.ends_at IS NULL AND "
         "EXCLUDED.ends_at IS NOT NULL"},
    [OPSPULSE__V1__EVENT__KIND_COMPONENT] =
        {"bulk_component", "components",
         "service, env, host, name, version, observed_at, agent_id",
         "text, text, text, text, text, timestamptz, text", NULL,
         "ON CONFLICT DO NOTHING"},
    /* A maintenance item recorded again takes the latest content. */
    [OPSPULSE__V1__EVENT__KIND_MAINTENANCE] =
        {"bulk_maintenance", "maintenance",
         "service, env, host, maint_id, component, title, due_at, status, "
         "recorded_at, agent_id",
         "text, text, text, text, text, text, timestamptz, text, "
         "timestamptz, text",
         "DISTINCT ON (service, maint_id) * FROM u ORDER BY service, "
         "maint_id, recorded_at DESC",
         "ON CONFLICT (service, maint_id) DO UPDATE SET env = EXCLUDED.env, "
         "host = EXCLUDED.host, component = EXCLUDED.component, title = "
         "EXCLUDED.title, due_at = EXCLUDED.due_at, status = "
         "EXCLUDED.status, recorded_at = EXCLUDED.recorded_at WHERE "
         "EXCLUDED.recorded_at > maintenance.recorded_at"},
    [OPSPULSE__V1__EVENT__KIND_CAPACITY] =
        {"bulk_capacity", "capacity",
         "service, env, host, at, cpu_pct, mem_pct, mount, "
         "disk_used_bytes, disk_total_bytes, agent_id",
         "text, text, text, timestamptz, double precision, double "
         "precision, text, bigint, bigint, text",
         NULL, "ON CONFLICT DO NOTHING"},
};

#define STORE_NKINDS (sizeof(store_kinds) / sizeof(store_kinds[0]))

/* ---- growable strings --------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	int failed;
};

static void
sb_grow(struct sbuf *b, size_t more)
{
	char *np;
	size_t cap;

	if (b->failed || b->len + more + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((np = realloc(b->p, cap)) == NULL) {
		b->failed = 1;
		return;
	}
	b->p = np;
	b->cap = cap;
}

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	sb_grow(b, n);
	if (b->failed)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Appends one array element: NULL, or a double-quoted, escaped string. */
static void
sb_element(struct sbuf *b, const char *v)
{
	const char *run;

	sb_add(b, b->len > 1 ? "," : "", b->len > 1);
	if (v == NULL) {
		sb_str(b, "NULL");
		return;
	}
	sb_add(b, "\"", 1);
	for (run = v; *v; v++) {
		if (*v == '"' || *v == '\\') {
			sb_add(b, run, (size_t)(v - run));
			sb_add(b, "\\", 1);
			run = v;
		}
	}
	sb_str(b, run);
	sb_add(b, "\"", 1);
}

/* ---- binding ------------------------------------------------------------ */

/* Text values of one event's columns, in store_kinds order. */
struct store_row {
	const char *v[STORE_MAX_COLS];
	char buf[STORE_MAX_COLS][OP_TIME_BUFSZ];
	int n;
};

static void
r_str(struct store_row *r, const char *s)
{
	r->v[r->n++] = s;
}

/* An optional string: empty is SQL NULL. */
static void
r_opt(struct store_row *r, const char *s)
{
	r->v[r->n++] = s && *s ? s : NULL;
}

static void
r_time(struct store_row *r, int64_t us)
{
	r->v[r->n] = op_time_format(us, r->buf[r->n], OP_TIME_BUFSZ);
	r->n++;
}

/* A time where 0 means unknown: SQL NULL. */
static void
r_opt_time(struct store_row *r, int64_t us)
{
	if (us == 0)
		r->v[r->n++] = NULL;
	else
		r_time(r, us);
}

static void
r_int(struct store_row *r, long long v)
{
	snprintf(r->buf[r->n], OP_TIME_BUFSZ, "%lld", v);
	r->v[r->n] = r->buf[r->n];
	r->n++;
}

static void
r_real(struct store_row *r, double v)
{
	snprintf(r->buf[r->n], OP_TIME_BUFSZ, "%.17g", v);
	r->v[r->n] = r->buf[r->n];
	r->n++;
}

static void
bind_deploy(struct store_row *r, const op_event *e)
{
	const Opspulse__V1__Deploy *d = e->deploy;

	r_str(r, d->id);
	r_opt(r, e->operator_);
	r_time(r, d->started_us);
	r_time(r, d->finished_us);
	r_str(r, op_outcome_name(d->outcome));
	r_opt(r, d->version);
	r_opt_time(r, d->commit_time_us);
	r_str(r, d->hotfix ? "true" : "false");
}

static void
bind_toil(struct store_row *r, const op_event *e)
{
	r_opt(r, e->operator_);
	r_str(r, e->toil->task);
	r_time(r, e->toil->started_us);
	r_int(r, e->toil->duration_s);
	r_str(r, op_toil_source_name(e->toil->source));
}

static void
bind_batch(struct store_row *r, const op_event *e)
{
	r_str(r, e->batch->task);
	r_time(r, e->batch->started_us);
	r_int(r, e->batch->duration_s);
	r_str(r, op_outcome_name(e->batch->outcome));
}

static void
bind_alert(struct store_row *r, const op_event *e)
{
	r_str(r, e->alert->fingerprint);
	r_time(r, e->alert->starts_us);
	r_str(r, e->alert->alertname);
	r_opt(r, e->alert->severity);
	r_opt_time(r, e->alert->ends_us);
}

static void
bind_maintenance(struct store_row *r, const op_event *e)
{
	const Opspulse__V1__Maintenance *m = e->maintenance;

	r_str(r, m->id);
	r_str(r, m->component);
	r_str(r, m->title);
	r_time(r, m->due_us);
	r_str(r, op_maintenance_status_name(m->status));
	r_time(r, e->recorded_us ? e->recorded_us : op_time_now_us());
}

static void
bind_capacity(struct store_row *r, const op_event *e)
{
	const Opspulse__V1__Capacity *c = e->capacity;

	r_time(r, c->at_us);
	r_real(r, c->cpu_pct);
	r_real(r, c->mem_pct);
	r_opt(r, c->mount);
	if (c->disk_total_bytes == 0) {
		r_str(r, NULL);
		r_str(r, NULL);
	} else {
		r_int(r, (long long)c->disk_used_bytes);
		r_int(r, (long long)c->disk_total_bytes);
	}
}

/* Fills r with the columns of e; returns 0, or -1 for an unknown kind. */
static int
store_bind_event(struct store_row *r, const op_event *e, const char *agent)
{
	r->n = 0;
	r_str(r, e->service);
	r_str(r, e->env);
	r_str(r, e->host);
	switch (e->kind_case) {
	case OPSPULSE__V1__EVENT__KIND_DEPLOY:
		bind_deploy(r, e);
		break;
	case OPSPULSE__V1__EVENT__KIND_DEPLOY_FAILURE:
		r_str(r, e->deploy_failure->id);
		r_time(r, e->deploy_failure->at_us);
		break;
	case OPSPULSE__V1__EVENT__KIND_TOIL:
		bind_toil(r, e);
		break;
	case OPSPULSE__V1__EVENT__KIND_BATCH:
		bind_batch(r, e);
		break;
	case OPSPULSE__V1__EVENT__KIND_ALERT:
		bind_alert(r, e);
		break;
	case OPSPULSE__V1__EVENT__KIND_COMPONENT:
		r_str(r, e->component->name);
		r_str(r, e->component->version);
		r_time(r, e->component->observed_us);
		break;
	case OPSPULSE__V1__EVENT__KIND_MAINTENANCE:
		bind_maintenance(r, e);
		break;
	case OPSPULSE__V1__EVENT__KIND_CAPACITY:
		bind_capacity(r, e);
		break;
	default:
		return -1;
	}
	r_str(r, agent);
	return 0;
}

/* ---- statements --------------------------------------------------------- */

/* Writes the INSERT for kind k: $n is the array of column n. */
static void
store_kind_sql(const struct store_kind *k, struct sbuf *sql)
{
	char types[512], *save = NULL, *t;
	int n = 0;

	snprintf(types, sizeof(types), "%s", k->types);
	sb_str(sql, "WITH u (");
	sb_str(sql, k->columns);
	sb_str(sql, ") AS (SELECT * FROM unnest(");
	for (t = strtok_r(types, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		char param[64];
		while (*t == ' ')
			t++;
		snprintf(param, sizeof(param), "%s$%d::%s[]", n ? ", " : "",
		         n + 1, t);
		sb_str(sql, param);
		n++;
	}
	sb_str(sql, ")) INSERT INTO opspulse.");
	sb_str(sql, k->table);
	sb_str(sql, " AS ");
	sb_str(sql, k->table);
	sb_str(sql, " (");
	sb_str(sql, k->columns);
	sb_str(sql, ") SELECT ");
	sb_str(sql, k->pick ? k->pick : "* FROM u");
	sb_str(sql, " ");
	sb_str(sql, k->conflict);
}

static int
store_prepare_one(struct store *s, const char *name, const char *sql, char *err,
                  size_t errsz)
{
	PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return store_failure(s, r, err, errsz);
	PQclear(r);
	return OP_OK;
}

static const char store_sql_services[] =
    "INSERT INTO opspulse.services (service) SELECT DISTINCT "
    "unnest($1::text[]) "
    "ON CONFLICT DO NOTHING";

static const char store_sql_agent[] =
    "INSERT INTO opspulse.agent_spools AS a (agent_id, spool_id, version, "
    "last_seq, dropped_total, events) VALUES ($1, $2, $3, $4, $5, $6) ON "
    "CONFLICT (agent_id, spool_id) DO UPDATE SET version = EXCLUDED.version, "
    "last_seq = greatest(a.last_seq, EXCLUDED.last_seq), dropped_total = "
    "greatest(a.dropped_total, EXCLUDED.dropped_total), events = a.events + "
    "EXCLUDED.events, last_seen = now()";

/* Prepares the statements once per connection (they die with it). */
static int
store_prepare(struct store *s, char *err, size_t errsz)
{
	PGresult *r = PQdescribePrepared(s->conn, "bulk_services");
	int have = PQresultStatus(r) == PGRES_COMMAND_OK, rv;

	PQclear(r);
	if (have)
		return OP_OK;
	for (size_t i = 0; i < STORE_NKINDS; i++) {
		struct sbuf sql = {0};
		if (store_kinds[i].stmt == NULL)
			continue;
		store_kind_sql(&store_kinds[i], &sql);
		rv = sql.failed ? OP_ENOMEM
		                : store_prepare_one(s, store_kinds[i].stmt,
		                                    sql.p, err, errsz);
		free(sql.p);
		if (rv != OP_OK)
			return rv;
	}
	if ((rv = store_prepare_one(s, "bulk_agent", store_sql_agent, err,
	                            errsz)) != OP_OK)
		return rv;
	return store_prepare_one(s, "bulk_services", store_sql_services, err,
	                         errsz);
}

/* Runs a prepared statement; *rows is the number of rows it changed. */
static int
store_run(struct store *s, const char *stmt, int n, const char *const *v,
          long *rows, char *err, size_t errsz)
{
	PGresult *r = PQexecPrepared(s->conn, stmt, n, v, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return store_failure(s, r, err, errsz);
	*rows = atol(PQcmdTuples(r));
	PQclear(r);
	return OP_OK;
}

/* ---- batches ------------------------------------------------------------ */

static void
store_arrays_free(struct sbuf *cols, int n)
{
	for (int i = 0; i < n; i++)
		free(cols[i].p);
}

/* Writes the events of one kind; adds to *stored and *dups. */
static int
store_kind_write(struct store *s, const op_batch *b, size_t kind,
                 uint32_t *stored, uint32_t *dups, char *err, size_t errsz)
{
	struct sbuf cols[STORE_MAX_COLS] = {{0}};
	const char *params[STORE_MAX_COLS];
	struct store_row row;
	long rows = 0, n = 0;
	int ncols = 0, rv = OP_OK;

	for (size_t i = 0; i < b->n_events; i++) {
		if (b->events[i]->kind_case != kind)
			continue;
		store_bind_event(&row, b->events[i], b->agent_id);
		ncols = row.n;
		for (int c = 0; c < row.n; c++) {
			if (cols[c].len == 0)
				sb_add(&cols[c], "{", 1);
			sb_element(&cols[c], row.v[c]);
		}
		n++;
	}
	for (int c = 0; c < ncols; c++) {
		sb_add(&cols[c], "}", 1);
		rv = cols[c].failed ? OP_ENOMEM : rv;
		params[c] = cols[c].p;
	}
	if (n > 0 && rv == OP_OK)
		rv = store_run(s, store_kinds[kind].stmt, ncols, params, &rows,
		               err, errsz);
	store_arrays_free(cols, ncols);
	if (rv == OP_OK) {
		*stored += (uint32_t)rows;
		*dups += (uint32_t)(n - rows);
	}
	return rv;
}

static int
store_services(struct store *s, const op_batch *b, char *err, size_t errsz)
{
	struct sbuf arr = {0};
	const char *params[1];
	long rows;
	int rv;

	sb_add(&arr, "{", 1);
	for (size_t i = 0; i < b->n_events; i++)
		sb_element(&arr, b->events[i]->service);
	sb_add(&arr, "}", 1);
	params[0] = arr.p;
	rv = arr.failed
	         ? OP_ENOMEM
	         : store_run(s, "bulk_services", 1, params, &rows, err, errsz);
	free(arr.p);
	return rv;
}

static int
store_agent(struct store *s, const op_batch *b, char *err, size_t errsz)
{
	struct store_row r = {.n = 0};
	long rows;

	r_str(&r, b->agent_id);
	r_int(&r, (long long)b->spool_id);
	r_opt(&r, b->agent_version);
	r_int(&r, (long long)b->last_seq);
	r_int(&r, (long long)b->dropped_total);
	r_int(&r, (long long)b->n_events);
	return store_run(s, "bulk_agent", r.n, r.v, &rows, err, errsz);
}

static int
store_batch_write(struct store *s, const op_batch *b, uint32_t *stored,
                  uint32_t *dups, char *err, size_t errsz)
{
	int rv = OP_OK;

	for (size_t k = 0; rv == OP_OK && k < STORE_NKINDS; k++) {
		if (store_kinds[k].stmt != NULL)
			rv =
			    store_kind_write(s, b, k, stored, dups, err, errsz);
	}
	if (rv == OP_OK && b->n_events > 0)
		rv = store_services(s, b, err, errsz);
	if (rv == OP_OK)
		rv = store_agent(s, b, err, errsz);
	return rv;
}

int
store_ingest(struct store *s, const op_batch *b, uint32_t *stored,
             uint32_t *dups, char *err, size_t errsz)
{
	char ignore[256];
	int rv;

	*stored = *dups = 0;
	if ((rv = store_ready(s)) != OP_OK) {
		snprintf(err, errsz, "%s",
		         rv == OP_EUNAVAIL ? "database unavailable"
		                           : "database schema not ready");
		return rv == OP_EUNAVAIL ? rv : OP_EDB;
	}
	if ((rv = store_prepare(s, err, errsz)) != OP_OK ||
	    (rv = store_exec(s, "BEGIN", err, errsz)) != OP_OK)
		return rv;
	rv = store_batch_write(s, b, stored, dups, err, errsz);
	if (rv == OP_OK && (rv = store_exec(s, "COMMIT", err, errsz)) == OP_OK)
		return OP_OK;
	if (rv != OP_EUNAVAIL)
		store_exec(s, "ROLLBACK", ignore, sizeof(ignore));
	*stored = *dups = 0;
	return rv;
}
