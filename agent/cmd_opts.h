/*
 * The record commands' command lines (cmd_record.c, cmd_deploy.c,
 * cmd_incident.c, cmd_check.c, cmd_requests.c): one getopt_long loop
 * from a command's option table to an array of values, the options it
 * accepts and requires, its "FAMILY record | --help" dispatch, and the
 * messages an operator sees when the command line is wrong.
 */
#ifndef CMD_OPTS_H
#define CMD_OPTS_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "agent.h"
#include "op_error.h"

/* What cmd_opts_parse returns for --help. */
#define CMD_OPTS_HELP 2

/*
 * One command's options.  table is getopt_long's, ended by a zero row;
 * each row's val is a small positive number that indexes the caller's
 * value array (char *v[largest val + 1], all NULL at first).  Strings
 * are borrowed and must outlive the parse.
 */
struct cmd_opts {
	const char *command; /* "toil record": named in messages */
	const struct option *table;
	const int *accepted; /* 0-terminated; NULL: every row of table */
	int help;            /* the val of --help */
	/* Nonzero: an empty value satisfies a required option, and the
	 * event's validation names it instead. */
	int empty_given;
	/* Called for each option in command-line order, after its value is
	 * stored; NULL: none.  Returns 0, or 1 after printing what is wrong,
	 * which ends the parse. */
	int (*apply)(void *arg, int opt, char *value);
	void *arg;
};

/*
 * Reads the options of argv (argv[0] is the command's last word, which
 * getopt_long's own messages name) into v[val]; a repeated option keeps
 * its last value.  Returns 0; CMD_OPTS_HELP at --help (options after it
 * are not read); or 1 after printing the reason on stderr: an unknown
 * option or a missing value (getopt_long's message), an option the
 * command does not take, a value apply refused, or an argument that is
 * no option.
 */
OP_MUSTCHECK int cmd_opts_parse(const struct cmd_opts *o, int argc, char **argv,
                                char **v);

/*
 * Checks that every option of required (0-terminated) has a value, in
 * that order.  Returns 0, or 1 after printing "COMMAND needs --NAME" for
 * the first one missing or empty (see empty_given).
 */
OP_MUSTCHECK int cmd_opts_require(const struct cmd_opts *o, char *const *v,
                                  const int *required);

/* The long name of option opt in table, or "?".  This can't fail. */
const char *cmd_opts_name(const struct option *table, int opt);

/*
 * Parses v[opt] (not NULL) as a time the way op_time_parse_arg does, now
 * being the current time.  Returns 0, or 1 after printing which option
 * is not a time and the forms a time takes.
 */
OP_MUSTCHECK int cmd_opts_time(const struct option *table, char *const *v,
                               int opt, int64_t *out);

/* A family of record commands: opspulse-agent FAMILY record ... */
struct cmd_opts_family {
	const char *name; /* "toil" */
	/* Prints the usage on fp; returns 0 for stdout, else 1. */
	int (*usage)(const void *arg, FILE *fp);
	/* Runs "record" (argv[0]); returns the exit status. */
	int (*record)(const void *arg, const struct agent_conf *c, int argc,
	              char **argv);
	const void *arg;
};

/*
 * The family's command line (argv[0] is the family's name): "record"
 * runs f->record on the rest, "--help" and "help" print the usage on
 * stdout, anything else the usage on stderr after naming the unknown
 * command.  Returns the exit status.
 */
int cmd_opts_dispatch(const struct cmd_opts_family *f,
                      const struct agent_conf *c, int argc, char **argv);

#endif
