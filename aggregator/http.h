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

struct agg_conf;
struct op_server;

/* Serves on c->http ("127.0.0.1:7411") with its own connection to
 * c->database, and one to c->query_database for /report and the gauges
 * when it is set (/healthz always asks c->database), over HTTPS when
 * c->http_tls is set, asking for the credentials of c->http_users and
 * c->http_tokens when any is set
 * (/healthz stays open; SPEC §7); warns when the address is reachable
 * beyond loopback without both.  c is copied.  /metrics also reads
 * server's counters (server must outlive *out).  /report goes through
 * dispatch.h like the CLI's queries.  Returns OP_OK with *out set (stop
 * and free with agg_http_stop), or OP_ECONFIG, OP_EIO (logged) or
 * OP_ENOMEM with *out NULL. */
OP_MUSTCHECK int agg_http_start(struct agg_http **out, const struct agg_conf *c,
                                struct op_server *server);

/* SIGHUP: takes next's credentials and, when serving HTTPS, its
 * certificate for new connections, without closing the listener.  The
 * address and a change between HTTP and HTTPS wait for a restart.
 * Returns OP_OK, or OP_ECONFIG (the certificate's fault, logged) or
 * OP_ENOMEM with the running certificate and credentials kept.  h may
 * not be NULL. */
OP_MUSTCHECK int agg_http_reload(struct agg_http *h,
                                 const struct agg_conf *next);

/* Stops serving and frees h.  h may be NULL. */
void agg_http_stop(struct agg_http *h);

#endif
