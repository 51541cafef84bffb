/*
 * Unit tests for common/op_config: the table-driven libconfig loader.
 * Each test writes its config file into a fresh mkdtemp directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "op_config.h"
#include "op_error.h"

struct conf {
	char *name;
	long long count;
	int flag;
	double ratio;
	struct op_strlist list;
	char *deep;
	long long tag; /* set by the custom parser */
	int tag_freed;
};

static int
parse_tag(const struct config_setting_t *s, void *target, char *err,
          size_t errsz)
{
	struct conf *c = target;
	const config_setting_t *v;

	if (!config_setting_is_group(s) ||
	    (v = config_setting_get_member(s, "value")) == NULL ||
	    config_setting_type(v) != CONFIG_TYPE_INT) {
		snprintf(err, errsz, "needs an integer 'value'");
		return -1;
	}
	c->tag = config_setting_get_int(v);
	return 0;
}

static void
free_tag(void *target)
{
	((struct conf *)target)->tag_freed++;
}

#define F(field) offsetof(struct conf, field)

static const struct op_cfg_option opts[] = {
    {"t.name", OP_CFG_STRING, "anon", F(name), "a name"},
    {"t.count", OP_CFG_INT, "42", F(count), "a count"},
    {"t.flag", OP_CFG_BOOL, "true", F(flag), "a flag"},
    {"t.ratio", OP_CFG_FLOAT, "0.25", F(ratio), "a ratio"},
    {"t.list", OP_CFG_STRLIST, "first", F(list), "a list"},
    {"t.sub.deep", OP_CFG_STRING, NULL, F(deep), "nested two levels"},
    {"t.tag", OP_CFG_CUSTOM, NULL, 0, "custom group", parse_tag, free_tag},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

struct fixture {
	char dir[256];
	char file[300];
	char log[300];
	struct conf c;
	struct op_cfg_result res;
	int saved_stderr;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/op_config_test.XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->file, sizeof(f->file), "%s/test.conf", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/stderr.log", f->dir);
	f->saved_stderr = -1;
	*state = f;
	return 0;
}

static char *capture_end(struct fixture *f);

static int
teardown(void **state)
{
	struct fixture *f = *state;

	/* A failed assertion jumps here with stderr still captured. */
	if (f->saved_stderr >= 0)
		free(capture_end(f));
	op_cfg_free(opts, NOPTS, &f->c);
	unlink(f->file);
	unlink(f->log);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Sends stderr (where op_log writes) to f->log until capture_end. */
static void
capture_begin(struct fixture *f)
{
	int fd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	fflush(stderr);
	f->saved_stderr = dup(STDERR_FILENO);
	assert_true(f->saved_stderr >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

/* Restores stderr and returns what was logged (caller frees). */
static char *
capture_end(struct fixture *f)
{
	char *buf = calloc(1, 65536);
	FILE *fp;
	size_t n;

	fflush(stderr);
	dup2(f->saved_stderr, STDERR_FILENO);
	close(f->saved_stderr);
	f->saved_stderr = -1;
	assert_non_null(buf);
	if ((fp = fopen(f->log, "r")) != NULL) {
		n = fread(buf, 1, 65535, fp);
		buf[n] = '\0';
		fclose(fp);
	}
	/* Show it too, for whoever reads a failed test's output. */
	fputs(buf, stderr);
	return buf;
}

static int
load(struct fixture *f, const char *text)
{
	write_file(f->file, text);
	return op_cfg_load(opts, NOPTS, f->file, 0, &f->c, &f->res);
}

static void
assert_defaults(const struct conf *c)
{
	assert_string_equal(c->name, "anon");
	assert_int_equal(c->count, 42);
	assert_int_equal(c->flag, 1);
	assert_true(c->ratio == 0.25);
	assert_int_equal(c->list.n, 1);
	assert_string_equal(c->list.items[0], "first");
	assert_string_equal(c->deep, "");
	assert_int_equal(c->tag, 0);
}

static void
test_defaults_without_file(void **state)
{
	struct fixture *f = *state;

	f->res.errors = f->res.warnings = 99;
	assert_int_equal(op_cfg_load(opts, NOPTS, NULL, 0, &f->c, &f->res),
	                 OP_OK);
	assert_int_equal(f->res.errors, 0);
	assert_int_equal(f->res.warnings, 0);
	assert_defaults(&f->c);
}

static void
test_missing_file(void **state)
{
	struct fixture *f = *state;
	char *log;

	assert_int_equal(op_cfg_load(opts, NOPTS, f->file, 1, &f->c, &f->res),
	                 OP_OK);
	assert_int_equal(f->res.errors, 0);
	assert_defaults(&f->c);

	capture_begin(f);
	assert_int_equal(op_cfg_load(opts, NOPTS, f->file, 0, &f->c, &f->res),
	                 OP_ECONFIG);
	log = capture_end(f);
	assert_int_equal(f->res.errors, 1);
	assert_non_null(strstr(log, f->file));
	assert_non_null(strstr(log, "No such file"));
	free(log);
	assert_defaults(&f->c); /* the defaults still hold */
}

static void
test_unreadable_is_not_missing(void **state)
{
	struct fixture *f = *state;

	/* missing_ok covers only a missing file: a directory is an error. */
	assert_int_equal(op_cfg_load(opts, NOPTS, f->dir, 1, &f->c, &f->res),
	                 OP_ECONFIG);
	assert_int_equal(f->res.errors, 1);
}

static void
test_all_values(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "# every option set\n"
	                         "t = {\n"
	                         "  name = \"web-1\";\n"
	                         "  count = 7;\n"
	                         "  flag = false;\n"
	                         "  ratio = 1.5;\n"
	                         "  list = [ \"a\", \"b\", \"c\" ];\n"
	                         "  sub = { deep = \"down here\"; };\n"
	                         "  tag = { value = 9; };\n"
	                         "};\n"),
	                 OP_OK);
	assert_int_equal(f->res.errors, 0);
	assert_int_equal(f->res.warnings, 0);
	assert_string_equal(f->c.name, "web-1");
	assert_int_equal(f->c.count, 7);
	assert_int_equal(f->c.flag, 0);
	assert_true(f->c.ratio == 1.5);
	assert_int_equal(f->c.list.n, 3);
	assert_string_equal(f->c.list.items[0], "a");
	assert_string_equal(f->c.list.items[1], "b");
	assert_string_equal(f->c.list.items[2], "c");
	assert_string_equal(f->c.deep, "down here");
	assert_int_equal(f->c.tag, 9);
}

static void
test_partial_file_keeps_defaults(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "t = { count = -3; };\n"), OP_OK);
	assert_int_equal(f->c.count, -3);
	assert_string_equal(f->c.name, "anon");
	assert_int_equal(f->c.list.n, 1);
	assert_int_equal(f->c.flag, 1);
	/* An empty file is valid too. */
	assert_int_equal(load(f, ""), OP_OK);
	assert_defaults(&f->c);
}

