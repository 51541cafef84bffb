/*
 * Fuzz target for the query string of the aggregator's GET /report: the
 * input is the string after '?'.  Whatever it holds, the decoder either
 * refuses it with a reason or gives a request named "report" whose
 * strings all lie inside its decoded copy and whose services stay within
 * their bound.
 */
#include <stdlib.h>
#include <string.h>

#include "http_int.h"
#include "op_error.h"
#include "fuzz.h"

/* Whether s points into the size bytes of buf (NUL included). */
static int
fuzz_inside(const char *s, const char *buf, size_t size)
{
	return s >= buf && s < buf + size;
}

static void
fuzz_check_request(const Opspulse__V1__QueryRequest *req, const char *buf,
                   size_t size)
{
	FUZZ_CHECK(strcmp(req->name, "report") == 0);
	FUZZ_CHECK(req->n_services <= HTTP_MAX_SERVICE);
	for (size_t i = 0; i < req->n_services; i++)
		FUZZ_CHECK(fuzz_inside(req->services[i], buf, size));
	if (req->team != NULL && req->team[0] != '\0')
		FUZZ_CHECK(fuzz_inside(req->team, buf, size));
	if (req->env != NULL && req->env[0] != '\0')
		FUZZ_CHECK(fuzz_inside(req->env, buf, size));
	if (req->format != NULL && req->format[0] != '\0')
		FUZZ_CHECK(fuzz_inside(req->format, buf, size));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Opspulse__V1__QueryRequest req;
	char *services[HTTP_MAX_SERVICE], *buf = NULL, err[256];
	char *query = malloc(size + 1);
	int rv;

	if (query == NULL)
		return 0;
	memcpy(query, data, size);
	query[size] = '\0'; /* an embedded NUL just ends the string early */
	err[0] = '\0';
	rv = http_report_request(query, &buf, services, &req, err, sizeof(err));
	if (rv == OP_OK) {
		FUZZ_CHECK(buf != NULL);
		fuzz_check_request(&req, buf, strlen(query) + 1);
	} else {
		FUZZ_CHECK(rv == OP_EINVAL || rv == OP_ENOMEM);
		FUZZ_CHECK(err[0] != '\0');
	}
	free(buf);
	free(query);
	return 0;
}
