/*
 * Fuzz target for signed requests: the aggregator unpacks an Envelope
 * and, when it is Signed, parses the sender's DER certificate, checks it
 * against the CA and the signature, then unpacks the envelope inside.
 * Nothing may crash, leak or read out of bounds, and a second check of
 * the same message (answered from the verifier's cache of certificates)
 * must agree with the first.  The seeds are requests signed with
 * certificates of tests/fuzz/auth/ca.pem.
 */
#include <string.h>

#include "op_auth.h"
#include "op_error.h"
#include "fuzz.h"

static struct op_auth_verifier *fuzz_verifier;

static void
fuzz_check_signed(const Opspulse__V1__Signed *s)
{
	struct op_auth_identity a, b;
	char err[256] = "", err2[256] = "";
	int rv = op_auth_verify(fuzz_verifier, s, &a, err, sizeof(err));
	int rv2 = op_auth_verify(fuzz_verifier, s, &b, err2, sizeof(err2));
	op_envelope *inner;

	FUZZ_CHECK(rv == OP_OK || rv == OP_EFORBIDDEN);
	FUZZ_CHECK(rv2 == rv);
	if (rv != OP_OK) {
		FUZZ_CHECK(err[0] != '\0' && strcmp(err, err2) == 0);
		return;
	}
	FUZZ_CHECK(a.name[0] != '\0' && strcmp(a.name, b.name) == 0);
	FUZZ_CHECK(a.role == b.role && op_role_name(a.role) != NULL);
	inner = opspulse__v1__envelope__unpack(NULL, s->envelope.len,
	                                       s->envelope.data);
	if (inner)
		opspulse__v1__envelope__free_unpacked(inner, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	op_envelope *env;

	if (fuzz_verifier == NULL &&
	    op_auth_verifier_alloc(&fuzz_verifier, FUZZ_AUTH_CA) != OP_OK)
		abort();
	env = opspulse__v1__envelope__unpack(NULL, size, data);
	if (env == NULL)
		return 0;
	if (env->body_case == OPSPULSE__V1__ENVELOPE__BODY_SIGNED)
		fuzz_check_signed(env->signed_);
	opspulse__v1__envelope__free_unpacked(env, NULL);
	return 0;
}
