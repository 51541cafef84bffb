#include <stdio.h>

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

/* Runs sql on s, logging what failed.  Returns OP_OK or as
 * store_script. */
static int
migrate_exec(struct store *s, const char *sql, const char *what)
{
	char err[1024];
	int rv = store_script(s, sql, err, sizeof(err));

	if (rv != OP_OK)
		op_error(MOD, "%s failed: %s", what, err);
	return rv;
}

/* Ends the transaction a failed step left open.  The step's error is the
 * one reported; a failed ROLLBACK (a lost connection) is logged. */
static void
migrate_rollback(struct store *s)
{
	if (migrate_exec(s, "ROLLBACK", "ROLLBACK") != OP_OK)
		op_warn(MOD, "the failed step's transaction ends with the "
		             "connection");
}

static int
migrate_apply(struct store *s, const struct migration *m)
{
	char record[256];
	int rv;

	snprintf(record, sizeof(record),
	         "INSERT INTO opspulse.schema_migrations (version, name) "
	         "VALUES (%d, '%s')",
	         m->version, m->name); /* both from this build, not input */
	if ((rv = migrate_exec(s, "BEGIN", "BEGIN")) != OP_OK)
		return rv;
	if ((rv = migrate_exec(s, m->sql, m->name)) != OP_OK ||
	    (rv = migrate_exec(s, record, "recording the version")) != OP_OK) {
		migrate_rollback(s);
		return rv;
	}
	if ((rv = migrate_exec(s, "COMMIT", "COMMIT")) == OP_OK)
		printf("applied migration %s\n", m->name);
	return rv;
}

/* Every function file, in order, in one transaction: a file that fails
 * leaves the functions as they were. */
static int
migrate_functions(struct store *s)
{
	int rv;

	if ((rv = migrate_exec(s, "BEGIN", "BEGIN")) != OP_OK)
		return rv;
	for (unsigned i = 0; i < migration_functions_count; i++) {
		rv = migrate_exec(s, migration_functions[i].sql,
		                  migration_functions[i].name);
		if (rv != OP_OK) {
			migrate_rollback(s);
			return rv;
		}
	}
	if ((rv = migrate_exec(s, "COMMIT", "COMMIT")) == OP_OK)
		printf("applied the functions of %u files\n",
		       migration_functions_count);
	return rv;
}

/* Takes the migration lock, so that two migrate runs cannot interleave. */
static int
migrate_prepare(struct store *s)
{
	int rv;

	if ((rv = migrate_exec(s, "SELECT pg_advisory_lock(7410)",
	                       "taking the migration lock")) != OP_OK)
		return rv;
	return migrate_exec(s,
	                    "SET client_min_messages = warning; "
	                    "CREATE SCHEMA IF NOT EXISTS opspulse; "
	                    "CREATE TABLE IF NOT EXISTS "
	                    "opspulse.schema_migrations (version int PRIMARY "
	                    "KEY, name text NOT NULL, applied_at timestamptz "
	                    "NOT NULL DEFAULT now())",
	                    "creating the opspulse schema");
}

/* Reads the schema's version into *version.  A schema older than the
 * first migration of this build (the baseline) cannot be upgraded by it:
 * that is an error. */
static int
migrate_current(struct store *s, int *version)
{
	char err[1024];
	int rv = store_schema_version(s, version, err, sizeof(err));

	if (rv != OP_OK) {
		op_error(MOD, "cannot read the schema version: %s", err);
		return rv;
	}
	if (migrations_count && *version > 0 &&
	    *version < migrations[0].version) {
		op_error(MOD,
		         "the schema is at version %d, older than this "
		         "build's baseline (%s): migrate it to version %d "
		         "with an earlier build first",
		         *version, migrations[0].name, migrations[0].version);
		return OP_EDB;
	}
	return OP_OK;
}

/* The numbered migrations the schema lacks, then every function file. */
static int
migrate_run(struct store *s)
{
	int version = 0, rv, applied = 0;

	if ((rv = migrate_prepare(s)) != OP_OK ||
	    (rv = migrate_current(s, &version)) != OP_OK)
		return rv;
	for (unsigned i = 0; rv == OP_OK && i < migrations_count; i++) {
		if (migrations[i].version <= version)
			continue;
		rv = migrate_apply(s, &migrations[i]);
		applied++;
	}
	if (rv == OP_OK)
		rv = migrate_functions(s);
	if (rv == OP_OK)
		printf("schema is at version %d%s\n", migrate_latest(),
		       applied ? "" : "; nothing to do");
	return rv;
}

int
agg_migrate(const char *conninfo)
{
	struct store *s = NULL;
	int rv = store_alloc(&s, conninfo);

	if (rv == OP_OK && (rv = store_connect(s)) == OP_OK)
		rv = migrate_run(s);
	store_free(s);
	return rv;
}
