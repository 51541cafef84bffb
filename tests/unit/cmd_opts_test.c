/*
 * Unit tests for agent/cmd_opts: the record commands' option parsing and
 * the messages a wrong command line gets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd_opts.h"
#include "op_time.h"

enum { T_NAME = 1, T_SIZE, T_AT, T_FLAG, T_HELP, T_COUNT };

static const struct option t_table[] = {
    {"name", required_argument, NULL, T_NAME},
    {"size", required_argument, NULL, T_SIZE},
    {"at", required_argument, NULL, T_AT},
    {"flag", no_argument, NULL, T_FLAG},
    {"help", no_argument, NULL, T_HELP},
    {NULL, 0, NULL, 0},
};

/* What a test's stderr said, and the file standing in for it. */
static char t_err[4096];
static FILE *t_tmp;
static int t_saved = -1;

static void
t_capture(void)
{
	fflush(stderr);
	t_tmp = tmpfile();
	assert_non_null(t_tmp);
	t_saved = dup(2);
	assert_true(t_saved >= 0);
	assert_true(dup2(fileno(t_tmp), 2) == 2);
}

static const char *
t_release(void)
{
	size_t n;

	fflush(stderr);
	assert_true(dup2(t_saved, 2) == 2);
	close(t_saved);
	rewind(t_tmp);
	n = fread(t_err, 1, sizeof(t_err) - 1, t_tmp);
	t_err[n] = '\0';
	fclose(t_tmp);
	return t_err;
}

/* Runs cmd_opts_parse on a NULL-terminated argument list; returns its
 * result and leaves stderr's text in t_err. */
static int
t_parse(const struct cmd_opts *o, char **v, char **argv)
{
	int argc = 0, rv;

	while (argv[argc])
		argc++;
	t_capture();
	rv = cmd_opts_parse(o, argc, argv, v);
	t_release();
	return rv;
}

static void
test_values_and_last_wins(void **state)
{
	char a0[] = "record", a1[] = "--name", a2[] = "x", a3[] = "--size=3",
	     a4[] = "--name", a5[] = "y", a6[] = "--flag";
	char *argv[] = {a0, a1, a2, a3, a4, a5, a6, NULL};
	const struct cmd_opts o = {"t record", t_table, NULL, T_HELP,
	                           0,          NULL,    NULL};
	char *v[T_COUNT] = {0};

	(void)state;
	assert_int_equal(t_parse(&o, v, argv), 0);
	assert_string_equal(t_err, "");
	assert_ptr_equal(v[T_NAME], a5);
	assert_string_equal(v[T_SIZE], "3");
	assert_null(v[T_AT]);
}

static void
test_help_stops_reading(void **state)
{
	char a0[] = "record", a1[] = "--help", a2[] = "--name", a3[] = "x";
	char *argv[] = {a0, a1, a2, a3, NULL};
	const struct cmd_opts o = {"t record", t_table, NULL, T_HELP,
	                           0,          NULL,    NULL};
	char *v[T_COUNT] = {0};

	(void)state;
	assert_int_equal(t_parse(&o, v, argv), CMD_OPTS_HELP);
	assert_null(v[T_NAME]);
	assert_string_equal(t_err, "");
}

static void
test_not_accepted(void **state)
{
	static const int accepted[] = {T_NAME, 0};
	char a0[] = "record", a1[] = "--name", a2[] = "x", a3[] = "--size",
	     a4[] = "2";
	char *argv[] = {a0, a1, a2, a3, a4, NULL};
	const struct cmd_opts o = {"t record", t_table, accepted, T_HELP,
	                           0,          NULL,    NULL};
	char *v[T_COUNT] = {0};

	(void)state;
	assert_int_equal(t_parse(&o, v, argv), 1);
	assert_string_equal(t_err,
	                    "opspulse-agent: t record does not take --size\n");
}

static void
test_unknown_option(void **state)
{
	char a0[] = "record", a1[] = "--nope";
	char *argv[] = {a0, a1, NULL};
	const struct cmd_opts o = {"t record", t_table, NULL, T_HELP,
	                           0,          NULL,    NULL};
	char *v[T_COUNT] = {0};

	(void)state;
	assert_int_equal(t_parse(&o, v, argv), 1);
	/* getopt_long's own message, naming argv[0] */
	assert_string_equal(t_err, "record: unrecognized option '--nope'\n");
}

static void
test_unexpected_argument(void **state)
{
	char a0[] = "record", a1[] = "stray", a2[] = "--name", a3[] = "x";
	char *argv[] = {a0, a1, a2, a3, NULL};
	const struct cmd_opts o = {"t record", t_table, NULL, T_HELP,
	                           0,          NULL,    NULL};
	char *v[T_COUNT] = {0};

	(void)state;
	assert_int_equal(t_parse(&o, v, argv), 1);
	assert_string_equal(t_err,
	                    "opspulse-agent: unexpected argument 'stray'\n");
	assert_string_equal(v[T_NAME], "x");
}

/* apply sees the options in command-line order; its refusal ends the
 * parse before a later bad option is read. */
static char t_order[16];