static void
test_numbers(void **state)
{
	struct fixture *f = *state;

	/* 64-bit integers, and integers where a float is wanted. */
	assert_int_equal(load(f, "t = { count = 5000000000L; ratio = 2; };\n"),
	                 OP_OK);
	assert_int_equal(f->c.count, INT64_C(5000000000));
	assert_true(f->c.ratio == 2.0);
	assert_int_equal(load(f, "t = { count = 0x10; ratio = -1e3; };\n"),
	                 OP_OK);
	assert_int_equal(f->c.count, 16);
	assert_true(f->c.ratio == -1000.0);
}

static void
test_string_lists(void **state)
{
	struct fixture *f = *state;

	/* libconfig lists (parentheses) as well as arrays. */
	assert_int_equal(load(f, "t = { list = ( \"x\", \"y\" ); };\n"), OP_OK);
	assert_int_equal(f->c.list.n, 2);
	assert_string_equal(f->c.list.items[1], "y");
	/* An empty list replaces the default rather than adding to it. */
	assert_int_equal(load(f, "t = { list = [ ]; };\n"), OP_OK);
	assert_int_equal(f->c.list.n, 0);
	assert_int_equal(f->res.errors, 0);
}

static void
test_type_errors(void **state)
{
	struct fixture *f = *state;
	char *log;

	capture_begin(f);
	assert_int_equal(load(f, "t = {\n"
	                         "  name = 5;\n"
	                         "  count = \"many\";\n"
	                         "  flag = 1;\n"
	                         "  ratio = \"half\";\n"
	                         "  list = \"solo\";\n"
	                         "  sub = { deep = [ \"x\" ]; };\n"
	                         "  tag = { value = \"nine\"; };\n"
	                         "};\n"),
	                 OP_ECONFIG);
	log = capture_end(f);
	assert_int_equal(f->res.errors, 7);
	assert_int_equal(f->res.warnings, 0);
	/* Each names the file, the line and the key. */
	assert_non_null(strstr(log, ":2: 't.name' must be a string"));
	assert_non_null(strstr(log, ":3: 't.count' must be an integer"));
	assert_non_null(strstr(log, ":4: 't.flag' must be true or false"));
	assert_non_null(strstr(log, ":5: 't.ratio' must be a number"));
	assert_non_null(strstr(log, ":6: 't.list' must be a list of strings"));
	assert_non_null(strstr(log, ":7: 't.sub.deep' must be a string"));
	assert_non_null(strstr(log, "needs an integer 'value'"));
	assert_non_null(strstr(log, f->file));
	free(log);
	/* Values that failed keep their defaults. */
	assert_string_equal(f->c.name, "anon");
	assert_int_equal(f->c.count, 42);
}

