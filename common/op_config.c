#define _DEFAULT_SOURCE /* initgroups */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libconfig.h>

#include "op_config.h"
#include "op_error.h"
#include "op_log.h"

#define MOD "config"

int
op_strlist_add(struct op_strlist *l, const char *s)
{
	char **items = realloc(l->items, (l->n + 1) * sizeof(*items));
	char *copy;

	if (items == NULL)
		return OP_ENOMEM;
	l->items = items;
	if ((copy = strdup(s)) == NULL)
		return OP_ENOMEM;
	l->items[l->n++] = copy;
	return OP_OK;
}

void
op_strlist_free(struct op_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static void *
op_field(void *target, const struct op_cfg_option *o)
{
	return (char *)target + o->offset;
}

/* Sets a string field, replacing any earlier value. */
static int
op_set_string(char **field, const char *value)
{
	char *copy = strdup(value ? value : "");

	if (copy == NULL)
		return OP_ENOMEM;
	free(*field);
	*field = copy;
	return OP_OK;
}

/* Applies the default of o.  Defaults are written by us: a bad one aborts. */
static int
op_apply_default(const struct op_cfg_option *o, void *target)
{
	void *f = op_field(target, o);
	const char *d = o->def ? o->def : "";

	switch (o->type) {
	case OP_CFG_STRING:
		return op_set_string(f, d);
	case OP_CFG_INT:
		*(long long *)f = strtoll(d, NULL, 10);
		return OP_OK;
	case OP_CFG_BOOL:
		*(int *)f = strcmp(d, "true") == 0;
		return OP_OK;
	case OP_CFG_FLOAT:
		*(double *)f = strtod(d, NULL);
		return OP_OK;
	case OP_CFG_STRLIST:
		op_strlist_free(f);
		return *d ? op_strlist_add(f, d) : OP_OK;
	case OP_CFG_CUSTOM:
		return OP_OK;
	}
	return OP_EINVAL;
}

static const char *
op_type_name(enum op_cfg_type t)
{
	static const char *const names[] = {"a string",          "an integer",
	                                    "true or false",     "a number",
	                                    "a list of strings", "a group"};
	return names[t];
}

static int
op_convert_list(const config_setting_t *s, struct op_strlist *l)
{
	int n = config_setting_length(s);

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return OP_EINVAL;
	op_strlist_free(l);
	for (int i = 0; i < n; i++) {
		const char *v = config_setting_get_string_elem(s, i);
		if (v == NULL || op_strlist_add(l, v))
			return OP_EINVAL;
	}
	return OP_OK;
}

/* Converts setting s into the field of o; OP_EINVAL on a type mismatch. */
static int
op_convert(const struct op_cfg_option *o, const config_setting_t *s,
           void *target, char *err, size_t errsz)
{
	void *f = op_field(target, o);
	int t = config_setting_type(s);

	switch (o->type) {
	case OP_CFG_STRING:
		if (t != CONFIG_TYPE_STRING)
			return OP_EINVAL;
		return op_set_string(f, config_setting_get_string(s));
	case OP_CFG_INT:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			return OP_EINVAL;
		*(long long *)f = config_setting_get_int64(s);
		return OP_OK;
	case OP_CFG_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			return OP_EINVAL;
		*(int *)f = config_setting_get_bool(s);
		return OP_OK;
	case OP_CFG_FLOAT:
		if (t == CONFIG_TYPE_FLOAT)
			*(double *)f = config_setting_get_float(s);
		else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
			*(double *)f = (double)config_setting_get_int64(s);
		else
			return OP_EINVAL;
		return OP_OK;
	case OP_CFG_STRLIST:
		return op_convert_list(s, f);
	case OP_CFG_CUSTOM:
		return o->parse(s, target, err, errsz) ? OP_EINVAL : OP_OK;
	}
	return OP_EINVAL;
}

/* Builds the dotted path of s ("agent.spool.dir") into buf. */
static void
op_setting_path(const config_setting_t *s, char *buf, size_t size)
{
	const config_setting_t *p = config_setting_parent(s);

	if (p == NULL || config_setting_is_root(p)) {
		snprintf(buf, size, "%s", s->name ? s->name : "");
		return;
	}
	op_setting_path(p, buf, size);
	if (s->name) {
		size_t len = strlen(buf);
		snprintf(buf + len, size - len, ".%s", s->name);
	}
}

/* Is path an option (1), or a group that contains options (2)?  0 when
 * neither.  *custom is set when it lies inside a custom option, whose
 * subtree is not walked. */
static int
op_known(const struct op_cfg_option *opts, size_t n, const char *path,
         int *custom)
{
	size_t len = strlen(path);

	*custom = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(opts[i].path, path) == 0) {
			*custom = opts[i].type == OP_CFG_CUSTOM;
			return 1;
		}
		if (strncmp(opts[i].path, path, len) == 0 &&
		    opts[i].path[len] == '.')
			return 2;
	}
	return 0;
}

