/*
 * opspulse-aggregator init-db: first install on a PostgreSQL server.
 */
#ifndef INITDB_H
#define INITDB_H

/*
 * Runs `opspulse-aggregator [-c file] init-db [--admin CONNINFO]
 * [--owner ROLE]`; argv[0] is "init-db".  Loads the configuration (file
 * NULL: the default path), then over a superuser connection creates what
 * is missing of the owner role, the read-only role and the configured
 * database, and migrates the schema as the owner role.  Prints what it
 * did; logs why it failed.  Returns the process exit status: 0 or 1.
 */
int agg_init_db_main(const char *file, int argc, char **argv);

#endif
