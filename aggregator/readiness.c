/*
 * The readiness block of aggregator.conf (SPEC §14); see readiness.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator.h"
#include "readiness.h"

#define READINESS_DEFAULT_CYCLE 182
#define READINESS_MAX_CYCLE     3650

static const char *const readiness_keys[] = {"cycle_days", "backup_tasks",
                                             "restore_tasks", "manual_checks"};

static int
readiness_unknown_key(const config_setting_t *s, char *err, size_t errsz)
{
	int n = config_setting_length(s);

	for (int i = 0; i < n; i++) {
		const config_setting_t *k =
		    config_setting_get_elem(s, (unsigned)i);
		int known = 0;

		for (size_t j = 0; j < 4; j++)
			known |= strcmp(k->name, readiness_keys[j]) == 0;
		if (!known) {
			snprintf(
			    err, errsz,
			    "line %d: readiness: unknown key '%s'; the keys "
			    "are cycle_days, backup_tasks, restore_tasks and "
			    "manual_checks",
			    config_setting_source_line(k), k->name);
			return OP_EINVAL;
		}
	}
	return OP_OK;
}

static int
readiness_cycle(const config_setting_t *s, struct agg_readiness *r, char *err,
                size_t errsz)
{
	const config_setting_t *v = config_setting_get_member(s, "cycle_days");
	int t;

	r->cycle_days = READINESS_DEFAULT_CYCLE;
	if (v == NULL)
		return OP_OK;
	t = config_setting_type(v);
	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
		r->cycle_days = config_setting_get_int64(v);
	if ((t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) ||
	    r->cycle_days < 1 || r->cycle_days > READINESS_MAX_CYCLE) {
		snprintf(err, errsz,
		         "line %d: readiness.cycle_days must be a whole number "
		         "of days from 1 to %d (how long a manual check stays "
		         "valid), such as 182",
		         config_setting_source_line(v), READINESS_MAX_CYCLE);
		return OP_EINVAL;
	}
	return OP_OK;
}

/* A glob OpsPulse matches in SQL: not empty, * and ? as wildcards, none of
 * the characters other glob dialects give a meaning ([ ] \). */
static int
readiness_glob_ok(const char *g)
{
	return *g && strpbrk(g, "[]\\") == NULL;
}

/* Reads list key of s into l; glob: check each item as a glob. */
static int
readiness_list(const config_setting_t *s, const char *key, int glob,
               struct op_strlist *l, char *err, size_t errsz)
{
	const config_setting_t *v = config_setting_get_member(s, key);
	int rv;

	if (v == NULL)
		return OP_OK;
	if (!config_setting_is_array(v) && !config_setting_is_list(v)) {
		snprintf(err, errsz,
		         "line %d: readiness.%s must be a list of strings: [ "
		         "\"%s\" ]",
		         config_setting_source_line(v), key,
		         glob ? "*backup*" : "runbooks_reviewed");
		return OP_EINVAL;
	}
	for (int i = 0; i < config_setting_length(v); i++) {
		const config_setting_t *e =
		    config_setting_get_elem(v, (unsigned)i);
		const char *str = config_setting_get_string(e);
		int line = config_setting_source_line(e);

		if (line == 0)
			line = config_setting_source_line(v);
		if (str == NULL || (glob && !readiness_glob_ok(str)) ||
		    (!glob && !*str)) {
			snprintf(
			    err, errsz,
			    glob ? "line %d: readiness.%s: '%s' is not a "
			           "glob OpsPulse reads; write the task name "
			           "with * for any text and ? for one "
			           "character (no [ ] or \\)"
			         : "line %d: readiness.%s: '%s' is not a "
			           "check name; write a word such as "
			           "runbooks_reviewed",
			    line, key, str ? str : "(not a string)");
			return OP_EINVAL;
		}
		for (size_t j = 0; !glob && j < l->n; j++) {
			if (strcmp(l->items[j], str) == 0) {
				snprintf(
				    err, errsz,
				    "line %d: readiness.%s: '%s' is listed "
				    "twice; list each check once",
				    line, key, str);
				return OP_EINVAL;
			}
		}
		if ((rv = op_strlist_add(l, str)) != OP_OK)
			return rv;
	}
	return OP_OK;
}

