/*
 * Request signing and verification with mbedTLS, the library nng already
 * loads for TLS (docs/DESIGN.md, "Identity", says why not OpenSSL).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "op_auth.h"
#include "op_error.h"
#include "op_log.h"

#define MOD "auth"

/* Certificates a verifier remembers having checked. */
#define OP_AUTH_CACHE 64

static const char *
op_mbed_err(int rv, char *buf, size_t size)
{
	mbedtls_strerror(rv, buf, size);
	return buf;
}

/* SHA-256 of data.  This can't fail for SHA-256 with a valid buffer. */
static void
op_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
	mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), data, len,
	           out);
}

const char *
op_role_name(enum op_role role)
{
	switch (role) {
	case OP_ROLE_AGENT:
		return "agent";
	case OP_ROLE_CLI:
		return "cli";
	default:
		return "none";
	}
}

/* ---- signing ------------------------------------------------------------ */

struct op_auth_signer {
	mbedtls_x509_crt cert;
	mbedtls_pk_context key;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

static int
op_signer_load(struct op_auth_signer *s, const char *cert_file,
               const char *key_file)
{
	char why[128];
	int rv;

	if ((rv = mbedtls_x509_crt_parse_file(&s->cert, cert_file)) != 0) {
		op_error(MOD, "cannot load certificate %s: %s", cert_file,
		         op_mbed_err(rv, why, sizeof(why)));
		return OP_ECONFIG;
	}
	if ((rv = mbedtls_pk_parse_keyfile(&s->key, key_file, NULL)) != 0) {
		op_error(MOD, "cannot load private key %s: %s", key_file,
		         op_mbed_err(rv, why, sizeof(why)));
		return OP_ECONFIG;
	}
	if (mbedtls_pk_check_pair(&s->cert.pk, &s->key) != 0) {
		op_error(MOD,
		         "private key %s does not belong to certificate %s",
		         key_file, cert_file);
		return OP_ECONFIG;
	}
	if (mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy,
	                          (const unsigned char *)"opspulse", 8) != 0) {
		op_error(MOD, "cannot seed the random generator");
		return OP_EIO;
	}
	return OP_OK;
}

int
op_auth_signer_alloc(struct op_auth_signer **out, const char *cert_file,
                     const char *key_file)
{
	struct op_auth_signer *s = calloc(1, sizeof(*s));
	int rv;

	if (s == NULL)
		return OP_ENOMEM;
	mbedtls_x509_crt_init(&s->cert);
	mbedtls_pk_init(&s->key);
	mbedtls_entropy_init(&s->entropy);
	mbedtls_ctr_drbg_init(&s->drbg);
	if ((rv = op_signer_load(s, cert_file, key_file)) != OP_OK) {
		op_auth_signer_free(s);
		return rv;
	}
	*out = s;
	return OP_OK;
}

int
op_auth_seal(struct op_auth_signer *s, const uint8_t *req, size_t len,
             uint8_t **out, size_t *outlen)
{
	uint8_t hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t siglen = 0;
	op_envelope env;
	Opspulse__V1__Signed sd;
	char why[128];
	int rv;

	op_sha256(req, len, hash);
	if ((rv = mbedtls_pk_sign(&s->key, MBEDTLS_MD_SHA256, hash, 0, sig,
	                          &siglen, mbedtls_ctr_drbg_random,
	                          &s->drbg)) != 0) {
		op_error(MOD, "cannot sign a request: %s",
		         op_mbed_err(rv, why, sizeof(why)));
		return OP_EIO;
	}
	opspulse__v1__envelope__init(&env);
	opspulse__v1__signed__init(&sd);
	sd.envelope.data = (uint8_t *)(uintptr_t)req;
	sd.envelope.len = len;
	sd.certificate.data = s->cert.raw.p;
	sd.certificate.len = s->cert.raw.len;
	sd.signature.data = sig;
	sd.signature.len = siglen;
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_SIGNED;
	env.signed_ = &sd;
	return op_pack(&env.base, out, outlen);
}

