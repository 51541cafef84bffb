#define _POSIX_C_SOURCE 200809L

#include <crypt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "aggregator.h"
#include "http_auth.h"
#include "op_error.h"

/* The last password that passed crypt(3) for a user, as the SHA-256 of
 * a per-process salt and the password: a browser sends its credentials
 * with every request, and one yescrypt check takes tens to hundreds of
 * milliseconds. */
struct http_auth_seen {
	unsigned char digest[SHA256_DIGEST_LENGTH];
	int set;
};

struct http_auth_cache {
	pthread_mutex_t lock;
	unsigned char salt[16];
	struct http_auth_seen seen[]; /* one per user */
};

struct http_auth {
	struct agg_http_user *users; /* copies */
	size_t nusers;
	unsigned char (*tokens)[SHA256_DIGEST_LENGTH];
	size_t ntokens;
	struct http_auth_cache *cache;
};

/* ---- the Authorization header ----------------------------------------- */

/* The value of base64 digit c, or -1. */
static int
http_auth_b64(int c)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                             "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(digits, c) : NULL;

	return p ? (int)(p - digits) : -1;
}

/*
 * Decodes the base64 text in (len bytes; '=' padding optional, nothing
 * after it) into out, NUL-terminated; out holds at least len bytes.
 * Returns the decoded length, or -1 for a bad digit or length.
 */
static long
http_auth_unbase64(const char *in, size_t len, char *out)
{
	unsigned long acc = 0;
	size_t n = 0, bits = 0, pad = 0;

	while (pad < 2 && len > 0 && in[len - 1] == '=') {
		len--;
		pad++;
	}
	if (len % 4 == 1 || (pad && (len + pad) % 4 != 0))
		return -1;
	for (size_t i = 0; i < len; i++) {
		int d = http_auth_b64((unsigned char)in[i]);
		if (d < 0)
			return -1;
		acc = (acc << 6 | (unsigned)d) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (char)(acc >> bits & 0xff);
		}
	}
	out[n] = '\0';
	return (long)n;
}

/* Whether s (n bytes) holds a control character, NUL included. */
static int
http_auth_has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	}
	return 0;
}

/* Basic: "user:password" in base64 (len bytes at b64) into c. */
static int
http_auth_basic(const char *b64, size_t len, struct http_cred *c)
{
	long n = http_auth_unbase64(b64, len, c->buf);
	char *colon;

	if (n <= 0 || http_auth_has_ctl(c->buf, (size_t)n) ||
	    (colon = strchr(c->buf, ':')) == NULL)
		return OP_EINVAL;
	*colon = '\0';
	c->kind = HTTP_AUTH_BASIC;
	c->user = c->buf;
	c->secret = colon + 1;
	return OP_OK;
}

/* Bearer: a b64token (len bytes at tok) into c. */
static int
http_auth_bearer(const char *tok, size_t len, struct http_cred *c)
{
	size_t n = strspn(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
	                       "VWXYZ0123456789-._~+/");

	if (n == 0)
		return OP_EINVAL;
	while (n < len && tok[n] == '=')
		n++;
	if (n != len)
		return OP_EINVAL;
	memcpy(c->buf, tok, len);
	c->buf[len] = '\0';
	c->kind = HTTP_AUTH_BEARER;
	c->user = "";
	c->secret = c->buf;
	return OP_OK;
}

