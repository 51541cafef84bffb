/*
 * A small HTTP server for the daemons' HTTP endpoints (the agent's
 * Alertmanager webhook; the aggregator's /report, /metrics, /healthz).
 * Like op_transport, this is the only module that knows nng's HTTP API.
 * Handlers are given whole requests (the body already read, within the
 * route's size cap) and fill in a response.
 */
#ifndef OP_HTTP_H
#define OP_HTTP_H

#include <stddef.h>

#include "op_error.h"

struct op_http_request {
	const char *method;
	const char *path;  /* without the query string */
	const char *query; /* after '?', or "" */
	const void *body;
	size_t body_len;
	const char *peer; /* the client's address ("192.0.2.7"), or "" */
	void *impl;
};

/* The value of request header name, or NULL.  This can't fail. */
const char *op_http_header(const struct op_http_request *r, const char *name);

struct op_http_response {
	int status;               /* 200 unless set */
	const char *content_type; /* static; "text/plain" unless set */
	char *body;               /* malloc'd; the server frees it */
	size_t body_len;
	const char *header_name; /* one extra header (static), or NULL */
	const char *header_value;
};

/* Sets status and a formatted text body (with a newline) on res.  On
 * allocation failure the body is left empty; the status still holds. */
void op_http_reply(struct op_http_response *res, int status, const char *fmt,
                   ...) __attribute__((format(printf, 3, 4)));

/* Called on a server thread, possibly for several requests at once. */
typedef void (*op_http_fn)(void *arg, const struct op_http_request *req,
                           struct op_http_response *res);

struct op_http_route {
	const char *method; /* "POST"; NULL: any method */
	const char *path;   /* exact path, "/alertmanager" */
	size_t max_body;    /* a larger body is answered 413 unread */
	op_http_fn fn;
	void *arg;
};

struct op_http_server;

/*
 * Serves routes on addr ("127.0.0.1:9095" or "http://host:port").  Other
 * paths get 404, other methods 405.  Returns OP_OK, OP_ECONFIG (bad
 * address), OP_EIO (address in use or not bindable; logged) or
 * OP_ENOMEM.  The caller stops and frees *out with op_http_stop.
 */
OP_MUSTCHECK int op_http_start(struct op_http_server **out, const char *addr,
                               const struct op_http_route *routes, size_t n);

/*
 * As op_http_start, but over HTTPS (TLS 1.2 or later) with the PEM
 * certificate and key in the files cert and key, when both are non-NULL.
 * Returns OP_OK, OP_ECONFIG (bad address, or a certificate or key that
 * cannot be read or used; logged), OP_EIO or OP_ENOMEM.
 */
OP_MUSTCHECK int op_http_start_tls(struct op_http_server **out,
                                   const char *addr, const char *cert,
                                   const char *key,
                                   const struct op_http_route *routes,
                                   size_t n);

/*
 * Serves new connections of s, started over HTTPS, with the certificate
 * and key in cert and key; connections already open keep theirs, and the
 * listener stays open.  Returns OP_OK, or OP_ECONFIG (logged) with the old
 * certificate still in use, or OP_ENOMEM.
 */
OP_MUSTCHECK int op_http_set_tls(struct op_http_server *s, const char *cert,
                                 const char *key);

/* Stops serving, waits for running handlers and frees s.  s may be
 * NULL. */
void op_http_stop(struct op_http_server *s);

#endif
