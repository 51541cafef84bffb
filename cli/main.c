/*
 * opspulse: queries indicators from the aggregator.  See `opspulse --help`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "op_error.h"
#include "op_log.h"
#include "op_main.h"
#include "op_time.h"
#include "op_transport.h"

/* Indicator commands: each is one query the aggregator knows (SPEC §5).
 * by lists the groupings --by takes; sub names a subcommand and its
 * handler. */
static const struct cli_command {
	char *name;
	const char *title;
	const char *summary;
	const char *by;
	const char *sub;
	int (*sub_fn)(const struct cli_conf *c, int argc, char **argv);
	int document; /* answers with one document: --format html|markdown */
} cli_commands[] = {
    {"dora", "Delivery (DORA)",
     "deploys, frequency, lead time, change failure, recovery, rework"},
    {"toil", "Toil",
     "toil hours, operators, bus factor, after hours, toil ratio", "task|team"},
    {"alerts", "Alerts", "fired, noise, MTTR, after hours, flapping rules",
     "rule"},
    {"eol", "End of life",
     "components against the EOL catalog; eol import PRODUCT FILE", NULL,
     "import", cli_eol_import},
    {"maintenance", "Maintenance", "maintenance items, overdue or not"},
    {"capacity", "Capacity", "CPU and memory p95, disk used, days to full"},
    {"batches", "Batches", "runs, failures, duration p50/p95 and change"},
    {"health", "Service health",
     "requests, error rate, latency p50/p95/p99, peak minute"},
    {"slo", "SLOs and error budgets",
     "achieved, budget remaining, burn rates, alert, deploys while "
     "exhausted",
     "month"},
    {"incidents", "Incidents",
     "incidents, time to detect/resolve, postmortems, budget consumed",
     "incident"},
    {"actions", "Action items",
     "postmortem action items: owner, due date, status, overdue"},
    {"scorecard", "Scorecard", "level 1-3 per service and area, why"},
    {"readiness", "Readiness",
     "production readiness check: status of every check, why, expiry",
     "service"},
    {"services", "Services", "known services, teams, time zones, events"},
    {"agents", "Agents",
     "version, last seen, events, dropped events, skipped log lines"},
    {"report", "Review report",
     "the weekly review page: headlines, trends, scorecard, actions", NULL,
     NULL, NULL, 1},
};

#define NCOMMANDS (sizeof(cli_commands) / sizeof(cli_commands[0]))

static void
cli_usage(FILE *fp)
{
	fprintf(fp, "usage: opspulse [-c FILE] COMMAND [OPTIONS]\n\n"
	            "Reads OpsPulse indicators from the aggregator.\n\n"
	            "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-12s %s\n", cli_commands[i].name,
		        cli_commands[i].summary);
	fprintf(
	    fp,
	    "\n"
	    "options of every command:\n"
	    "  --since T        start of the window (default: 28 days before "
	    "--until)\n"
	    "  --until T        end of the window, exclusive (default: now)\n"
	    "                   T is RFC 3339 (2026-10-05, "
	    "2026-10-05T09:30:00Z)\n"
	    "                   or an age before now: 7d, 12w, 36h\n"
	    "  --service S      only this service (repeatable)\n"
	    "  --team T         only the services of this team\n"
	    "  --env E          environment (default: production)\n"
	    "  --by G           grouping: toil --by task|team, alerts --by "
	    "rule,\n"
	    "                   slo --by month, incidents --by incident,\n"
	    "                   readiness --by service\n"
	    "  --format F       table, json, csv or markdown (default: table "
	    "on\n"
	    "                   a terminal, json otherwise); report: html or\n"
	    "                   markdown (default: markdown on a terminal,\n"
	    "                   html otherwise: opspulse report > "
	    "review.html)\n"
	    "  --server ADDR    aggregator (default: cli.server in the "
	    "config)\n"
	    "\n"
	    "  opspulse eol import PRODUCT FILE   replaces PRODUCT's cycles in "
	    "the\n"
	    "                   EOL catalog with an endoflife.date API v0 "
	    "JSON\n"
	    "                   array (FILE - reads standard input)\n"
	    "\n"
	    "global options:\n"
	    "  -c FILE          configuration (default "
	    "~/.config/opspulse/cli.conf)\n"
	    "  --version        print the version\n"
	    "\n"
	    "exit status: 0 ok, 1 bad usage or input, 2 cannot reach the\n"
	    "aggregator, 3 the aggregator reported an error.\n");
}

struct cli_args {
	Opspulse__V1__QueryRequest req;
	char *services[64];
	enum cli_format format;
	const char *server;
	int document;
};

static int
cli_time(const char *flag, const char *arg, int64_t now, int64_t *out)
{
	if (op_time_parse_arg(arg, now, out) == OP_OK)
		return 0;
	fprintf(stderr,
	        "opspulse: %s '%s' is not a time; use 2026-10-05, "
	        "2026-10-05T09:30:00Z or an age like 7d or 12w\n",
	        flag, arg);
	return CLI_USAGE;
}

