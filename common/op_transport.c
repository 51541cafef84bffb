#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "op_auth.h"
#include "op_codec.h"
#include "op_error.h"
#include "op_file.h"
#include "op_log.h"
#include "op_transport.h"

#define MOD "transport"

/* tls+ listeners whose refused handshakes are logged. */
#define OP_MAX_TLS_LISTENERS 16
/* How often those are looked for. */
#define OP_WATCH_SECONDS 5

static int
op_nng_err(int rv)
{
	switch (rv) {
	case 0:
		return OP_OK;
	case NNG_ENOMEM:
		return OP_ENOMEM;
	case NNG_ETIMEDOUT:
		return OP_ETIMEDOUT;
	case NNG_ECONNREFUSED:
	case NNG_EADDRINVAL:
	case NNG_EUNREACHABLE:
	case NNG_ECONNRESET:
	case NNG_ECONNABORTED:
	case NNG_ECONNSHUT:
	case NNG_EPEERAUTH:
	case NNG_ECRYPTO:
		return OP_EUNREACHABLE;
	case NNG_ECLOSED:
		return OP_ECLOSED;
	case NNG_EMSGSIZE:
		return OP_ETOOBIG;
	default:
		return OP_EIO;
	}
}

static int
op_is_tls(const char *addr)
{
	return strncmp(addr, "tls+", 4) == 0;
}

/* Refuses plaintext addresses unless the configuration allows them. */
static int
op_check_scheme(const char *addr, const struct op_tls_conf *tls)
{
	if (op_is_tls(addr) || tls->insecure)
		return OP_OK;
	op_error(MOD,
	         "%s is not encrypted; use tls+tcp:// or set tls.insecure = "
	         "true in the configuration",
	         addr);
	return OP_ECONFIG;
}