/* Edit distance of a and b (insertions, deletions, substitutions and
 * swaps of neighbours: "nmae" is one edit from "name"), or 3 when it is
 * more than 2 or a name is too long to matter. */
static size_t
op_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[33][33];

	if (la > 32 || lb > 32 || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb] < 3 ? d[la][lb] : 3;
}

/*
 * The known key of the group path's parent nearest to path's last name,
 * at edit distance 2 at most (1 for names of up to 6 characters), into out
 * ("aggregators" for "agent.aggregaters"); 0 when there is none.
 */
static int
op_near_key(const struct op_cfg_option *opts, size_t n, const char *path,
            char *out, size_t size)
{
	const char *name = strrchr(path, '.');
	size_t plen = name ? (size_t)(name - path) + 1 : 0, best = 3;

	name = name ? name + 1 : path;
	for (size_t i = 0; i < n; i++) {
		const char *key;
		size_t klen, d;
		char cand[128];

		/* Only keys beside the unknown one: the same parent path (a
		 * shorter path is not read past its end). */
		if (strncmp(opts[i].path, path, plen) != 0)
			continue;
		key = opts[i].path + plen;
		klen = strcspn(key, ".");
		if (klen == 0 || klen >= sizeof(cand))
			continue;
		memcpy(cand, key, klen);
		cand[klen] = '\0';
		/* Short names are one edit from many others: "tag" is not a
		 * misspelt "t". */
		if ((d = op_distance(name, cand)) < best &&
		    (d <= 1 || strlen(name) > 6)) {
			best = d;
			snprintf(out, size, "%s", cand);
		}
	}
	return best <= 2;
}

static void
op_warn_unknown(const struct op_cfg_option *opts, size_t n,
                const config_setting_t *g, const char *file,
                struct op_cfg_result *res)
{
	int count = config_setting_length(g);

	for (int i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		char path[512], near[128];
		int custom, kind;

		if (s->name == NULL)
			continue;
		op_setting_path(s, path, sizeof(path));
		kind = op_known(opts, n, path, &custom);
		if (kind == 0 &&
		    op_near_key(opts, n, path, near, sizeof(near))) {
			/* A misspelt key would leave its setting at the
			 * default, silently: refuse the file. */
			op_error(MOD,
			         "%s:%d: unknown key '%s'; did you mean "
			         "'%s'?",
			         file, config_setting_source_line(s), path,
			         near);
			res->errors++;
		} else if (kind == 0) {
			op_warn(MOD, "%s:%d: unknown key '%s' ignored", file,
			        config_setting_source_line(s), path);
			res->warnings++;
		} else if (kind == 2 && !config_setting_is_group(s)) {
			/* Else every setting under it silently takes its
			 * default. */
			op_error(MOD, "%s:%d: '%s' must be a group", file,
			         config_setting_source_line(s), path);
			res->errors++;
		} else if (!custom && config_setting_is_group(s)) {
			op_warn_unknown(opts, n, s, file, res);
		}
	}
}

static int
op_read_settings(const struct op_cfg_option *opts, size_t n, config_t *cfg,
                 const char *file, void *target, struct op_cfg_result *res)
{
	for (size_t i = 0; i < n; i++) {
		config_setting_t *s = config_lookup(cfg, opts[i].path);
		char err[256] = "";

		if (s == NULL)
			continue;
		if (op_convert(&opts[i], s, target, err, sizeof(err)) == OP_OK)
			continue;
		/* A custom option says what it must be ("a list of ..."), or
		 * which of its lines is wrong ("line 12: ..."). */
		if (opts[i].type == OP_CFG_CUSTOM && *err)
			op_error(MOD, "%s:%d: '%s'%s%s", file,
			         config_setting_source_line(s), opts[i].path,
			         strncmp(err, "line ", 5) ? " must be " : ": ",
			         err);
		else
			op_error(MOD, "%s:%d: '%s' must be %s%s%s", file,
			         config_setting_source_line(s), opts[i].path,
			         op_type_name(opts[i].type), *err ? ": " : "",
			         err);
		res->errors++;
	}
	op_warn_unknown(opts, n, config_root_setting(cfg), file, res);
	return res->errors ? OP_ECONFIG : OP_OK;
}

