/*
 * Who may do what (SPEC §7).  Over tls+tcp:// every request is signed
 * with the sender's client certificate (op_auth.h): its CN is the
 * identity, its OU the role.  Agents may send events, only for their own
 * host unless aggregator.identities allows more; CLI users may query and
 * import the EOL catalog.  Without TLS (tls.insecure) there is no identity
 * and no binding.
 */
#ifndef ACCESS_H
#define ACCESS_H

#include <stddef.h>

#include "aggregator.h"
#include "op_auth.h"
#include "op_codec.h"
#include "op_transport.h"
#include "op_error.h"

/* The sender of one request. */
struct access_who {
	int verified; /* the request was signed; id holds who signed it */
	struct op_auth_identity id;
};

struct access;

/*
 * Prepares one certificate verifier per worker when c listens on a tls+
 * address.  c must outlive *out (its identities are read, not copied).
 * Returns OP_OK, OP_ENOMEM or OP_ECONFIG (CA file unusable; logged).
 * Free with access_free.
 */
OP_MUSTCHECK int access_alloc(struct access **out, const struct agg_conf *c,
                              unsigned nworkers)
    __attribute__((warn_unused_result));

/* a may be NULL. */
void access_free(struct access *a);

/*
 * Opens a request.  A Signed envelope is checked with the worker's
 * verifier, replaced in *env by the envelope it carries (the outer one is
 * freed) and its signer put in *who.  A request over TLS must be signed.
 * Returns OP_OK; OP_EFORBIDDEN when the signature or certificate is
 * refused or missing; OP_EPROTO when the signed bytes are no envelope.
 * err says why.
 */
OP_MUSTCHECK int access_open(struct access *a, unsigned worker,
                             const struct op_peer *peer, op_envelope **env,
                             struct access_who *who, char *err, size_t errsz);

/*
 * May who send this kind of request?  Events need the agent role; queries
 * and EOL imports the cli role.  Returns OP_OK or OP_EFORBIDDEN (err).
 */
OP_MUSTCHECK int access_role(const struct access_who *who,
                             const op_envelope *env, char *err, size_t errsz);

/*
 * Is who allowed to write every event of b (its host: who's own name, or
 * one of its aggregator.identities patterns)?  Returns OP_OK or
 * OP_EFORBIDDEN, with the first offending event in *bad_index and err.
 */
OP_MUSTCHECK int access_hosts(const struct access *a,
                              const struct access_who *who, const op_batch *b,
                              int *bad_index, char *err, size_t errsz);

/* who's name for logs: the identity, or "(unsigned)".  Never NULL. */
const char *access_name(const struct access_who *who);

#endif
