#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>

#include "op_error.h"
#include "op_file.h"
#include "op_http.h"
#include "op_log.h"

#define MOD             "http"
#define OP_HTTP_READ_MS 10000 /* for a request body to arrive */

struct op_http_server {
	nng_http_server *srv;
	struct op_http_route *routes;
	size_t n;
	char *url;
};

const char *
op_http_header(const struct op_http_request *r, const char *name)
{
	return nng_http_req_get_header(r->impl, name);
}

void
op_http_reply(struct op_http_response *res, int status, const char *fmt, ...)
{
	va_list ap;
	int len;

	res->status = status;
	free(res->body);
	res->body = NULL;
	res->body_len = 0;
	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || (res->body = malloc((size_t)len + 2)) == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(res->body, (size_t)len + 1, fmt, ap);
	va_end(ap);
	res->body[len] = '\n';
	res->body[len + 1] = '\0';
	res->body_len = (size_t)len + 1;
}

/* Reason phrases nng 1.5.2 does not know. */
static const char *
op_http_reason(int status)
{
	switch (status) {
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	default:
		return NULL;
	}
}

/* Builds nng's response from ours.  Returns NULL when out of memory. */
static nng_http_res *
op_http_res(const struct op_http_response *p)
{
	nng_http_res *res;

	if (nng_http_res_alloc(&res) != 0)
		return NULL;
	if (nng_http_res_set_status(res, (uint16_t)p->status) != 0 ||
	    (op_http_reason(p->status) &&
	     nng_http_res_set_reason(res, op_http_reason(p->status))) ||
	    nng_http_res_set_header(res, "Content-Type",
	                            p->content_type ? p->content_type
	                                            : "text/plain") != 0 ||
	    (p->header_name &&
	     nng_http_res_set_header(res, p->header_name, p->header_value)) ||
	    (p->body_len &&
	     nng_http_res_copy_data(res, p->body, p->body_len))) {
		nng_http_res_free(res);
		return NULL;
	}
	return res;
}

/*
 * Reads the request body from conn into a malloc'd buffer (*body, the
 * caller frees it), answering what a body over max deserves.  nng's own
 * body collection answers an oversized body with 400; reading it here lets
 * us say 413.  Returns 0, an HTTP status to answer with, or -1 when the
 * connection failed (the request is then dropped).
 */
