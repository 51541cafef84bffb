/*
 * Unit tests for common/op_auth: signing requests and checking them.
 * Certificates are made at setup by scripts/dev-certs (openssl) in a
 * temporary directory: a CA, an agent, a CLI user, a certificate with an
 * unknown role, an expired one, and one from another CA.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_auth.h"
#include "op_error.h"
#include "op_log.h"

struct fixture {
	char dir[256];
	struct op_auth_verifier *v;
	uint8_t req[64];
};

static char *
path(struct fixture *f, const char *name, const char *ext)
{
	static char buf[4][512];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s.%s", f->dir, name, ext);
	return p;
}

static void
certs(const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "%s %s >/dev/null", OPSPULSE_DEV_CERTS,
	         args);
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	char args[600];

	assert_non_null(f);
	op_log_init("op_auth_test", OP_LOG_ERROR);
	snprintf(f->dir, sizeof(f->dir), "%s/op_auth_test.XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(args, sizeof(args), "%s ca", f->dir);
	certs(args);
	snprintf(args, sizeof(args), "%s agent web-1", f->dir);
	certs(args);
	snprintf(args, sizeof(args), "%s cli alice", f->dir);
	certs(args);
	snprintf(args, sizeof(args), "--ou ops %s agent ops-1", f->dir);
	certs(args);
	snprintf(args, sizeof(args), "--expired --out old %s agent web-1",
	         f->dir);
	certs(args);
	snprintf(args, sizeof(args), "%s/other ca", f->dir);
	certs(args);
	snprintf(args, sizeof(args), "%s/other agent web-1", f->dir);
	certs(args);
	assert_int_equal(op_auth_verifier_alloc(&f->v, path(f, "ca", "pem")),
	                 OP_OK);
	memset(f->req, 0x5a, sizeof(f->req));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[600];

	op_auth_verifier_free(f->v);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Seals f->req with name's certificate; returns the unpacked envelope. */
static op_envelope *
sealed(struct fixture *f, const char *name)
{
	struct op_auth_signer *s;
	op_envelope *env;
	uint8_t *out;
	size_t len;

	assert_int_equal(op_auth_signer_alloc(&s, path(f, name, "pem"),
	                                      path(f, name, "key")),
	                 OP_OK);
	assert_int_equal(op_auth_seal(s, f->req, sizeof(f->req), &out, &len),
	                 OP_OK);
	op_auth_signer_free(s);
	env = opspulse__v1__envelope__unpack(NULL, len, out);
	free(out);
	assert_non_null(env);
	assert_int_equal(env->body_case, OPSPULSE__V1__ENVELOPE__BODY_SIGNED);
	assert_int_equal(env->signed_->envelope.len, sizeof(f->req));
	assert_memory_equal(env->signed_->envelope.data, f->req,
	                    sizeof(f->req));
	return env;
}

static int
verify(struct fixture *f, const op_envelope *env, struct op_auth_identity *id,
       char *err)
{
	return op_auth_verify(f->v, env->signed_, id, err, 256);
}

static void
test_identity_and_role(void **state)
{
	struct fixture *f = *state;
	struct op_auth_identity id;
	char err[256];
	const struct {
		const char *file, *name;
		enum op_role role;
	} cases[] = {
	    {"web-1", "web-1", OP_ROLE_AGENT},
	    {"alice", "alice", OP_ROLE_CLI},
	    {"ops-1", "ops-1", OP_ROLE_NONE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		op_envelope *env = sealed(f, cases[i].file);

		/* Twice: the second answer comes from the cache. */
		for (int k = 0; k < 2; k++) {
			memset(&id, 0, sizeof(id));
			assert_int_equal(verify(f, env, &id, err), OP_OK);
			assert_string_equal(id.name, cases[i].name);
			assert_int_equal(id.role, cases[i].role);
		}
		opspulse__v1__envelope__free_unpacked(env, NULL);
	}
	assert_string_equal(op_role_name(OP_ROLE_CLI), "cli");
}

static void
test_tampering_refused(void **state)
{
	struct fixture *f = *state;
	op_envelope *env = sealed(f, "web-1");
	struct op_auth_identity id;
	char err[256];

	assert_int_equal(verify(f, env, &id, err), OP_OK);
	env->signed_->envelope.data[3] ^= 1; /* the request changed */
	assert_int_equal(verify(f, env, &id, err), OP_EFORBIDDEN);
	assert_non_null(strstr(err, "signature does not match"));
	env->signed_->envelope.data[3] ^= 1;
	env->signed_->signature.data[10] ^= 1; /* the signature changed */
	assert_int_equal(verify(f, env, &id, err), OP_EFORBIDDEN);
	env->signed_->signature.data[10] ^= 1;
	env->signed_->certificate.data[40] ^= 1; /* the certificate changed */
	assert_int_equal(verify(f, env, &id, err), OP_EFORBIDDEN);
	env->signed_->certificate.data[40] ^= 1;
	env->signed_->signature.len = 0;
	assert_int_equal(verify(f, env, &id, err), OP_EFORBIDDEN);
	assert_non_null(strstr(err, "missing"));
	opspulse__v1__envelope__free_unpacked(env, NULL);
}

/* alice signs, but the message carries web-1's certificate. */
static void
test_someone_elses_certificate(void **state)
{
	struct fixture *f = *state;
	op_envelope *alice = sealed(f, "alice"), *web = sealed(f, "web-1");
	Opspulse__V1__Signed forged = *alice->signed_;
	struct op_auth_identity id;
	char err[256];

	forged.certificate = web->signed_->certificate;
	assert_int_equal(op_auth_verify(f->v, &forged, &id, err, sizeof(err)),
	                 OP_EFORBIDDEN);
	assert_non_null(strstr(err, "does not match certificate web-1"));
	opspulse__v1__envelope__free_unpacked(alice, NULL);
	opspulse__v1__envelope__free_unpacked(web, NULL);
}

static void
test_untrusted_certificates(void **state)
{
	struct fixture *f = *state;
	struct op_auth_identity id;
	op_envelope *env;
	char err[256];

	env = sealed(f, "old");
	assert_int_equal(verify(f, env, &id, err), OP_EFORBIDDEN);
	assert_non_null(strstr(err, "expired"));
	opspulse__v1__envelope__free_unpacked(env, NULL);
	env = sealed(f, "other/web-1");
	assert_int_equal(verify(f, env, &id, err), OP_EFORBIDDEN);
	assert_non_null(strstr(err, "refused"));
	/* Refused again, not remembered as good. */
	assert_int_equal(verify(f, env, &id, err), OP_EFORBIDDEN);
	opspulse__v1__envelope__free_unpacked(env, NULL);
}

static void
test_bad_files(void **state)
{
	struct fixture *f = *state;
	struct op_auth_signer *s = NULL;
	struct op_auth_verifier *v = NULL;

	assert_int_equal(op_auth_signer_alloc(&s, path(f, "web-1", "pem"),
	                                      path(f, "alice", "key")),
	                 OP_ECONFIG);
	assert_int_equal(op_auth_signer_alloc(&s, path(f, "nope", "pem"),
	                                      path(f, "web-1", "key")),
	                 OP_ECONFIG);
	assert_int_equal(op_auth_verifier_alloc(&v, path(f, "nope", "pem")),
	                 OP_ECONFIG);
	assert_null(s);
	assert_null(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity_and_role),
	    cmocka_unit_test(test_tampering_refused),
	    cmocka_unit_test(test_someone_elses_certificate),
	    cmocka_unit_test(test_untrusted_certificates),
	    cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
