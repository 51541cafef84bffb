/*
 * One request from an agent or the CLI (SPEC §3, §7), as the transport's
 * handler: a batch is checked and stored, a query (the report included)
 * answered, an EOL catalog imported.  Every request gets a reply; a
 * refused or failed one gets an error reply and stores nothing; a batch
 * is acknowledged only after its COMMIT.
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "op_error.h"
#include "op_transport.h"
#include "store.h"

/* What requests are answered with.  The caller owns every member and
 * keeps them until the transport that calls request_handle has stopped. */
struct request_ctx {
	struct store **stores;  /* one per worker, indexed by worker */
	struct store **queries; /* the same for queries; NULL: stores */
	struct access *access;  /* who may do what */
};

/*
 * An op_serve_fn: answers the request of len bytes at req, which arrived
 * on worker (0..number of stores - 1) from peer, with arg a struct
 * request_ctx.  On OP_OK *out is the packed reply of *outlen bytes, which
 * the caller frees with free(); every refusal is such a reply, with an
 * error code and a message.  Returns OP_ENOMEM only when no reply could
 * be packed.  Safe to call from every worker at once.
 */
OP_MUSTCHECK int request_handle(void *arg, unsigned worker,
                                const struct op_peer *peer, const uint8_t *req,
                                size_t len, uint8_t **out, size_t *outlen);

#endif
