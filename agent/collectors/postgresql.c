/*
 * Remote PostgreSQL servers (Aurora and RDS included): `SHOW
 * server_version` over libpq; "15.4 (Debian 15.4-1)" -> "15.4".
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "collect.h"
#include "op_error.h"
#include "op_log.h"
#include "version.h"

#define MOD "postgresql"

static long long
pg_interval(const struct agent_conf *c)
{
	return c->probes_enabled && c->probe_postgresql.n ? c->probes_interval_s
	                                                  : 0;
}

/* The server version into out; OP_OK, or OP_EUNREACHABLE (logged). */
static int
pg_version(const struct agent_conf *c, const char *conninfo, char *out,
           size_t size)
{
	const char *keys[] = {"dbname", "connect_timeout", "application_name",
	                      NULL};
	const char *vals[] = {conninfo, NULL, "opspulse-agent", NULL};
	char timeout[32];
	PGconn *conn;
	PGresult *res = NULL;
	int rv = OP_EUNREACHABLE;

	snprintf(timeout, sizeof(timeout), "%lld",
	         (c->probes_timeout_ms + 999) / 1000);
	vals[1] = timeout;
	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) == CONNECTION_OK)
		res = PQexec(conn, "SHOW server_version");
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQntuples(res) == 1) {
		const char *v = PQgetvalue(res, 0, 0);
		rv = agent_version_extract(v, strlen(v), out, size);
	} else {
		op_warn(MOD, "cannot read the version of a server: %s",
		        PQerrorMessage(conn));
	}
	PQclear(res);
	PQfinish(conn);
	return rv;
}

static int
pg_collect(void *state, const struct agent_conf *c, struct agent_sink *out)
{
	char version[128];
	int rv = OP_OK;

	(void)state;
	for (size_t i = 0; rv == OP_OK && i < c->probe_postgresql.n; i++) {
		const struct agent_probe *p = &c->probe_postgresql.items[i];
		if (pg_version(c, p->target, version, sizeof(version)) == OP_OK)
			rv = agent_sink_component(out, p->service, p->product,
			                          version);
	}
	return rv;
}

const struct agent_collector agent_collector_postgresql = {
    .name = "postgresql",
    .interval_s = pg_interval,
    .collect = pg_collect,
};
