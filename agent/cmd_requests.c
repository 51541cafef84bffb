/*
 * opspulse-agent requests record (SPEC §12.1 item 2): the request counts
 * of one (service, env, host, UTC minute) from elsewhere, such as a load
 * balancer's logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cmd_opts.h"
#include "op_error.h"
#include "op_latency.h"
#include "op_time.h"
#include "requests.h"

enum req_opt {
	R_SERVICE = 1,
	R_ENV,
	R_HOST,
	R_MINUTE,
	R_REQUESTS,
	R_ERRORS,
	R_LATENCY,
	R_HELP,
	R_COUNT
};

static const struct option req_opts[] = {
    {"service", required_argument, NULL, R_SERVICE},
    {"env", required_argument, NULL, R_ENV},
    {"host", required_argument, NULL, R_HOST},
    {"minute", required_argument, NULL, R_MINUTE},
    {"requests", required_argument, NULL, R_REQUESTS},
    {"errors", required_argument, NULL, R_ERRORS},
    {"latency-ms", required_argument, NULL, R_LATENCY},
    {"help", no_argument, NULL, R_HELP},
    {NULL, 0, NULL, 0},
};

static int
req_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: opspulse-agent requests record --service S --minute T\n"
	    "           --requests N --errors N [--latency-ms V:COUNT ...]\n"
	    "           [--host H] [--env E]\n"
	    "\nRecords the requests of one UTC minute (T is RFC 3339 with "
	    "seconds 0,\nsuch as 2026-10-05T09:31:00Z): N requests, of "
	    "which N errors (status\n500-599).  Each --latency-ms says "
	    "COUNT requests took V milliseconds\n(12.5:1100); the counts "
	    "add up to at most --requests.  Records for\nthe same minute "
	    "add up; the same record sent twice is stored once.\nReturns "
	    "once the event is fsynced to the spool.\n");
	return fp == stdout ? 0 : 1;
}

/* A count option: a non-negative decimal integer.  Returns 0 or 1. */
static int
req_count(const char *flag, const char *s, uint64_t *out)
{
	char *end;

	if (s[0] >= '0' && s[0] <= '9') {
		unsigned long long v = strtoull(s, &end, 10);
		if (*end == '\0' && v <= OP_MAX_MINUTE_REQUESTS) {
			*out = v;
			return 0;
		}
	}
	fprintf(stderr,
	        "opspulse-agent: --%s '%s' must be a whole number from 0 to "
	        "%llu\n",
	        flag, s, (unsigned long long)OP_MAX_MINUTE_REQUESTS);
	return 1;
}

/* One --latency-ms V:COUNT into h.  Returns 0 or 1. */
static int
req_latency(struct agent_hist *h, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	uint64_t count;
	char err[256];

	if (colon == NULL || colon == arg) {
		fprintf(stderr,
		        "opspulse-agent: --latency-ms '%s' must be "
		        "MILLISECONDS:COUNT, such as 12.5:1100\n",
		        arg);
		return 1;
	}
	if (req_count("latency-ms count", colon + 1, &count))
		return 1;
	if (agent_hist_add(h, arg, (size_t)(colon - arg), count, err,
	                   sizeof(err)) != OP_OK) {
		fprintf(stderr, "opspulse-agent: --latency-ms: %s\n", err);
		return 1;
	}
	return 0;
}

/* The event and latency histogram being filled in. */
struct req_ctx {
	struct agent_event *e;
	struct agent_hist *h;
};

/* Applies one option (cmd_opts apply).  Returns 0, or 1 on a bad value. */
static int
req_apply(void *ctx, int opt, char *arg)
{
	struct agent_event *e = ((struct req_ctx *)ctx)->e;
	struct agent_hist *h = ((struct req_ctx *)ctx)->h;
	Opspulse__V1__Requests *r = e->ev.requests;

	switch (opt) {
	case R_SERVICE:
		e->ev.service = arg;
		return 0;
	case R_ENV:
		e->ev.env = arg;
		return 0;
	case R_HOST:
		e->ev.host = arg;
		return 0;
	case R_MINUTE:
		if (op_time_parse_rfc3339(arg, 0, &r->minute_us) == OP_OK)
			return 0;
		fprintf(stderr,
		        "opspulse-agent: --minute '%s' is not a time; use RFC "
		        "3339 with seconds 0, such as 2026-10-05T09:31:00Z\n",
		        arg);
		return 1;
	case R_REQUESTS:
		return req_count("requests", arg, &r->requests);
	case R_ERRORS:
		return req_count("errors", arg, &r->errors);
	case R_LATENCY:
		return req_latency(h, arg);
	default:
		return 1;
	}
}

/* Parses the options into e and h.  Returns 0, 1 after printing an
 * error, or CMD_OPTS_HELP. */
static int
req_parse(struct agent_event *e, struct agent_hist *h, int argc, char **argv)
{
	static const int required[] = {R_SERVICE, R_MINUTE, R_REQUESTS,
	                               R_ERRORS, 0};
	struct req_ctx ctx = {e, h};
	/* Only --service can be empty here; the event's validation says so. */
	const struct cmd_opts o = {.command = "requests record",
	                           .table = req_opts,
	                           .help = R_HELP,
	                           .empty_given = 1,
	                           .apply = req_apply,
	                           .arg = &ctx};
	char *v[R_COUNT] = {0};
	int rv = cmd_opts_parse(&o, argc, argv, v);

	if (rv != 0)
		return rv;
	return cmd_opts_require(&o, v, required);
}

/* Records e (agent_record validates it).  Returns the exit status. */
static int
req_record(const struct agent_conf *c, struct agent_event *e,
           struct agent_hist *h)
{
	op_event *ev = &e->ev;

	if (agent_hist_finish(h, e->ev.requests) != OP_OK) {
		fprintf(stderr, "opspulse-agent: out of memory\n");
		return 1;
	}
	return agent_record(c, &ev, 1) == OP_OK ? 0 : 1;
}

static int
req_run(const void *arg, const struct agent_conf *c, int argc, char **argv)
{
	struct agent_event e;
	struct agent_hist h = {0};
	int rv;

	(void)arg;
	agent_event_init(&e, c);
	/* Request counts are no one's doing. */
	e.ev.operator_ = (char *)"";
	agent_event_requests(&e);
	rv = req_parse(&e, &h, argc, argv);
	if (rv == 0)
		rv = req_record(c, &e, &h);
	else
		rv = req_usage(rv == CMD_OPTS_HELP ? stdout : stderr);
	agent_hist_free(&h);
	return rv;
}

static int
req_usage_of(const void *arg, FILE *fp)
{
	(void)arg;
	return req_usage(fp);
}

int
agent_cmd_requests(const struct agent_conf *c, int argc, char **argv)
{
	static const struct cmd_opts_family family = {"requests", req_usage_of,
	                                              req_run, NULL};

	return cmd_opts_dispatch(&family, c, argc, argv);
}
