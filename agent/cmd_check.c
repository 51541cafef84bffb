/*
 * opspulse-agent check record (SPEC §14): a dated attestation of a
 * readiness check, or an exemption of any check with its reason.
 */
#include <stdio.h>

#include "agent.h"
#include "cmd_opts.h"
#include "op_codec.h"
#include "op_error.h"
#include "op_time.h"

enum chk_opt {
	C_SERVICE = 1,
	C_ENV,
	C_OPERATOR,
	C_CHECK,
	C_RESULT,
	C_EVIDENCE,
	C_AT,
	C_HELP,
	C_COUNT
};

static const struct option chk_opts[] = {
    {"service", required_argument, NULL, C_SERVICE},
    {"env", required_argument, NULL, C_ENV},
    {"operator", required_argument, NULL, C_OPERATOR},
    {"check", required_argument, NULL, C_CHECK},
    {"result", required_argument, NULL, C_RESULT},
    {"evidence", required_argument, NULL, C_EVIDENCE},
    {"at", required_argument, NULL, C_AT},
    {"help", no_argument, NULL, C_HELP},
    {NULL, 0, NULL, 0},
};

static const char chk_usage_text[] =
    "usage: opspulse-agent check record --service S --check NAME\n"
    "           --result pass|fail|exempt --evidence TEXT [--at T]\n"
    "           [--env E] [--operator U]\n"
    "\n"
    "Records a readiness check (SPEC 14): a manual check listed in the\n"
    "aggregator's readiness.manual_checks, passed or failed, or an\n"
    "exemption of any check, whose --evidence is the reason (required).\n"
    "The latest record before a date wins and stays valid for the\n"
    "aggregator's readiness.cycle_days.  --at defaults to now; times are\n"
    "RFC 3339 (2026-10-05T09:30:00Z), a date, 'now' or an age such as 90m.\n"
    "Returns once the event is fsynced to the spool.\n";

static int
chk_usage(FILE *fp)
{
	fputs(chk_usage_text, fp);
	return fp == stdout ? 0 : 1;
}

static int
chk_usage_of(const void *arg, FILE *fp)
{
	(void)arg;
	return chk_usage(fp);
}

static const struct cmd_opts chk_cmd = {
    .command = "check record", .table = chk_opts, .help = C_HELP};

/* Fills c from v.  Returns 0 or 1 after printing what is wrong. */
static int
chk_build(Opspulse__V1__Check *c, char *const *v)
{
	static const int required[] = {C_SERVICE, C_CHECK, C_RESULT, 0};

	if (cmd_opts_require(&chk_cmd, v, required))
		return 1;
	if (op_check_result_parse(v[C_RESULT], &c->result) != OP_OK) {
		fprintf(stderr,
		        "opspulse-agent: --result '%s' must be pass, fail or "
		        "exempt\n",
		        v[C_RESULT]);
		return 1;
	}
	if (c->result == OPSPULSE__V1__CHECK_RESULT__CHECK_RESULT_EXEMPT &&
	    (v[C_EVIDENCE] == NULL || *v[C_EVIDENCE] == '\0')) {
		fprintf(stderr, "opspulse-agent: --result exempt needs "
		                "--evidence with the reason the check does not "
		                "apply\n");
		return 1;
	}
	c->check = v[C_CHECK];
	c->evidence = v[C_EVIDENCE];
	c->at_us = op_time_now_us();
	return v[C_AT] ? cmd_opts_time(chk_opts, v, C_AT, &c->at_us) : 0;
}

static int
chk_record(const void *arg, const struct agent_conf *c, int argc, char **argv)
{
	char *v[C_COUNT] = {0};
	struct agent_event e;
	op_event *ev = &e.ev;
	int rv = cmd_opts_parse(&chk_cmd, argc, argv, v);

	(void)arg;
	if (rv != 0)
		return chk_usage(rv == CMD_OPTS_HELP ? stdout : stderr);
	agent_event_init(&e, c);
	if (chk_build(agent_event_check(&e), v))
		return 1;
	e.ev.service = v[C_SERVICE];
	if (v[C_ENV])
		e.ev.env = v[C_ENV];
	if (v[C_OPERATOR])
		e.ev.operator_ = v[C_OPERATOR];
	return agent_record(c, &ev, 1) == OP_OK ? 0 : 1;
}

int
agent_cmd_check(const struct agent_conf *c, int argc, char **argv)
{
	static const struct cmd_opts_family family = {"check", chk_usage_of,
	                                              chk_record, NULL};

	return cmd_opts_dispatch(&family, c, argc, argv);
}