static int
t_apply(void *arg, int opt, char *value)
{
	size_t n = strlen(t_order);

	(void)arg;
	t_order[n] = (char)('0' + opt);
	t_order[n + 1] = '\0';
	if (opt == T_SIZE && strcmp(value, "bad") == 0) {
		fprintf(stderr, "opspulse-agent: --size 'bad' is wrong\n");
		return 1;
	}
	return 0;
}

static void
test_apply_in_order(void **state)
{
	char a0[] = "record", a1[] = "--at", a2[] = "1", a3[] = "--name",
	     a4[] = "x", a5[] = "--size", a6[] = "bad", a7[] = "--nope";
	char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, NULL};
	const struct cmd_opts o = {"t record", t_table, NULL, T_HELP,
	                           0,          t_apply, NULL};
	char *v[T_COUNT] = {0};
	char want[8];

	(void)state;
	t_order[0] = '\0';
	assert_int_equal(t_parse(&o, v, argv), 1);
	snprintf(want, sizeof(want), "%d%d%d", T_AT, T_NAME, T_SIZE);
	assert_string_equal(t_order, want);
	assert_string_equal(t_err, "opspulse-agent: --size 'bad' is wrong\n");
}

static void
test_require(void **state)
{
	static const int required[] = {T_NAME, T_SIZE, 0};
	struct cmd_opts o = {"t record", t_table, NULL, T_HELP, 0, NULL, NULL};
	char name[] = "n", empty[] = "";
	char *v[T_COUNT] = {0};
	int rv;

	(void)state;
	t_capture();
	rv = cmd_opts_require(&o, v, required);
	t_release();
	assert_int_equal(rv, 1);
	assert_string_equal(t_err, "opspulse-agent: t record needs --name\n");

	v[T_NAME] = name;
	v[T_SIZE] = empty;
	t_capture();
	rv = cmd_opts_require(&o, v, required);
	t_release();
	assert_int_equal(rv, 1);
	assert_string_equal(t_err, "opspulse-agent: t record needs --size\n");

	/* empty_given: the event's validation names an empty value */
	o.empty_given = 1;
	t_capture();
	rv = cmd_opts_require(&o, v, required);
	t_release();
	assert_int_equal(rv, 0);
	assert_string_equal(t_err, "");
}

static void
test_time(void **state)
{
	char good[] = "2026-10-05T09:30:00Z", bad[] = "soon";
	char *v[T_COUNT] = {0};
	int64_t got = 0, want = 0;
	int rv;

	(void)state;
	v[T_AT] = good;
	assert_int_equal(op_time_parse_arg(good, op_time_now_us(), &want),
	                 OP_OK);
	assert_int_equal(cmd_opts_time(t_table, v, T_AT, &got), 0);
	assert_true(got == want);
	v[T_AT] = bad;
	t_capture();
	rv = cmd_opts_time(t_table, v, T_AT, &got);
	t_release();
	assert_int_equal(rv, 1);
	assert_string_equal(
	    t_err, "opspulse-agent: --at 'soon' is not a time; use RFC "
	           "3339 (2026-10-05T09:30:00Z), a date, 'now' or an "
	           "age like 90m\n");
	assert_string_equal(cmd_opts_name(t_table, T_FLAG), "flag");
	assert_string_equal(cmd_opts_name(t_table, 99), "?");
}

/* The family dispatch: what each first word leads to. */
static int t_record_argc;

static int
t_usage(const void *arg, FILE *fp)
{
	(void)arg;
	fputs("usage: t\n", fp);
	return fp == stdout ? 0 : 1;
}

static int
t_record(const void *arg, const struct agent_conf *c, int argc, char **argv)
{
	(void)c;
	t_record_argc = argc;
	assert_string_equal(argv[0], "record");
	return *(const int *)arg;
}

static int
t_dispatch(char *w0, char *w1, char *w2)
{
	static const int status = 7;
	const struct cmd_opts_family f = {"t", t_usage, t_record, &status};
	char *argv[] = {w0, w1, w2, NULL};
	int argc = w1 == NULL ? 1 : w2 == NULL ? 2 : 3, rv;

	t_capture();
	rv = cmd_opts_dispatch(&f, NULL, argc, argv);
	t_release();
	return rv;
}

static void
test_dispatch(void **state)
{
	char t[] = "t", rec[] = "record", x[] = "--x", help[] = "help",
	     dhelp[] = "--help", other[] = "show";

	(void)state;
	t_record_argc = 0;
	assert_int_equal(t_dispatch(t, rec, x), 7);
	assert_int_equal(t_record_argc, 2);
	assert_int_equal(t_dispatch(t, help, NULL), 0);
	assert_string_equal(t_err, "");
	assert_int_equal(t_dispatch(t, dhelp, NULL), 0);
	assert_int_equal(t_dispatch(t, other, NULL), 1);
	assert_string_equal(t_err, "opspulse-agent: unknown t command 'show'\n"
	                           "usage: t\n");
	assert_int_equal(t_dispatch(t, NULL, NULL), 1);
	assert_string_equal(t_err, "usage: t\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values_and_last_wins),
	    cmocka_unit_test(test_help_stops_reading),
	    cmocka_unit_test(test_not_accepted),
	    cmocka_unit_test(test_unknown_option),
	    cmocka_unit_test(test_unexpected_argument),
	    cmocka_unit_test(test_apply_in_order),
	    cmocka_unit_test(test_require),
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
