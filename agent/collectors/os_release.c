/*
 * The operating system from os-release: product from ID (debian, ubuntu,
 * rhel, ...), version from VERSION_ID.  On Debian, VERSION_ID is only the
 * major release ("12"); the point release ("12.11") is in debian_version
 * beside the os-release file, and is what the catalog's latest compares
 * with.
 */
#include <stdio.h>
#include <string.h>

#include "collect.h"
#include "op_error.h"
#include "op_log.h"
#include "version.h"

#define MOD "os-release"

static long long
osr_interval(const struct agent_conf *c)
{
	return c->probes_enabled && *c->probes_os_release ? c->probes_interval_s
	                                                  : 0;
}

/* Reads up to size - 1 bytes of path into buf; the length, or -1. */
static long
osr_read(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "r");
	size_t len;

	if (fp == NULL)
		return -1;
	len = fread(buf, 1, size - 1, fp);
	fclose(fp);
	buf[len] = '\0';
	return (long)len;
}

/* "debian_version" in the directory of the os-release file at osr. */
static int
osr_debian_path(const char *osr, char *out, size_t size)
{
	const char *slash = strrchr(osr, '/');
	int dir = slash ? (int)(slash - osr + 1) : 0;
	int n = snprintf(out, size, "%.*sdebian_version", dir, osr);

	return n > 0 && (size_t)n < size;
}

/*
 * Replaces version ("12") with the point release of debian_version
 * ("12.11") when that file exists and extends it; a testing or unstable
 * system ("trixie/sid") keeps VERSION_ID.
 */
static void
osr_debian_point(const char *osr, char *version, size_t versz)
{
	char path[4096], buf[256], point[64];
	size_t vlen = strlen(version);

	if (!osr_debian_path(osr, path, sizeof(path)) ||
	    osr_read(path, buf, sizeof(buf)) <= 0 ||
	    agent_version_extract(buf, strlen(buf), point, sizeof(point)) !=
	        OP_OK)
		return;
	if (strncmp(point, version, vlen) == 0 && point[vlen] == '.' &&
	    strlen(point) < versz)
		memcpy(version, point, strlen(point) + 1);
}

int
agent_os_identify(const struct agent_conf *c, char *product, size_t prodsz,
                  char *version, size_t versz)
{
	char buf[16384], id[64];

	if (osr_read(c->probes_os_release, buf, sizeof(buf)) < 0)
		return OP_EIO;
	if (agent_os_release_parse(buf, strlen(buf), id, sizeof(id), version,
	                           versz) != OP_OK)
		return OP_ENOTFOUND;
	if (strcmp(id, "debian") == 0)
		osr_debian_point(c->probes_os_release, version, versz);
	snprintf(product, prodsz, "%s", agent_os_product(id));
	return OP_OK;
}

static int
osr_collect(void *state, const struct agent_conf *c, struct agent_sink *out)
{
	char product[64], version[64];
	int rv;

	(void)state;
	rv = agent_os_identify(c, product, sizeof(product), version,
	                       sizeof(version));
	if (rv == OP_EIO)
		op_warn(MOD,
		        "cannot read %s; set probes.os_release = \"\" to "
		        "stop trying",
		        c->probes_os_release);
	else if (rv != OP_OK)
		op_warn(MOD, "%s has no ID and VERSION_ID",
		        c->probes_os_release);
	if (rv != OP_OK)
		return rv;
	return agent_sink_component(out, NULL, product, version);
}

const struct agent_collector agent_collector_os_release = {
    .name = "os-release",
    .interval_s = osr_interval,
    .collect = osr_collect,
};