void
op_auth_signer_free(struct op_auth_signer *s)
{
	if (s == NULL)
		return;
	mbedtls_x509_crt_free(&s->cert);
	mbedtls_pk_free(&s->key);
	mbedtls_ctr_drbg_free(&s->drbg);
	mbedtls_entropy_free(&s->entropy);
	free(s);
}

/* ---- verification ------------------------------------------------------- */

/* A certificate that chained to the CA when it was first seen. */
struct op_auth_entry {
	int used;
	uint8_t hash[32]; /* SHA-256 of the DER */
	mbedtls_x509_crt crt;
	struct op_auth_identity id;
};

struct op_auth_verifier {
	mbedtls_x509_crt ca;
	struct op_auth_entry cache[OP_AUTH_CACHE];
	unsigned next; /* the entry replaced next (round robin) */
};

int
op_auth_verifier_alloc(struct op_auth_verifier **out, const char *ca_file)
{
	struct op_auth_verifier *v = calloc(1, sizeof(*v));
	char why[128];
	int rv;

	if (v == NULL)
		return OP_ENOMEM;
	mbedtls_x509_crt_init(&v->ca);
	for (unsigned i = 0; i < OP_AUTH_CACHE; i++)
		mbedtls_x509_crt_init(&v->cache[i].crt);
	if ((rv = mbedtls_x509_crt_parse_file(&v->ca, ca_file)) != 0) {
		op_error(MOD, "cannot load CA file %s: %s", ca_file,
		         op_mbed_err(rv, why, sizeof(why)));
		op_auth_verifier_free(v);
		return OP_ECONFIG;
	}
	*out = v;
	return OP_OK;
}

/* The value of one subject attribute as a printable string, or "". */
static void
op_subject_attr(const mbedtls_x509_crt *crt, const char *oid, size_t oidlen,
                char *out, size_t size)
{
	const mbedtls_x509_name *n;

	out[0] = '\0';
	for (n = &crt->subject; n != NULL; n = n->next) {
		if (n->oid.p == NULL || n->oid.len != oidlen ||
		    memcmp(n->oid.p, oid, oidlen) != 0)
			continue;
		if (n->val.len == 0 || n->val.len >= size)
			return;
		for (size_t i = 0; i < n->val.len; i++) {
			if (n->val.p[i] < 0x20 || n->val.p[i] == 0x7f)
				return;
		}
		memcpy(out, n->val.p, n->val.len);
		out[n->val.len] = '\0';
		return;
	}
}

#define OP_ATTR(crt, oid, out)                                                 \
	op_subject_attr(crt, oid, MBEDTLS_OID_SIZE(oid), out, sizeof(out))

void
op_auth_signer_name(const struct op_auth_signer *s, char *out, size_t size)
{
	op_subject_attr(&s->cert, MBEDTLS_OID_AT_CN,
	                MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN), out, size);
}

