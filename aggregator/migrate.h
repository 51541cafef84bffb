/*
 * Versioned schema migrations, embedded from aggregator/sql/NNN_*.sql at
 * build time.  Each runs once, in its own transaction, in order.
 */
#ifndef MIGRATE_H
#define MIGRATE_H

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const unsigned migrations_count;

/* The newest schema version this build knows.  This can't fail. */
int migrate_latest(void);

#endif