/* Builds an nng TLS configuration requiring a CA-signed peer. */
static int
op_tls_config(nng_tls_config **out, const struct op_tls_conf *tls,
              nng_tls_mode mode)
{
	nng_tls_config *cfg;
	char *cert = NULL, *key = NULL;
	int rv;

	if (op_tls_check(tls) != OP_OK)
		return OP_ECONFIG;
	if ((rv = nng_tls_config_alloc(&cfg, mode)) != 0)
		return op_nng_err(rv);
	cert = op_file_read(tls->cert, OP_TLS_FILE_MAX);
	key = op_file_read(tls->key, OP_TLS_FILE_MAX);
	if (cert == NULL || key == NULL) {
		op_error(MOD, "cannot read %s: check the path and permissions",
		         cert == NULL ? tls->cert : tls->key);
		rv = NNG_EINVAL;
	} else if ((rv = nng_tls_config_ca_file(cfg, tls->ca)) != 0) {
		op_error(MOD, "cannot load CA file %s: %s", tls->ca,
		         nng_strerror(rv));
	} else if ((rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
		op_error(MOD, "cannot load certificate %s / key %s: %s",
		         tls->cert, tls->key, nng_strerror(rv));
	} else {
		rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
	}
	free(cert);
	op_file_free_secret(key);
	if (rv != 0) {
		nng_tls_config_free(cfg);
		return OP_ECONFIG;
	}
	*out = cfg;
	return OP_OK;
}

int
op_tls_load_check(const struct op_tls_conf *tls, int server, char *cn,
                  size_t cnsz)
{
	nng_tls_config *cfg = NULL;
	struct op_auth_signer *signer = NULL;
	int rv = op_tls_config(
	    &cfg, tls, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT);

	if (rv == OP_OK)
		nng_tls_config_free(cfg);
	if (rv == OP_OK &&
	    (rv = op_auth_signer_alloc(&signer, tls->cert, tls->key)) == OP_OK)
		op_auth_signer_name(signer, cn, cnsz);
	op_auth_signer_free(signer);
	return rv;
}

/* ---- client ------------------------------------------------------------- */

/*
 * How often nng redials a lost connection: a random wait below 100 ms
 * at first, doubling to below 1 s, then below 1 s for as long as it takes
 * (nng 1.5.2's default is below 1 s from the start).  This is what bounds
 * how soon delivery resumes after an aggregator comes back.
 */
#define OP_RECONNECT_MIN_MS 100
#define OP_RECONNECT_MAX_MS 1000

struct op_client {
	struct op_strlist addrs;
	struct op_tls_conf tls;
	int timeout_ms;
	size_t current;
	int connected;
	int watching; /* sock dials addrs[current] in the background */
	int refused;  /* the last dial of addrs[current] found nobody */
	unsigned gen; /* counts connections, so that a failure drops one once */
	nng_socket sock;
	struct op_auth_signer *signer; /* made on the first tls+ dial */
};

int
op_transport_init(void)
{
	nng_socket sock;
	int rv;

	if ((rv = nng_req0_open(&sock)) != 0)
		return op_nng_err(rv);
	nng_close(sock);
	return OP_OK;
}

int
op_client_alloc(struct op_client **out, const struct op_strlist *addrs,
                const struct op_tls_conf *tls, int timeout_ms)
{
	struct op_client *c;

	if (addrs->n == 0) {
		op_error(MOD, "no aggregator address is configured");
		return OP_ECONFIG;
	}
	for (size_t i = 0; i < addrs->n; i++) {
		if (op_check_scheme(addrs->items[i], tls))
			return OP_ECONFIG;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return OP_ENOMEM;
	for (size_t i = 0; i < addrs->n; i++) {
		if (op_strlist_add(&c->addrs, addrs->items[i])) {
			op_client_free(c);
			return OP_ENOMEM;
		}
	}
	c->tls = *tls;
	c->timeout_ms = timeout_ms;
	*out = c;
	return OP_OK;
}

/* Opens c->sock as a REQ socket with the client's settings. */
static int
op_client_open(struct op_client *c)
{
	int rv;

	if ((rv = nng_req0_open(&c->sock)) != 0)
		return op_nng_err(rv);
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, OP_MAX_WIRE_BYTES);
	nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, c->timeout_ms);
	nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, c->timeout_ms);
	/* Never resend on our own: the caller decides, after a timeout. */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME,
	                  NNG_DURATION_INFINITE);
	/* Inherited by the dialers made after it. */
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, OP_RECONNECT_MIN_MS);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, OP_RECONNECT_MAX_MS);
	return OP_OK;
}

/*
 * Opens c->sock and dials addr: flags 0 waits for the first attempt's
 * outcome; NNG_FLAG_NONBLOCK returns at once and nng keeps dialling in
 * the background until it connects.
 */
static int
op_client_dial(struct op_client *c, const char *addr, int flags)
{
	nng_dialer d;
	nng_tls_config *cfg = NULL;
	int rv;

	if ((rv = op_client_open(c)) != OP_OK)
		return rv;
	rv = nng_dialer_create(&d, c->sock, addr);
	if (rv == 0 && op_is_tls(addr)) {
		if (op_tls_config(&cfg, &c->tls, NNG_TLS_MODE_CLIENT) ||
		    (c->signer == NULL &&
		     op_auth_signer_alloc(&c->signer, c->tls.cert,
		                          c->tls.key) != OP_OK)) {
			if (cfg != NULL)
				nng_tls_config_free(cfg);
			nng_close(c->sock);
			return OP_ECONFIG;
		}
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg); /* the dialer holds a reference */
	}
	if (rv == 0)
		rv = nng_dialer_start(d, flags);
	if (rv == NNG_ECRYPTO || rv == NNG_EPEERAUTH || rv == NNG_ECONNSHUT) {
		/* The server closes a connection whose certificate it refuses
		 * during the handshake: this is where that becomes visible. */
		op_error(
		    MOD,
		    "TLS handshake with %s failed: %s; check that the "
		    "aggregator's CA signed tls.cert and tls.ca signed the "
		    "aggregator's certificate, and that neither expired",
		    addr, nng_strerror(rv));
	} else if (rv != 0) {
		op_debug(MOD, "cannot connect to %s: %s", addr,
		         nng_strerror(rv));
	}
	if (rv != 0) {
		nng_close(c->sock);
		/* Reached, but the certificates did not agree: not a
		 * question of whether the aggregator runs. */
		if (rv == NNG_ECRYPTO || rv == NNG_EPEERAUTH ||
		    rv == NNG_ECONNSHUT)
			return OP_EFORBIDDEN;
		return op_nng_err(rv);
	}
	return OP_OK;
}

