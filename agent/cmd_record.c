/*
 * opspulse-agent toil record | component record | maintenance record
 * (SPEC §2 item 2).  Each command accepts a subset of one option table;
 * values are collected as strings first, then turned into one event.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent.h"
#include "cmd_opts.h"
#include "op_error.h"
#include "op_time.h"

enum rec_opt {
	O_SERVICE = 1,
	O_ENV,
	O_OPERATOR,
	O_TASK,
	O_MINUTES,
	O_SECONDS,
	O_AT,
	O_NAME,
	O_VERSION,
	O_HOST,
	O_COMPONENT,
	O_TITLE,
	O_DUE,
	O_STATUS,
	O_ID,
	O_INCIDENT,
	O_HELP,
	O_COUNT
};

static const struct option rec_all_opts[] = {
    {"service", required_argument, NULL, O_SERVICE},
    {"env", required_argument, NULL, O_ENV},
    {"operator", required_argument, NULL, O_OPERATOR},
    {"task", required_argument, NULL, O_TASK},
    {"minutes", required_argument, NULL, O_MINUTES},
    {"seconds", required_argument, NULL, O_SECONDS},
    {"at", required_argument, NULL, O_AT},
    {"name", required_argument, NULL, O_NAME},
    {"version", required_argument, NULL, O_VERSION},
    {"host", required_argument, NULL, O_HOST},
    {"component", required_argument, NULL, O_COMPONENT},
    {"title", required_argument, NULL, O_TITLE},
    {"due", required_argument, NULL, O_DUE},
    {"status", required_argument, NULL, O_STATUS},
    {"id", required_argument, NULL, O_ID},
    {"incident", required_argument, NULL, O_INCIDENT},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

/* One record command: its name, usage, accepted and required options. */
struct rec_cmd {
	const char *family;
	const char *usage;
	const int *accepted; /* 0-terminated */
	const int *required; /* 0-terminated */
	int (*build)(struct agent_event *e, char *const *v, char *idbuf,
	             size_t idsz);
};

static int
rec_usage(const void *arg, FILE *fp)
{
	const struct rec_cmd *cmd = arg;

	fprintf(fp, "usage: opspulse-agent %s record %s\n", cmd->family,
	        cmd->usage);
	fprintf(fp, "\nTimes are RFC 3339 (2026-10-05T09:30:00Z), a date, "
	            "'now', or an age\nsuch as 90m.  Returns once the event "
	            "is fsynced to the spool.\n");
	return fp == stdout ? 0 : 1;
}

/* Collects option values into v (indexed by enum rec_opt) and checks the
 * required ones.  Returns 0, 1 after printing an error, or CMD_OPTS_HELP. */
static int
rec_parse(const struct rec_cmd *cmd, int argc, char **argv, char **v)
{
	char command[32];
	const struct cmd_opts o = {.command = command,
	                           .table = rec_all_opts,
	                           .accepted = cmd->accepted,
	                           .help = O_HELP};
	int rv;

	snprintf(command, sizeof(command), "%s record", cmd->family);
	if ((rv = cmd_opts_parse(&o, argc, argv, v)) != 0)
		return rv;
	return cmd_opts_require(&o, v, cmd->required);
}

/* Parses a time option; a missing one is def.  Returns 0 or 1. */
static int
rec_time(char *const *v, int opt, int64_t def, int64_t *out)
{
	if (v[opt] == NULL) {
		*out = def;
		return 0;
	}
	return cmd_opts_time(rec_all_opts, v, opt, out);
}

/* Duration from --minutes or --seconds (exactly one); returns 0 or 1. */

/* x rounded to the nearest integer, halves away from zero, for 0 <= x <
 * 2^53.  Not llround: the daemon would load libm for this one call and
 * carry its pages resident (about 0.3 MiB). */
static int64_t
rec_round(double x)
{
	int64_t r = (int64_t)x;

	return x - (double)r >= 0.5 ? r + 1 : r;
}
static int
rec_duration(char *const *v, int64_t *secs)
{
	int opt = v[O_MINUTES] ? O_MINUTES : O_SECONDS;
	double n, unit = opt == O_MINUTES ? 60.0 : 1.0;
	char *end;

	if ((v[O_MINUTES] == NULL) == (v[O_SECONDS] == NULL)) {
		fprintf(stderr, "opspulse-agent: toil record needs either "
		                "--minutes or --seconds\n");
		return 1;
	}
	n = strtod(v[opt], &end);
	if (end == v[opt] || *end != '\0' || !isfinite(n) || n < 0 ||
	    n * unit > (double)OP_MAX_DURATION_S) {
		fprintf(stderr,
		        "opspulse-agent: --%s '%s' must be a number of %s "
		        "from 0 to %lld (%lld days)\n",
		        cmd_opts_name(rec_all_opts, opt), v[opt],
		        cmd_opts_name(rec_all_opts, opt),
		        (long long)(OP_MAX_DURATION_S / (int64_t)unit),
		        (long long)(OP_MAX_DURATION_S / 86400));
		return 1;
	}
	*secs = rec_round(n * unit);
	return 0;
}

