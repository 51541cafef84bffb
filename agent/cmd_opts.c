/*
 * The record commands' option parsing: see cmd_opts.h.
 */
#include <string.h>

#include "cmd_opts.h"
#include "op_time.h"

const char *
cmd_opts_name(const struct option *table, int opt)
{
	for (const struct option *o = table; o->name; o++) {
		if (o->val == opt)
			return o->name;
	}
	return "?";
}

static int
cmd_opts_accepts(const struct cmd_opts *o, int opt)
{
	if (o->accepted == NULL)
		return 1;
	for (const int *a = o->accepted; *a; a++) {
		if (*a == opt)
			return 1;
	}
	return 0;
}

int
cmd_opts_parse(const struct cmd_opts *o, int argc, char **argv, char **v)
{
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", o->table, NULL)) != -1) {
		if (opt == o->help)
			return CMD_OPTS_HELP;
		if (opt == '?')
			return 1; /* getopt_long said why */
		if (!cmd_opts_accepts(o, opt)) {
			fprintf(stderr,
			        "opspulse-agent: %s does not take --%s\n",
			        o->command, cmd_opts_name(o->table, opt));
			return 1;
		}
		v[opt] = optarg;
		if (o->apply != NULL && o->apply(o->arg, opt, optarg) != 0)
			return 1;
	}
	if (optind != argc) {
		fprintf(stderr, "opspulse-agent: unexpected argument '%s'\n",
		        argv[optind]);
		return 1;
	}
	return 0;
}

int
cmd_opts_require(const struct cmd_opts *o, char *const *v, const int *required)
{
	for (const int *r = required; *r; r++) {
		if (v[*r] == NULL || (*v[*r] == '\0' && !o->empty_given)) {
			fprintf(stderr, "opspulse-agent: %s needs --%s\n",
			        o->command, cmd_opts_name(o->table, *r));
			return 1;
		}
	}
	return 0;
}

int
cmd_opts_time(const struct option *table, char *const *v, int opt, int64_t *out)
{
	if (op_time_parse_arg(v[opt], op_time_now_us(), out) == OP_OK)
		return 0;
	fprintf(stderr,
	        "opspulse-agent: --%s '%s' is not a time; use RFC 3339 "
	        "(2026-10-05T09:30:00Z), a date, 'now' or an age like 90m\n",
	        cmd_opts_name(table, opt), v[opt]);
	return 1;
}

int
cmd_opts_dispatch(const struct cmd_opts_family *f, const struct agent_conf *c,
                  int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "record") == 0)
		return f->record(f->arg, c, argc - 1, argv + 1);
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0))
		return f->usage(f->arg, stdout);
	if (argc >= 2)
		fprintf(stderr, "opspulse-agent: unknown %s command '%s'\n",
		        f->name, argv[1]);
	return f->usage(f->arg, stderr);
}