static int
op_http_body(nng_http_req *req, nng_http_conn *conn, size_t max, void **body,
             size_t *len)
{
	const char *cl = nng_http_req_get_header(req, "Content-Length");
	unsigned long long n = 0;
	nng_aio *aio;
	nng_iov iov;
	char *end;
	int rv;

	*body = NULL;
	*len = 0;
	if (cl != NULL) {
		n = strtoull(cl, &end, 10);
		if (end == cl || *end != '\0')
			return 400;
	} else if (nng_http_req_get_header(req, "Transfer-Encoding") != NULL) {
		return 411; /* nng's server reads no chunked bodies */
	}
	if (n > max)
		return 413;
	if (n == 0)
		return 0;
	if ((*body = malloc(n)) == NULL)
		return 500;
	if (nng_aio_alloc(&aio, NULL, NULL) != 0)
		return 500;
	iov.iov_buf = *body;
	iov.iov_len = n;
	nng_aio_set_iov(aio, 1, &iov);
	nng_aio_set_timeout(aio, OP_HTTP_READ_MS);
	nng_http_conn_read_all(conn, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	nng_aio_free(aio);
	*len = n;
	return rv == 0 ? 0 : -1;
}

/*
 * The client's address of conn, into buf (size at least
 * INET6_ADDRSTRLEN), or "".  nng 1.5 has no call for it; its
 * nng_http_conn begins with the connection's nng_stream (http_conn.c),
 * the one layout relied on here, and only for that version.
 */
static void
op_http_peer(nng_http_conn *conn, char *buf, size_t size)
{
	buf[0] = '\0';
#if NNG_MAJOR_VERSION == 1 && NNG_MINOR_VERSION == 5
	nng_stream *st = *(nng_stream **)(void *)conn;
	nng_sockaddr sa;

	if (st == NULL || nng_stream_get_addr(st, NNG_OPT_REMADDR, &sa) != 0)
		return;
	if (sa.s_family == NNG_AF_INET)
		inet_ntop(AF_INET, &sa.s_in.sa_addr, buf, (socklen_t)size);
	else if (sa.s_family == NNG_AF_INET6)
		inet_ntop(AF_INET6, sa.s_in6.sa_addr, buf, (socklen_t)size);
#else
	(void)conn;
	(void)size;
#endif
}

static void
op_http_cb(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	const struct op_http_route *r = nng_http_handler_get_data(h);
	struct op_http_response p = {200, NULL, NULL, 0, NULL, NULL};
	struct op_http_request q = {0};
	char peer[64];
	const char *uri = nng_http_req_get_uri(req);
	const char *qm = strchr(uri, '?');
	void *body;
	nng_http_res *res;
	int st;

	q.method = nng_http_req_get_method(req);
	q.path = r->path;
	q.query = qm ? qm + 1 : "";
	q.impl = req;
	op_http_peer(nng_aio_get_input(aio, 2), peer, sizeof(peer));
	q.peer = peer;
	st = op_http_body(req, nng_aio_get_input(aio, 2), r->max_body, &body,
	                  &q.body_len);
	q.body = body;
	if (st < 0) {
		free(body);
		nng_aio_finish(aio, NNG_ECONNSHUT);
		return;
	}
	if (st > 0) {
		/* The body is left unread: the connection cannot go on. */
		p.header_name = "Connection";
		p.header_value = "close";
		op_http_reply(&p, st, "%s",
		              st == 413   ? "request body too large"
		              : st == 411 ? "a Content-Length is required"
		                          : "bad request");
	} else {
		r->fn(r->arg, &q, &p);
	}
	free(body);
	res = op_http_res(&p);
	free(p.body);
	if (res == NULL) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static int
op_http_err(int rv)
{
	switch (rv) {
	case 0:
		return OP_OK;
	case NNG_ENOMEM:
		return OP_ENOMEM;
	case NNG_EADDRINVAL:
	case NNG_EINVAL:
		return OP_ECONFIG;
	default:
		return OP_EIO;
	}
}

static int
op_http_add(struct op_http_server *s, struct op_http_route *r)
{
	nng_http_handler *h;
	int rv;

	if ((rv = nng_http_handler_alloc(&h, r->path, op_http_cb)) != 0)
		return rv;
	if ((rv = nng_http_handler_set_data(h, r, NULL)) != 0 ||
	    (r->method && (rv = nng_http_handler_set_method(h, r->method))) ||
	    (rv = nng_http_handler_collect_body(h, false, 0)) != 0 ||
	    (rv = nng_http_server_add_handler(s->srv, h)) != 0) {
		nng_http_handler_free(h);
		return rv;
	}
	return 0;
}

static int
op_http_url(struct op_http_server *s, const char *addr, int tls)
{
	const char *scheme = strstr(addr, "://") ? ""
	                     : tls               ? "https://"
	                                         : "http://";

	s->url = malloc(strlen(scheme) + strlen(addr) + 1);
	if (s->url == NULL)
		return OP_ENOMEM;
	strcpy(s->url, scheme);
	strcat(s->url, addr);
	return OP_OK;
}

/*
 * A server TLS configuration (TLS 1.2 or later, no client certificate)
 * with the PEM certificate and key in the files cert and key, into *out
 * (the caller drops it with nng_tls_config_free).  Returns 0 or an nng
 * error, logged with the file at fault.
 */
static int
op_http_tls(nng_tls_config **out, const char *cert, const char *key)
{
	char *c = op_file_read(cert, OP_TLS_FILE_MAX),
	     *k = op_file_read(key, OP_TLS_FILE_MAX);
	nng_tls_config *cfg = NULL;
	int rv;

	if (c == NULL || k == NULL) {
		op_error(MOD, "cannot read %s: check the path and permissions",
		         c == NULL ? cert : key);
		rv = NNG_EINVAL;
	} else if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER)) ==
	               0 &&
	           ((rv = nng_tls_config_version(cfg, NNG_TLS_1_2,
	                                         NNG_TLS_1_3)) != 0 ||
	            (rv = nng_tls_config_auth_mode(
	                 cfg, NNG_TLS_AUTH_MODE_NONE)) != 0 ||
	            (rv = nng_tls_config_own_cert(cfg, c, k, NULL)) != 0)) {
		op_error(MOD,
		         "cannot use certificate %s with key %s: %s; both must "
		         "be PEM and the key must match the certificate",
		         cert, key, nng_strerror(rv));
		rv = NNG_EINVAL;
	}
	free(c);
	op_file_free_secret(k);
	if (rv != 0 && cfg != NULL)
		nng_tls_config_free(cfg);
	*out = rv == 0 ? cfg : NULL;
	return rv;
}

