/*
 * opspulse-agent deploy record | mark-failed (SPEC §2 item 2).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "op_error.h"
#include "op_time.h"

static int
deploy_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: opspulse-agent deploy record --service S --started T "
	    "--finished T\n"
	    "           --outcome success|failed|rolled_back|cancelled [--id "
	    "ID]\n"
	    "           [--version V] [--commit-time T] [--hotfix] [--env E]\n"
	    "           [--operator U]\n"
	    "       opspulse-agent deploy mark-failed --service S --id ID "
	    "[--at T]\n"
	    "           [--env E]\n"
	    "\n"
	    "Records a deploy that already happened, or marks a successful "
	    "deploy\n"
	    "as failed because it later caused an incident.  Times are RFC "
	    "3339\n"
	    "(2026-10-05T09:30:00Z), 'now', or an age such as 90m or 2h.  "
	    "Without\n"
	    "--id, an id is derived from the deploy's content, so recording "
	    "the\n"
	    "same deploy twice stores it once.  Returns once the event is "
	    "fsynced\n"
	    "to the spool; the daemon ships it.\n");
	return fp == stdout ? 0 : 1;
}

static int
deploy_time(const char *flag, const char *arg, int64_t *out)
{
	if (op_time_parse_arg(arg, op_time_now_us(), out) == OP_OK)
		return 0;
	fprintf(stderr,
	        "opspulse-agent: %s '%s' is not a time; use RFC 3339 "
	        "(2026-10-05T09:30:00Z), 'now' or an age like 90m\n",
	        flag, arg);
	return 1;
}

enum {
	OPT_SERVICE = 1,
	OPT_STARTED,
	OPT_FINISHED,
	OPT_OUTCOME,
	OPT_ID,
	OPT_VERSION,
	OPT_COMMIT,
	OPT_HOTFIX,
	OPT_ENV,
	OPT_OPERATOR,
	OPT_AT,
	OPT_HELP
};

static const struct option deploy_opts[] = {
    {"service", required_argument, NULL, OPT_SERVICE},
    {"started", required_argument, NULL, OPT_STARTED},
    {"finished", required_argument, NULL, OPT_FINISHED},
    {"outcome", required_argument, NULL, OPT_OUTCOME},
    {"id", required_argument, NULL, OPT_ID},
    {"version", required_argument, NULL, OPT_VERSION},
    {"commit-time", required_argument, NULL, OPT_COMMIT},
    {"hotfix", no_argument, NULL, OPT_HOTFIX},
    {"env", required_argument, NULL, OPT_ENV},
    {"operator", required_argument, NULL, OPT_OPERATOR},
    {"at", required_argument, NULL, OPT_AT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

struct deploy_args {
	int have_started, have_finished, have_outcome, have_service;
};

/* Applies one option to e; returns 0, or 1 after printing an error. */
static int
deploy_option(int opt, struct agent_event *e, Opspulse__V1__Deploy *d,
              struct deploy_args *a)
{
	switch (opt) {
	case OPT_SERVICE:
		e->ev.service = optarg;
		a->have_service = 1;
		return 0;
	case OPT_STARTED:
		a->have_started = 1;
		return deploy_time("--started", optarg, &d->started_us);
	case OPT_FINISHED:
		a->have_finished = 1;
		return deploy_time("--finished", optarg, &d->finished_us);
	case OPT_AT:
		return deploy_time("--at", optarg, &d->finished_us);
	case OPT_COMMIT:
		return deploy_time("--commit-time", optarg, &d->commit_time_us);
	case OPT_OUTCOME:
		a->have_outcome = 1;
		if (op_outcome_parse(optarg, &d->outcome) == OP_OK)
			return 0;
		fprintf(stderr, "opspulse-agent: --outcome must be success, "
		                "failed, rolled_back or cancelled\n");
		return 1;
	case OPT_ID:
		d->id = optarg;
		return 0;
	case OPT_VERSION:
		d->version = optarg;
		return 0;
	case OPT_HOTFIX:
		d->hotfix = 1;
		return 0;
	case OPT_ENV:
		e->ev.env = optarg;
		return 0;
	case OPT_OPERATOR:
		e->ev.operator_ = optarg;
		return 0;
	case OPT_HELP:
		deploy_usage(stdout);
		return 2;
	default:
		return 1;
	}
}

static int
deploy_parse(int argc, char **argv, struct agent_event *e,
             Opspulse__V1__Deploy *d, struct deploy_args *a)
{
	int opt, rv;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", deploy_opts, NULL)) != -1) {
		if ((rv = deploy_option(opt, e, d, a)) != 0)
			return rv;
	}
	if (optind != argc) {
		fprintf(stderr, "opspulse-agent: unexpected argument '%s'\n",
		        argv[optind]);
		return 1;
	}
	if (!a->have_service) {
		fprintf(stderr, "opspulse-agent: --service is required\n");
		return 1;
	}
	return 0;
}

static int
deploy_record(const struct agent_conf *c, int argc, char **argv)
{
	struct agent_event e;
	Opspulse__V1__Deploy *d;
	struct deploy_args a = {0};
	char idbuf[32];
	op_event *ev = &e.ev;
	int rv;

	agent_event_init(&e, c);
	d = agent_event_deploy(&e);
	if ((rv = deploy_parse(argc, argv, &e, d, &a)) != 0)
		return rv == 2 ? 0 : 1;
	if (!a.have_started || !a.have_finished || !a.have_outcome) {
		fprintf(stderr,
		        "opspulse-agent: deploy record needs --started, "
		        "--finished and --outcome\n");
		return 1;
	}
	if (d->id == NULL || *d->id == '\0')
		d->id = agent_deploy_auto_id(ev, idbuf, sizeof(idbuf));
	return agent_record(c, &ev, 1) == OP_OK ? 0 : 1;
}

static int
deploy_mark_failed(const struct agent_conf *c, int argc, char **argv)
{
	struct agent_event e;
	Opspulse__V1__Deploy scratch;
	Opspulse__V1__DeployFailure *f;
	struct deploy_args a = {0};
	op_event *ev = &e.ev;
	int rv;

	opspulse__v1__deploy__init(&scratch);
	agent_event_init(&e, c);
	scratch.finished_us = op_time_now_us();
	if ((rv = deploy_parse(argc, argv, &e, &scratch, &a)) != 0)
		return rv == 2 ? 0 : 1;
	if (scratch.id == NULL || *scratch.id == '\0') {
		fprintf(stderr, "opspulse-agent: mark-failed needs --id\n");
		return 1;
	}
	f = agent_event_deploy_failure(&e);
	f->id = scratch.id;
	f->at_us = scratch.finished_us;
	return agent_record(c, &ev, 1) == OP_OK ? 0 : 1;
}

int
agent_cmd_deploy(const struct agent_conf *c, int argc, char **argv)
{
	if (argc < 2)
		return deploy_usage(stderr);
	if (strcmp(argv[1], "record") == 0)
		return deploy_record(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "mark-failed") == 0)
		return deploy_mark_failed(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
		return deploy_usage(stdout);
	fprintf(stderr, "opspulse-agent: unknown deploy command '%s'\n",
	        argv[1]);
	return deploy_usage(stderr);
}
