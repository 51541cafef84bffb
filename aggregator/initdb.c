/*
 * opspulse-aggregator init-db: prepares a PostgreSQL server for the
 * aggregator.  Over a superuser connection it creates, when missing, the
 * owner role, the read-only role and the configured database, then runs
 * the migrations as the owner role, so that the owner owns every object
 * of the schema (SPEC §7).  Running it again changes nothing.
 *
 * This file talks to libpq directly rather than through store.c: it is
 * one-off administration on a superuser connection, not the aggregator's
 * pinned per-worker connections.  Role and database names cannot be
 * query parameters in DDL; they are quoted with PQescapeIdentifier.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "aggregator.h"
#include "initdb.h"
#include "op_error.h"
#include "op_log.h"

#define MOD "init-db"

/* sql/020_baseline.sql grants it read access; created here because
 * the migrations run as the owner, who may not create roles. */
#define INITDB_READER "opspulse_reader"
/* The packaged aggregator runs as system user opspulse: a role of that
 * name needs no password on the local socket (peer authentication). */
#define INITDB_OWNER          "opspulse"
#define INITDB_SCHEMA         "opspulse" /* as in migrate.c */
#define INITDB_MAINTENANCE_DB "postgres"
#define INITDB_NAME_MAX       63 /* PostgreSQL's NAMEDATALEN - 1 */
#define INITDB_QUOTED         (2 * INITDB_NAME_MAX + 3)
#define INITDB_MAX_PARAMS     64
#define SQLSTATE_DUPLICATE    "42710" /* duplicate_object */

struct initdb {
	PQconninfoOption *base; /* where the superuser connection goes */
	int keep_identity;      /* use base's user and password */
	char maint_db[256];     /* the database it first connects to */
	char dbname[256];       /* the aggregator's database */
	char owner[256];        /* and the role that owns it */
	char admin_user[256];   /* who the superuser connection is */
	PGconn *admin;          /* the superuser connection */
};

static void
initdb_usage(FILE *fp)
{
	fprintf(fp,
	        "usage: opspulse-aggregator [-c FILE] init-db [--admin "
	        "CONNINFO] [--owner ROLE]\n"
	        "\n"
	        "Prepares PostgreSQL for the aggregator, on a superuser "
	        "connection:\n"
	        "creates what is missing of the owner role, the read-only "
	        "role\n" INITDB_READER " and the database named in "
	        "aggregator.database, then\n"
	        "migrates the schema as the owner.  Running it again changes "
	        "nothing.\n"
	        "\n"
	        "  --admin CONNINFO  superuser connection (default: "
	        "aggregator.database\n"
	        "                    without user, password and dbname, as "
	        "this system\n"
	        "                    user, to database " INITDB_MAINTENANCE_DB
	        ")\n"
	        "  --owner ROLE      owner of the database and schema "
	        "(default: the user\n"
	        "                    in aggregator.database, else " INITDB_OWNER
	        ")\n"
	        "\n"
	        "example: sudo -u postgres opspulse-aggregator init-db\n");
}

/* Returns 0 to go on, 1 on bad usage, 2 after --help. */
static int
initdb_args(int argc, char **argv, const char **admin, const char **owner)
{
	static const struct option opts[] = {
	    {"admin", required_argument, NULL, 'a'},
	    {"owner", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'a') {
			*admin = optarg;
		} else if (ch == 'o') {
			*owner = optarg;
		} else if (ch == 'h') {
			initdb_usage(stdout);
			return 2;
		} else {
			fprintf(stderr,
			        "opspulse-aggregator init-db: bad option '%s'; "
			        "see init-db --help\n",
			        argv[optind - 1]);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
		        "opspulse-aggregator init-db: unexpected '%s'\n",
		        argv[optind]);
		return 1;
	}
	return 0;
}

/* libpq's message without its trailing newline, in buf.  This can't
 * fail. */
