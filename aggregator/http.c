#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "http.h"
#include "http_int.h"
#include "metrics.h"
#include "op_error.h"
#include "op_http.h"
#include "op_log.h"
#include "op_time.h"
#include "op_transport.h"
#include "query.h"
#include "store.h"

#define MOD "http"

struct agg_http {
	struct op_http_server *server;
	struct op_server *transport; /* for its refused handshakes */
	struct store *store;
	pthread_mutex_t lock; /* one request at a time on store */
};

/* ---- query strings ---------------------------------------------------- */

/* The value of hex digit c, or -1. */
static int
http_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
http_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (*s == '%') {
			int hi = http_hex((unsigned char)s[1]), lo;
			if (hi < 0 ||
			    (lo = http_hex((unsigned char)s[2])) < 0 ||
			    (hi == 0 && lo == 0))
				return OP_EINVAL;
			*o++ = (char)(hi * 16 + lo);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return OP_OK;
}

/* Sets the field of req that the decoded parameter k=v names; v stays
 * in place (req points at it).  Returns OP_OK or OP_EINVAL with err set:
 * an unknown name, one service too many, a time that does not parse. */
static int
http_report_param(char *k, char *v, int64_t now, char **services,
                  Opspulse__V1__QueryRequest *req, char *err, size_t errsz)
{
	int64_t *t = NULL;

	if (strcmp(k, "since") == 0)
		t = &req->since_us;
	else if (strcmp(k, "until") == 0)
		t = &req->until_us;
	else if (strcmp(k, "team") == 0)
		req->team = v;
	else if (strcmp(k, "env") == 0)
		req->env = v;
	else if (strcmp(k, "format") == 0)
		req->format = v;
	else if (strcmp(k, "service") == 0 &&
	         req->n_services < HTTP_MAX_SERVICE)
		services[req->n_services++] = v;
	else {
		snprintf(err, errsz,
		         "unknown parameter '%.40s' (or too many); use "
		         "since, until, service, team, env, format",
		         k);
		return OP_EINVAL;
	}
	if (t && op_time_parse_arg(v, now, t) != OP_OK) {
		snprintf(err, errsz,
		         "%s=%.60s: not a time; use RFC 3339 "
		         "(2026-10-05 or 2026-10-05T09:00:00Z) or an age "
		         "(7d, 12w)",
		         k, v);
		return OP_EINVAL;
	}
	return OP_OK;
}

/* Splits one "k=v" of the query string at its '=' and decodes both
 * halves in place into *k and *v.  Returns OP_OK, or OP_EINVAL with err
 * set (no '=', a bad escape). */
static int
http_split(char *kv, char **k, char **v, char *err, size_t errsz)
{
	if ((*v = strchr(kv, '=')) == NULL) {
		snprintf(err, errsz, "parameter '%.40s' has no value", kv);
		return OP_EINVAL;
	}
	*(*v)++ = '\0';
	*k = kv;
	if (http_unescape(*k) != OP_OK || http_unescape(*v) != OP_OK) {
		snprintf(err, errsz, "bad %%-escape in the query string");
		return OP_EINVAL;
	}
	return OP_OK;
}