/* Whether the socket has a connection a request can go out on now. */
static int
op_client_ready(struct op_client *c)
{
	struct pollfd p = {-1, POLLIN, 0};

	if (nng_socket_get_int(c->sock, NNG_OPT_SENDFD, &p.fd) != 0)
		return 0;
	return poll(&p, 1, 0) > 0;
}

/* Connects to the first address that answers, from the current one on:
 * the one watched, if it answered meanwhile. */
static int
op_client_connect(struct op_client *c)
{
	int rv = OP_EUNREACHABLE;

	if (c->watching) {
		c->watching = 0;
		if (op_client_ready(c)) {
			c->connected = 1;
			c->refused = 0;
			c->gen++;
			return OP_OK;
		}
		nng_close(c->sock);
	}
	for (size_t i = 0; i < c->addrs.n; i++) {
		size_t k = (c->current + i) % c->addrs.n;
		if ((rv = op_client_dial(c, c->addrs.items[k], 0)) == OP_OK) {
			c->current = k;
			c->connected = 1;
			c->refused = 0;
			c->gen++;
			return OP_OK;
		}
		if (i == 0)
			c->refused = rv == OP_EUNREACHABLE;
		if (rv == OP_ECONFIG || rv == OP_ENOMEM)
			return rv;
	}
	return rv;
}

static void
op_client_drop(struct op_client *c)
{
	if (c->connected || c->watching) {
		nng_close(c->sock);
		c->connected = 0;
		c->watching = 0;
	}
}

int
op_client_watch(struct op_client *c)
{
	int fd;

	/* Only when nobody answered: after a refused certificate, or a
	 * connection that failed a request, redialling at once would only
	 * fail again, every second, where the caller's backoff spaces its
	 * attempts out. */
	if (c->connected || (!c->watching && !c->refused))
		return -1;
	if (!c->watching) {
		if (op_client_dial(c, c->addrs.items[c->current],
		                   NNG_FLAG_NONBLOCK) != OP_OK)
			return -1;
		c->watching = 1;
	}
	/* Readable while the REQ socket has a connection to send on. */
	if (nng_socket_get_int(c->sock, NNG_OPT_SENDFD, &fd) != 0)
		return -1;
	return fd;
}

/* The request as sent: over TLS, signed with our certificate's key. */
static int
op_client_msg(struct op_client *c, const uint8_t *req, size_t len,
              nng_msg **msg)
{
	uint8_t *sealed = NULL;
	int rv;

	if (op_is_tls(op_client_address(c)) && c->signer != NULL) {
		if ((rv = op_auth_seal(c->signer, req, len, &sealed, &len)))
			return rv;
		req = sealed;
	}
	if ((rv = nng_msg_alloc(msg, len)) == 0)
		memcpy(nng_msg_body(*msg), req, len);
	free(sealed);
	return op_nng_err(rv);
}