static int
op_http_open(struct op_http_server *s, const char *addr, const char *cert,
             const char *key, const struct op_http_route *routes, size_t n)
{
	nng_tls_config *tls = NULL;
	nng_url *url = NULL;
	int rv;

	if ((s->routes = calloc(n ? n : 1, sizeof(*routes))) == NULL ||
	    op_http_url(s, addr, cert != NULL) != OP_OK)
		return NNG_ENOMEM;
	memcpy(s->routes, routes, n * sizeof(*routes));
	s->n = n;
	if ((rv = nng_url_parse(&url, s->url)) != 0)
		return NNG_EADDRINVAL;
	rv = nng_http_server_hold(&s->srv, url);
	nng_url_free(url);
	if (rv == 0 && cert != NULL &&
	    (rv = op_http_tls(&tls, cert, key)) == 0) {
		rv = nng_http_server_set_tls(s->srv, tls);
		nng_tls_config_free(tls); /* the server holds a reference */
	}
	for (size_t i = 0; rv == 0 && i < n; i++)
		rv = op_http_add(s, &s->routes[i]);
	return rv ? rv : nng_http_server_start(s->srv);
}

int
op_http_start(struct op_http_server **out, const char *addr,
              const struct op_http_route *routes, size_t n)
{
	return op_http_start_tls(out, addr, NULL, NULL, routes, n);
}

int
op_http_start_tls(struct op_http_server **out, const char *addr,
                  const char *cert, const char *key,
                  const struct op_http_route *routes, size_t n)
{
	struct op_http_server *s = calloc(1, sizeof(*s));
	int rv;

	*out = NULL;
	if (s == NULL)
		return OP_ENOMEM;
	if (cert == NULL || key == NULL)
		cert = key = NULL;
	if ((rv = op_http_open(s, addr, cert, key, routes, n)) != 0) {
		op_error(MOD, "cannot serve HTTP on %s: %s", addr,
		         nng_strerror(rv));
		op_http_stop(s);
		return op_http_err(rv);
	}
	*out = s;
	return OP_OK;
}

/*
 * Connects to s's own port and hangs up.  nng prepares each accept with
 * the TLS configuration of its time, so the accept waiting during a swap
 * would hand the old certificate to one more client; this one takes it.
 * A failure only leaves that one client with the old certificate.
 */
static void
op_http_poke(const struct op_http_server *s)
{
	struct addrinfo hints = {0}, *ai = NULL;
	const char *host;
	nng_url *url;
	int fd;

	if (nng_url_parse(&url, s->url) != 0)
		return;
	host = url->u_hostname;
	if (*host == '\0' || strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		host = "::1";
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, url->u_port, &hints, &ai) == 0) {
		fd = socket(ai->ai_family, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
			op_debug(MOD, "cannot reach %s to renew its accept",
			         s->url);
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
	}
	nng_url_free(url);
}

int
op_http_set_tls(struct op_http_server *s, const char *cert, const char *key)
{
	nng_tls_config *tls;
	int rv;

	if (op_http_tls(&tls, cert, key) != 0)
		return OP_ECONFIG;
	/* nng swaps the listener's configuration for new connections. */
	rv = nng_http_server_set_tls(s->srv, tls);
	nng_tls_config_free(tls);
	if (rv != 0)
		op_error(MOD, "cannot change the certificate of %s: %s", s->url,
		         nng_strerror(rv));
	else
		op_http_poke(s);
	return op_http_err(rv);
}

/*
 * nng 1.5.2 leaks a handler's reference when a request is dispatched just
 * as the server stops (http_sconn_rxdone: nni_aio_begin fails after the
 * reference was taken), so a stop under load may leave a few hundred
 * bytes behind; nothing is used after being freed.
 */
void
op_http_stop(struct op_http_server *s)
{
	if (s == NULL)
		return;
	if (s->srv) {
		nng_http_server_stop(s->srv);
		/* The server owns the handlers and frees them with itself. */
		nng_http_server_release(s->srv);
	}
	free(s->routes);
	free(s->url);
	free(s);
}
