/*
 * The schema, embedded from aggregator/sql at build time: the numbered
 * migrations (NNN_*.sql: tables, indexes, roles, data), each run once, in
 * its own transaction, in order; then the function files
 * (functions/NAME.sql, in functions/ORDER), all of them on every migrate, in
 * one transaction.  Run through store's connection (store.h).
 */
#ifndef MIGRATE_H
#define MIGRATE_H

struct migration {
	int version;
	const char *name;
	const char *sql;
};

/* A file of aggregator/sql/functions. */
struct migration_functions {
	const char *name; /* "functions/dora.sql" */
	const char *sql;
};

extern const struct migration migrations[];
extern const unsigned migrations_count;
extern const struct migration_functions migration_functions[];
extern const unsigned migration_functions_count;

/* The newest schema version this build knows.  This can't fail. */
int migrate_latest(void);

#endif
