/*
 * Remote Redis servers: `INFO server` over a plain TCP connection (the
 * inline command form, so no client library), redis_version -> product
 * "redis" (or the configured one, e.g. amazon-elasticache-redis).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collect.h"
#include "op_error.h"
#include "op_log.h"
#include "op_time.h"
#include "version.h"

#define MOD "redis"

static long long
redis_interval(const struct agent_conf *c)
{
	return c->probes_enabled && c->probe_redis.n ? c->probes_interval_s : 0;
}

/* Splits "host:port" ("[::1]:6379" too) into host and port. */
static int
redis_split(const char *addr, char *host, size_t hsz, char *port, size_t psz)
{
	const char *colon = strrchr(addr, ':');
	size_t n;

	if (colon == NULL || colon[1] == '\0')
		return OP_EINVAL;
	n = (size_t)(colon - addr);
	if (addr[0] == '[' && n >= 2 && addr[n - 1] == ']') {
		addr++;
		n -= 2;
	}
	if (n == 0 || n >= hsz || strlen(colon + 1) >= psz)
		return OP_EINVAL;
	memcpy(host, addr, n);
	host[n] = '\0';
	strcpy(port, colon + 1);
	return OP_OK;
}

/* Waits until fd is ready for events or the deadline passes. */
static int
redis_ready(int fd, short events, int64_t deadline)
{
	struct pollfd p = {fd, events, 0};
	int64_t left = deadline - op_time_mono_ms();

	return left > 0 && poll(&p, 1, (int)left) == 1 ? OP_OK : OP_ETIMEDOUT;
}

static int
redis_connect_one(const struct addrinfo *ai, int64_t deadline)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	int err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -1;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if ((connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
	     (errno == EINPROGRESS &&
	      redis_ready(fd, POLLOUT, deadline) == OP_OK &&
	      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
	      err == 0)))
		return fd;
	close(fd);
	return -1;
}

static int
redis_connect(const char *addr, int64_t deadline)
{
	struct addrinfo hints = {0}, *res = NULL;
	char host[256], port[16];
	int fd = -1;

	if (redis_split(addr, host, sizeof(host), port, sizeof(port)) != OP_OK)
		return -1;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = redis_connect_one(ai, deadline);
	freeaddrinfo(res);
	return fd;
}

static int
redis_send(int fd, const char *s, int64_t deadline)
{
	size_t len = strlen(s), off = 0;

	while (off < len) {
		ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			return OP_EIO;
		else if (redis_ready(fd, POLLOUT, deadline) != OP_OK)
			return OP_ETIMEDOUT;
	}
	return OP_OK;
}

/* Reads until buf holds a line naming redis_version (or an error reply). */
static int
redis_recv(int fd, char *buf, size_t size, int64_t deadline)
{
	size_t len = 0;

	buf[0] = '\0';
	while (len + 1 < size && !strstr(buf, "redis_version:") &&
	       buf[0] != '-') {
		ssize_t n;
		if (redis_ready(fd, POLLIN, deadline) != OP_OK)
			return OP_ETIMEDOUT;
		n = recv(fd, buf + len, size - 1 - len, 0);
		if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
			return OP_EIO;
		len += n > 0 ? (size_t)n : 0;
		buf[len] = '\0';
	}
	if (buf[0] == '-')
		return OP_EREJECTED;
	if (strstr(buf, "redis_version:") == NULL)
		return OP_EPROTO;
	/* The whole version line must be in. */
	while (len + 1 < size && !strchr(strstr(buf, "redis_version:"), '\n')) {
		ssize_t n;
		if (redis_ready(fd, POLLIN, deadline) != OP_OK ||
		    (n = recv(fd, buf + len, size - 1 - len, 0)) <= 0)
			return OP_EIO;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return OP_OK;
}

/* The server's version into out, over one connection. */
static int
redis_version(const struct agent_conf *c, const struct agent_probe *p,
              char *out, size_t size)
{
	int64_t deadline = op_time_mono_ms() + c->probes_timeout_ms;
	char cmd[600], buf[8192];
	int fd = redis_connect(p->target, deadline), rv;
	const char *v;

	if (fd < 0)
		return OP_EUNREACHABLE;
	cmd[0] = '\0';
	/* AUTH's +OK comes first and is skipped over by redis_recv. */
	if (p->password && strlen(p->password) < 500)
		snprintf(cmd, sizeof(cmd), "AUTH %s\r\n", p->password);
	strcat(cmd, "INFO server\r\n");
	if ((rv = redis_send(fd, cmd, deadline)) == OP_OK)
		rv = redis_recv(fd, buf, sizeof(buf), deadline);
	close(fd);
	if (rv != OP_OK)
		return rv;
	v = strstr(buf, "redis_version:") + strlen("redis_version:");
	return agent_version_extract(v, strcspn(v, "\r\n"), out, size);
}

static int
redis_collect(void *state, const struct agent_conf *c, struct agent_sink *out)
{
	char version[128];
	int rv = OP_OK;

	(void)state;
	for (size_t i = 0; rv == OP_OK && i < c->probe_redis.n; i++) {
		const struct agent_probe *p = &c->probe_redis.items[i];
		int r = redis_version(c, p, version, sizeof(version));
		if (r != OP_OK) {
			op_warn(MOD, "cannot read the version of %s: %s",
			        p->target, op_strerror(r));
			continue;
		}
		rv = agent_sink_component(out, p->service, p->product, version);
	}
	return rv;
}

const struct agent_collector agent_collector_redis = {
    .name = "redis",
    .interval_s = redis_interval,
    .collect = redis_collect,
};
