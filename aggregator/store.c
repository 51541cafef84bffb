#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "migrate.h"
#include "op_error.h"
#include "op_log.h"
#include "op_time.h"
#include "store.h"

#define MOD "store"

struct store {
	char *conninfo;
	PGconn *conn;
	int down_logged;
};

/* ---- connection ----------------------------------------------------- */

static PGconn *
store_dial(const char *conninfo)
{
	static const char *const keys[] = {"dbname", "application_name",
	                                   "options", NULL};
	const char *const vals[] = {
	    conninfo, "opspulse-aggregator",
	    "-c search_path=opspulse,pg_catalog -c TimeZone=UTC "
	    "-c DateStyle=ISO -c IntervalStyle=iso_8601",
	    NULL};

	/* expand_dbname = 1: "dbname" may hold a whole connection string. */
	return PQconnectdbParams(keys, vals, 1);
}

void *
store_connect_admin(const char *conninfo)
{
	PGconn *c = store_dial(conninfo);

	if (PQstatus(c) != CONNECTION_OK) {
		op_error(MOD, "cannot connect to the database (%s): %s",
		         conninfo, PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

int
store_alloc(struct store **out, const char *conninfo)
{
	struct store *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->conninfo = strdup(conninfo)) == NULL) {
		free(s);
		return OP_ENOMEM;
	}
	*out = s;
	return OP_OK;
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	PQfinish(s->conn);
	free(s->conninfo);
	free(s);
}

static int
store_schema_ok(struct store *s)
{
	PGresult *r = PQexec(s->conn, "SELECT max(version) FROM "
	                              "opspulse.schema_migrations");
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	         !PQgetisnull(r, 0, 0) &&
	         atoi(PQgetvalue(r, 0, 0)) >= migrate_latest();

	PQclear(r);
	if (!ok)
		op_error(MOD,
		         "the database schema is missing or older than "
		         "version %d; run 'opspulse-aggregator migrate'",
		         migrate_latest());
	return ok ? OP_OK : OP_EDB;
}

int
store_ready(struct store *s)
{
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return OP_OK;
	if (s->conn) {
		PQreset(s->conn);
	} else {
		s->conn = store_dial(s->conninfo);
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		if (!s->down_logged)
			op_warn(MOD,
			        "database unavailable (%s); not acknowledging "
			        "batches until it is back",
			        PQerrorMessage(s->conn));
		s->down_logged = 1;
		return OP_EUNAVAIL;
	}
	if (s->down_logged)
		op_info(MOD, "database connection restored");
	s->down_logged = 0;
	return store_schema_ok(s);
}

/* After a failed statement: was the connection lost? */
static int
store_failure(struct store *s, PGresult *r, char *err, size_t errsz)
{
	snprintf(err, errsz, "%s",
	         r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
	err[strcspn(err, "\n")] = '\0';
	PQclear(r);
	if (PQstatus(s->conn) != CONNECTION_OK)
		return OP_EUNAVAIL;
	return OP_EDB;
}

static int
store_exec(struct store *s, const char *sql, char *err, size_t errsz)
{
	PGresult *r = PQexec(s->conn, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return store_failure(s, r, err, errsz);
	PQclear(r);
	return OP_OK;
}

/* ---- ingest --------------------------------------------------------- */

#define STORE_MAX_PARAMS 12

/* Text parameters of one statement, with buffers for formatted values. */
struct store_params {
	const char *v[STORE_MAX_PARAMS];
	char buf[STORE_MAX_PARAMS][OP_TIME_BUFSZ];
	int n;
};

static void
p_str(struct store_params *p, const char *s)
{
	p->v[p->n++] = s;
}

/* An optional string: empty is SQL NULL. */
static void
p_opt(struct store_params *p, const char *s)
{
	p->v[p->n++] = s && *s ? s : NULL;
}

static void
p_time(struct store_params *p, int64_t us)
{
	p->v[p->n] = op_time_format(us, p->buf[p->n], OP_TIME_BUFSZ);
	p->n++;
}

/* A time where 0 means unknown: SQL NULL. */
static void
p_opt_time(struct store_params *p, int64_t us)
{
	if (us == 0)
		p->v[p->n++] = NULL;
	else
		p_time(p, us);
}

static void
p_int(struct store_params *p, long long v)
{
	snprintf(p->buf[p->n], OP_TIME_BUFSZ, "%lld", v);
	p->v[p->n] = p->buf[p->n];
	p->n++;
}

static void
p_real(struct store_params *p, double v)
{
	snprintf(p->buf[p->n], OP_TIME_BUFSZ, "%.17g", v);
	p->v[p->n] = p->buf[p->n];
	p->n++;
}

static void
p_common(struct store_params *p, const op_event *e)
{
	p_str(p, e->service);
	p_str(p, e->env);
	p_str(p, e->host);
}

static const char *
store_bind(struct store_params *p, const op_event *e, const char *agent)
{
	p->n = 0;
	p_common(p, e);
	switch (e->kind_case) {
	case OPSPULSE__V1__EVENT__KIND_DEPLOY:
		p_str(p, e->deploy->id);
		p_opt(p, e->operator_);
		p_time(p, e->deploy->started_us);
		p_time(p, e->deploy->finished_us);
		p_str(p, op_outcome_name(e->deploy->outcome));
		p_opt(p, e->deploy->version);
		p_opt_time(p, e->deploy->commit_time_us);
		p_str(p, e->deploy->hotfix ? "true" : "false");
		p_str(p, agent);
		return "ins_deploy";
	case OPSPULSE__V1__EVENT__KIND_DEPLOY_FAILURE:
		p_str(p, e->deploy_failure->id);
		p_time(p, e->deploy_failure->at_us);
		p_str(p, agent);
		return "ins_deploy_failure";
	case OPSPULSE__V1__EVENT__KIND_TOIL:
		p_opt(p, e->operator_);
		p_str(p, e->toil->task);
		p_time(p, e->toil->started_us);
		p_int(p, e->toil->duration_s);
		p_str(p, op_toil_source_name(e->toil->source));
		p_str(p, agent);
		return "ins_toil";
	case OPSPULSE__V1__EVENT__KIND_BATCH:
		p_str(p, e->batch->task);
		p_time(p, e->batch->started_us);
		p_int(p, e->batch->duration_s);
		p_str(p, op_outcome_name(e->batch->outcome));
		p_str(p, agent);
		return "ins_batch";
	case OPSPULSE__V1__EVENT__KIND_ALERT:
		p_str(p, e->alert->fingerprint);
		p_time(p, e->alert->starts_us);
		p_str(p, e->alert->alertname);
		p_opt(p, e->alert->severity);
		p_opt_time(p, e->alert->ends_us);
		p_str(p, agent);
		return "ins_alert";
	case OPSPULSE__V1__EVENT__KIND_COMPONENT:
		p_str(p, e->component->name);
		p_str(p, e->component->version);
		p_time(p, e->component->observed_us);
		p_str(p, agent);
		return "ins_component";
	case OPSPULSE__V1__EVENT__KIND_MAINTENANCE:
		p_str(p, e->maintenance->id);
		p_str(p, e->maintenance->component);
		p_str(p, e->maintenance->title);
		p_time(p, e->maintenance->due_us);
		p_str(p, op_maintenance_status_name(e->maintenance->status));
		p_time(p, e->recorded_us ? e->recorded_us : op_time_now_us());
		p_str(p, agent);
		return "ins_maintenance";
	case OPSPULSE__V1__EVENT__KIND_CAPACITY:
		p_time(p, e->capacity->at_us);
		p_real(p, e->capacity->cpu_pct);
		p_real(p, e->capacity->mem_pct);
		p_opt(p, e->capacity->mount);
		if (e->capacity->disk_total_bytes == 0) {
			p_str(p, NULL);
			p_str(p, NULL);
		} else {
			p_int(p, (long long)e->capacity->disk_used_bytes);
			p_int(p, (long long)e->capacity->disk_total_bytes);
		}
		p_str(p, agent);
		return "ins_capacity";
	default:
		return NULL;
	}
}

/* Statements prepared on every connection.  Each is idempotent. */
static const struct {
	const char *name, *sql;
} store_statements[] = {
    {"ins_deploy",
     "INSERT INTO opspulse.deploys (service, env, host, deploy_id, operator, "
     "started_at, finished_at, outcome, version, commit_time, hotfix, "
     "agent_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
     "ON CONFLICT DO NOTHING"},
    {"ins_deploy_failure",
     "INSERT INTO opspulse.deploy_failures (service, env, host, deploy_id, "
     "at, agent_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"},
    {"ins_toil",
     "INSERT INTO opspulse.toil (service, env, host, operator, task, "
     "started_at, duration_s, source, agent_id) VALUES ($1, $2, $3, $4, $5, "
     "$6, $7, $8, $9) ON CONFLICT DO NOTHING"},
    {"ins_batch",
     "INSERT INTO opspulse.batch_runs (service, env, host, task, started_at, "
     "duration_s, outcome, agent_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
     "ON CONFLICT DO NOTHING"},
    /* An episode, once it has an end, keeps it. */
    {"ins_alert",
     "INSERT INTO opspulse.alerts (service, env, host, fingerprint, "
     "starts_at, alertname, severity, ends_at, agent_id) VALUES ($1, $2, $3, "
     "$4, $5, $6, $7, $8, $9) ON CONFLICT (fingerprint, starts_at) DO UPDATE "
     "SET ends_at = EXCLUDED.ends_at WHERE alerts.ends_at IS NULL AND "
     "EXCLUDED.ends_at IS NOT NULL"},
    {"ins_component",
     "INSERT INTO opspulse.components (service, env, host, name, version, "
     "observed_at, agent_id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT "
     "DO NOTHING"},
    /* A maintenance item recorded again takes the latest content. */
    {"ins_maintenance",
     "INSERT INTO opspulse.maintenance (service, env, host, maint_id, "
     "component, title, due_at, status, recorded_at, agent_id) VALUES ($1, "
     "$2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (service, maint_id) DO "
     "UPDATE SET env = EXCLUDED.env, host = EXCLUDED.host, component = "
     "EXCLUDED.component, title = EXCLUDED.title, due_at = EXCLUDED.due_at, "
     "status = EXCLUDED.status, recorded_at = EXCLUDED.recorded_at WHERE "
     "EXCLUDED.recorded_at > maintenance.recorded_at"},
    {"ins_capacity",
     "INSERT INTO opspulse.capacity (service, env, host, at, cpu_pct, "
     "mem_pct, mount, disk_used_bytes, disk_total_bytes, agent_id) VALUES "
     "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING"},
    {"ins_service",
     "INSERT INTO opspulse.services (service) VALUES ($1) ON CONFLICT DO "
     "NOTHING"},
    {"upd_agent",
     "INSERT INTO opspulse.agent_spools AS a (agent_id, spool_id, version, "
     "last_seq, dropped_total, events) VALUES ($1, $2, $3, $4, $5, $6) ON "
     "CONFLICT (agent_id, spool_id) DO UPDATE SET version = "
     "EXCLUDED.version, last_seq = greatest(a.last_seq, EXCLUDED.last_seq), "
     "dropped_total = greatest(a.dropped_total, EXCLUDED.dropped_total), "
     "events = a.events + EXCLUDED.events, last_seen = now()"},
};

#define STORE_NSTMT (sizeof(store_statements) / sizeof(store_statements[0]))

/* Prepares the statements once per connection (they die with it). */
static int
store_prepare(struct store *s, char *err, size_t errsz)
{
	PGresult *r = PQdescribePrepared(s->conn, "ins_deploy");
	int have = PQresultStatus(r) == PGRES_COMMAND_OK;

	PQclear(r);
	if (have)
		return OP_OK;
	for (size_t i = 0; i < STORE_NSTMT; i++) {
		r = PQprepare(s->conn, store_statements[i].name,
		              store_statements[i].sql, 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return store_failure(s, r, err, errsz);
		PQclear(r);
	}
	return OP_OK;
}

/* Runs a prepared statement; *rows is the number of rows it changed. */
static int
store_run(struct store *s, const char *stmt, const struct store_params *p,
          long *rows, char *err, size_t errsz)
{
	PGresult *r = PQexecPrepared(s->conn, stmt, p->n, p->v, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return store_failure(s, r, err, errsz);
	*rows = atol(PQcmdTuples(r));
	PQclear(r);
	return OP_OK;
}

/* Records each distinct service of the batch. */
static int
store_services(struct store *s, const op_batch *b, char *err, size_t errsz)
{
	struct store_params p;
	long rows;
	int rv;

	for (size_t i = 0; i < b->n_events; i++) {
		const char *svc = b->events[i]->service;
		size_t j;
		for (j = 0; j < i && strcmp(b->events[j]->service, svc); j++)
			;
		if (j < i)
			continue; /* seen earlier in this batch */
		p.n = 0;
		p_str(&p, svc);
		if ((rv = store_run(s, "ins_service", &p, &rows, err, errsz)))
			return rv;
	}
	return OP_OK;
}

static int
store_agent(struct store *s, const op_batch *b, char *err, size_t errsz)
{
	struct store_params p = {.n = 0};
	long rows;

	p_str(&p, b->agent_id);
	p_int(&p, (long long)b->spool_id);
	p_opt(&p, b->agent_version);
	p_int(&p, (long long)b->last_seq);
	p_int(&p, (long long)b->dropped_total);
	p_int(&p, (long long)b->n_events);
	return store_run(s, "upd_agent", &p, &rows, err, errsz);
}

static int
store_events(struct store *s, const op_batch *b, uint32_t *stored,
             uint32_t *dups, char *err, size_t errsz)
{
	struct store_params p;
	long rows;
	int rv;

	for (size_t i = 0; i < b->n_events; i++) {
		const char *stmt = store_bind(&p, b->events[i], b->agent_id);
		if (stmt == NULL) {
			snprintf(err, errsz, "event %zu has no known type", i);
			return OP_EDB;
		}
		if ((rv = store_run(s, stmt, &p, &rows, err, errsz)) != OP_OK)
			return rv;
		if (rows > 0)
			(*stored)++;
		else
			(*dups)++;
	}
	return OP_OK;
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
	if ((rv = store_events(s, b, stored, dups, err, errsz)) == OP_OK &&
	    (rv = store_services(s, b, err, errsz)) == OP_OK &&
	    (rv = store_agent(s, b, err, errsz)) == OP_OK &&
	    (rv = store_exec(s, "COMMIT", err, errsz)) == OP_OK)
		return OP_OK;
	if (rv != OP_EUNAVAIL)
		store_exec(s, "ROLLBACK", ignore, sizeof(ignore));
	*stored = *dups = 0;
	return rv;
}

/* ---- queries -------------------------------------------------------- */

static Opspulse__V1__ColumnType
store_column_type(Oid oid)
{
	switch (oid) {
	case 16: /* bool */
		return OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_BOOLEAN;
	case 20: /* int8 */
	case 21: /* int2 */
	case 23: /* int4 */
		return OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_INTEGER;
	case 700:  /* float4 */
	case 701:  /* float8 */
	case 1700: /* numeric */
		return OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_REAL;
	case 1114: /* timestamp */
	case 1184: /* timestamptz */
	case 1082: /* date */
		return OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_TIMESTAMP;
	case 114:  /* json */
	case 3802: /* jsonb */
	case 1009: /* text[]: converted with to_json in the SQL instead */
		return OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_JSON;
	default:
		return OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_TEXT;
	}
}

/* PostgreSQL's ISO timestamptz text in UTC ("2026-10-05 09:30:00+00") as
 * RFC 3339 ("2026-10-05T09:30:00Z"). */
static char *
store_rfc3339(const char *v)
{
	size_t len = strlen(v);
	char *out = malloc(len + 2);

	if (out == NULL)
		return NULL;
	memcpy(out, v, len + 1);
	if (len > 10 && out[10] == ' ')
		out[10] = 'T';
	if (len > 3 && strcmp(out + len - 3, "+00") == 0)
		strcpy(out + len - 3, "Z");
	return out;
}

static int
store_convert(const PGresult *r, Opspulse__V1__QueryResult *q)
{
	size_t nr = (size_t)PQntuples(r), nc = (size_t)PQnfields(r);

	q->columns = calloc(nc ? nc : 1, sizeof(*q->columns));
	q->rows = calloc(nr ? nr : 1, sizeof(*q->rows));
	if (q->columns == NULL || q->rows == NULL)
		return OP_ENOMEM;
	for (size_t c = 0; c < nc; c++, q->n_columns++) {
		Opspulse__V1__Column *col = malloc(sizeof(*col));
		if ((q->columns[c] = col) == NULL)
			return OP_ENOMEM;
		opspulse__v1__column__init(col);
		col->type = store_column_type(PQftype(r, (int)c));
		if ((col->name = strdup(PQfname(r, (int)c))) == NULL)
			return OP_ENOMEM;
	}
	for (size_t i = 0; i < nr; i++, q->n_rows++) {
		Opspulse__V1__Row *row = malloc(sizeof(*row));
		if ((q->rows[i] = row) == NULL)
			return OP_ENOMEM;
		opspulse__v1__row__init(row);
		if ((row->cells = calloc(nc ? nc : 1, sizeof(*row->cells))) ==
		    NULL)
			return OP_ENOMEM;
		for (size_t c = 0; c < nc; c++, row->n_cells++) {
			Opspulse__V1__Cell *cell = malloc(sizeof(*cell));
			const char *v = PQgetvalue(r, (int)i, (int)c);
			if ((row->cells[c] = cell) == NULL)
				return OP_ENOMEM;
			opspulse__v1__cell__init(cell);
			cell->is_null = PQgetisnull(r, (int)i, (int)c);
			cell->text =
			    q->columns[c]->type ==
			            OPSPULSE__V1__COLUMN_TYPE__COLUMN_TYPE_TIMESTAMP
			        ? store_rfc3339(v)
			        : strdup(v);
			if (cell->text == NULL)
				return OP_ENOMEM;
		}
	}
	return OP_OK;
}

void
store_result_free(Opspulse__V1__QueryResult *q)
{
	if (q == NULL)
		return;
	for (size_t c = 0; c < q->n_columns; c++) {
		free(q->columns[c]->name);
		free(q->columns[c]);
	}
	for (size_t i = 0; i < q->n_rows; i++) {
		for (size_t c = 0; c < q->rows[i]->n_cells; c++) {
			free(q->rows[i]->cells[c]->text);
			free(q->rows[i]->cells[c]);
		}
		free(q->rows[i]->cells);
		free(q->rows[i]);
	}
	free(q->columns);
	free(q->rows);
	free(q);
}

int
store_query(struct store *s, const char *sql, const char *const *params,
            int nparams, Opspulse__V1__QueryResult **out, char *err,
            size_t errsz)
{
	Opspulse__V1__QueryResult *q;
	PGresult *r;
	int rv;

	if ((rv = store_ready(s)) != OP_OK) {
		snprintf(err, errsz, "database unavailable");
		return rv == OP_EUNAVAIL ? rv : OP_EDB;
	}
	/* Every parameter is text, so a query need not use all of them. */
	static const Oid text_oids[STORE_MAX_PARAMS] = {25, 25, 25, 25, 25, 25,
	                                                25, 25, 25, 25, 25, 25};
	if (nparams > STORE_MAX_PARAMS)
		return OP_EINVAL;
	r = PQexecParams(s->conn, sql, nparams, text_oids, params, NULL, NULL,
	                 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return store_failure(s, r, err, errsz);
	if ((q = malloc(sizeof(*q))) == NULL) {
		PQclear(r);
		return OP_ENOMEM;
	}
	opspulse__v1__query_result__init(q);
	rv = store_convert(r, q);
	PQclear(r);
	if (rv != OP_OK) {
		store_result_free(q);
		return rv;
	}
	*out = q;
	return OP_OK;
}