static int
rec_build_toil(struct agent_event *e, char *const *v, char *idbuf, size_t idsz)
{
	Opspulse__V1__Toil *t = agent_event_toil(e);

	(void)idbuf;
	(void)idsz;
	t->task = v[O_TASK];
	t->source = OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_MANUAL;
	t->incident = v[O_INCIDENT];
	if (rec_duration(v, &t->duration_s))
		return 1;
	/* Logged afterwards: by default the work ended just now. */
	return rec_time(v, O_AT,
	                op_time_now_us() - t->duration_s * OP_US_PER_SEC,
	                &t->started_us);
}

static int
rec_build_component(struct agent_event *e, char *const *v, char *idbuf,
                    size_t idsz)
{
	Opspulse__V1__Component *c = agent_event_component(e);

	(void)idbuf;
	(void)idsz;
	c->name = v[O_NAME];
	c->version = v[O_VERSION];
	if (v[O_HOST])
		e->ev.host = v[O_HOST];
	return rec_time(v, O_AT, op_time_now_us(), &c->observed_us);
}

static int
rec_build_maintenance(struct agent_event *e, char *const *v, char *idbuf,
                      size_t idsz)
{
	Opspulse__V1__Maintenance *m = agent_event_maintenance(e);

	m->component = v[O_COMPONENT];
	m->title = v[O_TITLE];
	if (rec_time(v, O_DUE, 0, &m->due_us))
		return 1;
	if (op_maintenance_status_parse(v[O_STATUS], &m->status) != OP_OK) {
		fprintf(stderr, "opspulse-agent: --status must be scheduled, "
		                "done or cancelled\n");
		return 1;
	}
	m->id =
	    v[O_ID] ? v[O_ID] : agent_maintenance_auto_id(&e->ev, idbuf, idsz);
	return 0;
}

static const int toil_accepted[] = {O_SERVICE, O_ENV,      O_OPERATOR,
                                    O_TASK,    O_MINUTES,  O_SECONDS,
                                    O_AT,      O_INCIDENT, 0};
static const int toil_required[] = {O_SERVICE, O_TASK, 0};
static const int component_accepted[] = {O_SERVICE, O_ENV, O_NAME, O_VERSION,
                                         O_HOST,    O_AT,  0};
static const int component_required[] = {O_SERVICE, O_NAME, O_VERSION, 0};
static const int maint_accepted[] = {O_SERVICE,   O_ENV,   O_OPERATOR,
                                     O_COMPONENT, O_TITLE, O_DUE,
                                     O_STATUS,    O_ID,    0};
static const int maint_required[] = {O_SERVICE, O_COMPONENT, O_TITLE,
                                     O_DUE,     O_STATUS,    0};

enum { REC_TOIL, REC_COMPONENT, REC_MAINTENANCE };

static const struct rec_cmd rec_cmds[] = {
    [REC_TOIL] =
        {"toil",
         "--service S --task T (--minutes N | --seconds N)\n"
         "           [--at START] [--operator U] [--env E] [--incident ID]\n"
         "\nLogs manual operational work.  --at is when it started "
         "(default: the\nduration before now).  --incident names the "
         "incident it responded to.",
         toil_accepted, toil_required, rec_build_toil},
    [REC_COMPONENT] =
        {"component",
         "--service S --name PRODUCT --version V [--host H]\n"
         "           [--at T] [--env E]\n"
         "\nDeclares a component the agent cannot probe (a managed database, "
         "say).\nPRODUCT is a name from the EOL catalog (postgresql, redis, "
         "...).",
         component_accepted, component_required, rec_build_component},
    [REC_MAINTENANCE] =
        {"maintenance",
         "--service S --component C --title T --due T\n"
         "           --status scheduled|done|cancelled [--id ID] [--env E]\n"
         "\nRecords a maintenance item.  Without --id, the id is derived from "
         "the\nservice, component and title, so recording the item again with "
         "a new\nstatus updates it.",
         maint_accepted, maint_required, rec_build_maintenance},
};

static int
rec_run(const void *arg, const struct agent_conf *c, int argc, char **argv)
{
	const struct rec_cmd *cmd = arg;
	char *v[O_COUNT] = {0};
	struct agent_event e;
	op_event *ev = &e.ev;
	char idbuf[32];
	int rv;

	if ((rv = rec_parse(cmd, argc, argv, v)) != 0)
		return rec_usage(cmd, rv == CMD_OPTS_HELP ? stdout : stderr);
	agent_event_init(&e, c);
	e.ev.service = v[O_SERVICE];
	if (v[O_ENV])
		e.ev.env = v[O_ENV];
	if (v[O_OPERATOR])
		e.ev.operator_ = v[O_OPERATOR];
	if (cmd->build(&e, v, idbuf, sizeof(idbuf)))
		return 1;
	return agent_record(c, &ev, 1) == OP_OK ? 0 : 1;
}

static int
rec_dispatch(size_t i, const struct agent_conf *c, int argc, char **argv)
{
	const struct cmd_opts_family family = {rec_cmds[i].family, rec_usage,
	                                       rec_run, &rec_cmds[i]};

	return cmd_opts_dispatch(&family, c, argc, argv);
}

int
agent_cmd_toil(const struct agent_conf *c, int argc, char **argv)
{
	return rec_dispatch(REC_TOIL, c, argc, argv);
}

int
agent_cmd_component(const struct agent_conf *c, int argc, char **argv)
{
	return rec_dispatch(REC_COMPONENT, c, argc, argv);
}

int
agent_cmd_maintenance(const struct agent_conf *c, int argc, char **argv)
{
	return rec_dispatch(REC_MAINTENANCE, c, argc, argv);
}
