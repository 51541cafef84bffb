/*
 * Credentials on the aggregator's HTTP address (SPEC §7): the
 * Authorization header parser, Basic passwords checked with crypt(3)
 * (yescrypt, bcrypt), bearer tokens, both compared in constant time; the
 * count of refused attempts by reason for /metrics, and the limit of one
 * log line per second per client address.  http.c decides which paths
 * need credentials.
 */
#ifndef HTTP_AUTH_H
#define HTTP_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "op_error.h"

struct agg_conf;

/* An Authorization value longer than this is refused as malformed. */
#define HTTP_AUTH_MAX 4096

/* Why a request was refused (or HTTP_AUTH_OK); each but OK is a label
 * value of opspulse_http_auth_failures_total{reason="..."}. */
enum http_auth_why {
	HTTP_AUTH_OK,
	HTTP_AUTH_MISSING,        /* no Authorization header */
	HTTP_AUTH_MALFORMED,      /* not a well-formed Basic or Bearer value */
	HTTP_AUTH_SCHEME,         /* another scheme (Digest, ...) */
	HTTP_AUTH_UNKNOWN_USER,   /* Basic, a name not in http_users */
	HTTP_AUTH_WRONG_PASSWORD, /* Basic, a known name */
	HTTP_AUTH_WRONG_TOKEN,    /* Bearer, not in http_tokens */
	HTTP_AUTH_COUNT
};

enum http_auth_kind { HTTP_AUTH_BASIC, HTTP_AUTH_BEARER };

/* A parsed Authorization value.  user and secret point into buf. */
struct http_cred {
	enum http_auth_kind kind;
	const char *user;   /* Basic only; "" for Bearer */
	const char *secret; /* the password, or the bearer token */
	char buf[HTTP_AUTH_MAX];
};

/*
 * Parses an Authorization header value: "Basic <base64 of user:password>"
 * (RFC 7617; no control characters, a user without ':') or "Bearer
 * <token>" (RFC 6750's b64token), the scheme in any case.  Returns OP_OK
 * with *c filled, or OP_EINVAL with *why HTTP_AUTH_MALFORMED or
 * HTTP_AUTH_SCHEME.  This can't fail otherwise.
 */
OP_MUSTCHECK int http_auth_parse(const char *value, struct http_cred *c,
                                 enum http_auth_why *why);

struct http_auth;

/* The credentials of c (http_users, http_tokens), copied: tokens are kept
 * as their SHA-256.  Returns OP_OK with *out set (free with
 * http_auth_free), or OP_ENOMEM with *out NULL. */
OP_MUSTCHECK int http_auth_alloc(struct http_auth **out,
                                 const struct agg_conf *c);

/* Frees a.  a may be NULL. */
void http_auth_free(struct http_auth *a);

/* Whether a asks for credentials at all (some users or tokens).  This
 * can't fail. */
int http_auth_required(const struct http_auth *a);

/*
 * Checks the Authorization value header (NULL: none) against a; on a
 * refusal, who receives the user name a Basic value gave ("" otherwise).
 * Returns HTTP_AUTH_OK, always when a requires nothing, or why it was
 * refused.  Thread-safe; a Basic check costs one crypt(3) call.
 */
enum http_auth_why http_auth_check(const struct http_auth *a,
                                   const char *header, char *who, size_t whosz);

/* The label value of why ("wrong_password").  This can't fail. */
const char *http_auth_reason(enum http_auth_why why);

/* why in words for a log line ("a wrong password").  This can't
 * fail. */
const char *http_auth_describe(enum http_auth_why why);

/* Counts one refusal under why, for http_auth_render.  This can't
 * fail. */
void http_auth_count(enum http_auth_why why);

/* Writes opspulse_http_auth_failures_total, one sample per reason, to f
 * in Prometheus text format. */
void http_auth_render(FILE *f);

/* How many client addresses the log limit remembers; the longest quiet
 * one is forgotten first. */
#define HTTP_AUTH_LOG_SLOTS 64

struct http_auth_log;

/* The log limit's state.  Returns OP_OK or OP_ENOMEM; free with
 * http_auth_log_free (NULL is safe). */
OP_MUSTCHECK int http_auth_log_alloc(struct http_auth_log **out);
void http_auth_log_free(struct http_auth_log *l);

/*
 * Whether a refusal of peer at now_ms (a monotonic clock) may be logged:
 * 1 at most once per second per address, with *skipped the refusals of
 * peer not logged since its last line; 0 otherwise.  Thread-safe; this
 * can't fail.
 */
int http_auth_log_due(struct http_auth_log *l, const char *peer, int64_t now_ms,
                      unsigned *skipped);

#endif
