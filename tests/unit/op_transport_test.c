/*
 * common/op_transport.c: a client whose server is down keeps dialling it
 * in the background once asked to (op_client_watch), says so through a
 * descriptor as soon as a server listens, and its next request goes out on
 * that connection; not after a request failed on a connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "op_transport.h"

/* A loopback TCP port nobody listens on (just released by the kernel). */
static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* The server's answer: the request, reversed. */
static int
reverse(void *arg, unsigned worker, const struct op_peer *peer,
        const uint8_t *req, size_t len, uint8_t **reply, size_t *reply_len)
{
	(void)arg;
	(void)worker;
	(void)peer;
	if ((*reply = malloc(len ? len : 1)) == NULL)
		return OP_ENOMEM;
	for (size_t i = 0; i < len; i++)
		(*reply)[i] = req[len - 1 - i];
	*reply_len = len;
	return OP_OK;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
readable(int fd, int timeout_ms)
{
	struct pollfd p = {fd, POLLIN, 0};

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static void
test_watch_until_listening(void **state)
{
	char addr[64], *items[1] = {addr};
	struct op_strlist addrs = {items, 1};
	struct op_tls_conf tls = {NULL, NULL, NULL, 1};
	const uint8_t req[] = "abc";
	struct op_client *c = NULL;
	struct op_server *srv = NULL;
	struct op_call *call = NULL;
	uint8_t *rep = NULL;
	size_t replen = 0;
	int64_t t0;
	int fd;

	(void)state;
	snprintf(addr, sizeof(addr), "tcp://127.0.0.1:%d", free_port());
	assert_int_equal(op_client_alloc(&c, &addrs, &tls, 5000), OP_OK);
	/* Connected to nothing: no descriptor to wait on yet. */
	assert_int_equal(op_client_watch(c), -1);
	assert_int_equal(op_client_send(c, req, 3, &call), OP_EUNREACHABLE);
	fd = op_client_watch(c);
	assert_true(fd >= 0);
	/* Asking again while watching gives a descriptor again. */
	assert_true(op_client_watch(c) >= 0);
	assert_false(readable(fd, 300));

	assert_int_equal(op_server_start(&srv, &addrs, &tls, 1, reverse, NULL),
	                 OP_OK);
	t0 = now_ms();
	assert_true(readable(fd, 10000));
	/* nng redials at least once a second; slack for a loaded machine */
	assert_true(now_ms() - t0 < 5000);

	assert_int_equal(op_client_send(c, req, 3, &call), OP_OK);
	assert_int_equal(op_call_wait(c, call, &rep, &replen), OP_OK);
	assert_int_equal(replen, 3);
	assert_memory_equal(rep, "cba", 3);
	free(rep);
	/* Connected: nothing to watch. */
	assert_int_equal(op_client_watch(c), -1);

	op_client_free(c);
	op_server_free(srv);
}

/* Watching, then the server is still down at the next request: that
 * request fails as before (the background dial is dropped for a new
 * attempt), and watching starts again. */
static void
test_watch_still_down(void **state)
{
	char addr[64], *items[1] = {addr};
	struct op_strlist addrs = {items, 1};
	struct op_tls_conf tls = {NULL, NULL, NULL, 1};
	const uint8_t req[] = "x";
	struct op_client *c = NULL;
	struct op_call *call = NULL;

	(void)state;
	snprintf(addr, sizeof(addr), "tcp://127.0.0.1:%d", free_port());
	assert_int_equal(op_client_alloc(&c, &addrs, &tls, 5000), OP_OK);
	assert_int_equal(op_client_send(c, req, 1, &call), OP_EUNREACHABLE);
	assert_true(op_client_watch(c) >= 0);
	assert_int_equal(op_client_send(c, req, 1, &call), OP_EUNREACHABLE);
	assert_true(op_client_watch(c) >= 0);
	op_client_free(c);
}

/* A request that failed on a connection (here: the server went away, and
 * the request timed out waiting for it) is not a reason to redial at once:
 * no watching until a dial finds nobody. */
static void
test_no_watch_after_failed_request(void **state)
{
	char addr[64], *items[1] = {addr};
	struct op_strlist addrs = {items, 1};
	struct op_tls_conf tls = {NULL, NULL, NULL, 1};
	const uint8_t req[] = "ab";
	struct op_client *c = NULL;
	struct op_server *srv = NULL;
	struct op_call *call = NULL;
	uint8_t *rep = NULL;
	size_t replen = 0;

	(void)state;
	snprintf(addr, sizeof(addr), "tcp://127.0.0.1:%d", free_port());
	assert_int_equal(op_server_start(&srv, &addrs, &tls, 1, reverse, NULL),
	                 OP_OK);
	assert_int_equal(op_client_alloc(&c, &addrs, &tls, 500), OP_OK);
	assert_int_equal(op_client_send(c, req, 2, &call), OP_OK);
	assert_int_equal(op_call_wait(c, call, &rep, &replen), OP_OK);
	free(rep);
	op_server_free(srv);

	assert_int_equal(op_client_send(c, req, 2, &call), OP_ETIMEDOUT);
	assert_int_equal(op_client_watch(c), -1);
	assert_int_equal(op_client_send(c, req, 2, &call), OP_EUNREACHABLE);
	assert_true(op_client_watch(c) >= 0);
	op_client_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_watch_until_listening),
	    cmocka_unit_test(test_watch_still_down),
	    cmocka_unit_test(test_no_watch_after_failed_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