static const char *
initdb_msg(const char *msg, char *buf, size_t size)
{
	size_t n;

	snprintf(buf, size, "%s", msg ? msg : "");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

/* ---- connection parameters ------------------------------------------- */

/* The value of key in o, or NULL when unset or empty.  This can't fail. */
static const char *
initdb_opt(const PQconninfoOption *o, const char *key)
{
	for (; o->keyword != NULL; o++)
		if (strcmp(o->keyword, key) == 0)
			return o->val && o->val[0] ? o->val : NULL;
	return NULL;
}

/* Parses conninfo; NULL after logging why.  Free with PQconninfoFree. */
static PQconninfoOption *
initdb_parse(const char *conninfo, const char *what)
{
	char *err = NULL;
	PQconninfoOption *o = PQconninfoParse(conninfo, &err);

	char msg[1024];

	if (o == NULL)
		op_error(
		    MOD, "%s is not a libpq connection string: %s", what,
		    initdb_msg(err ? err : "out of memory", msg, sizeof(msg)));
	PQfreemem(err);
	return o;
}

static int
initdb_name(char *dst, size_t size, const char *src, const char *what)
{
	if (src[0] == '\0' || strlen(src) > INITDB_NAME_MAX) {
		op_error(MOD, "%s name '%s' must be 1 to %d bytes long", what,
		         src, INITDB_NAME_MAX);
		return OP_EINVAL;
	}
	snprintf(dst, size, "%s", src);
	return OP_OK;
}

/* Takes the database and owner names from the aggregator's connection
 * string. */
static int
initdb_target(struct initdb *st, const PQconninfoOption *db, const char *owner)
{
	const char *name = initdb_opt(db, "dbname");
	const char *user = initdb_opt(db, "user");
	int rv;

	if (name == NULL) {
		op_error(MOD, "aggregator.database names no database; add "
		              "dbname=opspulse to it");
		return OP_ECONFIG;
	}
	if ((rv = initdb_name(st->dbname, sizeof(st->dbname), name,
	                      "database")) != OP_OK)
		return rv;
	if (owner && user && strcmp(owner, user) != 0)
		op_warn(MOD,
		        "aggregator.database connects as %s, not as the owner "
		        "%s: grant %s the owner's rights or fix the setting",
		        user, owner, user);
	return initdb_name(st->owner, sizeof(st->owner),
	                   owner  ? owner
	                   : user ? user
	                          : INITDB_OWNER,
	                   "role");
}

static int
initdb_setup(struct initdb *st, const char *database, const char *admin,
             const char *owner)
{
	PQconninfoOption *db = initdb_parse(database, "aggregator.database");
	const char *maint = NULL;
	int rv;

	if (db == NULL)
		return OP_ECONFIG;
	rv = initdb_target(st, db, owner);
	if (admin == NULL) {
		st->base = db; /* as this system user, to the same server */
	} else {
		PQconninfoFree(db);
		if ((st->base = initdb_parse(admin, "--admin")) == NULL)
			return OP_EINVAL;
		st->keep_identity = 1;
		maint = initdb_opt(st->base, "dbname");
	}
	snprintf(st->maint_db, sizeof(st->maint_db), "%s",
	         maint ? maint : INITDB_MAINTENANCE_DB);
	return rv;
}

static int
initdb_skip(const struct initdb *st, const char *key)
{
	if (strcmp(key, "dbname") == 0 || strcmp(key, "application_name") == 0)
		return 1;
	return !st->keep_identity &&
	       (strcmp(key, "user") == 0 || strcmp(key, "password") == 0);
}

/* Fills keys/vals (NULL-terminated) for a connection to dbname.  This
 * can't fail. */
static void
initdb_params(const struct initdb *st, const char *dbname, const char **keys,
              const char **vals)
{
	size_t n = 0;

	for (const PQconninfoOption *o = st->base;
	     o->keyword != NULL && n < INITDB_MAX_PARAMS - 3; o++) {
		if (o->val == NULL || o->val[0] == '\0' ||
		    initdb_skip(st, o->keyword))
			continue;
		keys[n] = o->keyword;
		vals[n++] = o->val;
	}
	keys[n] = "dbname";
	vals[n++] = dbname;
	keys[n] = "application_name";
	vals[n++] = "opspulse-aggregator init-db";
	keys[n] = vals[n] = NULL;
}

/* A superuser connection to dbname; NULL after logging why. */
static PGconn *
initdb_connect(const struct initdb *st, const char *dbname)
{
	const char *keys[INITDB_MAX_PARAMS], *vals[INITDB_MAX_PARAMS];
	char msg[1024];
	PGconn *c;

	initdb_params(st, dbname, keys, vals);
	c = PQconnectdbParams(keys, vals, 0);
	if (PQstatus(c) == CONNECTION_OK)
		return c;
	op_error(MOD,
	         "cannot connect to database %s: %s; run init-db as the "
	         "PostgreSQL superuser (sudo -u postgres opspulse-aggregator "
	         "init-db) or pass --admin CONNINFO",
	         dbname, initdb_msg(PQerrorMessage(c), msg, sizeof(msg)));
	PQfinish(c);
	return NULL;
}

/* Appends key='value', quoted for a connection string.  This can't fail
 * when out has room for 2 * strlen(value) + strlen(key) + 4 more bytes. */
static void
initdb_append(char *out, const char *key, const char *value)
{
	char *p = out + strlen(out);

	p += sprintf(p, "%s%s='", out[0] ? " " : "", key);
	for (; *value; value++) {
		if (*value == '\'' || *value == '\\')
			*p++ = '\\';
		*p++ = *value;
	}
	strcpy(p, "'");
}

/* The superuser connection to dbname as a connection string, for
 * agg_migrate.  Returns NULL when out of memory; the caller frees. */
static char *
initdb_conninfo(const struct initdb *st, const char *dbname)
{
	const char *keys[INITDB_MAX_PARAMS], *vals[INITDB_MAX_PARAMS];
	size_t size = 1;
	char *out;

	initdb_params(st, dbname, keys, vals);
	for (size_t i = 0; keys[i] != NULL; i++)
		size += strlen(keys[i]) + 2 * strlen(vals[i]) + 4;
	if ((out = calloc(1, size)) == NULL)
		return NULL;
	for (size_t i = 0; keys[i] != NULL; i++)
		initdb_append(out, keys[i], vals[i]);
	return out;
}

/* ---- SQL ---------------------------------------------------------------- */

/* Runs sql with at most one text parameter.  Returns OP_OK, or OP_EDB
 * after logging; an error whose SQLSTATE is ignore counts as success. */
static int
initdb_exec(PGconn *c, const char *sql, const char *param, const char *what,
            const char *ignore, PGresult **out)
{
	PGresult *r =
	    PQexecParams(c, sql, param ? 1 : 0, NULL, &param, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
	         (ignore && state && strcmp(state, ignore) == 0);
	char msg[1024];

	if (!ok)
		op_error(MOD, "%s failed: %s", what,
		         initdb_msg(PQresultErrorMessage(r), msg, sizeof(msg)));
	if (ok && out)
		*out = r;
	else
		PQclear(r);
	return ok ? OP_OK : OP_EDB;
}

/* Copies the first value of a one-parameter query into out, or "" when
 * it returns no row.  Returns OP_OK or OP_EDB (logged). */
static int
initdb_value(PGconn *c, const char *sql, const char *param, char *out,
             size_t size, const char *what)
{
	PGresult *r = NULL;
	int rv = initdb_exec(c, sql, param, what, NULL, &r);

	if (rv == OP_OK)
		snprintf(out, size, "%s",
		         PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return rv;
}

/* Quotes name as an SQL identifier into out (INITDB_QUOTED bytes). */
static int
initdb_quote(PGconn *c, const char *name, char *out)
{
	char *q = PQescapeIdentifier(c, name, strlen(name));

	if (q == NULL) {
		op_error(MOD, "cannot quote '%s': %s", name, PQerrorMessage(c));
		return OP_EINVAL;
	}
	snprintf(out, INITDB_QUOTED, "%s", q);
	PQfreemem(q);
	return OP_OK;
}

/* ---- steps ----------------------------------------------------------------
 */

static int
initdb_check_admin(struct initdb *st)
{
	char may[16];
	int rv =
	    initdb_value(st->admin, "SELECT current_user", NULL, st->admin_user,
	                 sizeof(st->admin_user), "asking who we are");

	if (rv == OP_OK)
		rv =
		    initdb_value(st->admin,
		                 "SELECT (rolsuper OR (rolcreaterole AND "
		                 "rolcreatedb))::text "
		                 "FROM pg_roles WHERE rolname = current_user",
		                 NULL, may, sizeof(may), "checking privileges");
	if (rv == OP_OK && strcmp(may, "true") != 0) {
		op_error(
		    MOD,
		    "role %s may not create roles and databases; run "
		    "init-db as the PostgreSQL superuser (sudo -u postgres "
		    "opspulse-aggregator init-db) or pass --admin CONNINFO",
		    st->admin_user);
		rv = OP_EFORBIDDEN;
	}
	return rv;
}

static int
initdb_role(struct initdb *st, const char *name, int login)
{
	char found[256], q[INITDB_QUOTED], sql[256];
	int rv = initdb_value(st->admin,
	                      "SELECT rolname FROM pg_roles WHERE rolname = $1",
	                      name, found, sizeof(found), "looking up a role");

	if (rv != OP_OK || found[0]) {
		if (rv == OP_OK)
			printf("role %s exists\n", name);
		return rv;
	}
	if ((rv = initdb_quote(st->admin, name, q)) != OP_OK)
		return rv;
	snprintf(sql, sizeof(sql), "CREATE ROLE %s %s", q,
	         login ? "LOGIN" : "NOLOGIN");
	/* Another database's migration may create the reader meanwhile. */
	rv = initdb_exec(st->admin, sql, NULL, "creating a role",
	                 SQLSTATE_DUPLICATE, NULL);
	if (rv == OP_OK)
		printf("created role %s (%s)\n", name,
		       login ? "login, owner of the database" : "read-only");
	return rv;
}

/* A superuser is a member of every role; a CREATEROLE administrator
 * must join the owner's role to give it a database and act as it. */
static int
initdb_membership(struct initdb *st)
{
	char member[16], q[INITDB_QUOTED], sql[256];
	int rv = initdb_value(st->admin,
	                      "SELECT pg_has_role(current_user, $1, "
	                      "'MEMBER')::text",
	                      st->owner, member, sizeof(member),
	                      "checking role membership");

	if (rv != OP_OK || strcmp(member, "true") == 0)
		return rv;
	if ((rv = initdb_quote(st->admin, st->owner, q)) != OP_OK)
		return rv;
	snprintf(sql, sizeof(sql), "GRANT %s TO CURRENT_USER", q);
	return initdb_exec(st->admin, sql, NULL, "joining the owner's role",
	                   NULL, NULL);
}

/* An existing schema must belong to the owner: the migrations, run as
 * the owner, alter its objects. */
static int
initdb_check_schema(struct initdb *st)
{
	PGconn *c = initdb_connect(st, st->dbname);
	char owner[256];
	int rv;

	if (c == NULL)
		return OP_EUNAVAIL;
	rv = initdb_value(c,
	                  "SELECT pg_get_userbyid(nspowner) FROM pg_namespace "
	                  "WHERE nspname = $1",
	                  INITDB_SCHEMA, owner, sizeof(owner),
	                  "looking up the schema");
	PQfinish(c);
	if (rv == OP_OK && owner[0] && strcmp(owner, st->owner) != 0) {
		op_error(MOD,
		         "schema " INITDB_SCHEMA " in database %s belongs to "
		         "role %s, not %s; init-db leaves it alone: rerun with "
		         "--owner %s, or run migrate as %s",
		         st->dbname, owner, st->owner, owner, owner);
		rv = OP_EINVAL;
	}
	return rv;
}

/* A database owned by another role stays so; the owner gets the rights
 * the migrations need, unless its schema belongs to someone else. */
static int
initdb_database(struct initdb *st)
{
	char owner[256], qd[INITDB_QUOTED], qo[INITDB_QUOTED], sql[512];
	int rv = initdb_value(st->admin,
	                      "SELECT pg_get_userbyid(datdba) FROM pg_database "
	                      "WHERE datname = $1",
	                      st->dbname, owner, sizeof(owner),
	                      "looking up the database");

	if (rv == OP_OK && owner[0])
		rv = initdb_check_schema(st);
	if (rv == OP_OK && strcmp(owner, st->owner) == 0) {
		printf("database %s exists, owned by %s\n", st->dbname, owner);
		return OP_OK;
	}
	if (rv != OP_OK ||
	    (rv = initdb_quote(st->admin, st->dbname, qd)) != OP_OK ||
	    (rv = initdb_quote(st->admin, st->owner, qo)) != OP_OK)
		return rv;
	if (owner[0])
		snprintf(
		    sql, sizeof(sql),
		    "GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %s TO %s", qd,
		    qo);
	else
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s OWNER %s", qd,
		         qo);
	if ((rv = initdb_exec(st->admin, sql, NULL, "preparing the database",
	                      NULL, NULL)) != OP_OK)
		return rv;
	if (owner[0])
		printf("database %s exists, owned by %s; granted %s the "
		       "rights to create the schema\n",
		       st->dbname, owner, st->owner);
	else
		printf("created database %s owned by %s\n", st->dbname,
		       st->owner);
	return OP_OK;
}

/* Makes (on) or stops making (off) the superuser's sessions in the
 * aggregator's database act as the owner, so that agg_migrate creates
 * every object as the owner: its connection options are its own. */
static int
initdb_act_as_owner(struct initdb *st, int on)
{
	char qd[INITDB_QUOTED], qo[INITDB_QUOTED], sql[512];
	int rv;

	if ((rv = initdb_quote(st->admin, st->dbname, qd)) != OP_OK ||
	    (rv = initdb_quote(st->admin, st->owner, qo)) != OP_OK)
		return rv;
	if (on)
		snprintf(sql, sizeof(sql),
		         "ALTER ROLE CURRENT_USER IN DATABASE %s SET role = %s",
		         qd, qo);
	else
		snprintf(sql, sizeof(sql),
		         "ALTER ROLE CURRENT_USER IN DATABASE %s RESET role",
		         qd);
	return initdb_exec(st->admin, sql, NULL,
	                   on ? "acting as the owner" : "resetting the role",
	                   NULL, NULL);
}

static int
initdb_migrate(struct initdb *st)
{
	int as_owner = strcmp(st->admin_user, st->owner) != 0;
	char *conninfo = initdb_conninfo(st, st->dbname);
	int rv, reset;

	if (conninfo == NULL)
		return OP_ENOMEM;
	rv = as_owner ? initdb_act_as_owner(st, 1) : OP_OK;
	if (rv == OP_OK) {
		rv = agg_migrate(conninfo);
		reset = as_owner ? initdb_act_as_owner(st, 0) : OP_OK;
		if (rv == OP_OK)
			rv = reset;
	}
	free(conninfo);
	return rv;
}

static int
initdb_run(struct initdb *st)
{
	int rv;

	if ((st->admin = initdb_connect(st, st->maint_db)) == NULL)
		return OP_EUNAVAIL;
	if ((rv = initdb_check_admin(st)) != OP_OK ||
	    (rv = initdb_role(st, st->owner, 1)) != OP_OK ||
	    (rv = initdb_role(st, INITDB_READER, 0)) != OP_OK ||
	    (rv = initdb_membership(st)) != OP_OK ||
	    (rv = initdb_database(st)) != OP_OK ||
	    (rv = initdb_migrate(st)) != OP_OK)
		return rv;
	printf("database %s is ready for the aggregator, which connects as "
	       "role %s\n",
	       st->dbname, st->owner);
	if (strcmp(st->owner, INITDB_OWNER) == 0)
		printf("(the packaged service runs as system user " INITDB_OWNER
		       ": on the local socket it needs no password)\n");
	else
		printf("(give the role a password with ALTER ROLE, or map a "
		       "system user to it in pg_ident.conf)\n");
	return OP_OK;
}

int
agg_init_db_main(const char *file, int argc, char **argv)
{
	const char *admin = NULL, *owner = NULL;
	struct initdb st;
	struct agg_conf c;
	int warnings = 0, rv;

	if ((rv = initdb_args(argc, argv, &admin, &owner)) != 0)
		return rv == 2 ? 0 : 1;
	memset(&st, 0, sizeof(st));
	rv = agg_conf_load(&c, file, &warnings);
	if (rv == OP_OK)
		rv = initdb_setup(&st, c.database, admin, owner);
	if (rv == OP_OK)
		rv = initdb_run(&st);
	PQfinish(st.admin);
	PQconninfoFree(st.base);
	agg_conf_free(&c);
	return rv == OP_OK ? 0 : 1;
}
