/*
 * opspulse-agent incident record | action record (SPEC §13.1).
 *
 * An incident record carries only the fields its options name, with their
 * bits in Incident.fields: the aggregator merges an incident's records
 * field by field in recording order, so a later record that names only
 * --resolved keeps the title, severity and times of the earlier ones.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent.h"
#include "cmd_opts.h"
#include "op_error.h"
#include "op_time.h"

enum inc_opt {
	I_SERVICE = 1,
	I_ENV,
	I_OPERATOR,
	I_ID,
	I_SEVERITY,
	I_TITLE,
	I_STARTED,
	I_DETECTED,
	I_ACKNOWLEDGED,
	I_MITIGATED,
	I_RESOLVED,
	I_DEPLOY,
	I_COMMANDER,
	I_POSTMORTEM,
	I_POSTMORTEM_AT,
	I_INCIDENT,
	I_OWNER,
	I_DUE,
	I_STATUS,
	I_DONE_AT,
	I_HELP,
	I_COUNT
};

static const struct option inc_opts[] = {
    {"service", required_argument, NULL, I_SERVICE},
    {"env", required_argument, NULL, I_ENV},
    {"operator", required_argument, NULL, I_OPERATOR},
    {"id", required_argument, NULL, I_ID},
    {"severity", required_argument, NULL, I_SEVERITY},
    {"title", required_argument, NULL, I_TITLE},
    {"started", required_argument, NULL, I_STARTED},
    {"detected", required_argument, NULL, I_DETECTED},
    {"acknowledged", required_argument, NULL, I_ACKNOWLEDGED},
    {"mitigated", required_argument, NULL, I_MITIGATED},
    {"resolved", required_argument, NULL, I_RESOLVED},
    {"deploy", required_argument, NULL, I_DEPLOY},
    {"commander", required_argument, NULL, I_COMMANDER},
    {"postmortem", required_argument, NULL, I_POSTMORTEM},
    {"postmortem-at", required_argument, NULL, I_POSTMORTEM_AT},
    {"incident", required_argument, NULL, I_INCIDENT},
    {"owner", required_argument, NULL, I_OWNER},
    {"due", required_argument, NULL, I_DUE},
    {"status", required_argument, NULL, I_STATUS},
    {"done-at", required_argument, NULL, I_DONE_AT},
    {"help", no_argument, NULL, I_HELP},
    {NULL, 0, NULL, 0},
};

static const char inc_usage_text[] =
    "usage: opspulse-agent incident record --service S --id ID\n"
    "           [--severity 1-4] [--title T] [--started T] [--detected T]\n"
    "           [--acknowledged T] [--mitigated T] [--resolved T]\n"
    "           [--deploy DEPLOY_ID] [--commander U] [--postmortem URL]\n"
    "           [--postmortem-at T] [--env E] [--operator U]\n"
    "\n"
    "Records an incident, or updates one: each record sets only the "
    "fields\nit names, later records win.  Without --started, the "
    "incident starts\nwhen it is first recorded; severity defaults to 3 "
    "(1 is the worst).\n--deploy marks that production deploy of the "
    "service failed at the\nincident's start, as 'deploy mark-failed' "
    "does.\n";

static const char act_usage_text[] =
    "usage: opspulse-agent action record --service S --id ID --incident ID\n"
    "           --title T --owner U --due T --status open|done|cancelled\n"
    "           [--done-at T] [--env E]\n"
    "\n"
    "Records a postmortem action item; the latest record of (service, id)\n"
    "wins.\n";

static const char inc_times_text[] =
    "\nTimes are RFC 3339 (2026-10-05T09:30:00Z), a date, 'now', or an age\n"
    "such as 90m.  Returns once the event is fsynced to the spool.\n";

/* The options that set an incident's fields, with their bits. */
static const struct inc_field {
	int opt;
	uint32_t bit;
	size_t offset;
	int is_time;
} inc_fields[] = {
    {I_TITLE, OP_INCIDENT_BIT(TITLE), offsetof(Opspulse__V1__Incident, title),
     0},
    {I_STARTED, OP_INCIDENT_BIT(STARTED),
     offsetof(Opspulse__V1__Incident, started_us), 1},
    {I_DETECTED, OP_INCIDENT_BIT(DETECTED),
     offsetof(Opspulse__V1__Incident, detected_us), 1},
    {I_ACKNOWLEDGED, OP_INCIDENT_BIT(ACKNOWLEDGED),
     offsetof(Opspulse__V1__Incident, acknowledged_us), 1},
    {I_MITIGATED, OP_INCIDENT_BIT(MITIGATED),
     offsetof(Opspulse__V1__Incident, mitigated_us), 1},
    {I_RESOLVED, OP_INCIDENT_BIT(RESOLVED),
     offsetof(Opspulse__V1__Incident, resolved_us), 1},
    {I_DEPLOY, OP_INCIDENT_BIT(DEPLOY),
     offsetof(Opspulse__V1__Incident, deploy), 0},
    {I_COMMANDER, OP_INCIDENT_BIT(COMMANDER),
     offsetof(Opspulse__V1__Incident, commander), 0},
    {I_POSTMORTEM, OP_INCIDENT_BIT(POSTMORTEM),
     offsetof(Opspulse__V1__Incident, postmortem), 0},
    {I_POSTMORTEM_AT, OP_INCIDENT_BIT(POSTMORTEM_AT),
     offsetof(Opspulse__V1__Incident, postmortem_us), 1},
};

static int
inc_severity(const char *s, uint32_t *out)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (end == s || *end != '\0' || n < 1 || n > 4) {
		fprintf(stderr,
		        "opspulse-agent: --severity '%s' must be 1, 2, 3 or 4 "
		        "(1 is the worst)\n",
		        s);
		return 1;
	}
	*out = (uint32_t)n;
	return 0;
}