int
op_client_call(struct op_client *c, const uint8_t *req, size_t len,
               uint8_t **reply, size_t *reply_len)
{
	nng_msg *msg;
	int rv;

	if (!c->connected && (rv = op_client_connect(c)) != OP_OK)
		return rv;
	if ((rv = op_client_msg(c, req, len, &msg)) != OP_OK)
		return rv;
	if ((rv = nng_sendmsg(c->sock, msg, 0)) != 0) {
		nng_msg_free(msg);
	} else if ((rv = nng_recvmsg(c->sock, &msg, 0)) == 0) {
		*reply_len = nng_msg_len(msg);
		*reply = malloc(*reply_len ? *reply_len : 1);
		if (*reply != NULL)
			memcpy(*reply, nng_msg_body(msg), *reply_len);
		nng_msg_free(msg);
		return *reply ? OP_OK : OP_ENOMEM;
	}
	/* Fail over: the next call starts with the next address. */
	op_client_drop(c);
	c->current = (c->current + 1) % c->addrs.n;
	return op_nng_err(rv);
}

struct op_call {
	nng_ctx ctx;
	nng_aio *aio;
	unsigned gen; /* of the connection it went out on */
};

static void
op_call_free(struct op_call *call)
{
	if (call == NULL)
		return;
	if (call->aio != NULL) {
		nng_aio_stop(call->aio);
		nng_aio_free(call->aio);
	}
	nng_ctx_close(call->ctx); /* already closed with its socket: harmless */
	free(call);
}

/* A call failed: fail over, unless its connection is gone already. */
static int
op_call_failed(struct op_client *c, const struct op_call *call, int rv)
{
	if (c->connected && call->gen == c->gen) {
		op_client_drop(c);
		c->current = (c->current + 1) % c->addrs.n;
	}
	return op_nng_err(rv);
}

static int
op_call_start(struct op_client *c, struct op_call *call, nng_msg *msg)
{
	int rv;

	call->gen = c->gen;
	if ((rv = nng_ctx_open(&call->ctx, c->sock)) != 0 ||
	    (rv = nng_aio_alloc(&call->aio, NULL, NULL)) != 0) {
		nng_msg_free(msg);
		return op_nng_err(rv);
	}
	nng_aio_set_timeout(call->aio, c->timeout_ms);
	nng_aio_set_msg(call->aio, msg);
	nng_ctx_send(call->ctx, call->aio);
	nng_aio_wait(call->aio);
	if ((rv = nng_aio_result(call->aio)) != 0) {
		nng_msg_free(msg);
		return op_call_failed(c, call, rv);
	}
	nng_ctx_recv(call->ctx, call->aio);
	return OP_OK;
}

int
op_client_send(struct op_client *c, const uint8_t *req, size_t len,
               struct op_call **out)
{
	struct op_call *call;
	nng_msg *msg;
	int rv;

	if (!c->connected && (rv = op_client_connect(c)) != OP_OK)
		return rv;
	if ((rv = op_client_msg(c, req, len, &msg)) != OP_OK)
		return rv;
	if ((call = calloc(1, sizeof(*call))) == NULL) {
		nng_msg_free(msg);
		return OP_ENOMEM;
	}
	if ((rv = op_call_start(c, call, msg)) != OP_OK) {
		op_call_free(call);
		return rv;
	}
	*out = call;
	return OP_OK;
}

int
op_call_wait(struct op_client *c, struct op_call *call, uint8_t **reply,
             size_t *reply_len)
{
	nng_msg *msg;
	int rv;

	nng_aio_wait(call->aio);
	if ((rv = nng_aio_result(call->aio)) != 0) {
		rv = op_call_failed(c, call, rv);
		op_call_free(call);
		return rv;
	}
	msg = nng_aio_get_msg(call->aio);
	*reply_len = nng_msg_len(msg);
	*reply = malloc(*reply_len ? *reply_len : 1);
	if (*reply != NULL)
		memcpy(*reply, nng_msg_body(msg), *reply_len);
	nng_msg_free(msg);
	op_call_free(call);
	return *reply ? OP_OK : OP_ENOMEM;
}

const char *
op_client_address(const struct op_client *c)
{
	return c->addrs.items[c->current];
}

size_t
op_client_index(const struct op_client *c)
{
	return c->current;
}

void
op_client_restart(struct op_client *c)
{
	op_client_drop(c);
	c->current = 0;
}

