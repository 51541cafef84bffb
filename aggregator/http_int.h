/*
 * http.c's query-string decoding and address check, for its unit tests
 * (tests/unit/agg_http_test.c) only: the other modules use http.h.
 */
#ifndef HTTP_INT_H
#define HTTP_INT_H

#include <stddef.h>

#include "op_codec.h"
#include "op_error.h"

/* Query strings longer than this are refused; a report needs little. */
#define HTTP_MAX_QUERY   8192
#define HTTP_MAX_SERVICE 64 /* service= parameters of one request */

/* Decodes %XX and '+' (a space) in s, in place.  Returns OP_OK, or
 * OP_EINVAL for a bad escape or an encoded NUL (s is then partly
 * decoded). */
OP_MUSTCHECK int http_unescape(char *s);

/*
 * Decodes a /report query string (since, until, service (repeatable, up
 * to HTTP_MAX_SERVICE), team, env, format; at most HTTP_MAX_QUERY bytes)
 * into *req, named "report".  req's strings point into *buf, a decoded
 * copy of query, and its services into services[HTTP_MAX_SERVICE]; the
 * caller frees *buf (NULL or malloc'd) with free(), also after a failure.
 * since and until take RFC 3339 or an age before now.  Returns OP_OK;
 * OP_EINVAL with err saying which parameter is wrong; OP_ENOMEM.
 */
OP_MUSTCHECK int http_report_request(const char *query, char **buf,
                                     char **services,
                                     Opspulse__V1__QueryRequest *req, char *err,
                                     size_t errsz);

/* The HTTP status of an error code: 400 for a bad or unknown request,
 * 503 when the database is unreachable, 500 otherwise.  This can't
 * fail. */
int http_status(int rv);

/* Whether the HTTP address addr ("127.0.0.1:7411", "[::1]:7411",
 * "http://localhost:7411") is reachable from this host only.  This can't
 * fail. */
int http_loopback(const char *addr);

#endif
