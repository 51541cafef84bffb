/*
 * nng_idle: the baseline of bench/agent_idle.  A bare process holding one
 * connected nng REQ socket, through the same transport module the agent
 * uses, and doing nothing else until SIGTERM.
 *
 *   nng_idle ADDRESS
 *
 * It sends one empty batch so that the socket is dialled and connected
 * (the client connects lazily), prints "connected", then sleeps.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "op_codec.h"
#include "op_error.h"
#include "op_transport.h"

int
main(int argc, char **argv)
{
	static char agent[] = "nng-idle";
	struct op_strlist addrs = {NULL, 0};
	struct op_tls_conf tls = {NULL, NULL, NULL, 1};
	struct op_client *c;
	op_envelope env;
	op_batch b;
	uint8_t *req = NULL, *rep = NULL;
	size_t len, rlen;
	int rv;

	if (argc != 2) {
		fprintf(stderr, "usage: nng_idle ADDRESS\n");
		return 2;
	}
	opspulse__v1__envelope__init(&env);
	opspulse__v1__batch__init(&b);
	b.agent_id = agent;
	env.protocol_version = OP_PROTOCOL_VERSION;
	env.body_case = OPSPULSE__V1__ENVELOPE__BODY_BATCH;
	env.batch = &b;
	if (op_strlist_add(&addrs, argv[1]) ||
	    op_client_alloc(&c, &addrs, &tls, 10000) != OP_OK ||
	    op_pack(&env.base, &req, &len) != OP_OK)
		return 1;
	rv = op_client_call(c, req, len, &rep, &rlen);
	free(req);
	free(rep);
	if (rv != OP_OK) {
		fprintf(stderr, "nng_idle: cannot reach %s: %s\n", argv[1],
		        op_strerror(rv));
		return 1;
	}
	printf("connected\n");
	fflush(stdout);
	for (;;)
		pause(); /* SIGTERM's default action ends the process */
}