void
op_client_free(struct op_client *c)
{
	if (c == NULL)
		return;
	op_client_drop(c);
	op_strlist_free(&c->addrs);
	op_auth_signer_free(c->signer);
	free(c);
}

/* ---- server ------------------------------------------------------------- */

struct op_worker {
	struct op_server *server;
	unsigned index;
	pthread_t thread;
	int started;
	nng_ctx ctx;
	nng_aio *aio;
};

/* A tls+ listener, watched for refused handshakes. */
struct op_tls_listener {
	nng_listener l;
	char *addr;
	uint64_t refused; /* nng's "auth" error count, as last logged */
};

struct op_server {
	nng_socket sock;
	op_serve_fn fn;
	void *arg;
	unsigned nworkers;
	struct op_worker *workers;
	struct op_tls_listener tls[OP_MAX_TLS_LISTENERS];
	size_t ntls;
	pthread_t watcher;
	int watching, stopping;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic uint64_t refused; /* over every tls+ listener */
};

/* Answers one request; the request message is consumed. */
static void
op_worker_answer(struct op_worker *w, nng_msg *msg)
{
	struct op_server *s = w->server;
	struct op_peer peer = {NULL, 0};
	char *cn = NULL;
	bool verified = false;
	uint8_t *out = NULL;
	size_t outlen = 0;
	nng_pipe p = nng_msg_get_pipe(msg);

	/* Not a TLS pipe (plain tcp://, allowed by tls.insecure): false. */
	if (nng_pipe_get_bool(p, NNG_OPT_TLS_VERIFIED, &verified) == 0)
		peer.tls = verified;

#ifdef NNG_OPT_TLS_PEER_CN
	/* nng >= 1.6 exposes the verified peer certificate's common name. */
	if (nng_pipe_get_string(p, NNG_OPT_TLS_PEER_CN, &cn) == 0)
		peer.identity = cn;
#endif
	if (s->fn(s->arg, w->index, &peer, nng_msg_body(msg), nng_msg_len(msg),
	          &out, &outlen) != OP_OK ||
	    nng_msg_realloc(msg, outlen) != 0) {
		nng_msg_free(msg);
		free(out);
		nng_strfree(cn);
		return;
	}
	memcpy(nng_msg_body(msg), out, outlen);
	free(out);
	nng_strfree(cn);
	nng_aio_set_msg(w->aio, msg);
	nng_ctx_send(w->ctx, w->aio);
	nng_aio_wait(w->aio);
	if (nng_aio_result(w->aio) != 0)
		nng_msg_free(msg);
}

static void *
op_worker_main(void *arg)
{
	struct op_worker *w = arg;

	for (;;) {
		int rv;

		nng_ctx_recv(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		rv = nng_aio_result(w->aio);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			break;
		if (rv != 0) {
			op_warn(MOD, "receive failed: %s", nng_strerror(rv));
			continue;
		}
		op_worker_answer(w, nng_aio_get_msg(w->aio));
	}
	return NULL;
}

static int
op_server_listen(struct op_server *s, const char *addr,
                 const struct op_tls_conf *tls)
{
	nng_listener l;
	nng_tls_config *cfg = NULL;
	int rv;

	if (op_check_scheme(addr, tls))
		return OP_ECONFIG;
	if ((rv = nng_listener_create(&l, s->sock, addr)) != 0) {
		op_error(MOD, "cannot listen on %s: %s", addr,
		         nng_strerror(rv));
		return OP_ECONFIG;
	}
	if (op_is_tls(addr)) {
		if (op_tls_config(&cfg, tls, NNG_TLS_MODE_SERVER))
			return OP_ECONFIG;
		rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg);
		if (rv == 0 && s->ntls < OP_MAX_TLS_LISTENERS) {
			s->tls[s->ntls].l = l;
			if ((s->tls[s->ntls].addr = strdup(addr)) == NULL)
				return OP_ENOMEM;
			s->ntls++;
		}
	}
	if (rv == 0)
		rv = nng_listener_start(l, 0);
	if (rv != 0) {
		op_error(MOD, "cannot listen on %s: %s", addr,
		         nng_strerror(rv));
		return rv == NNG_EADDRINUSE ? OP_EIO : OP_ECONFIG;
	}
	op_info(MOD, "listening on %s", addr);
	return OP_OK;
}

