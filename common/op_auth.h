/*
 * Who sent a request: message-level proof of identity on top of mutual
 * TLS.  nng 1.5.2 cannot tell the application which certificate a TLS
 * peer presented, so a sender signs each request with the key of its TLS
 * client certificate and attaches the certificate (proto message Signed);
 * the receiver checks the certificate against its CA, then the signature,
 * and reads the identity (subject CN) and role (subject OU) from it.
 * docs/DESIGN.md, "Identity", explains the design and its limits.
 */
#ifndef OP_AUTH_H
#define OP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "op_codec.h"
#include "op_error.h"

/* What a certificate may do: its subject's OU, "agent" or "cli". */
enum op_role {
	OP_ROLE_NONE, /* no OU, or another one: may do nothing */
	OP_ROLE_AGENT,
	OP_ROLE_CLI,
};

/* Longest identity (subject CN) accepted: a host name. */
#define OP_AUTH_NAME_MAX 255

struct op_auth_identity {
	char name[OP_AUTH_NAME_MAX + 1];
	enum op_role role;
};

/* "agent", "cli" or "none".  This can't fail. */
const char *op_role_name(enum op_role role);

struct op_auth_signer;

/*
 * Loads a certificate and its private key (PEM files) for signing.
 * Returns OP_OK, OP_ENOMEM, or OP_ECONFIG when a file is unreadable or
 * the key does not belong to the certificate (logged, naming the file).
 * The caller frees *out with op_auth_signer_free.
 */
OP_MUSTCHECK int op_auth_signer_alloc(struct op_auth_signer **out,
                                      const char *cert_file,
                                      const char *key_file)
    __attribute__((warn_unused_result));

/*
 * Wraps a serialized Envelope in a signed one.  *out is malloc'd; the
 * caller frees it.  Returns OP_OK, OP_ENOMEM, or OP_EIO when signing
 * fails (logged).  Not thread-safe: one signer per thread.
 */
OP_MUSTCHECK int op_auth_seal(struct op_auth_signer *s, const uint8_t *req,
                              size_t len, uint8_t **out, size_t *outlen)
    __attribute__((warn_unused_result));

/* s may be NULL. */
void op_auth_signer_free(struct op_auth_signer *s);

/* The subject CN of s's certificate into out ("" when it has none).  This
 * can't fail. */
void op_auth_signer_name(const struct op_auth_signer *s, char *out,
                         size_t size);

struct op_auth_verifier;

/*
 * Loads the CA bundle (PEM) that signs senders' certificates.  Returns
 * OP_OK, OP_ENOMEM or OP_ECONFIG (logged).  A verifier remembers the
 * certificates it has checked, so it is not thread-safe: one per thread.
 * The caller frees *out with op_auth_verifier_free.
 */
OP_MUSTCHECK int op_auth_verifier_alloc(struct op_auth_verifier **out,
                                        const char *ca_file)
    __attribute__((warn_unused_result));

/*
 * Checks a Signed message: the certificate chains to the CA, is within
 * its validity dates and allows client authentication, and the signature
 * over s->envelope is its key's.  On OP_OK fills *id.  Otherwise returns
 * OP_EFORBIDDEN with the reason in err.  This can't fail otherwise.
 */
OP_MUSTCHECK int op_auth_verify(struct op_auth_verifier *v,
                                const Opspulse__V1__Signed *s,
                                struct op_auth_identity *id, char *err,
                                size_t errsz);

/* v may be NULL. */
void op_auth_verifier_free(struct op_auth_verifier *v);

#endif
