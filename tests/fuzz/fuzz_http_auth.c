/*
 * Fuzz target for the Authorization header parser of the aggregator's
 * HTTP address: the input is the header's value.  Whatever it holds, the
 * parser either refuses it as malformed or of another scheme, or gives a
 * Basic user without ':' and a password, neither with a control
 * character, or a bearer token of b64token characters, all inside the
 * credential's own buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "http_auth.h"
#include "op_error.h"
#include "fuzz.h"

/* Whether s is a string inside c's buffer. */
static int
fuzz_inside(const char *s, const struct http_cred *c)
{
	return s >= c->buf && s + strlen(s) < c->buf + sizeof(c->buf);
}

static int
fuzz_no_ctl(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	}
	return 1;
}

static void
fuzz_check_cred(const struct http_cred *c, size_t in_len)
{
	if (c->kind == HTTP_AUTH_BASIC) {
		FUZZ_CHECK(fuzz_inside(c->user, c) &&
		           fuzz_inside(c->secret, c));
		FUZZ_CHECK(strchr(c->user, ':') == NULL);
		FUZZ_CHECK(fuzz_no_ctl(c->user) && fuzz_no_ctl(c->secret));
		/* base64 never grows what it carries. */
		FUZZ_CHECK(strlen(c->user) + 1 + strlen(c->secret) < in_len);
	} else {
		FUZZ_CHECK(c->kind == HTTP_AUTH_BEARER);
		FUZZ_CHECK(fuzz_inside(c->secret, c) && *c->secret);
		FUZZ_CHECK(strspn(c->secret,
		                  "abcdefghijklmnopqrstuvwxyzABCDEFGH"
		                  "IJKLMNOPQRSTUVWXYZ0123456789-._~+/=") ==
		           strlen(c->secret));
		FUZZ_CHECK(c->secret[0] != '=');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_cred *c = malloc(sizeof(*c));
	char *value = malloc(size + 1);
	enum http_auth_why why = HTTP_AUTH_OK;

	if (c == NULL || value == NULL) {
		free(c);
		free(value);
		return 0;
	}
	memcpy(value, data, size);
	value[size] = '\0'; /* an embedded NUL just ends the value early */
	if (http_auth_parse(value, c, &why) == OP_OK) {
		FUZZ_CHECK(strlen(value) < HTTP_AUTH_MAX);
		fuzz_check_cred(c, strlen(value));
	} else {
		FUZZ_CHECK(why == HTTP_AUTH_MALFORMED ||
		           why == HTTP_AUTH_SCHEME);
	}
	free(c);
	free(value);
	return 0;
}
