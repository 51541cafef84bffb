/*
 * Host capacity: CPU % over the interval (from /proc/stat deltas), memory
 * % (1 - MemAvailable / MemTotal) and used / total bytes of each
 * configured mount (statvfs).  One event per mount, each with the host's
 * CPU and memory.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "collect.h"
#include "op_error.h"
#include "op_log.h"

#define MOD "capacity"

struct cap_state {
	uint64_t busy, total; /* the previous /proc/stat reading */
};

static long long
cap_interval(const struct agent_conf *c)
{
	return c->capacity_enabled ? c->capacity_interval_s : 0;
}

/* Busy and total jiffies of all CPUs from /proc/stat. */
static int
cap_cpu_read(uint64_t *busy, uint64_t *total)
{
	uint64_t v[8] = {0};
	FILE *fp = fopen("/proc/stat", "r");
	int n;

	if (fp == NULL)
		return OP_EIO;
	n = fscanf(fp,
	           "cpu %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
	           " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
	           &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(fp);
	if (n < 4)
		return OP_EIO;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	/* idle and iowait are the time not spent working */
	*busy = *total - v[3] - v[4];
	return OP_OK;
}

static double
cap_cpu_pct(struct cap_state *st)
{
	uint64_t busy, total;
	double pct = 0;

	if (cap_cpu_read(&busy, &total) != OP_OK)
		return 0;
	if (total > st->total && busy >= st->busy)
		pct = 100.0 * (double)(busy - st->busy) /
		      (double)(total - st->total);
	st->busy = busy;
	st->total = total;
	return pct > 100 ? 100 : pct;
}

static double
cap_mem_pct(void)
{
	FILE *fp = fopen("/proc/meminfo", "r");
	unsigned long long total = 0, avail = 0, v;
	char line[256], key[64];

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%63[^:]: %llu", key, &v) != 2)
			continue;
		if (strcmp(key, "MemTotal") == 0)
			total = v;
		else if (strcmp(key, "MemAvailable") == 0)
			avail = v;
	}
	fclose(fp);
	if (total == 0 || avail > total)
		return 0;
	return 100.0 * (double)(total - avail) / (double)total;
}

static int
cap_init(void **state, const struct agent_conf *c)
{
	struct cap_state *st = calloc(1, sizeof(*st));

	(void)c;
	if (st == NULL)
		return OP_ENOMEM;
	/* The first sample then covers the first interval. */
	cap_cpu_read(&st->busy, &st->total);
	*state = st;
	return OP_OK;
}

/* Adds one sample for mount m (NULL: none). */
static int
cap_add(struct agent_sink *out, double cpu, double mem, const char *m)
{
	struct agent_event *e = agent_sink_event(out);
	Opspulse__V1__Capacity *cap;
	struct statvfs vfs;

	if (e == NULL)
		return OP_ENOMEM;
	cap = agent_event_capacity(e);
	cap->at_us = e->ev.recorded_us;
	cap->cpu_pct = cpu;
	cap->mem_pct = mem;
	if (m == NULL)
		return OP_OK;
	if ((cap->mount = agent_sink_str(out, m)) == NULL)
		return OP_ENOMEM;
	if (statvfs(m, &vfs) != 0) {
		op_warn(MOD,
		        "cannot read the size of %s; sampling it without "
		        "disk figures",
		        m);
		return OP_OK;
	}
	cap->disk_total_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	cap->disk_used_bytes =
	    (uint64_t)(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
	return OP_OK;
}

static int
cap_collect(void *state, const struct agent_conf *c, struct agent_sink *out)
{
	double cpu = cap_cpu_pct(state), mem = cap_mem_pct();
	int rv = OP_OK;

	if (c->capacity_mounts.n == 0)
		return cap_add(out, cpu, mem, NULL);
	for (size_t i = 0; rv == OP_OK && i < c->capacity_mounts.n; i++)
		rv = cap_add(out, cpu, mem, c->capacity_mounts.items[i]);
	return rv;
}

const struct agent_collector agent_collector_capacity = {
    .name = "capacity",
    .interval_s = cap_interval,
    .init = cap_init,
    .collect = cap_collect,
    .fini = free,
    .first_after_interval = 1,
};
