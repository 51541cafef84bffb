/*
 * Remote PostgreSQL servers (Aurora and RDS included): `SHOW
 * server_version` over libpq; "15.4 (Debian 15.4-1)" -> "15.4".
 *
 * libpq pulls in OpenSSL, GnuTLS, Kerberos and LDAP: linked into the
 * daemon they would more than double its resident memory for a probe that
 * runs once an hour.  So the daemon runs itself as `opspulse-agent
 * probe-postgresql`, which loads libpq with dlopen, asks one server and
 * exits; the connection string travels on the child's stdin, not in its
 * command line.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "collect.h"
#include "op_error.h"
#include "op_log.h"
#include "version.h"

#define MOD        "postgresql"
#define PQ_LIBRARY "libpq.so.5"

/* ---- the daemon's side ------------------------------------------------ */

static long long
pg_interval(const struct agent_conf *c)
{
	return c->probes_enabled && c->probe_postgresql.n ? c->probes_interval_s
	                                                  : 0;
}

/* The version of the server p names into out; OP_OK or OP_EUNREACHABLE
 * (logged). */
static int
pg_version(const struct agent_conf *c, const struct agent_probe *p, char *out,
           size_t size)
{
	char self[] = "/proc/self/exe", cmd[] = "probe-postgresql";
	char secs[32], buf[1024];
	char *argv[] = {self, cmd, secs, NULL};
	int status;

	snprintf(secs, sizeof(secs), "%lld",
	         (c->probes_timeout_ms + 999) / 1000);
	status = agent_exec_capture(argv, p->target, buf, sizeof(buf),
	                            (int)c->probes_timeout_ms + 2000);
	buf[strcspn(buf, "\n")] = '\0';
	if (status != 0) {
		op_warn(MOD, "cannot read the version of a %s server: %s",
		        p->product, *buf ? buf : "the probe did not finish");
		return OP_EUNREACHABLE;
	}
	return agent_version_extract(buf, strlen(buf), out, size);
}

static int
pg_collect(void *state, const struct agent_conf *c, struct agent_sink *out)
{
	char version[128];
	int rv = OP_OK;

	(void)state;
	for (size_t i = 0; rv == OP_OK && i < c->probe_postgresql.n; i++) {
		const struct agent_probe *p = &c->probe_postgresql.items[i];
		if (pg_version(c, p, version, sizeof(version)) == OP_OK)
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

/* ---- the probe process -------------------------------------------------- */

/* The part of libpq the probe uses, resolved at run time. */
struct pq_api {
	PGconn *(*connect)(const char *const *keys, const char *const *vals,
	                   int expand);
	ConnStatusType (*status)(const PGconn *conn);
	PGresult *(*exec)(PGconn *conn, const char *query);
	ExecStatusType (*result_status)(const PGresult *res);
	int (*ntuples)(const PGresult *res);
	char *(*getvalue)(const PGresult *res, int row, int col);
	void (*clear)(PGresult *res);
	void (*finish)(PGconn *conn);
	char *(*error_message)(const PGconn *conn);
};

/* Resolves name into the function pointer at fp; 0 or -1. */
static int
pq_sym(void *lib, const char *name, void *fp)
{
	void *sym = dlsym(lib, name);

	if (sym == NULL)
		return -1;
	/* POSIX guarantees data and function pointers convert. */
	memcpy(fp, &sym, sizeof(sym));
	return 0;
}

static int
pq_load(struct pq_api *pq)
{
	void *lib = dlopen(PQ_LIBRARY, RTLD_NOW | RTLD_LOCAL);

	if (lib == NULL) {
		printf("cannot load %s (install libpq5): %s\n", PQ_LIBRARY,
		       dlerror());
		return -1;
	}
	if (pq_sym(lib, "PQconnectdbParams", &pq->connect) ||
	    pq_sym(lib, "PQstatus", &pq->status) ||
	    pq_sym(lib, "PQexec", &pq->exec) ||
	    pq_sym(lib, "PQresultStatus", &pq->result_status) ||
	    pq_sym(lib, "PQntuples", &pq->ntuples) ||
	    pq_sym(lib, "PQgetvalue", &pq->getvalue) ||
	    pq_sym(lib, "PQclear", &pq->clear) ||
	    pq_sym(lib, "PQfinish", &pq->finish) ||
	    pq_sym(lib, "PQerrorMessage", &pq->error_message)) {
		printf("%s lacks a function the probe needs\n", PQ_LIBRARY);
		return -1;
	}
	return 0;
}

/* Prints the server_version of conninfo; 0, or 1 after printing why. */
static int
pq_show_version(const struct pq_api *pq, const char *conninfo,
                const char *timeout)
{
	const char *keys[] = {"dbname", "connect_timeout", "application_name",
	                      NULL};
	const char *vals[] = {conninfo, timeout, "opspulse-agent", NULL};
	PGconn *conn = pq->connect(keys, vals, 1);
	PGresult *res = NULL;
	int rv = 1;

	if (conn != NULL && pq->status(conn) == CONNECTION_OK)
		res = pq->exec(conn, "SHOW server_version");
	if (res && pq->result_status(res) == PGRES_TUPLES_OK &&
	    pq->ntuples(res) == 1) {
		printf("%s\n", pq->getvalue(res, 0, 0));
		rv = 0;
	} else {
		printf("%s\n",
		       conn ? pq->error_message(conn) : "out of memory");
	}
	if (res)
		pq->clear(res);
	if (conn)
		pq->finish(conn);
	return rv;
}

int
agent_probe_postgresql_main(int argc, char **argv)
{
	char conninfo[4097];
	size_t len = fread(conninfo, 1, sizeof(conninfo) - 1, stdin);
	struct pq_api pq;

	conninfo[len] = '\0';
	if (argc != 2) {
		printf("usage: opspulse-agent probe-postgresql TIMEOUT_S "
		       "< CONNINFO (run by the daemon)\n");
		return 2;
	}
	if (pq_load(&pq) != 0)
		return 1;
	return pq_show_version(&pq, conninfo, argv[1]);
}
