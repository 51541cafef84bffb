/*
 * PostgreSQL storage: one connection per worker, batches written in one
 * transaction, parameterised SQL only, a pinned search_path.  The only
 * module of the aggregator that knows libpq.
 */
#ifndef STORE_H
#define STORE_H

#include <stdint.h>

#include "op_codec.h"

struct store;

/* Creates a store for conninfo.  Connects lazily.  Returns OP_OK or
 * OP_ENOMEM.  Free with store_free. */
int store_alloc(struct store **out, const char *conninfo);
void store_free(struct store *s);

/* Creates a store for the same database as s: another connection, for
 * work run beside s's.  Returns OP_OK or OP_ENOMEM. */
int store_alloc_like(struct store **out, const struct store *s);

/*
 * Connects (or checks the connection) and verifies the schema version.
 * Returns OP_OK, OP_EUNAVAIL (database unreachable; logged once per
 * outage) or OP_EDB (schema older than this build; run migrate).
 */
int store_ready(struct store *s);

/*
 * Stores every event of b in one transaction, idempotently, and records
 * the agent's progress.  *stored counts new or changed rows, *dups events
 * already stored.  Returns OP_OK after COMMIT; OP_EUNAVAIL when the
 * database is unreachable (retry later); OP_EDB otherwise, with err set.
 */
int store_ingest(struct store *s, const op_batch *b, uint32_t *stored,
                 uint32_t *dups, char *err, size_t errsz);

/*
 * Runs a read-only query with text parameters ($1..$n, NULL = SQL NULL)
 * and converts the result into *out, which the caller frees with
 * store_result_free.  Returns OP_OK, OP_EUNAVAIL or OP_EDB (err set).
 */
int store_query(struct store *s, const char *sql, const char *const *params,
                int nparams, Opspulse__V1__QueryResult **out, char *err,
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
int store_command(struct store *s, const char *sql, const char *const *params,
                  int nparams, char *err, size_t errsz);

/* Opens a connection for one-off administrative work (migrate).  Returns
 * NULL after logging why. */
void *store_connect_admin(const char *conninfo);

#endif
