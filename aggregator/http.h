/*
 * The aggregator's HTTP address (SPEC §6): GET /report (the review page,
 * HTML or Markdown), /healthz (is the database reachable) and /metrics
 * (Prometheus text format: the counters of metrics.c and per-service
 * indicator gauges).  Requests share one database connection of their
 * own, one at a time, so a busy page never takes a worker from ingest.
 */
#ifndef AGG_HTTP_H
#define AGG_HTTP_H

#include "op_error.h"

struct agg_http;

struct op_server;

/* Serves on addr ("127.0.0.1:7411") with its own connection to
 * conninfo, and one to query_conninfo for /report and the gauges when it
 * is neither NULL nor "" (/healthz always asks conninfo); /metrics also
 * reads server's counters (server must outlive *out).  /report goes
 * through dispatch.h like the CLI's queries.
 * Returns OP_OK with *out set (stop and free with agg_http_stop), or
 * OP_ECONFIG, OP_EIO (logged) or OP_ENOMEM with *out NULL. */
OP_MUSTCHECK int agg_http_start(struct agg_http **out, const char *addr,
                                const char *conninfo,
                                const char *query_conninfo,
                                struct op_server *server);

/* Stops serving and frees h.  h may be NULL. */
void agg_http_stop(struct agg_http *h);

#endif