static void
test_type_error_does_not_stop_others(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "t = { count = 1.5; name = \"kept\"; "
	                         "list = ( \"a\", 2 ); };\n"),
	                 OP_ECONFIG);
	assert_int_equal(f->res.errors, 2);
	assert_string_equal(f->c.name, "kept");
}

static void
test_group_given_as_value(void **state)
{
	struct fixture *f = *state;

	/* A scalar where a group of settings belongs is a type error, not a
	 * silent fall back to every default. */
	assert_int_equal(load(f, "t = \"web-1\";\n"), OP_ECONFIG);
	assert_int_equal(f->res.errors, 1);
	assert_int_equal(load(f, "t = { sub = 3; name = \"x\"; };\n"),
	                 OP_ECONFIG);
	assert_int_equal(f->res.errors, 1);
	assert_string_equal(f->c.name, "x");
}

/* A key at edit distance 1 (2 for names longer than 6) from a known key
 * of its group is an error that names the known key: left a warning, the
 * setting would silently keep its default. */
static void
test_misspelt_keys(void **state)
{
	struct fixture *f = *state;
	char *log;

	capture_begin(f);
	assert_int_equal(load(f, "t = {\n"
	                         "  nmae = \"n\";\n"
	                         "  sub = { deap = \"d\"; };\n"
	                         "  counts = 3;\n"
	                         "  ratiooo = 1.0;\n"
	                         "  colour = \"blue\";\n"
	                         "};\n"),
	                 OP_ECONFIG);
	log = capture_end(f);
	assert_int_equal(f->res.errors, 4);
	assert_int_equal(f->res.warnings, 1);
	assert_non_null(
	    strstr(log, ":2: unknown key 't.nmae'; did you mean 'name'?"));
	assert_non_null(
	    strstr(log, ":3: unknown key 't.sub.deap'; did you mean 'deep'?"));
	assert_non_null(
	    strstr(log, ":4: unknown key 't.counts'; did you mean 'count'?"));
	/* Two edits: allowed for a name of more than 6 letters. */
	assert_non_null(
	    strstr(log, ":5: unknown key 't.ratiooo'; did you mean 'ratio'?"));
	assert_non_null(strstr(log, ":6: unknown key 't.colour' ignored"));
	free(log);
}

static void
test_unknown_keys(void **state)
{
	struct fixture *f = *state;
	char *log;

	capture_begin(f);
	assert_int_equal(load(f, "t = {\n"
	                         "  name = \"n\";\n"
	                         "  colour = \"blue\";\n"
	                         "  sub = { deep = \"d\"; deeper = 1; };\n"
	                         "};\n"
	                         "other = { name = \"x\"; };\n"
	                         "tag = 5;\n"),
	                 OP_OK);
	log = capture_end(f);
	assert_int_equal(f->res.errors, 0);
	assert_int_equal(f->res.warnings, 4);
	assert_non_null(strstr(log, ":3: unknown key 't.colour'"));
	assert_non_null(strstr(log, ":4: unknown key 't.sub.deeper'"));
	assert_non_null(strstr(log, ":6: unknown key 'other'"));
	assert_non_null(strstr(log, ":7: unknown key 'tag'"));
	assert_null(strstr(log, "'other.name'")); /* once per subtree */
	assert_non_null(strstr(log, f->file));
	free(log);
	assert_string_equal(f->c.name, "n");
	assert_string_equal(f->c.deep, "d");
}

static void
test_unknown_keys_inside_custom_are_its_own(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "t = { tag = { value = 1; extra = 2; }; };\n"),
	                 OP_OK);
	assert_int_equal(f->res.warnings, 0);
	assert_int_equal(f->c.tag, 1);
}

