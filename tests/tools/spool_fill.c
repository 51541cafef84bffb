/*
 * spool_fill: records N distinct toil events through the agent's own
 * recording path (validation, encoding, fsynced spool append), GROUP per
 * fsync, for delivery tests that need many events fast.
 *
 *   spool_fill AGENT_CONF N SERVICE [GROUP] [FIRST]
 *
 * Event i (FIRST <= i < FIRST+N) is toil of SERVICE, task "task-<i>",
 * started at a fixed base time plus i seconds, lasting 60 s: distinct
 * content, so each is stored once however often it is delivered.
 */
#include <stdio.h>
#include <stdlib.h>

#include "agent.h"
#include "op_error.h"
#include "op_time.h"

int
main(int argc, char **argv)
{
	struct agent_conf c;
	long n, group, first;
	struct agent_event *ev;
	op_event **ptrs;
	char(*tasks)[32];
	/* 2026-01-01T00:00:00Z */
	const int64_t base = op_days_from_civil(2026, 1, 1) * OP_US_PER_DAY;

	if (argc < 4) {
		fprintf(stderr,
		        "usage: spool_fill AGENT_CONF N SERVICE [GROUP] "
		        "[FIRST]\n");
		return 2;
	}
	n = atol(argv[2]);
	group = argc > 4 ? atol(argv[4]) : 1000;
	first = argc > 5 ? atol(argv[5]) : 0;
	if (agent_conf_load(&c, argv[1], NULL) != OP_OK || group < 1)
		return 1;
	ev = calloc((size_t)group, sizeof(*ev));
	ptrs = calloc((size_t)group, sizeof(*ptrs));
	tasks = calloc((size_t)group, sizeof(*tasks));
	if (ev == NULL || ptrs == NULL || tasks == NULL)
		return 1;
	for (long done = 0; done < n;) {
		long k = n - done < group ? n - done : group;
		for (long j = 0; j < k; j++) {
			long i = first + done + j;
			Opspulse__V1__Toil *t;
			agent_event_init(&ev[j], &c);
			ev[j].ev.service = argv[3];
			t = agent_event_toil(&ev[j]);
			snprintf(tasks[j], sizeof(tasks[j]), "task-%ld", i);
			t->task = tasks[j];
			t->started_us = base + i * OP_US_PER_SEC;
			t->duration_s = 60;
			t->source =
			    OPSPULSE__V1__TOIL_SOURCE__TOIL_SOURCE_MANUAL;
			ptrs[j] = &ev[j].ev;
		}
		if (agent_record(&c, ptrs, (size_t)k) != OP_OK)
			return 1;
		done += k;
	}
	free(ev);
	free(ptrs);
	free(tasks);
	agent_conf_free(&c);
	return 0;
}
