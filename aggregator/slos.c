#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libconfig.h>

#include "op_error.h"
#include "op_log.h"
#include "query.h"
#include "slos.h"
#include "store.h"

#define MOD "slos"

static const char *const slos_keys[] = {"service", "availability", "latency_ms",
                                        "latency_target"};

#define SLOS_NKEYS (sizeof(slos_keys) / sizeof(slos_keys[0]))

/* Whether s is a plain decimal: digits, at most one point between
 * digits. */
static int
slos_decimal(const char *s)
{
	size_t digits = strspn(s, "0123456789");

	if (digits == 0 || digits > 30)
		return 0;
	if (s[digits] == '\0')
		return 1;
	return s[digits] == '.' && s[digits + 1] != '\0' &&
	       strspn(s + digits + 1, "0123456789") == strlen(s + digits + 1) &&
	       strlen(s + digits + 1) <= 30;
}

/* The shortest decimal that reads back as v: the text the file had for
 * any number of up to 15 significant digits (99.9 stays "99.9"). */
static void
slos_shortest(double v, char *buf, size_t size)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* The text of number key of entry e into *out (left NULL when the key is
 * absent).  Returns OP_OK, OP_EINVAL (not a number) or OP_ENOMEM. */
static int
slos_number(const config_setting_t *e, const char *key, char **out)
{
	const config_setting_t *v = config_setting_get_member(e, key);
	char buf[64];

	if (v == NULL)
		return OP_OK;
	switch (config_setting_type(v)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(buf, sizeof(buf), "%lld",
		         (long long)config_setting_get_int64(v));
		break;
	case CONFIG_TYPE_FLOAT:
		slos_shortest(config_setting_get_float(v), buf, sizeof(buf));
		break;
	case CONFIG_TYPE_STRING:
		if (!slos_decimal(config_setting_get_string(v)))
			return OP_EINVAL;
		snprintf(buf, sizeof(buf), "%s", config_setting_get_string(v));
		break;
	default:
		return OP_EINVAL;
	}
	if (strchr(buf, 'n') || strchr(buf, 'i')) /* nan, inf */
		return OP_EINVAL;
	return (*out = strdup(buf)) ? OP_OK : OP_ENOMEM;
}

/* Writes to err the first member of e that is not an SLO key. */
static int
slos_unknown_key(const config_setting_t *e, const char *service, int line,
                 char *err, size_t errsz)
{
	for (int i = 0; i < config_setting_length(e); i++) {
		const char *name =
		    config_setting_get_elem(e, (unsigned)i)->name;
		size_t k = 0;

		while (k < SLOS_NKEYS && strcmp(name, slos_keys[k]) != 0)
			k++;
		if (k == SLOS_NKEYS) {
			snprintf(err, errsz,
			         "line %d: slo of %s: unknown key '%s'; the "
			         "keys are service, availability, latency_ms "
			         "and latency_target",
			         line, service, name);
			return OP_EINVAL;
		}
	}
	return OP_OK;
}

/* A percentage target must lie strictly between 0 and 100. */
static int
slos_check_pct(const char *v, const char *key, const struct agg_slo *o,
               char *err, size_t errsz)
{
	double d;

	if (v == NULL)
		return OP_OK;
	d = strtod(v, NULL);
	if (d > 0 && d < 100)
		return OP_OK;
	snprintf(err, errsz,
	         "line %d: slo of %s: %s %s is outside (0, 100); write the "
	         "target as a percentage such as 99.9",
	         o->line, o->service, key, v);
	return OP_EINVAL;
}

/* The objectives of o: at least one, latency_ms with latency_target,
 * percentages inside (0, 100), a positive threshold. */
static int
slos_check(const struct agg_slo *o, char *err, size_t errsz)
{
	if ((o->latency_ms == NULL) != (o->latency_target == NULL)) {
		snprintf(err, errsz,
		         "line %d: slo of %s: latency_ms and latency_target "
		         "go together (latency_ms = 300.0; latency_target = "
		         "99.0;)",
		         o->line, o->service);
		return OP_EINVAL;
	}
	if (o->availability == NULL && o->latency_ms == NULL) {
		snprintf(err, errsz,
		         "line %d: slo of %s names no objective; set "
		         "availability, or latency_ms with latency_target",
		         o->line, o->service);
		return OP_EINVAL;
	}
	if (o->latency_ms && !(strtod(o->latency_ms, NULL) > 0)) {
		snprintf(err, errsz,
		         "line %d: slo of %s: latency_ms %s must be above 0",
		         o->line, o->service, o->latency_ms);
		return OP_EINVAL;
	}
	if (slos_check_pct(o->availability, "availability", o, err, errsz) ||
	    slos_check_pct(o->latency_target, "latency_target", o, err, errsz))
		return OP_EINVAL;
	return OP_OK;
}

