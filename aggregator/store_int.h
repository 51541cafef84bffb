/*
 * Internals shared by the store's modules (store.c: connection and
 * queries; store_ingest.c: the batch write path).  Not for other modules.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <stddef.h>

#include <libpq-fe.h>

#include "op_error.h"

struct store {
	char *conninfo;
	int queries; /* for query_database: named and logged so */
	PGconn *conn;
	int down_logged;
	int had_session; /* a session was up once: the next is a reconnection */
	char why[512];   /* why the last connection attempt failed; "" if up */
	int prepared;    /* this session has the write path's statements */
	char sqlstate[6]; /* of the last failure; "" if it had none */
};

/* Copies the error of r (or of the connection) into err and its SQLSTATE
 * into s->sqlstate, and frees r.  Returns OP_EUNAVAIL when the connection
 * is lost, else OP_EDB. */
OP_MUSTCHECK int store_failure(struct store *s, PGresult *r, char *err,
                               size_t errsz);

/* Runs a statement without parameters or rows.  Returns OP_OK or as
 * store_failure. */
OP_MUSTCHECK int store_exec(struct store *s, const char *sql, char *err,
                            size_t errsz);

/* store_ready, with err saying why not ("database unavailable" or
 * "database schema not ready").  Returns OP_OK, OP_EUNAVAIL or OP_EDB. */
OP_MUSTCHECK int store_ready_err(struct store *s, char *err, size_t errsz);

#endif