int
op_cfg_load(const struct op_cfg_option *opts, size_t nopts, const char *file,
            int missing_ok, void *target, struct op_cfg_result *res)
{
	config_t cfg;
	struct stat st;
	FILE *fp;
	int rv;

	res->errors = res->warnings = 0;
	for (size_t i = 0; i < nopts; i++) {
		if (op_apply_default(&opts[i], target))
			return OP_ENOMEM;
	}
	if (file == NULL)
		return OP_OK;
	if ((fp = fopen(file, "r")) == NULL) {
		if (errno == ENOENT && missing_ok)
			return OP_OK;
		op_error(MOD, "cannot open %s: %s", file, strerror(errno));
		res->errors++;
		return OP_ECONFIG;
	}
	/* libconfig's scanner exits the process on a read error. */
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		op_error(MOD, "cannot read %s: %s", file, strerror(EISDIR));
		fclose(fp);
		res->errors++;
		return OP_ECONFIG;
	}
	config_init(&cfg);
	if (config_read(&cfg, fp) != CONFIG_TRUE) {
		op_error(MOD, "%s:%d: %s", file, config_error_line(&cfg),
		         config_error_text(&cfg));
		res->errors++;
		rv = OP_ECONFIG;
	} else {
		rv = op_read_settings(opts, nopts, &cfg, file, target, res);
	}
	config_destroy(&cfg);
	fclose(fp);
	return rv;
}

void
op_cfg_free(const struct op_cfg_option *opts, size_t nopts, void *target)
{
	for (size_t i = 0; i < nopts; i++) {
		void *f = op_field(target, &opts[i]);

		if (opts[i].type == OP_CFG_STRING) {
			free(*(char **)f);
			*(char **)f = NULL;
		} else if (opts[i].type == OP_CFG_STRLIST) {
			op_strlist_free(f);
		} else if (opts[i].type == OP_CFG_CUSTOM && opts[i].free) {
			opts[i].free(target);
		}
	}
}

void
op_cfg_describe(const struct op_cfg_option *opts, size_t nopts, void *fp)
{
	for (size_t i = 0; i < nopts; i++)
		fprintf(fp, "  %-28s %-18s %s\n", opts[i].path,
		        opts[i].def ? opts[i].def : "\"\"", opts[i].desc);
}

/* Whether file, named by setting name, can be read; logs why not. */
static int
op_tls_readable(const char *name, const char *file)
{
	if (access(file, R_OK) == 0)
		return OP_OK;
	op_error(MOD, "cannot read %s %s: %s; check the path and permissions",
	         name, file, strerror(errno));
	return OP_ECONFIG;
}

/* In the child of op_tls_readable_as: exits 0 when user pw can open
 * every file, else 1 after logging the first it cannot. */
static void
op_tls_try_as(const struct op_tls_conf *tls, const struct passwd *pw)
{
	const char *names[] = {"tls.ca", "tls.cert", "tls.key"};
	const char *files[] = {tls->ca, tls->cert, tls->key};

	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		_exit(2);
	for (int i = 0; i < 3; i++) {
		FILE *fp = files[i] && *files[i] ? fopen(files[i], "r") : NULL;
		if (fp == NULL && files[i] && *files[i]) {
			op_error(MOD,
			         "%s %s cannot be read by user %s, whom the "
			         "daemon runs as: %s; chown or chmod it (root "
			         "can read it, so check-config as root alone "
			         "would not notice)",
			         names[i], files[i], pw->pw_name,
			         strerror(errno));
			_exit(1);
		}
		if (fp)
			fclose(fp);
	}
	_exit(0);
}

const char *
op_tls_missing(const struct op_tls_conf *tls)
{
	const char *files[] = {tls->ca, tls->cert, tls->key};

	for (int i = 0; i < 3; i++) {
		if (files[i] && *files[i] && access(files[i], F_OK) != 0 &&
		    errno == ENOENT)
			return files[i];
	}
	return NULL;
}

int
op_tls_readable_as(const struct op_tls_conf *tls, const char *user)
{
	struct passwd *pw = getpwnam(user);
	int status = 0;
	pid_t pid;

	if (geteuid() != 0 || pw == NULL || pw->pw_uid == 0)
		return OP_OK;
	fflush(stderr);
	if ((pid = fork()) < 0)
		return OP_OK; /* cannot tell; the daemon will */
	if (pid == 0)
		op_tls_try_as(tls, pw);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 1 ? OP_ECONFIG
	                                                     : OP_OK;
}

int
op_tls_check(const struct op_tls_conf *tls)
{
	if (!tls->ca || !*tls->ca || !tls->cert || !*tls->cert || !tls->key ||
	    !*tls->key) {
		op_error(MOD, "tls+tcp:// needs tls.ca, tls.cert and tls.key");
		return OP_ECONFIG;
	}
	if (op_tls_readable("tls.ca", tls->ca) ||
	    op_tls_readable("tls.cert", tls->cert) ||
	    op_tls_readable("tls.key", tls->key))
		return OP_ECONFIG;
	return OP_OK;
}
