/*
 * Fuzz target for configuration files: the input is written to a file and
 * loaded against a small option table shaped like agent.conf.  Loading
 * must never crash or leak; its result must match its error count; and
 * every option must hold a value afterwards (its default at least).
 */
#include <ctype.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "op_config.h"
#include "op_error.h"
#include "op_log.h"
#include "fuzz.h"

struct fuzz_conf {
	char *id;
	char *dir;
	long long max_mb;
	int insecure;
	double hours;
	struct op_strlist aggregators;
	int teams; /* counted by the custom parser */
};

/* Like the aggregator's teams: a list of groups, each with a name. */
static int
fuzz_parse_teams(const struct config_setting_t *s, void *target, char *err,
                 size_t errsz)
{
	struct fuzz_conf *c = target;
	int n = config_setting_length(s);

	if (!config_setting_is_list(s)) {
		snprintf(err, errsz, "expected a list of groups");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *t = config_setting_get_elem(s, (unsigned)i);
		const char *name;

		if (t == NULL || !config_setting_is_group(t) ||
		    !config_setting_lookup_string(t, "name", &name)) {
			snprintf(err, errsz, "team %d has no name", i + 1);
			return -1;
		}
		c->teams++;
	}
	return 0;
}

#define F(field) offsetof(struct fuzz_conf, field)

static const struct op_cfg_option fuzz_opts[] = {
    {"agent.id", OP_CFG_STRING, NULL, F(id), "identity"},
    {"agent.spool.dir", OP_CFG_STRING, "/var/lib/x", F(dir), "spool"},
    {"agent.spool.max_mb", OP_CFG_INT, "256", F(max_mb), "bound"},
    {"agent.tls.insecure", OP_CFG_BOOL, "false", F(insecure), "plain tcp"},
    {"agent.hours", OP_CFG_FLOAT, "40.0", F(hours), "a number"},
    {"agent.aggregators", OP_CFG_STRLIST, "tls+tcp://127.0.0.1:7410",
     F(aggregators), "addresses"},
    {"agent.teams", OP_CFG_CUSTOM, NULL, 0, "teams", fuzz_parse_teams},
};

#define NOPTS (sizeof(fuzz_opts) / sizeof(fuzz_opts[0]))

static char fuzz_file[512];

/*
 * LeakSanitizer hook.  libconfig 1.5's scanner leaks the string it is
 * building when a syntax error cuts it off ('"a" "b" }', '"""@'): its bug,
 * reproduced with libconfig alone, and not one our code can avoid.  Only
 * allocations made inside libconfig are ignored; ours are still checked.
 */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static void
fuzz_at_exit(void)
{
	char dir[512];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", fuzz_file);
	unlink(fuzz_file);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		rmdir(dir);
	}
}

static void
fuzz_init(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[400];

	/* Errors are the point here; warnings would only be noise. */
	op_log_init("fuzz_config", OP_LOG_ERROR);
	snprintf(dir, sizeof(dir), "%s/fuzz_config.XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("fuzz_config: mkdtemp");
		abort();
	}
	snprintf(fuzz_file, sizeof(fuzz_file), "%s/fuzz.conf", dir);
	atexit(fuzz_at_exit);
}

/*
 * Does the input use @include?  libconfig then reads the named file, which
 * is a feature of trusted local configs, not a parser of the input:
 * "/dev/zero" would only measure the disk.
 */
static int
fuzz_has_include(const uint8_t *data, size_t size)
{
	static const char word[] = "@include";

	for (size_t i = 0; i + sizeof(word) - 1 <= size; i++) {
		size_t k = 0;

		while (k < sizeof(word) - 1 &&
		       tolower(data[i + k]) == (unsigned char)word[k])
			k++;
		if (k == sizeof(word) - 1)
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_conf c;
	struct op_cfg_result res = {-1, -1};
	FILE *fp;
	int rv;

	if (fuzz_file[0] == '\0')
		fuzz_init();
	if (fuzz_has_include(data, size))
		return 0;
	fp = fopen(fuzz_file, "wb");
	FUZZ_CHECK(fp != NULL);
	FUZZ_CHECK(fwrite(data, 1, size, fp) == size);
	FUZZ_CHECK(fclose(fp) == 0);

	memset(&c, 0, sizeof(c));
	rv = op_cfg_load(fuzz_opts, NOPTS, fuzz_file, 0, &c, &res);
	FUZZ_CHECK(rv == OP_OK || rv == OP_ECONFIG);
	FUZZ_CHECK((rv == OP_OK) == (res.errors == 0));
	FUZZ_CHECK(res.errors >= 0 && res.warnings >= 0);
	FUZZ_CHECK(c.id != NULL && c.dir != NULL);
	FUZZ_CHECK(c.aggregators.n == 0 || c.aggregators.items != NULL);
	for (size_t i = 0; i < c.aggregators.n; i++)
		FUZZ_CHECK(c.aggregators.items[i] != NULL);
	op_cfg_free(fuzz_opts, NOPTS, &c);
	FUZZ_CHECK(c.id == NULL && c.aggregators.n == 0);
	return 0;
}