/* Checks a new certificate and reads its identity into e. */
static int
op_auth_admit(struct op_auth_verifier *v, struct op_auth_entry *e,
              const Opspulse__V1__Signed *s, char *err, size_t errsz)
{
	char why[256], ou[16];
	uint32_t flags = 0;
	int rv;

	if ((rv = mbedtls_x509_crt_parse_der(&e->crt, s->certificate.data,
	                                     s->certificate.len)) != 0) {
		snprintf(err, errsz,
		         "the request's certificate is unreadable: %s",
		         op_mbed_err(rv, why, sizeof(why)));
		return OP_EFORBIDDEN;
	}
	if (mbedtls_x509_crt_verify(&e->crt, &v->ca, NULL, NULL, &flags, NULL,
	                            NULL) != 0) {
		mbedtls_x509_crt_verify_info(why, sizeof(why), "", flags);
		why[strcspn(why, "\n")] = '\0';
		snprintf(err, errsz, "the request's certificate is refused: %s",
		         why);
		return OP_EFORBIDDEN;
	}
	if (mbedtls_x509_crt_check_extended_key_usage(
	        &e->crt, MBEDTLS_OID_CLIENT_AUTH,
	        MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) != 0) {
		snprintf(err, errsz,
		         "the request's certificate is not for "
		         "client authentication");
		return OP_EFORBIDDEN;
	}
	OP_ATTR(&e->crt, MBEDTLS_OID_AT_CN, e->id.name);
	OP_ATTR(&e->crt, MBEDTLS_OID_AT_ORG_UNIT, ou);
	if (e->id.name[0] == '\0') {
		snprintf(err, errsz,
		         "the request's certificate has no usable "
		         "common name (CN)");
		return OP_EFORBIDDEN;
	}
	e->id.role = strcmp(ou, "agent") == 0 ? OP_ROLE_AGENT
	             : strcmp(ou, "cli") == 0 ? OP_ROLE_CLI
	                                      : OP_ROLE_NONE;
	return OP_OK;
}

/* The cache entry of the request's certificate, checked, or NULL. */
static struct op_auth_entry *
op_auth_lookup(struct op_auth_verifier *v, const Opspulse__V1__Signed *s,
               char *err, size_t errsz)
{
	struct op_auth_entry *e;
	uint8_t hash[32];

	op_sha256(s->certificate.data, s->certificate.len, hash);
	for (unsigned i = 0; i < OP_AUTH_CACHE; i++) {
		e = &v->cache[i];
		if (!e->used || memcmp(e->hash, hash, sizeof(hash)) != 0)
			continue;
		/* Checked before; only its dates can have changed. */
		if (mbedtls_x509_time_is_past(&e->crt.valid_to) ||
		    mbedtls_x509_time_is_future(&e->crt.valid_from)) {
			snprintf(err, errsz,
			         "the request's certificate is "
			         "refused: The certificate validity "
			         "has expired");
			return NULL;
		}
		return e;
	}
	e = &v->cache[v->next];
	v->next = (v->next + 1) % OP_AUTH_CACHE;
	mbedtls_x509_crt_free(&e->crt);
	mbedtls_x509_crt_init(&e->crt);
	memset(&e->id, 0, sizeof(e->id));
	e->used = 0;
	if (op_auth_admit(v, e, s, err, errsz) != OP_OK)
		return NULL;
	memcpy(e->hash, hash, sizeof(hash));
	e->used = 1;
	return e;
}

int
op_auth_verify(struct op_auth_verifier *v, const Opspulse__V1__Signed *s,
               struct op_auth_identity *id, char *err, size_t errsz)
{
	struct op_auth_entry *e;
	uint8_t hash[32];

	if (s->certificate.len == 0 || s->signature.len == 0) {
		snprintf(err, errsz,
		         "the request's certificate or signature "
		         "is missing");
		return OP_EFORBIDDEN;
	}
	if ((e = op_auth_lookup(v, s, err, errsz)) == NULL)
		return OP_EFORBIDDEN;
	op_sha256(s->envelope.data, s->envelope.len, hash);
	if (mbedtls_pk_verify(&e->crt.pk, MBEDTLS_MD_SHA256, hash, 0,
	                      s->signature.data, s->signature.len) != 0) {
		snprintf(err, errsz,
		         "the request's signature does not match certificate "
		         "%s",
		         e->id.name);
		return OP_EFORBIDDEN;
	}
	*id = e->id;
	return OP_OK;
}

void
op_auth_verifier_free(struct op_auth_verifier *v)
{
	if (v == NULL)
		return;
	mbedtls_x509_crt_free(&v->ca);
	for (unsigned i = 0; i < OP_AUTH_CACHE; i++)
		mbedtls_x509_crt_free(&v->cache[i].crt);
	free(v);
}
