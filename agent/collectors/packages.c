/*
 * Listed Debian or RPM packages: the installed version from dpkg-query,
 * or from rpm where there is no dpkg; epochs and packaging revisions are
 * left out ("1:1.22.1-9" -> "1.22.1").  Each is observed as a package of
 * the distribution release os-release names, whose support decides its
 * end of life.
 */
#include <string.h>

#include "collect.h"
#include "op_error.h"
#include "op_log.h"
#include "version.h"

#define MOD "packages"

static long long
pkg_interval(const struct agent_conf *c)
{
	return c->probes_enabled && c->probe_packages.n ? c->probes_interval_s
	                                                : 0;
}

/* The installed version of pkg into out; OP_OK or OP_ENOTFOUND. */
static int
pkg_version(const struct agent_conf *c, char *pkg, char *out, size_t size)
{
	char dpkg[] = "dpkg-query", w[] = "-W", f[] = "-f=${Status} ${Version}";
	char rpm[] = "rpm", q[] = "-q", qf[] = "--qf", fmt[] = "%{VERSION}";
	char *dpkg_argv[] = {dpkg, w, f, pkg, NULL};
	char *rpm_argv[] = {rpm, q, qf, fmt, pkg, NULL};
	char buf[512];
	int t = (int)c->probes_timeout_ms;
	const char *v = NULL;

	/* "install ok installed 1:1.22.1-9": only installed packages count. */
	if (agent_exec_capture(dpkg_argv, NULL, buf, sizeof(buf), t) == 0 &&
	    strncmp(buf, "install ok installed ", 21) == 0)
		v = buf + 21;
	else if (agent_exec_capture(rpm_argv, NULL, buf, sizeof(buf), t) == 0)
		v = buf;
	if (v == NULL)
		return OP_ENOTFOUND;
	return agent_version_extract(v, strlen(v), out, size);
}

static int
pkg_collect(void *state, const struct agent_conf *c, struct agent_sink *out)
{
	char version[128], dist[64] = "", dist_version[64] = "";
	int rv = OP_OK;

	(void)state;
	if (*c->probes_os_release &&
	    agent_os_identify(c, dist, sizeof(dist), dist_version,
	                      sizeof(dist_version)) != OP_OK) {
		op_debug(MOD,
		         "no distribution from %s; packages are judged "
		         "by their upstream end of life",
		         c->probes_os_release);
		dist[0] = dist_version[0] = '\0';
	}
	for (size_t i = 0; rv == OP_OK && i < c->probe_packages.n; i++) {
		const struct agent_probe *p = &c->probe_packages.items[i];
		if (pkg_version(c, p->target, version, sizeof(version)) !=
		    OP_OK) {
			op_debug(MOD, "package %s is not installed", p->target);
			continue;
		}
		rv = agent_sink_package(out, p->service, p->product, version,
		                        dist, dist_version);
	}
	return rv;
}

const struct agent_collector agent_collector_packages = {
    .name = "packages",
    .interval_s = pkg_interval,
    .collect = pkg_collect,
};