/* The numbers of entry e into o. */
static int
slos_numbers(const config_setting_t *e, struct agg_slo *o, char *err,
             size_t errsz)
{
	static const char *const keys[] = {"availability", "latency_ms",
	                                   "latency_target"};
	char **fields[] = {&o->availability, &o->latency_ms,
	                   &o->latency_target};

	for (size_t i = 0; i < 3; i++) {
		int rv = slos_number(e, keys[i], fields[i]);
		if (rv == OP_ENOMEM)
			return rv;
		if (rv != OP_OK) {
			snprintf(err, errsz,
			         "line %d: slo of %s: %s must be a number "
			         "such as 99.9",
			         o->line, o->service, keys[i]);
			return OP_EINVAL;
		}
	}
	return OP_OK;
}

static int
slos_parse_one(const config_setting_t *e, struct agg_slo *o, char *err,
               size_t errsz)
{
	const char *service = NULL;
	int rv;

	o->line = config_setting_source_line(e);
	if (!config_setting_is_group(e) ||
	    !config_setting_lookup_string(e, "service", &service) ||
	    !*service) {
		snprintf(err, errsz,
		         "line %d: each slo needs a service: { service = "
		         "\"billing\"; availability = 99.9; }",
		         o->line);
		return OP_EINVAL;
	}
	if ((o->service = strdup(service)) == NULL)
		return OP_ENOMEM;
	if ((rv = slos_unknown_key(e, service, o->line, err, errsz)) ||
	    (rv = slos_numbers(e, o, err, errsz)))
		return rv;
	return slos_check(o, err, errsz);
}

/* An SLO per service: a second entry would hide the first. */
static int
slos_check_duplicate(const struct agg_conf *c, size_t i, char *err,
                     size_t errsz)
{
	for (size_t j = 0; j < i; j++) {
		if (strcmp(c->slos[j].service, c->slos[i].service) != 0)
			continue;
		snprintf(err, errsz,
		         "line %d: slo of %s: the service already has one at "
		         "line %d; put both objectives in one entry",
		         c->slos[i].line, c->slos[i].service, c->slos[j].line);
		return OP_EINVAL;
	}
	return OP_OK;
}

int
slos_conf_parse(const config_setting_t *s, void *target, char *err,
                size_t errsz)
{
	struct agg_conf *c = target;
	int n = config_setting_length(s), rv;

	if (!config_setting_is_list(s)) {
		snprintf(err, errsz,
		         "a list of groups: ( { service = ...; availability "
		         "= 99.9; } )");
		return OP_EINVAL;
	}
	slos_conf_free(c);
	if ((c->slos = calloc((size_t)n + 1, sizeof(*c->slos))) == NULL)
		return OP_ENOMEM;
	for (int i = 0; i < n; i++) {
		c->nslos++;
		rv = slos_parse_one(config_setting_get_elem(s, (unsigned)i),
		                    &c->slos[i], err, errsz);
		if (rv == OP_OK)
			rv = slos_check_duplicate(c, (size_t)i, err, errsz);
		if (rv != OP_OK)
			return rv;
	}
	return OP_OK;
}

void
slos_conf_free(void *target)
{
	struct agg_conf *c = target;

	for (size_t i = 0; i < c->nslos; i++) {
		free(c->slos[i].service);
		free(c->slos[i].availability);
		free(c->slos[i].latency_ms);
		free(c->slos[i].latency_target);
	}
	free(c->slos);
	c->slos = NULL;
	c->nslos = 0;
}

static int
slos_in_teams(const struct agg_conf *c, const char *service)
{
	for (size_t i = 0; i < c->nteams; i++) {
		for (size_t j = 0; j < c->teams[i].services.n; j++) {
			if (strcmp(c->teams[i].services.items[j], service) == 0)
				return 1;
		}
	}
	return 0;
}

int
slos_conf_warn(const struct agg_conf *c, const char *file)
{
	int n = 0;

	for (size_t i = 0; c->nteams && i < c->nslos; i++) {
		if (slos_in_teams(c, c->slos[i].service))
			continue;
		op_warn(MOD,
		        "%s:%d: slo service '%s' is in no team's services; "
		        "is it spelled as the agents send it?",
		        file, c->slos[i].line, c->slos[i].service);
		n++;
	}
	return n;
}

void
slos_take(struct agg_conf *c, struct agg_conf *next)
{
	struct agg_conf old = *c;

	c->slos = next->slos;
	c->nslos = next->nslos;
	c->slo_window_days = next->slo_window_days;
	next->slos = old.slos;
	next->nslos = old.nslos;
	next->slo_window_days = old.slo_window_days;
}

struct slos_sync {
	struct store *store;
	int pending;
	int down_logged;
};

int
slos_sync_alloc(struct slos_sync **out, const char *conninfo)
{
	struct slos_sync *t = calloc(1, sizeof(*t));

	if (t == NULL || store_alloc(&t->store, conninfo) != OP_OK) {
		free(t);
		return OP_ENOMEM;
	}
	*out = t;
	return OP_OK;
}

void
slos_sync_free(struct slos_sync *t)
{
	if (t == NULL)
		return;
	store_free(t->store);
	free(t);
}

