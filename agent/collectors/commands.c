/*
 * Configured commands that print a version ("nginx -v"): the first dotted
 * version number in their output (stdout and stderr) is the version.
 */
#include <string.h>

#include "collect.h"
#include "op_error.h"
#include "op_log.h"
#include "version.h"

#define MOD "commands"

static long long
cmd_interval(const struct agent_conf *c)
{
	return c->probes_enabled && c->probe_commands.n ? c->probes_interval_s
	                                                : 0;
}

static int
cmd_probe(const struct agent_conf *c, const struct agent_probe *p,
          struct agent_sink *out)
{
	char sh[] = "/bin/sh", dash_c[] = "-c";
	char *argv[] = {sh, dash_c, p->target, NULL};
	char buf[4096], version[128];
	int status;

	status = agent_exec_capture(argv, NULL, buf, sizeof(buf),
	                            (int)c->probes_timeout_ms);
	if (status < 0 || agent_version_extract(buf, strlen(buf), version,
	                                        sizeof(version)) != OP_OK) {
		op_warn(MOD, "'%s' (exit %d) printed no version number",
		        p->target, status);
		return OP_ENOTFOUND;
	}
	return agent_sink_component(out, p->service, p->product, version);
}

static int
cmd_collect(void *state, const struct agent_conf *c, struct agent_sink *out)
{
	int rv = OP_OK;

	(void)state;
	for (size_t i = 0; i < c->probe_commands.n; i++) {
		if (cmd_probe(c, &c->probe_commands.items[i], out) == OP_ENOMEM)
			rv = OP_ENOMEM;
	}
	return rv;
}

const struct agent_collector agent_collector_commands = {
    .name = "commands",
    .interval_s = cmd_interval,
    .collect = cmd_collect,
};
