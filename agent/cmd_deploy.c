/*
 * opspulse-agent deploy record | mark-failed (SPEC §2 item 2).
 */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "cmd_opts.h"
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
	OPT_HELP,
	OPT_COUNT
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

/* What the options fill in: the event and its deploy (a scratch one for
 * mark-failed). */
struct deploy_ctx {
	struct agent_event *e;
	Opspulse__V1__Deploy *d;
};

/* Applies one option (cmd_opts apply).  Returns 0, or 1 after printing
 * an error. */
static int
deploy_option(void *arg, int opt, char *value)
{
	struct agent_event *e = ((struct deploy_ctx *)arg)->e;
	Opspulse__V1__Deploy *d = ((struct deploy_ctx *)arg)->d;

	switch (opt) {
	case OPT_SERVICE:
		e->ev.service = value;
		return 0;
	case OPT_STARTED:
		return deploy_time("--started", value, &d->started_us);
	case OPT_FINISHED:
	case OPT_AT:
		return deploy_time(opt == OPT_AT ? "--at" : "--finished", value,
		                   &d->finished_us);
	case OPT_COMMIT:
		return deploy_time("--commit-time", value, &d->commit_time_us);
	case OPT_OUTCOME:
		if (op_outcome_parse(value, &d->outcome) == OP_OK)
			return 0;
		fprintf(stderr, "opspulse-agent: --outcome must be success, "
		                "failed, rolled_back or cancelled\n");
		return 1;
	case OPT_ID:
		d->id = value;
		return 0;
	case OPT_VERSION:
		d->version = value;
		return 0;
	case OPT_HOTFIX:
		d->hotfix = 1;
		return 0;
	case OPT_ENV:
		e->ev.env = value;
		return 0;
	case OPT_OPERATOR:
		e->ev.operator_ = value;
		return 0;
	default:
		return 1;
	}
}

/* Reads the options into e, d and v.  Returns 0, 1 after printing an
 * error, or CMD_OPTS_HELP after printing the usage. */
static int
deploy_parse(const char *command, int argc, char **argv, struct agent_event *e,
             Opspulse__V1__Deploy *d, char **v)
{
	struct deploy_ctx ctx = {e, d};
	const struct cmd_opts o = {.command = command,
	                           .table = deploy_opts,
	                           .help = OPT_HELP,
	                           .apply = deploy_option,
	                           .arg = &ctx};
	int rv = cmd_opts_parse(&o, argc, argv, v);

	if (rv == CMD_OPTS_HELP)
		deploy_usage(stdout);
	if (rv != 0)
		return rv;
	if (v[OPT_SERVICE] == NULL) {
		fprintf(stderr, "opspulse-agent: --service is required\n");
		return 1;
	}
	return 0;
}

static int
deploy_record(const struct agent_conf *c, int argc, char **argv)
{
	char *v[OPT_COUNT] = {0};
	struct agent_event e;
	Opspulse__V1__Deploy *d;
	char idbuf[32];
	op_event *ev = &e.ev;
	int rv;

	agent_event_init(&e, c);
	d = agent_event_deploy(&e);
	if ((rv = deploy_parse("deploy record", argc, argv, &e, d, v)) != 0)
		return rv == CMD_OPTS_HELP ? 0 : 1;
	if (!v[OPT_STARTED] || !v[OPT_FINISHED] || !v[OPT_OUTCOME]) {
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
	static const int required[] = {OPT_ID, 0};
	const struct cmd_opts o = {.command = "mark-failed",
	                           .table = deploy_opts};
	char *v[OPT_COUNT] = {0};
	struct agent_event e;
	Opspulse__V1__Deploy scratch;
	Opspulse__V1__DeployFailure *f;
	op_event *ev = &e.ev;
	int rv;

	opspulse__v1__deploy__init(&scratch);
	agent_event_init(&e, c);
	scratch.finished_us = op_time_now_us();
	if ((rv = deploy_parse("mark-failed", argc, argv, &e, &scratch, v)) !=
	    0)
		return rv == CMD_OPTS_HELP ? 0 : 1;
	if (cmd_opts_require(&o, v, required))
		return 1;
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