int
slos_sync_pending(const struct slos_sync *t)
{
	return t->pending;
}

/* The columns of opspulse.sync_slos: one element per objective. */
enum { S_SERVICE, S_OBJECTIVE, S_TARGET, S_THRESHOLD, S_NCOLS };

/* Fills cols (arrays of c->nslos * 2 borrowed strings) with c's
 * objectives; returns how many. */
static size_t
slos_columns(const struct agg_conf *c, char **cols[S_NCOLS])
{
	size_t n = 0;

	for (size_t i = 0; i < c->nslos; i++) {
		const struct agg_slo *o = &c->slos[i];
		if (o->availability) {
			cols[S_SERVICE][n] = o->service;
			cols[S_OBJECTIVE][n] = "availability";
			cols[S_TARGET][n] = o->availability;
			cols[S_THRESHOLD][n++] = NULL;
		}
		if (o->latency_ms) {
			cols[S_SERVICE][n] = o->service;
			cols[S_OBJECTIVE][n] = "latency";
			cols[S_TARGET][n] = o->latency_target;
			cols[S_THRESHOLD][n++] = o->latency_ms;
		}
	}
	return n;
}

/* One sync_slos call with c's objectives.  Returns OP_OK, OP_ENOMEM,
 * OP_EUNAVAIL or OP_EDB (err set). */
static int
slos_write(struct slos_sync *t, const struct agg_conf *c, char *err,
           size_t errsz)
{
	static const char sql[] =
	    "SELECT opspulse.sync_slos($1::text[], $2::text[], $3::text[], "
	    "$4::text[], $5::integer)";
	char **cols[S_NCOLS] = {NULL}, *lits[S_NCOLS + 1] = {NULL};
	char days[32];
	size_t n = 0;
	int rv = OP_OK;

	for (int i = 0; i < S_NCOLS && rv == OP_OK; i++)
		if ((cols[i] = calloc(c->nslos * 2 + 1, sizeof(char *))) ==
		    NULL)
			rv = OP_ENOMEM;
	if (rv == OP_OK)
		n = slos_columns(c, cols);
	for (int i = 0; i < S_NCOLS && rv == OP_OK; i++)
		if ((lits[i] = query_array_literal(cols[i], n)) == NULL)
			rv = OP_ENOMEM;
	snprintf(days, sizeof(days), "%lld", c->slo_window_days);
	lits[S_NCOLS] = days;
	if (rv == OP_OK)
		rv = store_command(t->store, sql, (const char *const *)lits,
		                   S_NCOLS + 1, err, errsz);
	for (int i = 0; i < S_NCOLS; i++) {
		free(cols[i]);
		free(lits[i]);
	}
	return rv;
}

/* The line of service's entry in c, or 0. */
static int
slos_line(const struct agg_conf *c, const char *service)
{
	for (size_t i = 0; i < c->nslos; i++)
		if (strcmp(c->slos[i].service, service) == 0)
			return c->slos[i].line;
	return 0;
}

/* Warns about each SLO service the database has never had an event
 * of: most likely a name the agents spell differently. */
static void
slos_warn_unseen(struct slos_sync *t, const struct agg_conf *c)
{
	static const char sql[] =
	    "SELECT DISTINCT o.service FROM opspulse.slos o "
	    "WHERE NOT EXISTS (SELECT 1 FROM opspulse.services s "
	    "WHERE s.service = o.service) ORDER BY 1";
	Opspulse__V1__QueryResult *r = NULL;
	char err[256];

	if (store_query(t->store, sql, NULL, 0, &r, err, sizeof(err)) != OP_OK)
		return;
	for (size_t i = 0; i < r->n_rows; i++) {
		const char *s = r->rows[i]->cells[0]->text;
		op_warn(MOD,
		        "%s:%d: no events of service '%s' have been received "
		        "yet; its SLO shows no data until they are (is the "
		        "name spelled as the agents send it?)",
		        c->config_file ? c->config_file : "defaults",
		        slos_line(c, s), s);
	}
	store_result_free(r);
}

void
slos_sync_run(struct slos_sync *t, const struct agg_conf *c)
{
	char err[512] = "";
	int rv = slos_write(t, c, err, sizeof(err));
	const char *file = c->config_file ? c->config_file : "defaults";

	t->pending = rv == OP_EUNAVAIL;
	if (rv == OP_OK) {
		op_info(MOD, "%zu SLOs of %s are in the database", c->nslos,
		        file);
		t->down_logged = 0;
		slos_warn_unseen(t, c);
	} else if (rv == OP_EUNAVAIL && !t->down_logged) {
		op_warn(MOD,
		        "cannot write the SLOs yet (%s); retrying every few "
		        "seconds",
		        err);
		t->down_logged = 1;
	} else if (rv != OP_EUNAVAIL) {
		op_error(MOD,
		         "the database refused the SLOs of %s: %s; fix the "
		         "file and reload (SIGHUP)",
		         file, *err ? err : op_strerror(rv));
	}
}
