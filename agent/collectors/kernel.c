/*
 * The running kernel: product "linux", version the uname release
 * ("6.1.0-18-amd64"; the EOL catalog matches its "6.1" prefix).
 */
#include <sys/utsname.h>

#include "collect.h"
#include "op_error.h"

static long long
kernel_interval(const struct agent_conf *c)
{
	return c->probes_enabled && c->probes_kernel ? c->probes_interval_s : 0;
}

static int
kernel_collect(void *state, const struct agent_conf *c, struct agent_sink *out)
{
	struct utsname u;

	(void)state;
	(void)c;
	if (uname(&u) != 0)
		return OP_EIO;
	return agent_sink_component(out, NULL, "linux", u.release);
}

const struct agent_collector agent_collector_kernel = {
    .name = "kernel",
    .interval_s = kernel_interval,
    .collect = kernel_collect,
};