int
http_auth_parse(const char *value, struct http_cred *c, enum http_auth_why *why)
{
	size_t len = strnlen(value, HTTP_AUTH_MAX);
	size_t scheme = strcspn(value, " "), arg;

	*why = HTTP_AUTH_MALFORMED;
	if (len >= HTTP_AUTH_MAX || scheme == 0 || value[scheme] != ' ')
		return OP_EINVAL;
	arg = scheme + strspn(value + scheme, " ");
	while (len > arg && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (len == arg)
		return OP_EINVAL;
	if (scheme == 5 && strncasecmp(value, "Basic", 5) == 0)
		return http_auth_basic(value + arg, len - arg, c);
	if (scheme == 6 && strncasecmp(value, "Bearer", 6) == 0)
		return http_auth_bearer(value + arg, len - arg, c);
	*why = HTTP_AUTH_SCHEME;
	return OP_EINVAL;
}

/* ---- the configured credentials --------------------------------------- */

int
http_auth_alloc(struct http_auth **out, const struct agg_conf *c)
{
	struct http_auth *a = calloc(1, sizeof(*a));
	size_t nt = c->http_tokens.n;

	*out = NULL;
	if (a == NULL)
		return OP_ENOMEM;
	a->cache = calloc(1, sizeof(*a->cache) + (c->nhttp_users + 1) *
	                                             sizeof(a->cache->seen[0]));
	if (a->cache == NULL) {
		free(a);
		return OP_ENOMEM;
	}
	pthread_mutex_init(&a->cache->lock, NULL);
	if ((a->users = calloc(c->nhttp_users + 1, sizeof(*a->users))) ==
	        NULL ||
	    (a->tokens = calloc(nt + 1, sizeof(*a->tokens))) == NULL ||
	    RAND_bytes(a->cache->salt, sizeof(a->cache->salt)) != 1) {
		http_auth_free(a);
		return OP_ENOMEM;
	}
	for (size_t i = 0; i < c->nhttp_users; i++, a->nusers++) {
		a->users[i].name = strdup(c->http_users[i].name);
		a->users[i].hash = strdup(c->http_users[i].hash);
		if (a->users[i].name == NULL || a->users[i].hash == NULL) {
			a->nusers++;
			http_auth_free(a);
			return OP_ENOMEM;
		}
	}
	for (size_t i = 0; i < nt; i++)
		SHA256((const unsigned char *)c->http_tokens.items[i],
		       strlen(c->http_tokens.items[i]), a->tokens[i]);
	a->ntokens = nt;
	*out = a;
	return OP_OK;
}

void
http_auth_free(struct http_auth *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; a->users && i < a->nusers; i++) {
		free(a->users[i].name);
		free(a->users[i].hash);
	}
	free(a->users);
	free(a->tokens);
	if (a->cache != NULL) {
		pthread_mutex_destroy(&a->cache->lock);
		OPENSSL_cleanse(a->cache, sizeof(*a->cache));
		free(a->cache);
	}
	free(a);
}

int
http_auth_required(const struct http_auth *a)
{
	return a != NULL && (a->nusers > 0 || a->ntokens > 0);
}

/* Whether password hashes to hash under crypt(3); the hashes are
 * compared in constant time.  Out of memory: no. */
static int
http_auth_password(const char *password, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *out;
	size_t n = strlen(hash);
	int ok;

	if (cd == NULL)
		return 0;
	out = crypt_rn(password, hash, cd, (int)sizeof(*cd));
	ok =
	    out != NULL && strlen(out) == n && CRYPTO_memcmp(out, hash, n) == 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/* Whether token is one of a's: its SHA-256 against every one, in
 * constant time, without stopping at a match. */
static int
http_auth_token(const struct http_auth *a, const char *token)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	int ok = 0;

	SHA256((const unsigned char *)token, strlen(token), d);
	for (size_t i = 0; i < a->ntokens; i++)
		ok |= CRYPTO_memcmp(d, a->tokens[i], sizeof(d)) == 0;
	return ok;
}

/* The keyed digest of password under a's salt, into d. */
static void
http_auth_digest(const struct http_auth *a, const char *password,
                 unsigned char *d)
{
	HMAC(EVP_sha256(), a->cache->salt, sizeof(a->cache->salt),
	     (const unsigned char *)password, strlen(password), d, NULL);
}

/* Whether password of user i is the last one crypt(3) accepted (1), or
 * remembers it now when crypt(3) accepts it; 0 when it does not. */
static int
http_auth_known(const struct http_auth *a, size_t i, const char *password)
{
	struct http_auth_cache *cache = a->cache;
	struct http_auth_seen *seen = &cache->seen[i];
	unsigned char d[SHA256_DIGEST_LENGTH];
	int hit;

	http_auth_digest(a, password, d);
	pthread_mutex_lock(&cache->lock);
	hit = seen->set && CRYPTO_memcmp(d, seen->digest, sizeof(d)) == 0;
	pthread_mutex_unlock(&cache->lock);
	if (hit)
		return 1;
	if (!http_auth_password(password, a->users[i].hash))
		return 0;
	pthread_mutex_lock(&cache->lock);
	memcpy(seen->digest, d, sizeof(d));
	seen->set = 1;
	pthread_mutex_unlock(&cache->lock);
	return 1;
}

/* The Basic credential c against a's users. */
static enum http_auth_why
http_auth_user(const struct http_auth *a, const struct http_cred *c)
{
	for (size_t i = 0; i < a->nusers; i++) {
		if (strcmp(a->users[i].name, c->user) == 0)
			return http_auth_known(a, i, c->secret)
			           ? HTTP_AUTH_OK
			           : HTTP_AUTH_WRONG_PASSWORD;
	}
	return HTTP_AUTH_UNKNOWN_USER;
}

enum http_auth_why
http_auth_check(const struct http_auth *a, const char *header, char *who,
                size_t whosz)
{
	struct http_cred *c;
	enum http_auth_why why;

	if (whosz)
		who[0] = '\0';
	if (!http_auth_required(a))
		return HTTP_AUTH_OK;
	if (header == NULL)
		return HTTP_AUTH_MISSING;
	if ((c = malloc(sizeof(*c))) == NULL)
		return HTTP_AUTH_MALFORMED; /* refused, never let through */
	if (http_auth_parse(header, c, &why) == OP_OK) {
		if (c->kind == HTTP_AUTH_BASIC) {
			why = http_auth_user(a, c);
			if (whosz)
				snprintf(who, whosz, "%s", c->user);
		} else {
			why = http_auth_token(a, c->secret)
			          ? HTTP_AUTH_OK
			          : HTTP_AUTH_WRONG_TOKEN;
		}
	}
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
	return why;
}