/*
 * nng 1.5.2 completes a TLS handshake before a pipe exists, so a refused
 * client certificate (none, another CA's, expired) reaches no callback.
 * It does count it, in the listener's "auth" statistic: log increases.
 */
static void
op_server_check_refused(struct op_server *s)
{
	nng_stat *all, *ls, *auth;

	if (nng_stats_get(&all) != 0)
		return;
	for (size_t i = 0; i < s->ntls; i++) {
		struct op_tls_listener *t = &s->tls[i];
		uint64_t n;

		if ((ls = nng_stat_find_listener(all, t->l)) == NULL ||
		    (auth = nng_stat_find(ls, "auth")) == NULL)
			continue;
		if ((n = nng_stat_value(auth)) > t->refused)
			op_warn(MOD,
			        "refused %llu connection(s) to %s in the TLS "
			        "handshake: the client sent no certificate, "
			        "an expired one or one tls.ca did not sign",
			        (unsigned long long)(n - t->refused), t->addr);
		if (n > t->refused)
			atomic_fetch_add(&s->refused, n - t->refused);
		t->refused = n;
	}
	nng_stats_free(all);
}

uint64_t
op_server_refused(struct op_server *s)
{
	return s ? atomic_load(&s->refused) : 0;
}

static void *
op_server_watch(void *arg)
{
	struct op_server *s = arg;
	struct timespec until;

	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += OP_WATCH_SECONDS;
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
			continue;
		pthread_mutex_unlock(&s->mu);
		op_server_check_refused(s);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int
op_server_workers(struct op_server *s)
{
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct op_worker *w = &s->workers[i];

		w->server = s;
		w->index = i;
		if (nng_ctx_open(&w->ctx, s->sock) != 0 ||
		    nng_aio_alloc(&w->aio, NULL, NULL) != 0 ||
		    pthread_create(&w->thread, NULL, op_worker_main, w) != 0)
			return OP_ENOMEM;
		w->started = 1;
	}
	return OP_OK;
}

int
op_server_start(struct op_server **out, const struct op_strlist *addrs,
                const struct op_tls_conf *tls, unsigned nworkers,
                op_serve_fn fn, void *arg)
{
	struct op_server *s;
	int rv;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->workers = calloc(nworkers, sizeof(*s->workers))) == NULL) {
		free(s);
		return OP_ENOMEM;
	}
	s->fn = fn;
	s->arg = arg;
	s->nworkers = nworkers;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if ((rv = nng_rep0_open(&s->sock)) != 0) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s->workers);
		free(s);
		return op_nng_err(rv);
	}
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, OP_MAX_WIRE_BYTES);
	for (size_t i = 0; i < addrs->n; i++) {
		if ((rv = op_server_listen(s, addrs->items[i], tls)) != OP_OK) {
			op_server_free(s);
			return rv;
		}
	}
	if ((rv = op_server_workers(s)) != OP_OK) {
		op_server_free(s);
		return rv;
	}
	if (s->ntls > 0 &&
	    pthread_create(&s->watcher, NULL, op_server_watch, s) == 0)
		s->watching = 1;
	*out = s;
	return OP_OK;
}

void
op_server_free(struct op_server *s)
{
	if (s == NULL)
		return;
	if (s->watching) {
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->watcher, NULL);
	}
	nng_close(s->sock);
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct op_worker *w = &s->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->aio)
			nng_aio_free(w->aio);
	}
	for (size_t i = 0; i < s->ntls; i++)
		free(s->tls[i].addr);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->workers);
	free(s);
}
