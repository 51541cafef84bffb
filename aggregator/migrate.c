#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "aggregator.h"
#include "migrate.h"
#include "op_error.h"
#include "op_log.h"
#include "store.h"

#define MOD "migrate"

int
migrate_latest(void)
{
	return migrations_count ? migrations[migrations_count - 1].version : 0;
}

static int
migrate_exec(PGconn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		op_error(MOD, "%s failed: %s", what, PQresultErrorMessage(r));
	PQclear(r);
	return ok ? OP_OK : OP_EDB;
}

static int
migrate_current(PGconn *c, int *version)
{
	PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM "
	                        "opspulse.schema_migrations");
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;

	if (ok)
		*version = atoi(PQgetvalue(r, 0, 0));
	else
		op_error(MOD, "cannot read the schema version: %s",
		         PQresultErrorMessage(r));
	PQclear(r);
	return ok ? OP_OK : OP_EDB;
}

static int
migrate_apply(PGconn *c, const struct migration *m)
{
	char record[256];
	int rv;

	snprintf(record, sizeof(record),
	         "INSERT INTO opspulse.schema_migrations (version, name) "
	         "VALUES (%d, '%s')",
	         m->version, m->name); /* both from this build, not input */
	if ((rv = migrate_exec(c, "BEGIN", "BEGIN")) != OP_OK)
		return rv;
	if ((rv = migrate_exec(c, m->sql, m->name)) != OP_OK ||
	    (rv = migrate_exec(c, record, "recording the version")) != OP_OK) {
		migrate_exec(c, "ROLLBACK", "ROLLBACK");
		return rv;
	}
	if ((rv = migrate_exec(c, "COMMIT", "COMMIT")) == OP_OK)
		printf("applied migration %s\n", m->name);
	return rv;
}

/* Takes the migration lock, so that two migrate runs cannot interleave. */
static int
migrate_prepare(PGconn *c)
{
	int rv;

	if ((rv = migrate_exec(c, "SELECT pg_advisory_lock(7410)",
	                       "taking the migration lock")) != OP_OK)
		return rv;
	return migrate_exec(c,
	                    "SET client_min_messages = warning; "
	                    "CREATE SCHEMA IF NOT EXISTS opspulse; "
	                    "CREATE TABLE IF NOT EXISTS "
	                    "opspulse.schema_migrations (version int PRIMARY "
	                    "KEY, name text NOT NULL, applied_at timestamptz "
	                    "NOT NULL DEFAULT now())",
	                    "creating the opspulse schema");
}

int
agg_migrate(const char *conninfo)
{
	PGconn *c = (PGconn *)store_connect_admin(conninfo);
	int version = 0, rv, applied = 0;

	if (c == NULL)
		return OP_EUNAVAIL;
	rv = migrate_prepare(c);
	if (rv == OP_OK)
		rv = migrate_current(c, &version);
	for (unsigned i = 0; rv == OP_OK && i < migrations_count; i++) {
		if (migrations[i].version <= version)
			continue;
		rv = migrate_apply(c, &migrations[i]);
		applied++;
	}
	if (rv == OP_OK)
		printf("schema is at version %d%s\n", migrate_latest(),
		       applied ? "" : "; nothing to do");
	PQfinish(c);
	return rv;
}
