/*
 * Fuzz target for the aggregator's own configuration: the input is loaded
 * with agg_conf_load, the real option table with its custom parsers of
 * teams, identities (the hosts an identity may write) and SLOs.  Loading must
 * never crash or leak, and a file that loads must hold sane values: every
 * identity has a name and at least one host pattern, every team a name.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aggregator.h"
#include "op_error.h"
#include "op_log.h"
#include "fuzz.h"

static char fuzz_file[512];

/* libconfig 1.5's scanner leaks on some syntax errors: see fuzz_config.c.
 * Only allocations made inside libconfig are ignored. */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static void
fuzz_at_exit(void)
{
	char *slash;

	unlink(fuzz_file);
	if ((slash = strrchr(fuzz_file, '/')) != NULL) {
		*slash = '\0';
		rmdir(fuzz_file);
	}
}

static void
fuzz_init(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[400];

	op_log_init("fuzz_agg_config", OP_LOG_ERROR);
	snprintf(dir, sizeof(dir), "%s/fuzz_agg_config.XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("fuzz_agg_config: mkdtemp");
		abort();
	}
	snprintf(fuzz_file, sizeof(fuzz_file), "%s/aggregator.conf", dir);
	atexit(fuzz_at_exit);
}

/* @include reads another file: a feature of trusted local configs. */
static int
fuzz_has_include(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + 8 <= size; i++) {
		if (data[i] == '@' && tolower(data[i + 1]) == 'i')
			return 1;
	}
	return 0;
}

/* An SLO that loads has a service, an objective, latency_ms exactly with
 * latency_target, and targets that are decimals inside (0, 100). */
static void
fuzz_check_slos(const struct agg_conf *c)
{
	for (size_t i = 0; i < c->nslos; i++) {
		const struct agg_slo *o = &c->slos[i];
		FUZZ_CHECK(o->service && *o->service);
		FUZZ_CHECK(o->availability || o->latency_ms);
		FUZZ_CHECK(!o->latency_ms == !o->latency_target);
		if (o->availability)
			FUZZ_CHECK(strtod(o->availability, NULL) > 0 &&
			           strtod(o->availability, NULL) < 100);
		if (o->latency_target)
			FUZZ_CHECK(strtod(o->latency_target, NULL) > 0 &&
			           strtod(o->latency_target, NULL) < 100);
	}
	FUZZ_CHECK(c->slo_window_days >= 1 && c->slo_window_days <= 3650);
}

static void
fuzz_check(const struct agg_conf *c)
{
	for (size_t i = 0; i < c->nidentities; i++) {
		FUZZ_CHECK(c->identities[i].name && *c->identities[i].name);
		FUZZ_CHECK(c->identities[i].hosts.n > 0);
		for (size_t k = 0; k < c->identities[i].hosts.n; k++)
			FUZZ_CHECK(*c->identities[i].hosts.items[k]);
	}
	for (size_t i = 0; i < c->nteams; i++)
		FUZZ_CHECK(c->teams[i].name && *c->teams[i].name);
	FUZZ_CHECK(c->workers >= 1 && c->workers <= 64);
	fuzz_check_slos(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agg_conf c;
	FILE *fp;

	if (fuzz_file[0] == '\0')
		fuzz_init();
	if (fuzz_has_include(data, size))
		return 0;
	if ((fp = fopen(fuzz_file, "wb")) == NULL ||
	    fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
		abort();
	if (agg_conf_load(&c, fuzz_file, NULL) == OP_OK)
		fuzz_check(&c);
	agg_conf_free(&c);
	return 0;
}
