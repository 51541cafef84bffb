#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "op_error.h"

struct access {
	const struct agg_conf *conf;
	unsigned nworkers;
	struct op_auth_verifier **verifiers; /* one per worker, or NULL */
};

static int
access_has_tls(const struct agg_conf *c)
{
	for (size_t i = 0; i < c->listen.n; i++) {
		if (strncmp(c->listen.items[i], "tls+", 4) == 0)
			return 1;
	}
	return 0;
}

int
access_alloc(struct access **out, const struct agg_conf *c, unsigned nworkers)
{
	struct access *a = calloc(1, sizeof(*a));
	int rv = OP_OK;

	if (a == NULL)
		return OP_ENOMEM;
	a->conf = c;
	a->nworkers = nworkers;
	if (access_has_tls(c)) {
		a->verifiers = calloc(nworkers, sizeof(*a->verifiers));
		if (a->verifiers == NULL)
			rv = OP_ENOMEM;
		for (unsigned i = 0; rv == OP_OK && i < nworkers; i++)
			rv =
			    op_auth_verifier_alloc(&a->verifiers[i], c->tls.ca);
	}
	if (rv != OP_OK) {
		access_free(a);
		return rv;
	}
	*out = a;
	return OP_OK;
}

void
access_free(struct access *a)
{
	if (a == NULL)
		return;
	for (unsigned i = 0; a->verifiers && i < a->nworkers; i++)
		op_auth_verifier_free(a->verifiers[i]);
	free(a->verifiers);
	free(a);
}

/* Unpacks the envelope a Signed one carries; a second wrapping is not. */
static int
access_unwrap(op_envelope **env, char *err, size_t errsz)
{
	const Opspulse__V1__Signed *s = (*env)->signed_;
	op_envelope *inner;

	inner = opspulse__v1__envelope__unpack(NULL, s->envelope.len,
	                                       s->envelope.data);
	if (inner == NULL ||
	    inner->body_case == OPSPULSE__V1__ENVELOPE__BODY_SIGNED) {
		snprintf(err, errsz,
		         "the signed message of %zu bytes is not an OpsPulse "
		         "envelope",
		         s->envelope.len);
		if (inner)
			opspulse__v1__envelope__free_unpacked(inner, NULL);
		return OP_EPROTO;
	}
	opspulse__v1__envelope__free_unpacked(*env, NULL);
	*env = inner;
	return OP_OK;
}

int
access_open(struct access *a, unsigned worker, const struct op_peer *peer,
            op_envelope **env, struct access_who *who, char *err, size_t errsz)
{
	memset(who, 0, sizeof(*who));
	if ((*env)->body_case != OPSPULSE__V1__ENVELOPE__BODY_SIGNED) {
		if (!peer->tls)
			return OP_OK; /* tls.insecure: no identity, no binding
			               */
		snprintf(err, errsz,
		         "requests over TLS must be signed with the sender's "
		         "certificate; upgrade the sender");
		return OP_EFORBIDDEN;
	}
	/* Without a tls+ listener there is no CA: like plain tcp://. */
	if (a->verifiers != NULL) {
		if (op_auth_verify(a->verifiers[worker], (*env)->signed_,
		                   &who->id, err, errsz) != OP_OK)
			return OP_EFORBIDDEN;
		/* nng >= 1.6 names the TLS peer: it must be the signer. */
		if (peer->identity != NULL &&
		    strcmp(peer->identity, who->id.name) != 0) {
			snprintf(err, errsz,
			         "request signed by %s over the TLS connection "
			         "of %s",
			         who->id.name, peer->identity);
			return OP_EFORBIDDEN;
		}
		who->verified = 1;
	}
	return access_unwrap(env, err, errsz);
}

int
access_role(const struct access_who *who, const op_envelope *env, char *err,
            size_t errsz)
{
	enum op_role need;

	switch (env->body_case) {
	case OPSPULSE__V1__ENVELOPE__BODY_BATCH:
		need = OP_ROLE_AGENT;
		break;
	case OPSPULSE__V1__ENVELOPE__BODY_QUERY:
	case OPSPULSE__V1__ENVELOPE__BODY_EOL_IMPORT:
		need = OP_ROLE_CLI;
		break;
	default:
		return OP_OK; /* answered as unknown */
	}
	if (!who->verified || who->id.role == need)
		return OP_OK;
	snprintf(err, errsz,
	         "%s (role %s) may not %s: that needs a certificate with "
	         "OU=%s",
	         who->id.name, op_role_name(who->id.role),
	         need == OP_ROLE_AGENT ? "send events" : "query or import",
	         op_role_name(need));
	return OP_EFORBIDDEN;
}

/* The aggregator.identities entry of name, or NULL. */
static const struct agg_identity *
access_identity(const struct agg_conf *c, const char *name)
{
	for (size_t i = 0; i < c->nidentities; i++) {
		if (strcmp(c->identities[i].name, name) == 0)
			return &c->identities[i];
	}
	return NULL;
}

static int
access_host_ok(const struct agg_identity *rule, const char *name,
               const char *host)
{
	if (strcmp(host, name) == 0)
		return 1;
	for (size_t i = 0; rule && i < rule->hosts.n; i++) {
		if (fnmatch(rule->hosts.items[i], host, 0) == 0)
			return 1;
	}
	return 0;
}

int
access_hosts(const struct access *a, const struct access_who *who,
             const op_batch *b, int *bad_index, char *err, size_t errsz)
{
	const struct agg_identity *rule;

	if (!who->verified)
		return OP_OK;
	rule = access_identity(a->conf, who->id.name);
	for (size_t i = 0; i < b->n_events; i++) {
		const char *host = b->events[i]->host;

		if (access_host_ok(rule, who->id.name, host ? host : ""))
			continue;
		*bad_index = (int)i;
		snprintf(
		    err, errsz,
		    "event %zu is for host \"%s\" but the sender's "
		    "certificate is for \"%s\": set agent.host to the "
		    "certificate's CN or issue a certificate for the host "
		    "(aggregator.identities is for importers writing for other "
		    "hosts)",
		    i, host ? host : "", who->id.name);
		return OP_EFORBIDDEN;
	}
	return OP_OK;
}

const char *
access_name(const struct access_who *who)
{
	return who->verified ? who->id.name : "(unsigned)";
}