int
http_report_request(const char *query, char **buf, char **services,
                    Opspulse__V1__QueryRequest *req, char *err, size_t errsz)
{
	static char report[] = "report";
	int64_t now = op_time_now_us();
	char *save = NULL, *kv, *k, *v;
	int rv = OP_OK;

	*buf = NULL;
	opspulse__v1__query_request__init(req);
	req->name = report;
	req->services = services;
	if (strlen(query) > HTTP_MAX_QUERY) {
		snprintf(err, errsz, "query string over %d bytes",
		         HTTP_MAX_QUERY);
		return OP_EINVAL;
	}
	if ((*buf = strdup(query)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return OP_ENOMEM;
	}
	for (kv = strtok_r(*buf, "&", &save); kv && rv == OP_OK;
	     kv = strtok_r(NULL, "&", &save)) {
		if ((rv = http_split(kv, &k, &v, err, errsz)) == OP_OK)
			rv = http_report_param(k, v, now, services, req, err,
			                       errsz);
	}
	return rv;
}

int
http_status(int rv)
{
	switch (rv) {
	case OP_EINVAL:
	case OP_ENOTFOUND:
		return 400;
	case OP_EUNAVAIL:
		return 503;
	default:
		return 500;
	}
}

/* ---- handlers --------------------------------------------------------- */

/* GET /report: the review page for the query string's window and
 * filters (http_int.h), through dispatch.h; 400 for a bad request, 503
 * while the database is unreachable. */
static void
http_report(void *arg, const struct op_http_request *r,
            struct op_http_response *res)
{
	struct agg_http *h = arg;
	Opspulse__V1__QueryRequest req;
	Opspulse__V1__QueryResult *out = NULL;
	char *services[HTTP_MAX_SERVICE], *buf = NULL, err[512];
	int64_t t0 = op_time_mono_us();
	int rv;

	rv = http_report_request(r->query, &buf, services, &req, err,
	                         sizeof(err));
	if (rv == OP_OK) {
		pthread_mutex_lock(&h->lock);
		rv = dispatch_query(h->store, &req, &out, err, sizeof(err));
		pthread_mutex_unlock(&h->lock);
		metrics_query(rv == OP_OK,
		              (double)(op_time_mono_us() - t0) / 1e6);
	}
	if (rv != OP_OK) {
		op_http_reply(res, http_status(rv), "%s", err);
	} else {
		/* Take the document over from the result. */
		res->body = out->rows[0]->cells[0]->text;
		res->body_len = strlen(res->body);
		out->rows[0]->cells[0]->text = NULL;
		res->content_type =
		    req.format && strncmp(req.format, "m", 1) == 0
		        ? "text/markdown; charset=utf-8"
		        : "text/html; charset=utf-8";
		op_debug(MOD, "report: %zu bytes in %lld ms", res->body_len,
		         (long long)(op_time_mono_us() - t0) / 1000);
	}
	store_result_free(out);
	free(buf);
}

/* GET /healthz: 200 when the database is reachable and its schema
 * current, 503 saying which is not. */
static void
http_healthz(void *arg, const struct op_http_request *r,
             struct op_http_response *res)
{
	struct agg_http *h = arg;
	int rv;

	(void)r;
	pthread_mutex_lock(&h->lock);
	rv = store_ready(h->store);
	pthread_mutex_unlock(&h->lock);
	if (rv == OP_OK)
		op_http_reply(res, 200, "ok");
	else if (rv == OP_EUNAVAIL)
		op_http_reply(res, 503, "database unreachable");
	else
		op_http_reply(res, 503,
		              "database schema is older than this aggregator: "
		              "run opspulse-aggregator migrate");
}

/* Per-service indicator gauges over the default window: the query, its
 * column, and the metric it becomes. */
static const struct http_gauge {
	const char *query, *column, *metric, *help;
	double scale; /* to the metric's base unit (seconds) */
} http_gauges[] = {
    {"dora", "deploys_per_week", "opspulse_deploys_per_week",
     "Successful production deploys per week.", 1},
    {"dora", "lead_time_p50_hours", "opspulse_lead_time_p50_seconds",
     "Median lead time from commit to deploy.", 3600},
    {"dora", "change_failure_rate", "opspulse_change_failure_ratio",
     "Share of deploys that failed (0-1).", 1},
    {"dora", "recovery_time_p50_hours", "opspulse_recovery_time_p50_seconds",
     "Median time from a failed deploy to the next good one.", 3600},
    {"toil", "toil_hours", "opspulse_toil_seconds", "Toil recorded.", 3600},
    {"toil", "bus_factor", "opspulse_toil_bus_factor",
     "Fewest people doing 80 % of the toil.", 1},
    {"alerts", "fired", "opspulse_alert_episodes",
     "Alert episodes that started.", 1},
    {"alerts", "noise_share", "opspulse_alert_noise_ratio",
     "Share of alert episodes resolved within the noise threshold (0-1).", 1},
    {"alerts", "mttr_p50_minutes", "opspulse_alert_mttr_p50_seconds",
     "Median alert episode duration.", 60},
};
#define HTTP_NGAUGES (sizeof(http_gauges) / sizeof(http_gauges[0]))

/* A label value in the text format: backslash, quote and newline
 * escaped. */
static void
http_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* One gauge g from result r: a sample per service with a value. */
static void
http_gauge(FILE *f, const struct http_gauge *g,
           const Opspulse__V1__QueryResult *r)
{
	int sc = store_result_column(r, "service");
	int vc = store_result_column(r, g->column);

	fprintf(f, "# HELP %s %s Window: the last 28 days.\n# TYPE %s gauge\n",
	        g->metric, g->help, g->metric);
	if (sc < 0 || vc < 0)
		return;
	for (size_t i = 0; i < r->n_rows; i++) {
		const Opspulse__V1__Row *row = r->rows[i];
		if ((size_t)vc >= row->n_cells || (size_t)sc >= row->n_cells ||
		    row->cells[vc]->is_null) /* no data: no sample, not 0 */
			continue;
		fprintf(f, "%s{service=\"", g->metric);
		http_label(f, row->cells[sc]->text);
		fprintf(f, "\"} %.10g\n",
		        strtod(row->cells[vc]->text, NULL) * g->scale);
	}
}

/* The gauges, one query per indicator; 1 when the database answered. */
static int
http_indicators(struct agg_http *h, FILE *f)
{
	static char dora[] = "dora", toil[] = "toil", alerts[] = "alerts",
	            incidents[] = "incidents";
	static char *const queries[] = {dora, toil, alerts, incidents};
	Opspulse__V1__QueryResult *r[4] = {NULL, NULL, NULL, NULL};
	char err[256];
	int ok = 1;

	pthread_mutex_lock(&h->lock);
	for (int q = 0; q < 4 && ok; q++) {
		Opspulse__V1__QueryRequest req;
		opspulse__v1__query_request__init(&req);
		req.name = queries[q];
		if (query_run(h->store, &req, &r[q], err, sizeof(err)) !=
		    OP_OK) {
			op_debug(MOD, "metrics: %s: %s", queries[q], err);
			ok = 0;
		}
	}
	pthread_mutex_unlock(&h->lock);
	for (size_t g = 0; ok && g < HTTP_NGAUGES; g++) {
		int q = 0;
		while (strcmp(queries[q], http_gauges[g].query) != 0)
			q++;
		http_gauge(f, &http_gauges[g], r[q]);
	}
	if (ok)
		metrics_incidents_render(f, r[3]);
	for (int q = 0; q < 4; q++)
		store_result_free(r[q]);
	return ok;
}

/* The SLO gauges (metrics_slo_render) from opspulse.slo over the default
 * window; 1 when the database answered. */
static int
http_slo(struct agg_http *h, FILE *f)
{
	static char slo[] = "slo";
	Opspulse__V1__QueryResult *r = NULL;
	Opspulse__V1__QueryRequest req;
	char err[256];
	int rv;

	opspulse__v1__query_request__init(&req);
	req.name = slo;
	pthread_mutex_lock(&h->lock);
	rv = query_run(h->store, &req, &r, err, sizeof(err));
	pthread_mutex_unlock(&h->lock);
	if (rv != OP_OK)
		op_debug(MOD, "metrics: slo: %s", err);
	else
		metrics_slo_render(f, r);
	store_result_free(r);
	return rv == OP_OK;
}

/* GET /metrics: the counters, refused handshakes, indicator gauges and
 * whether the database answered; 500 only when out of memory. */
static void
http_metrics(void *arg, const struct op_http_request *r,
             struct op_http_response *res)
{
	struct agg_http *h = arg;
	size_t len = 0;
	FILE *f;
	int up;

	(void)r;
	if ((f = open_memstream(&res->body, &len)) == NULL) {
		op_http_reply(res, 500, "out of memory");
		return;
	}
	metrics_render(f);
	fprintf(f,
	        "# HELP opspulse_tls_handshakes_refused_total TLS connections "
	        "refused in the handshake: no client certificate, an expired "
	        "one, or one another CA signed (counted every few seconds).\n"
	        "# TYPE opspulse_tls_handshakes_refused_total counter\n"
	        "opspulse_tls_handshakes_refused_total %llu\n",
	        (unsigned long long)op_server_refused(h->transport));
	up = http_indicators(h, f);
	up = up && http_slo(h, f);
	fprintf(f,
	        "# HELP opspulse_database_up Whether the indicator queries "
	        "of this scrape reached the database.\n"
	        "# TYPE opspulse_database_up gauge\nopspulse_database_up %d\n",
	        up);
	if (fclose(f) != 0) {
		free(res->body);
		res->body = NULL;
		op_http_reply(res, 500, "out of memory");
		return;
	}
	res->body_len = len;
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

int
agg_http_start(struct agg_http **out, const char *addr, const char *conninfo,
               struct op_server *server)
{
	struct agg_http *h = calloc(1, sizeof(*h));
	int rv;

	*out = NULL;
	if (h == NULL || store_alloc(&h->store, conninfo) != OP_OK) {
		free(h);
		return OP_ENOMEM;
	}
	h->transport = server;
	pthread_mutex_init(&h->lock, NULL);
	const struct op_http_route routes[] = {
	    {"GET", "/report", 0, http_report, h},
	    {"GET", "/healthz", 0, http_healthz, h},
	    {"GET", "/metrics", 0, http_metrics, h},
	};
	if ((rv = op_http_start(&h->server, addr, routes, 3)) != OP_OK) {
		agg_http_stop(h);
		return rv;
	}
	op_info(MOD, "serving /report, /healthz and /metrics on %s", addr);
	*out = h;
	return OP_OK;
}

void
agg_http_stop(struct agg_http *h)
{
	if (h == NULL)
		return;
	op_http_stop(h->server);
	store_free(h->store);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
