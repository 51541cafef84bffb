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

/*
 * The TLS settings of a program: its "tls" group, as the agent, the
 * aggregator and the CLI all spell it, and as the transport
 * (op_transport.h) takes them.  The strings belong to the configuration
 * that op_cfg_load filled (op_cfg_free frees them).
 */
struct op_tls_conf {
	char *ca;     /* CA bundle that signs peers' certificates */
	char *cert;   /* our certificate (PEM) */
	char *key;    /* its private key (PEM) */
	int insecure; /* allow plain tcp:// and ipc:// (no identity) */
};

/*
 * The rows of a "tls" group at prefix ("agent.tls") into the struct
 * op_tls_conf member field of struct type; def_cert and def_key are the
 * default file names (NULL: none).  Every program declares its TLS settings
 * with this one macro, so that they are read and described alike.
 */
/* clang-format off */
#define OP_CFG_TLS(prefix, type, field, def_cert, def_key)                     \
	{prefix ".ca", OP_CFG_STRING, "/etc/opspulse/ca.pem",                  \
	 offsetof(type, field.ca),                                             \
	 "CA certificate that signs the peers' certificates"},                 \
	{prefix ".cert", OP_CFG_STRING, def_cert, offsetof(type, field.cert),  \
	 "this program's certificate (PEM)"},                                  \
	{prefix ".key", OP_CFG_STRING, def_key, offsetof(type, field.key),     \
	 "its private key (PEM)"},                                             \
	{prefix ".insecure", OP_CFG_BOOL, "false",                             \
	 offsetof(type, field.insecure),                                       \
	 "allow plain tcp:// (no encryption, no identity)"}
/* clang-format on */

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

/*
 * Checks that tls names a CA, a certificate and a key and that each can
 * be read: what a tls+tcp:// address needs, whatever tls.insecure says.
 * Logs what is missing or unreadable, by setting name and path.  Returns
 * OP_OK or OP_ECONFIG.
 */
OP_MUSTCHECK int op_tls_check(const struct op_tls_conf *tls);

/*
 * For check-config run as root: whether user (the daemon's, as its unit
 * names it) can read tls's files, tried in a child process that takes on
 * the user's uid, gid and groups.  Returns OP_OK (also when not root, or
 * when no such user exists: nothing to check), or OP_ECONFIG after logging
 * which file that user cannot read.
 */
OP_MUSTCHECK int op_tls_readable_as(const struct op_tls_conf *tls,
                                    const char *user);

/* The first of tls's files that does not exist (a new install before its
 * certificates), or NULL.  This can't fail. */
const char *op_tls_missing(const struct op_tls_conf *tls);

/* Appends a copy of s to l.  Returns OP_OK or OP_ENOMEM. */
OP_MUSTCHECK int op_strlist_add(struct op_strlist *l, const char *s);
void op_strlist_free(struct op_strlist *l);

/* Writes one "path = default;  # description" line per option to fp. */
void op_cfg_describe(const struct op_cfg_option *opts, size_t nopts, void *fp);

#endif
