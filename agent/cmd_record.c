/*
 * opspulse-agent toil record | component record | maintenance record
 * (SPEC §2 item 2).  Each command accepts a subset of one option table;
 * values are collected as strings first, then turned into one event.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
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
};

#define REC_NOPTS (sizeof(rec_all_opts) / sizeof(rec_all_opts[0]))

/* One record command: its name, usage, accepted and required options. */
struct rec_cmd {
	const char *family;
	const char *usage;
	const enum rec_opt *accepted; /* 0-terminated */
	const enum rec_opt *required; /* 0-terminated */
	int (*build)(struct agent_event *e, char *const *v, char *idbuf,
	             size_t idsz);
};

static const char *
rec_opt_name(int opt)
{
	for (size_t i = 0; i < REC_NOPTS; i++) {
		if (rec_all_opts[i].val == opt)
			return rec_all_opts[i].name;
	}
	return "?";
}

static int
rec_accepts(const struct rec_cmd *cmd, int opt)
{
	for (const enum rec_opt *o = cmd->accepted; *o; o++) {
		if ((int)*o == opt)
			return 1;
	}
	return opt == O_HELP;
}

static int
rec_usage(const struct rec_cmd *cmd, FILE *fp)
{
	fprintf(fp, "usage: opspulse-agent %s record %s\n", cmd->family,
	        cmd->usage);
	fprintf(fp, "\nTimes are RFC 3339 (2026-10-05T09:30:00Z), a date, "
	            "'now', or an age\nsuch as 90m.  Returns once the event "
	            "is fsynced to the spool.\n");
	return fp == stdout ? 0 : 1;
}

/* Collects option values into v (indexed by enum rec_opt).  Returns 0,
 * 1 after printing an error, or 2 for --help. */
static int
rec_parse(const struct rec_cmd *cmd, int argc, char **argv, char **v)
{
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", rec_all_opts, NULL)) != -1) {
		if (opt == O_HELP)
			return 2;
		if (opt == '?' || !rec_accepts(cmd, opt)) {
			if (opt != '?')
				fprintf(stderr,
				        "opspulse-agent: %s record does not "
				        "take --%s\n",
				        cmd->family, rec_opt_name(opt));
			return 1;
		}
		v[opt] = optarg;
	}
	if (optind != argc) {
		fprintf(stderr, "opspulse-agent: unexpected argument '%s'\n",
		        argv[optind]);
		return 1;
	}
	for (const enum rec_opt *o = cmd->required; *o; o++) {
		if (v[*o] == NULL || *v[*o] == '\0') {
			fprintf(stderr,
			        "opspulse-agent: %s record needs --%s\n",
			        cmd->family, rec_opt_name(*o));
			return 1;
		}
	}
	return 0;
}

/* Parses a time option; a missing one is def.  Returns 0 or 1. */
static int
rec_time(char *const *v, int opt, int64_t def, int64_t *out)
{
	if (v[opt] == NULL) {
		*out = def;
		return 0;
	}
	if (op_time_parse_arg(v[opt], op_time_now_us(), out) == OP_OK)
		return 0;
	fprintf(stderr,
	        "opspulse-agent: --%s '%s' is not a time; use RFC 3339 "
	        "(2026-10-05T09:30:00Z), a date, 'now' or an age like 90m\n",
	        rec_opt_name(opt), v[opt]);
	return 1;
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
		        rec_opt_name(opt), v[opt], rec_opt_name(opt),
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

static const enum rec_opt toil_accepted[] = {O_SERVICE, O_ENV,      O_OPERATOR,
                                             O_TASK,    O_MINUTES,  O_SECONDS,
                                             O_AT,      O_INCIDENT, 0};
static const enum rec_opt toil_required[] = {O_SERVICE, O_TASK, 0};
static const enum rec_opt component_accepted[] = {
    O_SERVICE, O_ENV, O_NAME, O_VERSION, O_HOST, O_AT, 0};
static const enum rec_opt component_required[] = {O_SERVICE, O_NAME, O_VERSION,
                                                  0};
static const enum rec_opt maint_accepted[] = {O_SERVICE,   O_ENV,   O_OPERATOR,
                                              O_COMPONENT, O_TITLE, O_DUE,
                                              O_STATUS,    O_ID,    0};
static const enum rec_opt maint_required[] = {O_SERVICE, O_COMPONENT, O_TITLE,
                                              O_DUE,     O_STATUS,    0};

static const struct rec_cmd rec_cmds[] = {
    {"toil",
     "--service S --task T (--minutes N | --seconds N)\n"
     "           [--at START] [--operator U] [--env E] [--incident ID]\n"
     "\nLogs manual operational work.  --at is when it started "
     "(default: the\nduration before now).  --incident names the "
     "incident it responded to.",
     toil_accepted, toil_required, rec_build_toil},
    {"component",
     "--service S --name PRODUCT --version V [--host H]\n"
     "           [--at T] [--env E]\n"
     "\nDeclares a component the agent cannot probe (a managed database, "
     "say).\nPRODUCT is a name from the EOL catalog (postgresql, redis, "
     "...).",
     component_accepted, component_required, rec_build_component},
    {"maintenance",
     "--service S --component C --title T --due T\n"
     "           --status scheduled|done|cancelled [--id ID] [--env E]\n"
     "\nRecords a maintenance item.  Without --id, the id is derived from "
     "the\nservice, component and title, so recording the item again with "
     "a new\nstatus updates it.",
     maint_accepted, maint_required, rec_build_maintenance},
};

static int
rec_run(const struct rec_cmd *cmd, const struct agent_conf *c, int argc,
        char **argv)
{
	char *v[O_COUNT] = {0};
	struct agent_event e;
	op_event *ev = &e.ev;
	char idbuf[32];
	int rv;

	if ((rv = rec_parse(cmd, argc, argv, v)) != 0)
		return rv == 2 ? rec_usage(cmd, stdout)
		               : rec_usage(cmd, stderr);
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
rec_dispatch(const char *family, const struct agent_conf *c, int argc,
             char **argv)
{
	const struct rec_cmd *cmd = NULL;

	for (size_t i = 0; i < sizeof(rec_cmds) / sizeof(rec_cmds[0]); i++) {
		if (strcmp(rec_cmds[i].family, family) == 0)
			cmd = &rec_cmds[i];
	}
	if (argc >= 2 && strcmp(argv[1], "record") == 0)
		return rec_run(cmd, c, argc - 1, argv + 1);
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0))
		return rec_usage(cmd, stdout);
	if (argc >= 2)
		fprintf(stderr, "opspulse-agent: unknown %s command '%s'\n",
		        family, argv[1]);
	return rec_usage(cmd, stderr);
}

int
agent_cmd_toil(const struct agent_conf *c, int argc, char **argv)
{
	return rec_dispatch("toil", c, argc, argv);
}

int
agent_cmd_component(const struct agent_conf *c, int argc, char **argv)
{
	return rec_dispatch("component", c, argc, argv);
}

int
agent_cmd_maintenance(const struct agent_conf *c, int argc, char **argv)
{
	return rec_dispatch("maintenance", c, argc, argv);
}