int
readiness_conf_parse(const config_setting_t *s, void *target, char *err,
                     size_t errsz)
{
	struct agg_conf *c = target;
	struct agg_readiness *r = &c->readiness;
	int rv;

	readiness_conf_free(c);
	if (!config_setting_is_group(s)) {
		snprintf(err, errsz,
		         "a group: { cycle_days = 182; backup_tasks = [ "
		         "\"*backup*\" ]; }");
		return OP_EINVAL;
	}
	r->set = 1;
	if ((rv = readiness_unknown_key(s, err, errsz)) ||
	    (rv = readiness_cycle(s, r, err, errsz)))
		return rv;
	/* Absent lists keep the defaults of readiness_settings. */
	if (config_setting_get_member(s, "backup_tasks") == NULL &&
	    (rv = op_strlist_add(&r->backup_tasks, "*backup*")))
		return rv;
	if (config_setting_get_member(s, "restore_tasks") == NULL &&
	    (rv = op_strlist_add(&r->restore_tasks, "*restore*")))
		return rv;
	if ((rv = readiness_list(s, "backup_tasks", 1, &r->backup_tasks, err,
	                         errsz)) ||
	    (rv = readiness_list(s, "restore_tasks", 1, &r->restore_tasks, err,
	                         errsz)))
		return rv;
	return readiness_list(s, "manual_checks", 0, &r->manual_checks, err,
	                      errsz);
}

void
readiness_conf_free(void *target)
{
	struct agg_conf *c = target;

	op_strlist_free(&c->readiness.backup_tasks);
	op_strlist_free(&c->readiness.restore_tasks);
	op_strlist_free(&c->readiness.manual_checks);
	memset(&c->readiness, 0, sizeof(c->readiness));
}

/* The items of l joined by newlines (def when l is empty and use_def);
 * NULL when out of memory.  The caller frees it. */
static char *
readiness_join(const struct op_strlist *l, const char *def)
{
	size_t len = def ? strlen(def) + 1 : 1;
	char *out;

	for (size_t i = 0; i < l->n; i++)
		len += strlen(l->items[i]) + 1;
	if ((out = calloc(1, len)) == NULL)
		return NULL;
	if (def)
		strcpy(out, def);
	for (size_t i = 0; i < l->n; i++) {
		if (i > 0)
			strcat(out, "\n");
		strcat(out, l->items[i]);
	}
	return out;
}

int
readiness_settings(const struct agg_readiness *r,
                   void (*add)(void *ctx, const char *key, const char *value),
                   void *ctx)
{
	char cycle[32];
	char *v[3];
	static const char *const keys[3] = {"readiness.backup_tasks",
	                                    "readiness.restore_tasks",
	                                    "readiness.manual_checks"};
	int rv = OP_OK;

	snprintf(cycle, sizeof(cycle), "%lld",
	         r->set ? r->cycle_days : (long long)READINESS_DEFAULT_CYCLE);
	add(ctx, "readiness.cycle_days", cycle);
	v[0] = readiness_join(&r->backup_tasks, r->set ? NULL : "*backup*");
	v[1] = readiness_join(&r->restore_tasks, r->set ? NULL : "*restore*");
	v[2] = readiness_join(&r->manual_checks, NULL);
	for (int i = 0; i < 3; i++) {
		if (v[i] == NULL)
			rv = OP_ENOMEM;
		else if (rv == OP_OK)
			add(ctx, keys[i], v[i]);
	}
	for (int i = 0; i < 3; i++)
		free(v[i]);
	return rv;
}