/* Fills in the incident fields v names.  Returns 0 or 1. */
static int
inc_build(Opspulse__V1__Incident *in, char *const *v)
{
	char *base = (char *)in;

	in->id = v[I_ID];
	if (v[I_SEVERITY]) {
		if (inc_severity(v[I_SEVERITY], &in->severity))
			return 1;
		in->fields |= OP_INCIDENT_BIT(SEVERITY);
	}
	for (size_t i = 0; i < sizeof(inc_fields) / sizeof(*inc_fields); i++) {
		const struct inc_field *f = &inc_fields[i];

		if (v[f->opt] == NULL)
			continue;
		if (f->is_time &&
		    cmd_opts_time(inc_opts, v, f->opt,
		                  (int64_t *)(void *)(base + f->offset)))
			return 1;
		if (!f->is_time)
			*(char **)(void *)(base + f->offset) = v[f->opt];
		in->fields |= f->bit;
	}
	return 0;
}

/* Records one event from e, after the common options of v.  Returns the
 * exit status. */
static int
inc_record(const struct agent_conf *c, struct agent_event *e, char *const *v)
{
	op_event *ev = &e->ev;

	e->ev.service = v[I_SERVICE];
	if (v[I_ENV])
		e->ev.env = v[I_ENV];
	if (v[I_OPERATOR])
		e->ev.operator_ = v[I_OPERATOR];
	return agent_record(c, &ev, 1) == OP_OK ? 0 : 1;
}

static const int inc_accepted[] = {
    I_SERVICE,      I_ENV,        I_OPERATOR,      I_ID,
    I_SEVERITY,     I_TITLE,      I_STARTED,       I_DETECTED,
    I_ACKNOWLEDGED, I_MITIGATED,  I_RESOLVED,      I_DEPLOY,
    I_COMMANDER,    I_POSTMORTEM, I_POSTMORTEM_AT, 0};
static const int inc_required[] = {I_SERVICE, I_ID, 0};

static const int act_accepted[] = {I_SERVICE,  I_ENV,     I_OPERATOR, I_ID,
                                   I_INCIDENT, I_TITLE,   I_OWNER,    I_DUE,
                                   I_STATUS,   I_DONE_AT, 0};
static const int act_required[] = {I_SERVICE, I_ID,  I_INCIDENT, I_TITLE,
                                   I_OWNER,   I_DUE, I_STATUS,   0};

static int
inc_build_action(Opspulse__V1__ActionItem *a, char *const *v)
{
	a->id = v[I_ID];
	a->incident = v[I_INCIDENT];
	a->title = v[I_TITLE];
	a->owner = v[I_OWNER];
	if (cmd_opts_time(inc_opts, v, I_DUE, &a->due_us))
		return 1;
	if (v[I_DONE_AT] && cmd_opts_time(inc_opts, v, I_DONE_AT, &a->done_us))
		return 1;
	if (op_action_status_parse(v[I_STATUS], &a->status) != OP_OK) {
		fprintf(stderr,
		        "opspulse-agent: --status '%s' must be open, "
		        "done or cancelled\n",
		        v[I_STATUS]);
		return 1;
	}
	return 0;
}

static int
inc_build_incident_event(struct agent_event *e, char *const *v)
{
	return inc_build(agent_event_incident(e), v);
}

static int
inc_build_action_event(struct agent_event *e, char *const *v)
{
	return inc_build_action(agent_event_action_item(e), v);
}

/* One of the two record commands of this file. */
struct inc_cmd {
	struct cmd_opts opts;
	const int *required; /* 0-terminated */
	const char *usage;
	int (*build)(struct agent_event *e, char *const *v);
};

/* Prints the usage of a struct inc_cmd and the times text on fp; returns
 * 0 for stdout, else 1. */
static int
inc_usage(const void *cmd, FILE *fp)
{
	fputs(((const struct inc_cmd *)cmd)->usage, fp);
	fputs(inc_times_text, fp);
	return fp == stdout ? 0 : 1;
}

static const struct inc_cmd inc_cmds[] = {
    {{.command = "incident record",
      .table = inc_opts,
      .accepted = inc_accepted,
      .help = I_HELP},
     inc_required,
     inc_usage_text,
     inc_build_incident_event},
    {{.command = "action record",
      .table = inc_opts,
      .accepted = act_accepted,
      .help = I_HELP},
     act_required,
     act_usage_text,
     inc_build_action_event},
};

static int
inc_run(const void *arg, const struct agent_conf *c, int argc, char **argv)
{
	const struct inc_cmd *cmd = arg;
	char *v[I_COUNT] = {0};
	struct agent_event e;
	int rv = cmd_opts_parse(&cmd->opts, argc, argv, v);

	if (rv != 0)
		return inc_usage(cmd, rv == CMD_OPTS_HELP ? stdout : stderr);
	if (cmd_opts_require(&cmd->opts, v, cmd->required))
		return 1;
	agent_event_init(&e, c);
	if (cmd->build(&e, v))
		return 1;
	return inc_record(c, &e, v);
}

int
agent_cmd_incident(const struct agent_conf *c, int argc, char **argv)
{
	const struct cmd_opts_family family = {"incident", inc_usage, inc_run,
	                                       &inc_cmds[0]};

	return cmd_opts_dispatch(&family, c, argc, argv);
}

int
agent_cmd_action(const struct agent_conf *c, int argc, char **argv)
{
	const struct cmd_opts_family family = {"action", inc_usage, inc_run,
	                                       &inc_cmds[1]};

	return cmd_opts_dispatch(&family, c, argc, argv);
}