static void
test_syntax_error(void **state)
{
	struct fixture *f = *state;
	char *log;

	capture_begin(f);
	assert_int_equal(load(f, "t = {\n  name = \"x\";\n  count = ;\n};\n"),
	                 OP_ECONFIG);
	log = capture_end(f);
	assert_int_equal(f->res.errors, 1);
	assert_non_null(strstr(log, ":3: "));
	assert_non_null(strstr(log, "syntax error"));
	free(log);
	assert_defaults(&f->c);
}

static void
test_reload_and_free(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "t = { name = \"one\"; list = [\"a\"]; };\n"),
	                 OP_OK);
	assert_string_equal(f->c.name, "one");
	/* Reloading over a loaded target replaces values without leaking
	 * (the ASan build checks the leak half). */
	assert_int_equal(load(f, "t = { name = \"two\"; };\n"), OP_OK);
	assert_string_equal(f->c.name, "two");
	assert_string_equal(f->c.list.items[0], "first");
	f->c.tag_freed = 0;
	op_cfg_free(opts, NOPTS, &f->c);
	assert_null(f->c.name);
	assert_null(f->c.deep);
	assert_null(f->c.list.items);
	assert_int_equal(f->c.list.n, 0);
	assert_int_equal(f->c.tag_freed, 1);
	op_cfg_free(opts, NOPTS, &f->c); /* twice is harmless */
}

static void
test_strlist(void **state)
{
	struct op_strlist l = {NULL, 0};
	char word[8];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(word, sizeof(word), "w%d", i);
		assert_int_equal(op_strlist_add(&l, word), OP_OK);
	}
	assert_int_equal(l.n, 100);
	assert_string_equal(l.items[0], "w0");
	assert_string_equal(l.items[99], "w99");
	assert_ptr_not_equal(l.items[5], word); /* copies */
	op_strlist_free(&l);
	assert_null(l.items);
	assert_int_equal(l.n, 0);
	op_strlist_free(&l);
}

static void
test_describe(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	(void)state;
	assert_non_null(fp);
	op_cfg_describe(opts, NOPTS, fp);
	fclose(fp);
	assert_non_null(strstr(text, "t.count"));
	assert_non_null(strstr(text, "42"));
	assert_non_null(strstr(text, "a count"));
	/* A NULL default is shown as an empty string. */
	assert_non_null(strstr(text, "t.sub.deep"));
	assert_non_null(strstr(text, "\"\""));
	/* One line per option. */
	{
		size_t lines = 0;
		for (const char *p = text; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, NOPTS);
	}
	free(text);
}

/* ---- the shared TLS group (OP_CFG_TLS, op_tls_check) ---------------- */

struct tls_conf {
	struct op_tls_conf tls;
};

static const struct op_cfg_option tls_opts[] = {
    OP_CFG_TLS("t.tls", struct tls_conf, tls, "/etc/opspulse/t.pem", NULL),
};

#define NTLS (sizeof(tls_opts) / sizeof(tls_opts[0]))

/* Loads text with tls_opts into *c; the log goes to *log (caller frees). */
static int
tls_load(struct fixture *f, struct tls_conf *c, const char *text, char **log)
{
	int rv;

	memset(c, 0, sizeof(*c));
	write_file(f->file, text);
	capture_begin(f);
	rv = op_cfg_load(tls_opts, NTLS, f->file, 0, c, &f->res);
	*log = capture_end(f);
	return rv;
}

/* op_tls_check of c; its log into *log (caller frees). */
static int
tls_check(struct fixture *f, const struct tls_conf *c, char **log)
{
	int rv;

	capture_begin(f);
	rv = op_tls_check(&c->tls);
	*log = capture_end(f);
	return rv;
}

/* dir/name, created with some text when make is set. */
static void
tls_file(const struct fixture *f, const char *name, int make, char *path,
         size_t size)
{
	snprintf(path, size, "%s/%s", f->dir, name);
	if (make)
		write_file(path, "-----BEGIN-----\n");
}

static void
test_tls_defaults(void **state)
{
	struct fixture *f = *state;
	struct tls_conf c;
	char *log;

	assert_int_equal(tls_load(f, &c, "t = { name = \"x\"; };\n", &log),
	                 OP_OK);
	free(log);
	assert_string_equal(c.tls.ca, "/etc/opspulse/ca.pem");
	assert_string_equal(c.tls.cert, "/etc/opspulse/t.pem");
	assert_string_equal(c.tls.key, "");
	assert_int_equal(c.tls.insecure, 0);
	op_cfg_free(tls_opts, NTLS, &c);
}

