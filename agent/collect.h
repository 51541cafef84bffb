/*
 * The daemon's collectors (SPEC §2 items 5-7): version probes, host
 * capacity and login sessions.  A collector is one struct of callbacks in
 * agent/collectors/; the list in collect.c registers it.  Each runs on its
 * own interval in the daemon's thread, between waits, and what it finds is
 * appended to the spool like any recorded event.
 */
#ifndef COLLECT_H
#define COLLECT_H

#include <stddef.h>

#include "agent.h"
#include "op_error.h"

/* The events of one collector run, recorded together with one fsync. */
struct agent_sink;

/*
 * Adds an event initialised with c's defaults (service, env, host, no
 * operator, the current time) and returns it for filling in, or NULL when
 * out of memory.  The sink owns it.
 */
struct agent_event *agent_sink_event(struct agent_sink *s);

/* Copies str into storage the sink frees after recording; NULL when out
 * of memory.  Use it for strings the events point to. */
char *agent_sink_str(struct agent_sink *s, const char *str);

struct agent_collector {
	const char *name;
	/* Seconds between runs under c; 0 when c switches it off. */
	long long (*interval_s)(const struct agent_conf *c);
	/* Optional: sets up *state (freed by fini).  Returns OP_OK or an
	 * error, which disables the collector (logged). */
	int (*init)(void **state, const struct agent_conf *c);
	/* Adds what it finds to out.  Returns OP_OK or an error (logged by
	 * the collector); events added before an error are still kept. */
	int (*collect)(void *state, const struct agent_conf *c,
	               struct agent_sink *out);
	void (*fini)(void *state);
	/* Runs first one interval after start rather than at once (a
	 * sample of a rate needs a first reading to compare with). */
	int first_after_interval;
};

extern const struct agent_collector agent_collector_os_release;
extern const struct agent_collector agent_collector_kernel;
extern const struct agent_collector agent_collector_packages;
extern const struct agent_collector agent_collector_commands;
extern const struct agent_collector agent_collector_postgresql;
extern const struct agent_collector agent_collector_redis;
extern const struct agent_collector agent_collector_capacity;
extern const struct agent_collector agent_collector_sessions;
extern const struct agent_collector agent_collector_access_logs;

/* The running set of collectors. */
struct agent_collect;

/* Starts every collector c enables; each runs first right away (or after
 * one interval, as it says).  Returns
 * OP_OK or OP_ENOMEM.  Free with agent_collect_stop. */
OP_MUSTCHECK int agent_collect_start(struct agent_collect **out,
                                     const struct agent_conf *c);

/* timeout_ms (-1: forever) shortened to when the next collector is due. */
int agent_collect_timeout(const struct agent_collect *col, int timeout_ms);

/* Runs the collectors that are due.  col may be NULL. */
void agent_collect_run_due(struct agent_collect *col);

void agent_collect_stop(struct agent_collect *col);

/*
 * Runs argv (no shell) with input (at most 4 KiB; NULL: /dev/null) on its
 * stdin and its stdout and stderr into out (NUL-terminated, truncated to
 * size), killing it after timeout_ms.  Returns its exit status, or -1 when
 * it could not run, was killed or timed out.
 */
OP_MUSTCHECK int agent_exec_capture(char *const argv[], const char *input,
                                    char *out, size_t size, int timeout_ms);

/* Adds a component observation (name, version) for service (NULL: the
 * default) to out.  Returns OP_OK or OP_ENOMEM. */
OP_MUSTCHECK int agent_sink_component(struct agent_sink *out,
                                      const char *service, const char *name,
                                      const char *version);

/* Like agent_sink_component, for a package of the distribution release
 * dist (catalog product, as "debian") dist_version (as "12.11"), whose
 * support decides the component's end of life (SPEC §4.4). */
OP_MUSTCHECK int agent_sink_package(struct agent_sink *out, const char *service,
                                    const char *name, const char *version,
                                    const char *dist, const char *dist_version);

/* The operating system of c's os-release file (and, on Debian, the point
 * release of debian_version beside it) as a catalog product and version.
 * Returns OP_OK, OP_EIO (unreadable) or OP_ENOTFOUND (no ID or
 * VERSION_ID); both strings are NUL-terminated, truncated to fit. */
OP_MUSTCHECK int agent_os_identify(const struct agent_conf *c, char *product,
                                   size_t prodsz, char *version, size_t versz);

#endif