static int
cli_service(struct cli_args *a, char *s)
{
	if (a->req.n_services == 64) {
		fprintf(stderr, "opspulse: at most 64 --service options\n");
		return CLI_USAGE;
	}
	a->services[a->req.n_services++] = s;
	return 0;
}

int
cli_format_option(const char *arg, enum cli_format *f)
{
	if (cli_format_parse(arg, f) == 0)
		return 0;
	fprintf(stderr, "opspulse: --format must be table, json, csv or "
	                "markdown\n");
	return CLI_USAGE;
}

static int
cli_option(int opt, struct cli_args *a, int64_t now)
{
	switch (opt) {
	case 's':
		return cli_time("--since", optarg, now, &a->req.since_us);
	case 'u':
		return cli_time("--until", optarg, now, &a->req.until_us);
	case 'S':
		return cli_service(a, optarg);
	case 't':
		a->req.team = optarg;
		return 0;
	case 'e':
		a->req.env = optarg;
		return 0;
	case 'b':
		a->req.by = optarg;
		return 0;
	case 'f':
		if (!a->document)
			return cli_format_option(optarg, &a->format);
		if (strcmp(optarg, "html") != 0 &&
		    strcmp(optarg, "markdown") != 0) {
			fprintf(stderr, "opspulse: report --format must be "
			                "html or markdown\n");
			return CLI_USAGE;
		}
		a->req.format = optarg;
		return 0;
	case 'A':
		a->server = optarg;
		return 0;
	default:
		return CLI_USAGE;
	}
}

/* --by must be one of the command's groupings. */
static int
cli_check_by(const struct cli_command *cmd, const char *by)
{
	const char *p = cmd->by;
	size_t n = strlen(by);

	while (p && *p) {
		if (strncmp(p, by, n) == 0 && (p[n] == '|' || p[n] == '\0'))
			return 0;
		p = strchr(p, '|');
		p = p ? p + 1 : NULL;
	}
	if (cmd->by)
		fprintf(stderr, "opspulse: %s --by takes %s, not '%s'\n",
		        cmd->name, cmd->by, by);
	else
		fprintf(stderr, "opspulse: %s takes no --by\n", cmd->name);
	return CLI_USAGE;
}

static int
cli_window(struct cli_args *a, int64_t now)
{
	if (a->req.until_us == 0)
		a->req.until_us = now;
	if (a->req.since_us == 0)
		a->req.since_us = a->req.until_us - 28 * OP_US_PER_DAY;
	if (a->req.since_us >= a->req.until_us) {
		fprintf(stderr, "opspulse: --since must be before --until\n");
		return CLI_USAGE;
	}
	return 0;
}

static int
cli_parse(const struct cli_command *cmd, int argc, char **argv,
          struct cli_args *a)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},
	    {"service", required_argument, NULL, 'S'},
	    {"team", required_argument, NULL, 't'},
	    {"env", required_argument, NULL, 'e'},
	    {"by", required_argument, NULL, 'b'},
	    {"format", required_argument, NULL, 'f'},
	    {"server", required_argument, NULL, 'A'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int64_t now = op_time_now_us();
	int opt, rv;

	a->format = isatty(STDOUT_FILENO) ? CLI_TABLE : CLI_JSON;
	a->document = cmd->document;
	if (a->document)
		a->req.format = isatty(STDOUT_FILENO) ? "markdown" : "html";
	a->req.services = a->services;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'h') {
			cli_usage(stdout);
			exit(CLI_OK);
		}
		if ((rv = cli_option(opt, a, now)) != 0)
			return rv;
	}
	if (optind != argc) {
		fprintf(stderr, "opspulse: unexpected argument '%s'\n",
		        argv[optind]);
		return CLI_USAGE;
	}
	if (*a->req.by && (rv = cli_check_by(cmd, a->req.by)) != 0)
		return rv;
	return cli_window(a, now);
}

int
cli_call(const struct cli_conf *c, const char *server, op_envelope *env,
         op_reply **out)
{
	struct op_strlist addrs = {NULL, 0};
	struct op_client *client = NULL;
	uint8_t *buf = NULL, *rep = NULL;
	size_t len, replen;
	int rv;

	env->protocol_version = OP_PROTOCOL_VERSION;
	if (op_strlist_add(&addrs, server) != OP_OK ||
	    op_pack(&env->base, &buf, &len) != OP_OK)
		return CLI_USAGE;
	rv = op_client_alloc(&client, &addrs, &c->tls, (int)c->timeout_ms);
	if (rv == OP_OK)
		rv = op_client_call(client, buf, len, &rep, &replen);
	if (rv == OP_OK &&
	    (*out = opspulse__v1__reply__unpack(NULL, replen, rep)) == NULL)
		rv = OP_EPROTO;
	op_client_free(client);
	op_strlist_free(&addrs);
	free(buf);
	free(rep);
	if (rv == OP_ECONFIG && cli_conf_missing())
		fprintf(stderr,
		        "opspulse: there is no configuration file %s (-c FILE "
		        "names another); copy "
		        "/usr/share/doc/opspulse-aggregator/examples/cli.conf "
		        "there and set cli.server and cli.tls to your "
		        "certificate\n",
		        cli_conf_missing());
	if (rv == OP_ECONFIG)
		return CLI_USAGE;
	if (rv == OP_EFORBIDDEN) {
		fprintf(stderr,
		        "opspulse: the aggregator at %s is reachable but the "
		        "TLS handshake failed; fix the certificates as said "
		        "above, not the address\n",
		        server);
		return CLI_UNREACHABLE;
	}
	if (rv == OP_ETIMEDOUT) {
		fprintf(
		    stderr,
		    "opspulse: no answer from the aggregator at %s within "
		    "%lld ms (cli.timeout_ms): it is down or unreachable, or "
		    "busy with a slow query; check its log, or allow more "
		    "time with cli.timeout_ms\n",
		    server, c->timeout_ms);
		return CLI_UNREACHABLE;
	}
	if (rv != OP_OK) {
		fprintf(
		    stderr,
		    "opspulse: cannot reach the aggregator at %s: %s; is it "
		    "running? Set the address with --server or cli.server\n",
		    server, op_strerror(rv));
		return CLI_UNREACHABLE;
	}
	return CLI_OK;
}

