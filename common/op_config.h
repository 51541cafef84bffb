/*
 * Table-driven configuration over libconfig.  Each binary declares its
 * settings once, as rows of (path, type, default, offset, description);
 * op_cfg_load applies the defaults, reads the file, converts each value,
 * reports type errors with line numbers and warns about unknown keys.
 */
#ifndef OP_CONFIG_H
#define OP_CONFIG_H

#include <stddef.h>

#include "op_error.h"

struct config_setting_t;

enum op_cfg_type {
	OP_CFG_STRING,  /* char *            */
	OP_CFG_INT,     /* long long         */
	OP_CFG_BOOL,    /* int               */
	OP_CFG_FLOAT,   /* double            */
	OP_CFG_STRLIST, /* struct op_strlist */
	OP_CFG_CUSTOM,  /* handled by .parse; the whole subtree is its own */
};

struct op_strlist {
	char **items;
	size_t n;
};

struct op_cfg_option {
	const char *path; /* dotted, e.g. "agent.spool.dir" */
	enum op_cfg_type type;
	const char *def; /* default in text form; NULL: empty / 0 */
	size_t offset;   /* of the value in the target struct */
	const char *desc;
	/* OP_CFG_CUSTOM only: converts s into target; on failure writes a
	 * message to err and returns non-zero. */
	int (*parse)(const struct config_setting_t *s, void *target, char *err,
	             size_t errsz);
	void (*free)(void *target); /* OP_CFG_CUSTOM only */
};

struct op_cfg_result {
	int errors;
	int warnings;
};

/*
 * Loads file into target according to opts.  When file is NULL or, with
 * missing_ok set, does not exist, only the defaults are applied.  Problems
 * are logged with file and line; res counts them.  Returns OP_OK, or
 * OP_ECONFIG when anything was an error.  On any return target holds
 * allocated strings that op_cfg_free releases.
 */
OP_MUSTCHECK int op_cfg_load(const struct op_cfg_option *opts, size_t nopts,
                             const char *file, int missing_ok, void *target,
                             struct op_cfg_result *res);

/* Frees what op_cfg_load allocated in target.  target may be reloaded. */
void op_cfg_free(const struct op_cfg_option *opts, size_t nopts, void *target);

/* Appends a copy of s to l.  Returns OP_OK or OP_ENOMEM. */
OP_MUSTCHECK int op_strlist_add(struct op_strlist *l, const char *s);
void op_strlist_free(struct op_strlist *l);

/* Writes one "path = default;  # description" line per option to fp. */
void op_cfg_describe(const struct op_cfg_option *opts, size_t nopts, void *fp);

#endif
