/*
 * PostgreSQL storage: one connection per worker, batches written in one
 * transaction, parameterised SQL only, a pinned search_path.  The only
 * module of the aggregator that knows libpq.
 */
#ifndef STORE_H
#define STORE_H

#include <stdint.h>

#include "op_codec.h"
#include "op_error.h"

struct store;

/* Creates a store for conninfo.  Connects lazily.  Returns OP_OK or
 * OP_ENOMEM.  Free with store_free. */
OP_MUSTCHECK int store_alloc(struct store **out, const char *conninfo);
void store_free(struct store *s);

/* As store_alloc, for queries only (query_database): its sessions are
 * named opspulse-aggregator-query in pg_stat_activity and its outages
 * are logged as the queries'.  Returns OP_OK or OP_ENOMEM. */
OP_MUSTCHECK int store_alloc_query(struct store **out, const char *conninfo);

/* Creates a store for the same database as s: another connection, for
 * work run beside s's.  Returns OP_OK or OP_ENOMEM. */
OP_MUSTCHECK int store_alloc_like(struct store **out, const struct store *s);

/*
 * Connects (or checks the connection) and verifies the schema version.
 * Returns OP_OK, OP_EUNAVAIL (database unreachable; logged once per
 * outage) or OP_EDB (schema older than this build; run migrate).
 */
OP_MUSTCHECK int store_ready(struct store *s);

/* Why s's last connection attempt failed, libpq's message on one line
 * (every host a multi-host string tried, and why each was refused), or ""
 * while connected.  Points into s: valid until s is next used.  This
 * can't fail. */
const char *store_why(const struct store *s);

/*
 * Whether s's server is a standby in recovery (*standby 1) and how far
 * its answers lag behind the primary: 0 when every WAL record received
 * is replayed (and on a primary), else the age of the last replayed
 * transaction in seconds; -1 when the standby cannot tell.  Returns
 * OP_OK, OP_EUNAVAIL or OP_EDB, with err set.
 */
OP_MUSTCHECK int store_freshness(struct store *s, int *standby, double *lag_s,
                                 char *err, size_t errsz);

/*
 * Stores every event of b in one transaction, idempotently, and records
 * the agent's progress.  *stored counts new or changed rows, *dups events
 * already stored.  Returns OP_OK after COMMIT; OP_EUNAVAIL when the
 * database is unreachable (retry later); OP_EDB otherwise, with err set.
 */
OP_MUSTCHECK int store_ingest(struct store *s, const op_batch *b,
                              uint32_t *stored, uint32_t *dups, char *err,
                              size_t errsz);

/*
 * Runs a read-only query with text parameters ($1..$n, NULL = SQL NULL)
 * and converts the result into *out, which the caller frees with
 * store_result_free.  Returns OP_OK, OP_EUNAVAIL or OP_EDB (err set).
 */
OP_MUSTCHECK int store_query(struct store *s, const char *sql,
                             const char *const *params, int nparams,
                             Opspulse__V1__QueryResult **out, char *err,
                             size_t errsz);
void store_result_free(Opspulse__V1__QueryResult *r);

/* The index of r's column name, or -1.  r may be NULL. */
int store_result_column(const Opspulse__V1__QueryResult *r, const char *name);

/* A result of one text column, name, and one row holding text (taken
 * over: freed with the result, also on failure).  Returns NULL when out
 * of memory. */
Opspulse__V1__QueryResult *store_result_text(const char *name, char *text);

/*
 * Runs one statement that changes data (a call such as
 * opspulse.sync_config(...)) with text parameters ($1..$n, NULL = SQL
 * NULL), in its own transaction; rows it returns are discarded.  Returns
 * OP_OK, OP_EUNAVAIL (database unreachable) or OP_EDB (err set).
 */
OP_MUSTCHECK int store_command(struct store *s, const char *sql,
                               const char *const *params, int nparams,
                               char *err, size_t errsz);

/* ---- administration (migrate) --------------------------------------- */

/*
 * Connects s now, for one-off administrative work, without the schema
 * check of store_ready.  Returns OP_OK, or OP_EUNAVAIL after logging why.
 */
OP_MUSTCHECK int store_connect(struct store *s);

/*
 * Runs sql, one or more statements without parameters (a migration or a
 * function file, or BEGIN/COMMIT around them) on the connection opened
 * by store_connect, and discards their rows.  Returns OP_OK, OP_EUNAVAIL
 * (connection lost) or OP_EDB, with err set.
 */
OP_MUSTCHECK int store_script(struct store *s, const char *sql, char *err,
                              size_t errsz);

/*
 * Reads the newest version in opspulse.schema_migrations into *version
 * (0 when it holds none), on the connection opened by store_connect.
 * Returns OP_OK, OP_EUNAVAIL or OP_EDB (err set).
 */
OP_MUSTCHECK int store_schema_version(struct store *s, int *version, char *err,
                                      size_t errsz);

#endif