static void
test_tls_insecure_without_files(void **state)
{
	struct fixture *f = *state;
	struct tls_conf c;
	char *log;

	assert_int_equal(tls_load(f, &c,
	                          "t = { tls = { insecure = true; cert = \"\"; "
	                          "}; };\n",
	                          &log),
	                 OP_OK);
	free(log);
	assert_int_equal(c.tls.insecure, 1);
	assert_int_equal(f->res.errors + f->res.warnings, 0);
	/* Loading accepts it; a tls+tcp:// address still needs the files. */
	assert_int_equal(tls_check(f, &c, &log), OP_ECONFIG);
	assert_non_null(strstr(log, "needs tls.ca, tls.cert and tls.key"));
	free(log);
	op_cfg_free(tls_opts, NTLS, &c);
}

static void
test_tls_insecure_with_files(void **state)
{
	struct fixture *f = *state;
	char ca[400], cert[400], key[400], text[1400], *log;
	struct tls_conf c;

	tls_file(f, "ca.pem", 1, ca, sizeof(ca));
	tls_file(f, "me.pem", 1, cert, sizeof(cert));
	tls_file(f, "me.key", 1, key, sizeof(key));
	snprintf(text, sizeof(text),
	         "t = { tls = { ca = \"%s\"; cert = \"%s\"; key = \"%s\"; "
	         "insecure = true; }; };\n",
	         ca, cert, key);
	assert_int_equal(tls_load(f, &c, text, &log), OP_OK);
	free(log);
	assert_string_equal(c.tls.ca, ca);
	assert_string_equal(c.tls.cert, cert);
	assert_string_equal(c.tls.key, key);
	assert_int_equal(c.tls.insecure, 1);
	assert_int_equal(tls_check(f, &c, &log), OP_OK);
	assert_string_equal(log, "");
	free(log);
	op_cfg_free(tls_opts, NTLS, &c);
	unlink(ca);
	unlink(cert);
	unlink(key);
}

static void
test_tls_missing_files(void **state)
{
	struct fixture *f = *state;
	char ca[400], cert[400], key[400], text[1400], *log;
	struct tls_conf c;

	tls_file(f, "ca.pem", 1, ca, sizeof(ca));
	tls_file(f, "gone.pem", 0, cert, sizeof(cert));
	tls_file(f, "gone.key", 0, key, sizeof(key));
	snprintf(text, sizeof(text),
	         "t = { tls = { ca = \"%s\"; cert = \"%s\"; key = \"%s\"; "
	         "}; };\n",
	         ca, cert, key);
	/* Files are not looked at while loading: a program that never
	 * connects over TLS does not need them. */
	assert_int_equal(tls_load(f, &c, text, &log), OP_OK);
	free(log);
	assert_int_equal(tls_check(f, &c, &log), OP_ECONFIG);
	assert_non_null(strstr(log, "cannot read tls.cert"));
	assert_non_null(strstr(log, cert));
	assert_non_null(strstr(log, "No such file or directory"));
	free(log);
	op_cfg_free(tls_opts, NTLS, &c);
	unlink(ca);
}

static void
test_tls_unknown_key_and_type(void **state)
{
	struct fixture *f = *state;
	struct tls_conf c;
	char *log, want[400];

	assert_int_equal(tls_load(f, &c,
	                          "t = { tls = {\n  ca = 5;\n"
	                          "  colour = \"blue\";\n}; };\n",
	                          &log),
	                 OP_ECONFIG);
	snprintf(want, sizeof(want), "%s:2: 't.tls.ca' must be a string",
	         f->file);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want), "%s:3: unknown key 't.tls.colour' ignored",
	         f->file);
	assert_non_null(strstr(log, want));
	assert_int_equal(f->res.errors, 1);
	assert_int_equal(f->res.warnings, 1);
	free(log);
	op_cfg_free(tls_opts, NTLS, &c);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_defaults_without_file),
	    T(test_missing_file),
	    T(test_unreadable_is_not_missing),
	    T(test_all_values),
	    T(test_partial_file_keeps_defaults),
	    T(test_numbers),
	    T(test_string_lists),
	    T(test_type_errors),
	    T(test_type_error_does_not_stop_others),
	    T(test_group_given_as_value),
	    T(test_unknown_keys),
	    T(test_misspelt_keys),
	    T(test_unknown_keys_inside_custom_are_its_own),
	    T(test_syntax_error),
	    T(test_reload_and_free),
	    T(test_tls_defaults),
	    T(test_tls_insecure_without_files),
	    T(test_tls_insecure_with_files),
	    T(test_tls_missing_files),
	    T(test_tls_unknown_key_and_type),
	    cmocka_unit_test(test_strlist),
	    cmocka_unit_test(test_describe),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
