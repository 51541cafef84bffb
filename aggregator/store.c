#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "metrics.h"
#include "op_error.h"
#include "op_log.h"
#include "op_time.h"
#include "schema_version.h"
#include "store.h"
#include "store_int.h"

#define MOD "store"

/* Queries take at most this many parameters. */
#define STORE_MAX_PARAMS 12

/* ---- connection ----------------------------------------------------- */

/* Sessions are named in pg_stat_activity by what they are for. */
#define STORE_APP_INGEST "opspulse-aggregator"
#define STORE_APP_QUERY  "opspulse-aggregator-query"

static PGconn *
store_dial(const char *conninfo, const char *app)
{
	static const char *const keys[] = {"dbname", "application_name",
	                                   "options", NULL};
	/* client_connection_check_interval: a query whose aggregator died
	 * (kill -9 during a rollup refresh, say) is cancelled within a
	 * second instead of running on and holding its locks against the
	 * next start. */
	const char *const vals[] = {
	    conninfo, app,
	    "-c search_path=opspulse,pg_catalog -c TimeZone=UTC "
	    "-c DateStyle=ISO -c IntervalStyle=iso_8601 "
	    "-c client_connection_check_interval=1000",
	    NULL};

	/* expand_dbname = 1: "dbname" may hold a whole connection string,
	 * several hosts and target_session_attrs included. */
	return PQconnectdbParams(keys, vals, 1);
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

int
store_alloc_query(struct store **out, const char *conninfo)
{
	int rv = store_alloc(out, conninfo);

	if (rv == OP_OK)
		(*out)->queries = 1;
	return rv;
}

int
store_alloc_like(struct store **out, const struct store *s)
{
	int rv = store_alloc(out, s->conninfo);

	if (rv == OP_OK)
		(*out)->queries = s->queries;
	return rv;
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
	         atoi(PQgetvalue(r, 0, 0)) >= SCHEMA_VERSION;

	PQclear(r);
	if (!ok)
		op_error(MOD,
		         "the database schema is missing or older than "
		         "version %d; run 'opspulse-aggregator migrate'",
		         SCHEMA_VERSION);
	return ok ? OP_OK : OP_EDB;
}

/* Keeps libpq's message on why s could not connect, on one line ("; "
 * between its lines: one or two per host a multi-host string tried).
 * This can't fail. */
static void
store_keep_why(struct store *s)
{
	const char *m = PQerrorMessage(s->conn);
	size_t o = 0;

	for (; *m && o + 3 < sizeof(s->why); m++) {
		if (*m == '\n' && m[1] != '\0') {
			s->why[o++] = ';';
			s->why[o++] = ' ';
		} else if (*m != '\n' && *m != '\t') {
			s->why[o++] = *m;
		}
	}
	s->why[o] = '\0';
}

/* After a session came up: logs the end of an outage or a lost session,
 * and counts a reconnection.  This can't fail. */
static void
store_session_up(struct store *s)
{
	if (s->had_session || s->down_logged)
		op_info(MOD, "database connection restored (%s port %s%s)",
		        PQhost(s->conn), PQport(s->conn),
		        s->queries ? ", queries" : "");
	if (s->had_session)
		metrics_reconnect();
	s->had_session = 1;
	s->down_logged = 0;
	s->why[0] = '\0';
}

int
store_ready(struct store *s)
{
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return OP_OK;
	/* A new session: statements and temporary tables are gone.  With
	 * several hosts, libpq tries them in order again, so a reset finds
	 * the server that target_session_attrs asks for (a promoted
	 * standby after a failover). */
	s->prepared = 0;
	if (s->conn) {
		PQreset(s->conn);
	} else {
		s->conn =
		    store_dial(s->conninfo,
		               s->queries ? STORE_APP_QUERY : STORE_APP_INGEST);
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		store_keep_why(s);
		if (!s->down_logged && s->queries)
			op_warn(MOD,
			        "query database unavailable (%s); queries fail "
			        "until it is back",
			        s->why);
		else if (!s->down_logged)
			op_warn(MOD,
			        "database unavailable (%s); not acknowledging "
			        "batches until it is back",
			        s->why);
		s->down_logged = 1;
		return OP_EUNAVAIL;
	}
	store_session_up(s);
	return store_schema_ok(s);
}

const char *
store_why(const struct store *s)
{
	return s->why;
}

/* After a failed statement: was the connection lost? */
int
store_failure(struct store *s, PGresult *r, char *err, size_t errsz)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", state ? state : "");
	snprintf(err, errsz, "%s",
	         r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
	err[strcspn(err, "\n")] = '\0';
	PQclear(r);
	if (PQstatus(s->conn) != CONNECTION_OK)
		return OP_EUNAVAIL;
	return OP_EDB;
}

int
store_exec(struct store *s, const char *sql, char *err, size_t errsz)
{
	PGresult *r = PQexec(s->conn, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return store_failure(s, r, err, errsz);
	PQclear(r);
	return OP_OK;
}

/* ---- administration ------------------------------------------------- */

int
store_connect(struct store *s)
{
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return OP_OK;
	PQfinish(s->conn);
	s->prepared = 0;
	s->conn = store_dial(s->conninfo,
	                     s->queries ? STORE_APP_QUERY : STORE_APP_INGEST);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		op_error(MOD, "cannot connect to the database (%s): %s",
		         s->conninfo, PQerrorMessage(s->conn));
		return OP_EUNAVAIL;
	}
	return OP_OK;
}

int
store_script(struct store *s, const char *sql, char *err, size_t errsz)
{
	PGresult *r = PQexec(s->conn, sql);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return store_failure(s, r, err, errsz);
	PQclear(r);
	return OP_OK;
}

int
store_schema_version(struct store *s, int *version, char *err, size_t errsz)
{
	PGresult *r = PQexec(s->conn, "SELECT coalesce(max(version), 0) FROM "
	                              "opspulse.schema_migrations");

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		return store_failure(s, r, err, errsz);
	*version = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return OP_OK;
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
store_result_column(const Opspulse__V1__QueryResult *r, const char *name)
{
	for (size_t c = 0; r && c < r->n_columns; c++)
		if (strcmp(r->columns[c]->name, name) == 0)
			return (int)c;
	return -1;
}

Opspulse__V1__QueryResult *
store_result_text(const char *name, char *text)
{
	Opspulse__V1__QueryResult *q = calloc(1, sizeof(*q));
	Opspulse__V1__Column *col = calloc(1, sizeof(*col));
	Opspulse__V1__Row *row = calloc(1, sizeof(*row));
	Opspulse__V1__Cell *cell = calloc(1, sizeof(*cell));

	if (q == NULL || col == NULL || row == NULL || cell == NULL) {
		free(q);
		free(col);
		free(row);
		free(cell);
		free(text);
		return NULL;
	}
	opspulse__v1__query_result__init(q);
	opspulse__v1__column__init(col);
	opspulse__v1__row__init(row);
	opspulse__v1__cell__init(cell);
	cell->text = text;
	/* From here on store_result_free frees whatever is attached. */
	if ((q->columns = malloc(sizeof(*q->columns))) != NULL) {
		q->columns[q->n_columns++] = col;
		col = NULL;
	}
	if ((q->rows = malloc(sizeof(*q->rows))) != NULL) {
		q->rows[q->n_rows++] = row;
		if ((row->cells = malloc(sizeof(*row->cells))) != NULL) {
			row->cells[row->n_cells++] = cell;
			cell = NULL;
		}
		row = NULL;
	}
	if (col || row || cell ||
	    (q->columns[0]->name = strdup(name)) == NULL) {
		if (cell)
			free(cell->text);
		free(cell);
		free(row);
		free(col);
		store_result_free(q);
		return NULL;
	}
	return q;
}

int
store_ready_err(struct store *s, char *err, size_t errsz)
{
	int rv = store_ready(s);

	if (rv == OP_OK)
		return OP_OK;
	snprintf(err, errsz, "%s",
	         rv == OP_EUNAVAIL ? "database unavailable"
	                           : "database schema not ready");
	return rv == OP_EUNAVAIL ? rv : OP_EDB;
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

/* ---- replication ---------------------------------------------------- */

int
store_freshness(struct store *s, int *standby, double *lag_s, char *err,
                size_t errsz)
{
	/* Caught up when all WAL received is replayed; otherwise the age of
	 * the last transaction replayed, which is how far the answers lag. */
	static const char sql[] =
	    "SELECT pg_is_in_recovery(), CASE WHEN NOT pg_is_in_recovery() "
	    "OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
	    "ELSE extract(epoch FROM now() - "
	    "pg_last_xact_replay_timestamp()) END::float8";
	PGresult *r;
	int rv;

	if ((rv = store_ready_err(s, err, errsz)) != OP_OK)
		return rv;
	r = PQexec(s->conn, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		return store_failure(s, r, err, errsz);
	*standby = PQgetvalue(r, 0, 0)[0] == 't';
	*lag_s = PQgetisnull(r, 0, 1) ? -1 : strtod(PQgetvalue(r, 0, 1), NULL);
	PQclear(r);
	return OP_OK;
}

/* ---- commands ------------------------------------------------------- */

int
store_command(struct store *s, const char *sql, const char *const *params,
              int nparams, char *err, size_t errsz)
{
	ExecStatusType st;
	PGresult *r;
	int rv;

	if ((rv = store_ready_err(s, err, errsz)) != OP_OK)
		return rv;
	r = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return store_failure(s, r, err, errsz);
	PQclear(r);
	return OP_OK;
}
