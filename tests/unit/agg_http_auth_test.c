/*
 * Unit tests for aggregator/http_auth.c: the Authorization header parser
 * (Basic and Bearer, every malformed shape), credentials checked against
 * hashes written by mkpasswd and htpasswd, the refusal counters, the
 * one-line-per-second-per-address log limit, and http.c's loopback test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregator.h"
#include "http_auth.h"
#include "http_int.h"
#include "op_error.h"

/* Written by the tools the README names, not by the code under test:
 *   mkpasswd -m yescrypt secret1
 *   htpasswd -nbB alice pw2 */
#define YESCRYPT_SECRET1                                                       \
	"$y$j9T$2fTqBcVjRwBGXgS/Wbsmj/$a3Yikdc0fxGG7h4kJpS9/"                  \
	"p7sdoNhF3IZd0lGd5B66Y9"
#define BCRYPT_PW2                                                             \
	"$2y$05$7fnMgFfvWh37VdP10z8xTOfOoKp.E1eysYqZ6B4HYawsrZwDKbQre"

/* RFC 4648 base64 of n bytes of s, with padding, into out. */
static void
b64(const char *s, size_t n, char *out)
{
	static const char d[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
	    "wxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = d[v >> 18 & 63];
		out[o++] = d[v >> 12 & 63];
		out[o++] = i + 1 < n ? d[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? d[v & 63] : '=';
	}
	out[o] = '\0';
}

/* "Basic " and the base64 of n bytes of s, in a static buffer. */
static const char *
basic(const char *s, size_t n)
{
	static char buf[8192];

	strcpy(buf, "Basic ");
	b64(s, n, buf + 6);
	return buf;
}

static void
test_parse_basic(void **state)
{
	static struct http_cred c;
	enum http_auth_why why = HTTP_AUTH_OK;
	char v[256];

	(void)state;
	assert_int_equal(
	    http_auth_parse(basic("review:s e:cret", 15), &c, &why), OP_OK);
	assert_int_equal(c.kind, HTTP_AUTH_BASIC);
	assert_string_equal(c.user, "review");
	assert_string_equal(c.secret, "s e:cret"); /* the first ':' splits */
	/* Scheme in any case, several spaces, trailing blanks. */
	snprintf(v, sizeof(v), "bAsIc   %s \t", basic("a:", 2) + 6);
	assert_int_equal(http_auth_parse(v, &c, &why), OP_OK);
	assert_string_equal(c.user, "a");
	assert_string_equal(c.secret, "");
	/* Padding may be left out. */
	assert_int_equal(http_auth_parse("Basic YTpi", &c, &why), OP_OK);
	assert_string_equal(c.user, "a");
	assert_string_equal(c.secret, "b");
	assert_int_equal(http_auth_parse("Basic YTpiYw", &c, &why), OP_OK);
	assert_string_equal(c.secret, "bc");
	/* UTF-8 is not a control character. */
	assert_int_equal(
	    http_auth_parse(basic("j\xc3\xbcrgen:\xc3\xa9t\xc3\xa9", 13), &c,
	                    &why),
	    OP_OK);
	assert_string_equal(c.user, "j\xc3\xbcrgen");
}

static void
test_parse_bearer(void **state)
{
	static struct http_cred c;
	enum http_auth_why why;

	(void)state;
	assert_int_equal(http_auth_parse("Bearer abc-._~+/XYZ09==", &c, &why),
	                 OP_OK);
	assert_int_equal(c.kind, HTTP_AUTH_BEARER);
	assert_string_equal(c.user, "");
	assert_string_equal(c.secret, "abc-._~+/XYZ09==");
	assert_int_equal(http_auth_parse("bearer t  ", &c, &why), OP_OK);
	assert_string_equal(c.secret, "t");
}

/* value is refused with why. */
static void
refused(const char *value, enum http_auth_why want)
{
	static struct http_cred c;
	enum http_auth_why why = HTTP_AUTH_OK;

	if (http_auth_parse(value, &c, &why) != OP_EINVAL || why != want)
		fail_msg("%.60s: want %s, got %s", value,
		         http_auth_reason(want), http_auth_reason(why));
}

static void
test_parse_malformed(void **state)
{
	char *big = malloc(HTTP_AUTH_MAX + 16);

	(void)state;
	refused("", HTTP_AUTH_MALFORMED);
	refused("Basic", HTTP_AUTH_MALFORMED);
	refused("Basic ", HTTP_AUTH_MALFORMED);
	refused("Basic    ", HTTP_AUTH_MALFORMED);
	refused(" Basic YTpi", HTTP_AUTH_MALFORMED);
	refused("Basic YTpi extra", HTTP_AUTH_MALFORMED);
	refused("Basic !!!!", HTTP_AUTH_MALFORMED);
	refused("Basic YTpi=", HTTP_AUTH_MALFORMED); /* wrong padding */
	refused("Basic YTp=i", HTTP_AUTH_MALFORMED); /* data after it */
	refused("Basic YTpiY", HTTP_AUTH_MALFORMED); /* 5 digits */
	refused("Basic YTpiYw===", HTTP_AUTH_MALFORMED);
	refused(basic("nocolon", 7), HTTP_AUTH_MALFORMED);
	refused(basic("a\0b:c", 5), HTTP_AUTH_MALFORMED);  /* NUL */
	refused(basic("a:b\nc", 5), HTTP_AUTH_MALFORMED);  /* newline */
	refused(basic("a:b\x7f", 4), HTTP_AUTH_MALFORMED); /* DEL */
	refused("Bearer", HTTP_AUTH_MALFORMED);
	refused("Bearer ", HTTP_AUTH_MALFORMED);
	refused("Bearer a b", HTTP_AUTH_MALFORMED);
	refused("Bearer a=b", HTTP_AUTH_MALFORMED);
	refused("Bearer ===", HTTP_AUTH_MALFORMED);
	refused("Bearer a\"b", HTTP_AUTH_MALFORMED);
	refused("Digest username=\"a\"", HTTP_AUTH_SCHEME);
	refused("Basicx YTpi", HTTP_AUTH_SCHEME);
	refused("Negotiate abc", HTTP_AUTH_SCHEME);
	/* One byte under the limit passes the length check; at it, not. */
	memset(big, 'A', HTTP_AUTH_MAX + 15);
	memcpy(big, "Bearer ", 7);
	big[HTTP_AUTH_MAX - 1] = '\0';
	{
		static struct http_cred c;
		enum http_auth_why why;
		assert_int_equal(http_auth_parse(big, &c, &why), OP_OK);
		assert_int_equal(strlen(c.secret), HTTP_AUTH_MAX - 1 - 7);
	}
	big[HTTP_AUTH_MAX - 1] = 'A';
	big[HTTP_AUTH_MAX] = '\0';
	refused(big, HTTP_AUTH_MALFORMED);
	big[HTTP_AUTH_MAX + 15] = '\0';
	refused(big, HTTP_AUTH_MALFORMED);
	free(big);
}

/* The credentials of a configuration with two users and two tokens. */
static struct http_auth *
auth_of(int users, int tokens)
{
	static char review[] = "review", alice[] = "alice";
	static char h1[] = YESCRYPT_SECRET1, h2[] = BCRYPT_PW2;
	static char t1[] = "tok-one", t2[] = "tok-two";
	static struct agg_http_user u[2];
	static char *toks[2];
	struct agg_conf c;
	struct http_auth *a = NULL;

	memset(&c, 0, sizeof(c));
	u[0].name = review;
	u[0].hash = h1;
	u[1].name = alice;
	u[1].hash = h2;
	toks[0] = t1;
	toks[1] = t2;
	c.http_users = u;
	c.nhttp_users = users ? 2 : 0;
	c.http_tokens.items = toks;
	c.http_tokens.n = tokens ? 2 : 0;
	assert_int_equal(http_auth_alloc(&a, &c), OP_OK);
	return a;
}

static void
test_check(void **state)
{
	struct http_auth *a = auth_of(1, 1);
	char who[64];

	(void)state;
	assert_true(http_auth_required(a));
	assert_int_equal(http_auth_check(a, NULL, who, sizeof(who)),
	                 HTTP_AUTH_MISSING);
	assert_int_equal(
	    http_auth_check(a, basic("review:secret1", 14), who, sizeof(who)),
	    HTTP_AUTH_OK);
	assert_int_equal(
	    http_auth_check(a, basic("alice:pw2", 9), who, sizeof(who)),
	    HTTP_AUTH_OK);
	assert_int_equal(
	    http_auth_check(a, basic("review:secret2", 14), who, sizeof(who)),
	    HTTP_AUTH_WRONG_PASSWORD);
	assert_string_equal(who, "review");
	/* One user's password does not open another's account. */
	assert_int_equal(
	    http_auth_check(a, basic("alice:secret1", 13), who, sizeof(who)),
	    HTTP_AUTH_WRONG_PASSWORD);
	assert_int_equal(
	    http_auth_check(a, basic("bob:secret1", 11), who, sizeof(who)),
	    HTTP_AUTH_UNKNOWN_USER);
	assert_string_equal(who, "bob");
	assert_int_equal(http_auth_check(a, "Bearer tok-two", who, sizeof(who)),
	                 HTTP_AUTH_OK);
	assert_string_equal(who, "");
	assert_int_equal(
	    http_auth_check(a, "Bearer tok-thre", who, sizeof(who)),
	    HTTP_AUTH_WRONG_TOKEN);
	assert_int_equal(
	    http_auth_check(a, "Bearer tok-one1", who, sizeof(who)),
	    HTTP_AUTH_WRONG_TOKEN);
	/* A password is not a token, nor a token a password. */
	assert_int_equal(http_auth_check(a, "Bearer secret1", who, sizeof(who)),
	                 HTTP_AUTH_WRONG_TOKEN);
	assert_int_equal(
	    http_auth_check(a, basic("review:tok-one", 14), who, sizeof(who)),
	    HTTP_AUTH_WRONG_PASSWORD);
	assert_int_equal(http_auth_check(a, "Basic %%%", who, sizeof(who)),
	                 HTTP_AUTH_MALFORMED);
	assert_int_equal(http_auth_check(a, "Digest x", who, sizeof(who)),
	                 HTTP_AUTH_SCHEME);
	http_auth_free(a);
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A password crypt(3) accepted is remembered (a browser sends it with
 * every request); a different one still goes through crypt(3). */
static void
test_check_remembers(void **state)
{
	struct http_auth *a = auth_of(1, 0);
	const char *right = basic("review:secret1", 14);
	char ok[128], who[64];
	double t0, first, again;

	(void)state;
	snprintf(ok, sizeof(ok), "%s", right);
	t0 = seconds();
	assert_int_equal(http_auth_check(a, ok, who, sizeof(who)),
	                 HTTP_AUTH_OK);
	first = seconds() - t0;
	t0 = seconds();
	for (int i = 0; i < 10; i++)
		assert_int_equal(http_auth_check(a, ok, who, sizeof(who)),
		                 HTTP_AUTH_OK);
	again = (seconds() - t0) / 10;
	assert_true(again < first / 5);
	assert_int_equal(
	    http_auth_check(a, basic("review:secret11", 15), who, sizeof(who)),
	    HTTP_AUTH_WRONG_PASSWORD);
	assert_int_equal(http_auth_check(a, ok, who, sizeof(who)),
	                 HTTP_AUTH_OK);
	/* Another user's account is not opened by review's password. */
	assert_int_equal(
	    http_auth_check(a, basic("alice:secret1", 13), who, sizeof(who)),
	    HTTP_AUTH_WRONG_PASSWORD);
	http_auth_free(a);
}

static void
test_check_one_kind(void **state)
{
	struct http_auth *tokens = auth_of(0, 1), *users = auth_of(1, 0);
	struct http_auth *open = auth_of(0, 0);
	char who[64];

	(void)state;
	/* Tokens only: no user exists. */
	assert_int_equal(http_auth_check(tokens, basic("review:secret1", 14),
	                                 who, sizeof(who)),
	                 HTTP_AUTH_UNKNOWN_USER);
	/* Users only: no token exists. */
	assert_int_equal(
	    http_auth_check(users, "Bearer tok-one", who, sizeof(who)),
	    HTTP_AUTH_WRONG_TOKEN);
	/* Neither: today's open address, whatever the request sends. */
	assert_false(http_auth_required(open));
	assert_int_equal(http_auth_check(open, NULL, who, sizeof(who)),
	                 HTTP_AUTH_OK);
	assert_int_equal(http_auth_check(open, "Digest x", who, sizeof(who)),
	                 HTTP_AUTH_OK);
	http_auth_free(tokens);
	http_auth_free(users);
	http_auth_free(open);
	http_auth_free(NULL);
}

/* The value of the counter sample of reason in the rendered text. */
static unsigned long long
counter(const char *reason)
{
	char *text = NULL, needle[128], *p;
	size_t len = 0;
	unsigned long long v = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	http_auth_render(f);
	fclose(f);
	snprintf(needle, sizeof(needle),
	         "\nopspulse_http_auth_failures_total{reason=\"%s\"} ", reason);
	p = strstr(text, needle);
	assert_non_null(p);
	v = strtoull(p + strlen(needle), NULL, 10);
	free(text);
	return v;
}

static void
test_counters(void **state)
{
	unsigned long long before = counter("wrong_password");
	unsigned long long missing = counter("missing");

	(void)state;
	http_auth_count(HTTP_AUTH_WRONG_PASSWORD);
	http_auth_count(HTTP_AUTH_WRONG_PASSWORD);
	http_auth_count(HTTP_AUTH_OK);    /* not a refusal */
	http_auth_count(HTTP_AUTH_COUNT); /* out of range */
	assert_int_equal(counter("wrong_password"), before + 2);
	assert_int_equal(counter("missing"), missing);
	for (int i = HTTP_AUTH_MISSING; i < HTTP_AUTH_COUNT; i++)
		(void)counter(http_auth_reason((enum http_auth_why)i));
	assert_string_equal(http_auth_reason(HTTP_AUTH_WRONG_TOKEN),
	                    "wrong_token");
	assert_string_equal(http_auth_describe(HTTP_AUTH_WRONG_PASSWORD),
	                    "a wrong password");
}

static void
test_log_limit(void **state)
{
	struct http_auth_log *l = NULL;
	unsigned skipped = 99;
	char peer[32];

	(void)state;
	assert_int_equal(http_auth_log_alloc(&l), OP_OK);
	assert_int_equal(http_auth_log_due(l, "192.0.2.1", 5000, &skipped), 1);
	assert_int_equal(skipped, 0);
	assert_int_equal(http_auth_log_due(l, "192.0.2.1", 5500, &skipped), 0);
	assert_int_equal(http_auth_log_due(l, "192.0.2.1", 5999, &skipped), 0);
	/* Another address has its own second. */
	assert_int_equal(http_auth_log_due(l, "192.0.2.2", 5999, &skipped), 1);
	assert_int_equal(http_auth_log_due(l, "192.0.2.1", 6000, &skipped), 1);
	assert_int_equal(skipped, 2);
	assert_int_equal(http_auth_log_due(l, "192.0.2.1", 7000, &skipped), 1);
	assert_int_equal(skipped, 0);
	/* A full table forgets the address quiet longest: 192.0.2.2. */
	for (int i = 0; i < HTTP_AUTH_LOG_SLOTS - 2; i++) {
		snprintf(peer, sizeof(peer), "198.51.100.%d", i);
		assert_int_equal(http_auth_log_due(l, peer, 7100, &skipped), 1);
	}
	assert_int_equal(http_auth_log_due(l, "192.0.2.1", 7200, &skipped), 0);
	assert_int_equal(http_auth_log_due(l, "203.0.113.9", 7200, &skipped),
	                 1);
	assert_int_equal(http_auth_log_due(l, "192.0.2.1", 7300, &skipped), 0);
	assert_int_equal(http_auth_log_due(l, "192.0.2.2", 7300, &skipped), 1);
	http_auth_log_free(l);
	http_auth_log_free(NULL);
}

static void
test_loopback(void **state)
{
	(void)state;
	assert_true(http_loopback("127.0.0.1:7411"));
	assert_true(http_loopback("127.1.2.3:80"));
	assert_true(http_loopback("localhost:7411"));
	assert_true(http_loopback("[::1]:7411"));
	assert_true(http_loopback("http://127.0.0.1:7411"));
	assert_false(http_loopback("0.0.0.0:7411"));
	assert_false(http_loopback("[::]:7411"));
	assert_false(http_loopback("192.0.2.7:7411"));
	assert_false(http_loopback("127.example.com:7411"));
	assert_false(http_loopback("localhost.example.com:7411"));
	assert_false(http_loopback(":7411"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_basic),
	    cmocka_unit_test(test_parse_bearer),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_check_remembers),
	    cmocka_unit_test(test_check_one_kind),
	    cmocka_unit_test(test_counters),
	    cmocka_unit_test(test_log_limit),
	    cmocka_unit_test(test_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