int
cli_answer(const op_reply *r, enum cli_format f, const char *title)
{
	Opspulse__V1__ErrorCode code = r->error ? r->error->code : 0;

	if (code == OPSPULSE__V1__ERROR_CODE__ERROR_CODE_INVALID) {
		fprintf(stderr, "opspulse: %s\n", r->error->message);
		return CLI_USAGE;
	}
	if (code != 0) {
		fprintf(stderr,
		        "opspulse: the aggregator could not answer: %s%s\n",
		        r->error->message,
		        code == OPSPULSE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE
		            ? " (try again shortly)"
		            : "; see the aggregator's log");
		return CLI_SERVER;
	}
	if (r->body_case != OPSPULSE__V1__REPLY__BODY_RESULT) {
		fprintf(stderr, "opspulse: the aggregator sent no result; is "
		                "it older than this CLI?\n");
		return CLI_SERVER;
	}
	cli_render(stdout, f, title, r->result);
	return CLI_OK;
}

/* A reply holding one document (the report): printed as it is. */
static int
cli_document(const op_reply *r)
{
	const Opspulse__V1__QueryResult *q = r->result;

	if (r->error || r->body_case != OPSPULSE__V1__REPLY__BODY_RESULT)
		return cli_answer(r, CLI_TABLE, "");
	if (q->n_rows != 1 || q->rows[0]->n_cells != 1) {
		fprintf(stderr, "opspulse: the aggregator sent no report; is "
		                "it older than this CLI?\n");
		return CLI_SERVER;
	}
	fputs(q->rows[0]->cells[0]->text, stdout);
	return fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
}

static int
cli_query(const struct cli_conf *c, const struct cli_command *cmd, int argc,
          char **argv)
{
	struct cli_args a;
	op_envelope env;
	op_reply *r = NULL;
	char title[256];
	int rv;

	memset(&a, 0, sizeof(a));
	opspulse__v1__query_request__init(&a.req);
	opspulse__v1__envelope__init(&env);
	a.req.name = cmd->name;
	if ((rv = cli_parse(cmd, argc, argv, &a)) != 0)
		return rv;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_QUERY;
	env.query = &a.req;
	if ((rv = cli_call(c, a.server ? a.server : c->server, &env, &r)))
		return rv;
	snprintf(title, sizeof(title), "%s%s%s: %s", cmd->title,
	         *a.req.by ? " by " : "", a.req.by,
	         *a.req.env ? a.req.env : "production");
	rv = a.document ? cli_document(r) : cli_answer(r, a.format, title);
	opspulse__v1__reply__free_unpacked(r, NULL);
	return rv;
}

static int
cli_dispatch(const struct cli_command *cmd, const char *file, int argc,
             char **argv)
{
	struct cli_conf c;
	int rv;

	if (cli_conf_load(&c, file) != OP_OK) {
		cli_conf_free(&c);
		return CLI_USAGE;
	}
	if (cmd->sub && argc > 1 && strcmp(argv[1], cmd->sub) == 0)
		rv = cmd->sub_fn(&c, argc - 1, argv + 1);
	else
		rv = cli_query(&c, cmd, argc, argv);
	cli_conf_free(&c);
	return rv;
}

int
main(int argc, char **argv)
{
	static const struct op_main_program prog = {"opspulse", cli_usage};
	const char *file = NULL;
	int status, i;

	op_log_init(prog.name, OP_LOG_WARN);
	/* The exit statuses agree: 0 is CLI_OK, 1 CLI_USAGE. */
	if ((i = op_main_options(&prog, argc, argv, &file, NULL, &status)) < 0)
		return status;
	if (i >= argc) {
		cli_usage(stderr);
		return CLI_USAGE;
	}
	for (size_t k = 0; k < NCOMMANDS; k++) {
		if (strcmp(argv[i], cli_commands[k].name) == 0)
			return cli_dispatch(&cli_commands[k], file, argc - i,
			                    argv + i);
	}
	fprintf(stderr, "opspulse: unknown command '%s'; see opspulse --help\n",
	        argv[i]);
	return CLI_USAGE;
}
