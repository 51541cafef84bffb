/*
 * The operating system from os-release: product from ID (debian, ubuntu,
 * rhel, ...), version from VERSION_ID.
 */
#include <stdio.h>

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

static int
osr_collect(void *state, const struct agent_conf *c, struct agent_sink *out)
{
	char buf[16384], id[64], version[64];
	FILE *fp = fopen(c->probes_os_release, "r");
	size_t len;

	(void)state;
	if (fp == NULL) {
		op_warn(MOD,
		        "cannot read %s; set probes.os_release = \"\" to "
		        "stop trying",
		        c->probes_os_release);
		return OP_EIO;
	}
	len = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	if (agent_os_release_parse(buf, len, id, sizeof(id), version,
	                           sizeof(version)) != OP_OK) {
		op_warn(MOD, "%s has no ID and VERSION_ID",
		        c->probes_os_release);
		return OP_ENOTFOUND;
	}
	return agent_sink_component(out, NULL, agent_os_product(id), version);
}

const struct agent_collector agent_collector_os_release = {
    .name = "os-release",
    .interval_s = osr_interval,
    .collect = osr_collect,
};
