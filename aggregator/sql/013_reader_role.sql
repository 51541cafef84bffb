-- A read-only role for Grafana, psql and reports (SPEC §5, §7): it may read
-- every table and call every indicator function of the schema, and write
-- nothing.  It cannot log in; grant it to a login role:
--   CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE opspulse_reader;
-- Created only when the migrating user may create roles; otherwise this
-- step says so and the migration continues (a superuser can create the
-- role later and run this file's GRANTs by hand).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opspulse_reader') THEN
        IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles
                WHERE rolname = current_user) THEN
            RAISE NOTICE 'role opspulse_reader not created: % may not create roles', current_user;
            RETURN;
        END IF;
        BEGIN
            CREATE ROLE opspulse_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;   -- created meanwhile by a migration of another database
        END;
    END IF;
    GRANT USAGE ON SCHEMA opspulse TO opspulse_reader;
    GRANT SELECT ON ALL TABLES IN SCHEMA opspulse TO opspulse_reader;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA opspulse TO opspulse_reader;
    -- Tables and functions of later migrations, created by the same user.
    ALTER DEFAULT PRIVILEGES IN SCHEMA opspulse
        GRANT SELECT ON TABLES TO opspulse_reader;
    ALTER DEFAULT PRIVILEGES IN SCHEMA opspulse
        GRANT EXECUTE ON FUNCTIONS TO opspulse_reader;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'role opspulse_reader not set up: %', SQLERRM;
END
$$;
