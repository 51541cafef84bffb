/*
 * The daemon's Alertmanager webhook: POST /alertmanager (SPEC §2 item 4).
 * Checks the bearer token when one is configured, parses the payload
 * (alertmanager.c) and records its alerts to the spool before answering
 * 200, so that an acknowledged notification is durable.  Answers 400 to a
 * malformed payload, 401 without the token, 413 past webhook.max_bytes
 * and 503 when the spool cannot take the alerts (Alertmanager retries).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "alertmanager.h"
#include "op_error.h"
#include "op_http.h"
#include "op_log.h"
#include "op_time.h"

#define MOD "webhook"

struct agent_webhook {
	const struct agent_conf *conf;
	struct op_http_server *http;
};

/* Compares in time independent of where a and b first differ. */
static int
webhook_same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned diff = la != lb;

	for (size_t i = 0; i < la; i++)
		diff |=
		    (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
	return diff == 0;
}

static int
webhook_authorised(const struct agent_conf *c, const struct op_http_request *q)
{
	const char *h = op_http_header(q, "Authorization");

	if (c->webhook_token == NULL || *c->webhook_token == '\0')
		return 1;
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return 0;
	return webhook_same(h + 7, c->webhook_token);
}

/* Records the parsed alerts; fills the answer. */
static void
webhook_record(const struct agent_conf *c, struct am_payload *p,
               struct op_http_response *res)
{
	op_event **evs = calloc(p->n ? p->n : 1, sizeof(*evs));

	if (evs == NULL) {
		op_http_reply(res, 500, "out of memory");
		return;
	}
	for (size_t i = 0; i < p->n; i++)
		evs[i] = &p->events[i].ev;
	if (p->n > 0 && agent_record(c, evs, p->n) != OP_OK) {
		op_error(MOD, "cannot record %zu alerts in spool %s", p->n,
		         c->spool_dir);
		op_http_reply(res, 503, "cannot record the alerts; retry");
	} else {
		if (p->skipped)
			op_warn(MOD, "left out %zu alerts: %s", p->skipped,
			        p->skip_reason);
		op_debug(MOD, "recorded %zu events (%zu incident records)",
		         p->n, p->incidents);
		res->content_type = "application/json";
		op_http_reply(res, 200, "{\"recorded\":%zu,\"skipped\":%zu}",
		              p->n, p->skipped);
	}
	free(evs);
}

static void
webhook_handle(void *arg, const struct op_http_request *q,
               struct op_http_response *res)
{
	struct agent_webhook *w = arg;
	struct am_payload p;
	char err[256];
	int rv;

	if (!webhook_authorised(w->conf, q)) {
		res->header_name = "WWW-Authenticate";
		res->header_value = "Bearer";
		op_http_reply(res, 401, "a bearer token is required");
		return;
	}
	rv = am_parse(q->body, q->body_len, w->conf, op_time_now_us(), &p, err,
	              sizeof(err));
	if (rv == OP_OK) {
		webhook_record(w->conf, &p, res);
	} else {
		op_warn(MOD, "refused a notification: %s", err);
		op_http_reply(res, rv == OP_ENOMEM ? 500 : 400, "%s", err);
	}
	am_payload_free(&p);
}

int
agent_webhook_start(struct agent_webhook **out, const struct agent_conf *c)
{
	struct agent_webhook *w;
	struct op_http_route route = {"POST", "/alertmanager", 0,
	                              webhook_handle, NULL};
	int rv;

	*out = NULL;
	if (c->webhook_listen == NULL || *c->webhook_listen == '\0')
		return OP_OK;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return OP_ENOMEM;
	w->conf = c;
	route.max_body = (size_t)c->webhook_max_bytes;
	route.arg = w;
	if ((rv = op_http_start(&w->http, c->webhook_listen, &route, 1)) !=
	    OP_OK) {
		free(w);
		return rv;
	}
	op_info(MOD, "Alertmanager webhook on http://%s/alertmanager%s",
	        c->webhook_listen,
	        c->webhook_token && *c->webhook_token ? " (bearer token)" : "");
	*out = w;
	return OP_OK;
}

void
agent_webhook_stop(struct agent_webhook *w)
{
	if (w == NULL)
		return;
	op_http_stop(w->http);
	free(w);
}
