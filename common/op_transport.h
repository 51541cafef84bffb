/*
 * Message transport between agents, the CLI and the aggregator.  This is
 * the only module that knows nng: a request/reply client that fails over
 * across an ordered address list, and a server whose worker threads each
 * answer one request at a time.
 */
#ifndef OP_TRANSPORT_H
#define OP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "op_config.h"
#include "op_error.h"

struct op_client;

/*
 * Initialises nng's library state in the calling thread.  nng 1.5.2 does
 * it lazily on first use, behind a flag it reads without synchronisation:
 * a program that starts clients from several threads at once calls this
 * first, before it starts them.  Returns OP_OK or OP_ENOMEM.
 */
OP_MUSTCHECK int op_transport_init(void);

/*
 * Creates a client for addrs, tried in order.  Connects lazily, on the
 * first call.  timeout_ms bounds each call.  Returns OP_OK, OP_ENOMEM, or
 * OP_ECONFIG when an address or the TLS setup is unusable (logged).  The
 * caller frees *out with op_client_free.
 */
OP_MUSTCHECK int op_client_alloc(struct op_client **out,
                                 const struct op_strlist *addrs,
                                 const struct op_tls_conf *tls, int timeout_ms);

/*
 * Sends req and waits for the reply, which the caller frees with free().
 * Over tls+tcp:// req is signed with tls.key and sent with tls.cert
 * (op_auth.h), so that the aggregator knows who sent it.
 * On failure the connection is dropped and the next call starts with the
 * next address.  Returns OP_OK, OP_EUNREACHABLE (no address accepted a
 * connection), OP_ETIMEDOUT, OP_EPROTO or OP_ENOMEM.
 */
OP_MUSTCHECK int op_client_call(struct op_client *c, const uint8_t *req,
                                size_t len, uint8_t **reply, size_t *reply_len);

/*
 * One request in flight on a context of its own: several may be
 * outstanding on one connection at once, so that a sender can keep the
 * aggregator's workers busy while it waits for the oldest reply.
 */
struct op_call;

/*
 * Sends req (signed as op_client_call does) and returns once it is on its
 * way, without waiting for the reply; op_call_wait collects it and must be
 * called for every call started.  Returns OP_OK, or as op_client_call (no
 * call is started then).
 */
OP_MUSTCHECK int op_client_send(struct op_client *c, const uint8_t *req,
                                size_t len, struct op_call **out);

/*
 * Waits for call's reply (the caller frees it with free()) and frees call.
 * A failure drops the connection, as op_client_call's does; calls started
 * on the same connection then fail too, without moving to the address
 * after next.  Returns as op_client_call.
 */
OP_MUSTCHECK int op_call_wait(struct op_client *c, struct op_call *call,
                              uint8_t **reply, size_t *reply_len);

/*
 * When no address answered (the current one refused the connection or
 * could not be reached at the last attempt; not when it refused our
 * certificate, nor when a request failed on a connection): keeps dialling
 * the current one in the background (nng redials it at least once a
 * second) and returns a descriptor that polls readable (POLLIN) once it
 * answers; the next call then goes out on that connection without
 * dialling again.  The client owns the descriptor; it stays valid until
 * the next call, restart or free.  Returns -1 when connected already,
 * after another failure, or when the background dial cannot start (the
 * caller then waits out its own backoff).
 */
int op_client_watch(struct op_client *c);

/* The address connected to, or the one tried last.  Never NULL. */
const char *op_client_address(const struct op_client *c);

/* Position of that address in the list (0: the first, preferred one). */
size_t op_client_index(const struct op_client *c);

/* Drops the connection; the next call starts again with the first
 * address (fail back after a failover).  This can't fail. */
void op_client_restart(struct op_client *c);

/* Closes the connection and frees c.  c may be NULL. */
void op_client_free(struct op_client *c);

/*
 * Loads tls's CA, certificate and key as a client (server: as a server)
 * would at its start, as the calling user, and copies the certificate's
 * subject CN into cn.  Returns OP_OK, or OP_ECONFIG after logging which
 * file failed and why, or OP_ENOMEM.  For check-config.
 */
OP_MUSTCHECK int op_tls_load_check(const struct op_tls_conf *tls, int server,
                                   char *cn, size_t cnsz);

/* Who sent a request, as far as the connection tells.  nng 1.5.2 does not
 * give the peer certificate's name (identity stays NULL; op_auth.h binds
 * requests to identities instead), only whether TLS verified it. */
struct op_peer {
	const char *identity; /* the certificate's CN, on nng >= 1.6 */
	int tls;              /* arrived over TLS with a CA-verified peer */
};

/*
 * A request handler.  It must always produce a reply (*reply, malloc'd;
 * the server frees it) and return OP_OK, or return an error to drop the
 * request without answering.  Called from worker threads concurrently;
 * worker is 0..nworkers-1, for per-worker state such as a database
 * connection.
 */
typedef int (*op_serve_fn)(void *arg, unsigned worker,
                           const struct op_peer *peer, const uint8_t *req,
                           size_t len, uint8_t **reply, size_t *reply_len);

struct op_server;

/*
 * Listens on every address in addrs and starts nworkers threads calling
 * fn.  Returns OP_OK, OP_ENOMEM, OP_ECONFIG (bad address or TLS files) or
 * OP_EIO (address in use; logged).  Stop with op_server_free.
 */
OP_MUSTCHECK int op_server_start(struct op_server **out,
                                 const struct op_strlist *addrs,
                                 const struct op_tls_conf *tls,
                                 unsigned nworkers, op_serve_fn fn, void *arg);

/* TLS handshakes the server's tls+ listeners refused (no client
 * certificate, another CA's, expired), as counted a few seconds ago.
 * s may be NULL (0). */
uint64_t op_server_refused(struct op_server *s);

/* Stops listening, waits for the workers and frees s.  s may be NULL. */
void op_server_free(struct op_server *s);

#endif
