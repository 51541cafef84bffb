"""PostgreSQL least privilege (SPEC §7): init-db makes an owner role that
is no superuser and owns the OpsPulse schema, and the read-only role
opspulse_reader; the aggregator, running as the owner, pins its
search_path so that a role or database setting cannot redirect it."""
import os
import subprocess

from harness import AGGREGATOR, Cluster, check, check_eq, pg_socket_dir, run


def psql_as(c, role, sql):
    """Runs sql in the cluster's database as role; returns (rc, output)."""
    conn = "host=%s port=%s user=%s dbname=%s" % (pg_socket_dir(c.pg_dir), c.pg_port, role, c.db)
    r = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", conn, "-c", sql],
                       capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip()


def test_owner_reader_and_search_path():
    owner = "t_owner_%d" % os.getpid()
    with Cluster("privs") as c:
        try:
            c.psql_admin("DROP DATABASE %s" % c.db)  # init-db creates it
            conf = c.path("aggregator0.conf")
            text = open(conf).read().replace("dbname=%s" % c.db,
                                             "dbname=%s user=%s" % (c.db, owner))
            c.write("aggregator0.conf", text)
            admin = "host=%s port=%s user=postgres dbname=postgres" % (
                pg_socket_dir(c.pg_dir), c.pg_port)
            r = subprocess.run([AGGREGATOR, "-c", conf, "init-db", "--admin", admin],
                               capture_output=True, text=True, timeout=120)
            check_eq(r.returncode, 0, "init-db: %s%s" % (r.stdout, r.stderr))
            check("created role %s" % owner in r.stdout, "init-db made the owner: " + r.stdout)

            # The owner: no superuser, no role or database creation, owns
            # every relation and function of the schema.
            check_eq(c.scalar("SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls "
                              "FROM pg_roles WHERE rolname = '%s'" % owner), "f",
                     "the owner role has no administrative attribute")
            check_eq(c.scalar("SELECT count(*) FROM pg_class k JOIN pg_namespace n ON "
                              "n.oid = k.relnamespace WHERE n.nspname = 'opspulse' AND "
                              "k.relowner <> '%s'::regrole" % owner), "0",
                     "every relation of opspulse belongs to the owner")
            check_eq(c.scalar("SELECT nspowner::regrole::text FROM pg_namespace "
                              "WHERE nspname = 'opspulse'"), owner, "schema owner")

            # A hostile default search_path for the owner, with a decoy
            # table: the aggregator must still write to opspulse.deploys.
            c.psql_admin("ALTER DATABASE %s OWNER TO %s" % (c.db, owner))
            rc, out = psql_as(c, owner, "CREATE SCHEMA decoy; CREATE TABLE decoy.deploys "
                              "(LIKE opspulse.deploys INCLUDING ALL)")
            check_eq(rc, 0, "decoy schema: " + out)
            c.psql_admin("ALTER ROLE %s SET search_path = decoy, opspulse" % owner)
            agg = c.start_aggregator(migrate=False)
            check_eq(c.wire("good", "pinned"), "ack 1 0", "a batch stored as the owner")
            check_eq(c.scalar("SELECT count(*) FROM opspulse.deploys"), "1",
                     "the event is in opspulse.deploys")
            check_eq(c.scalar("SELECT count(*) FROM decoy.deploys"), "0",
                     "nothing went to the decoy table")
            rows = c.cli_json("dora", "--service", "pinned")["rows"]
            check_eq([(x["service"], x["deploys"]) for x in rows], [("pinned", 1)],
                     "queries as the owner read opspulse, not the decoy")
            check(agg.alive(), "the aggregator runs as the owner")

            # The reader: reads tables and calls indicator functions, and
            # can write or create nothing.
            reader = "t_reader_%d" % os.getpid()
            c.psql_admin("CREATE ROLE %s LOGIN IN ROLE opspulse_reader" % reader)
            try:
                rc, out = psql_as(c, reader, "SELECT count(*) FROM opspulse.deploys")
                check_eq((rc, out), (0, "1"), "the reader reads a table")
                rc, out = psql_as(c, reader, "SELECT count(*) FROM opspulse.service_list("
                                  "now() - interval '1 day', now(), 'production', NULL, NULL)")
                check(rc == 0, "the reader calls an indicator function: " + out)
                for sql in ("INSERT INTO opspulse.deploys SELECT * FROM opspulse.deploys",
                            "DELETE FROM opspulse.deploys",
                            "UPDATE opspulse.settings SET value = value",
                            "CREATE TABLE opspulse.mine (x int)",
                            "DROP FUNCTION opspulse.service_list"):
                    rc, out = psql_as(c, reader, sql)
                    check(rc != 0 and ("permission denied" in out or "must be owner" in out),
                          "the reader may not: %s (%s)" % (sql, out))
                # A role that is neither: nothing of the schema.
                c.psql_admin("ALTER ROLE %s NOINHERIT" % reader)
                c.psql_admin("REVOKE opspulse_reader FROM %s" % reader)
                rc, out = psql_as(c, reader, "SELECT count(*) FROM opspulse.deploys")
                check(rc != 0 and "permission denied for schema opspulse" in out,
                      "another role cannot read: " + out)
            finally:
                c.psql_admin("DROP ROLE IF EXISTS %s" % reader)
        finally:
            c.stop()
            c.procs = []
            c.psql_admin("DROP DATABASE IF EXISTS %s" % c.db)
            c.psql_admin("DROP ROLE IF EXISTS %s" % owner)


if __name__ == "__main__":
    run([test_owner_reader_and_search_path])
