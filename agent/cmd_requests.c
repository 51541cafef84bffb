/*
 * opspulse-agent requests record (SPEC §12.1 item 2): the request counts
 * of one (service, env, host, UTC minute) from elsewhere, such as a load
 * balancer's logs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
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

/* Applies one option to e.  Returns 0, 1 on a bad value, 2 for --help. */
static int
req_apply(struct agent_event *e, struct agent_hist *h, int opt, char *arg)
{
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
	case R_HELP:
		return 2;
	default:
		return 1;
	}
}

/* Parses the options into e.  Returns 0, 1 after printing an error, or 2
 * for --help. */
static int
req_parse(struct agent_event *e, struct agent_hist *h, int argc, char **argv,
          unsigned *seen)
{
	int opt, rv;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", req_opts, NULL)) != -1) {
		if (opt == '?')
			return 1;
		if ((rv = req_apply(e, h, opt, optarg)) != 0)
			return rv;
		*seen |= 1u << opt;
	}
	if (optind != argc) {
		fprintf(stderr, "opspulse-agent: unexpected argument '%s'\n",
		        argv[optind]);
		return 1;
	}
	for (const struct option *o = req_opts; o->name; o++) {
		if ((o->val == R_SERVICE || o->val == R_MINUTE ||
		     o->val == R_REQUESTS || o->val == R_ERRORS) &&
		    !(*seen & (1u << o->val))) {
			fprintf(stderr,
			        "opspulse-agent: requests record needs --%s\n",
			        o->name);
			return 1;
		}
	}
	return 0;
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
req_run(const struct agent_conf *c, int argc, char **argv)
{
	struct agent_event e;
	struct agent_hist h = {0};
	unsigned seen = 0;
	int rv;

	agent_event_init(&e, c);
	/* Request counts are no one's doing. */
	e.ev.operator_ = (char *)"";
	agent_event_requests(&e);
	rv = req_parse(&e, &h, argc, argv, &seen);
	if (rv == 0)
		rv = req_record(c, &e, &h);
	else
		rv = rv == 2 ? req_usage(stdout) : req_usage(stderr);
	agent_hist_free(&h);
	return rv;
}

int
agent_cmd_requests(const struct agent_conf *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "record") == 0)
		return req_run(c, argc - 1, argv + 1);
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0))
		return req_usage(stdout);
	if (argc >= 2)
		fprintf(stderr,
		        "opspulse-agent: unknown requests command '%s'\n",
		        argv[1]);
	return req_usage(stderr);
}