/* ---- counting and logging refusals ------------------------------------ */

static const char *const http_auth_names[HTTP_AUTH_COUNT] = {
    [HTTP_AUTH_OK] = "ok",
    [HTTP_AUTH_MISSING] = "missing",
    [HTTP_AUTH_MALFORMED] = "malformed",
    [HTTP_AUTH_SCHEME] = "unsupported_scheme",
    [HTTP_AUTH_UNKNOWN_USER] = "unknown_user",
    [HTTP_AUTH_WRONG_PASSWORD] = "wrong_password",
    [HTTP_AUTH_WRONG_TOKEN] = "wrong_token",
};

static const char *const http_auth_phrases[HTTP_AUTH_COUNT] = {
    [HTTP_AUTH_OK] = "accepted",
    [HTTP_AUTH_MISSING] = "no credentials",
    [HTTP_AUTH_MALFORMED] = "a malformed Authorization header",
    [HTTP_AUTH_SCHEME] = "a scheme other than Basic or Bearer",
    [HTTP_AUTH_UNKNOWN_USER] = "an unknown user",
    [HTTP_AUTH_WRONG_PASSWORD] = "a wrong password",
    [HTTP_AUTH_WRONG_TOKEN] = "an unknown bearer token",
};

static atomic_uint_fast64_t http_auth_failures[HTTP_AUTH_COUNT];

const char *
http_auth_reason(enum http_auth_why why)
{
	return why < HTTP_AUTH_COUNT ? http_auth_names[why] : "unknown";
}

const char *
http_auth_describe(enum http_auth_why why)
{
	return why < HTTP_AUTH_COUNT ? http_auth_phrases[why] : "unknown";
}

void
http_auth_count(enum http_auth_why why)
{
	if (why > HTTP_AUTH_OK && why < HTTP_AUTH_COUNT)
		atomic_fetch_add(&http_auth_failures[why], 1);
}

void
http_auth_render(FILE *f)
{
	fprintf(f, "# HELP opspulse_http_auth_failures_total Requests to the "
	           "HTTP address refused for their credentials, by reason.\n"
	           "# TYPE opspulse_http_auth_failures_total counter\n");
	for (int i = HTTP_AUTH_OK + 1; i < HTTP_AUTH_COUNT; i++)
		fprintf(
		    f,
		    "opspulse_http_auth_failures_total{reason=\"%s\"} "
		    "%llu\n",
		    http_auth_names[i],
		    (unsigned long long)atomic_load(&http_auth_failures[i]));
}

struct http_auth_slot {
	char peer[64];
	int64_t last_ms; /* when its last line was logged */
	unsigned skipped;
};

struct http_auth_log {
	pthread_mutex_t lock;
	struct http_auth_slot slots[HTTP_AUTH_LOG_SLOTS];
};

int
http_auth_log_alloc(struct http_auth_log **out)
{
	struct http_auth_log *l = calloc(1, sizeof(*l));

	*out = l;
	if (l == NULL)
		return OP_ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	return OP_OK;
}

void
http_auth_log_free(struct http_auth_log *l)
{
	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* The slot of peer in l, or the one quiet longest, made peer's. */
static struct http_auth_slot *
http_auth_slot(struct http_auth_log *l, const char *peer)
{
	struct http_auth_slot *old = &l->slots[0];

	for (size_t i = 0; i < HTTP_AUTH_LOG_SLOTS; i++) {
		struct http_auth_slot *s = &l->slots[i];
		if (s->peer[0] && strcmp(s->peer, peer) == 0)
			return s;
		if (!s->peer[0] || (old->peer[0] && s->last_ms < old->last_ms))
			old = s;
	}
	snprintf(old->peer, sizeof(old->peer), "%s", peer);
	old->last_ms = INT64_MIN;
	old->skipped = 0;
	return old;
}

int
http_auth_log_due(struct http_auth_log *l, const char *peer, int64_t now_ms,
                  unsigned *skipped)
{
	struct http_auth_slot *s;
	int due;

	pthread_mutex_lock(&l->lock);
	s = http_auth_slot(l, peer);
	due = s->last_ms == INT64_MIN || now_ms - s->last_ms >= 1000;
	if (due) {
		*skipped = s->skipped;
		s->skipped = 0;
		s->last_ms = now_ms;
	} else {
		s->skipped++;
	}
	pthread_mutex_unlock(&l->lock);
	return due;
}
