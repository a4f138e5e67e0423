-- Strata on PostgreSQL: the two database roles, and the database they work in.
--
-- A DBA runs this once, as a superuser (or a role with CREATEROLE and CREATEDB), before the
-- first `manage.py migrate`. It is safe to run again: what exists is left in place and brought
-- back to the settings below. docs/database-roles.md explains the roles and the whole procedure.
--
--   psql -h HOST -U postgres -d postgres -v ON_ERROR_STOP=1 \
--        -v owner=strata_owner -v app=strata_app -v dbname=strata \
--        -f deploy/postgres/roles.sql
--
-- Variables (all optional; the defaults are shown):
--   owner           strata_owner  the migration role: owns the database, the schema and every
--                                 table; runs `migrate` and `grant_app_privileges`, nothing else
--   app             strata_app    the application role: what the web app, the workers and the
--                                 everyday management commands connect as
--   dbname          strata        the database (created, owned by `owner`, if missing)
--   owner_password  (none)        set the role's password; without it the role keeps the one it
--   app_password    (none)        has (or has none: certificate or peer authentication)
--
-- A password given with -v is visible in the process list and, if the server logs statements,
-- in its log. Leave the password variables out and set them afterwards with psql's \password,
-- which sends only a SCRAM hash:  psql -U postgres -c '\password strata_app'
--
-- The app role gets its table privileges from `manage.py grant_app_privileges`, run as the owner
-- role after every migrate: the tables do not exist yet when this script runs.

\set ON_ERROR_STOP on

\if :{?owner}
\else
  \set owner strata_owner
\endif
\if :{?app}
\else
  \set app strata_app
\endif
\if :{?dbname}
\else
  \set dbname strata
\endif

SELECT :'owner' = :'app' AS same_role \gset
\if :same_role
  DO $$ BEGIN RAISE EXCEPTION 'owner and app must be two different roles'; END $$;
\endif

-- The owner (migration) role: logs in, owns what migrate creates, holds no cluster-wide power.
SELECT format('CREATE ROLE %I', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
ALTER ROLE :"owner" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

-- The application role: logs in; NOINHERIT, so that even a membership granted to it by mistake
-- gives it no privileges unless it explicitly SETs ROLE (grant_app_privileges refuses a role
-- that could become the owner at all).
SELECT format('CREATE ROLE %I', :'app')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
ALTER ROLE :"app" WITH LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS;
-- The app role must never be able to act as the owner.
SELECT format('REVOKE %I FROM %I', :'owner', :'app')
 WHERE EXISTS (
    SELECT FROM pg_auth_members m
     WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = :'owner')
       AND m.member = (SELECT oid FROM pg_roles WHERE rolname = :'app')
 ) \gexec

\if :{?owner_password}
  ALTER ROLE :"owner" WITH PASSWORD :'owner_password';
\endif
\if :{?app_password}
  ALTER ROLE :"app" WITH PASSWORD :'app_password';
\endif

-- The database, owned by the owner role. Nobody but the two roles may connect; the app role may
-- create temporary tables (verify_archive compares a replay with copies of the live tables).
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L', :'dbname', :'owner', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'dbname') \gexec
ALTER DATABASE :"dbname" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"dbname" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"dbname" TO :"app";
-- PostgreSQL looks for a table among the session's temporary tables first unless pg_temp is
-- named last: without this, a temporary table called records_event could hide the real log from
-- everything that connection runs afterwards.
ALTER ROLE :"app" IN DATABASE :"dbname" SET search_path = public, pg_temp;

-- Inside the database: the owner role owns schema public and is the only one who may create
-- objects in it. (PostgreSQL 15 and later no longer let PUBLIC create there; older versions do,
-- hence the REVOKE.) The app role may use the schema, and nothing more until
-- grant_app_privileges gives it privileges on the tables.
\connect :"dbname"
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM :"app";
GRANT USAGE ON SCHEMA public TO :"app";

\echo
\echo 'Roles ready. Next, as the owner role:'
\echo '  DATABASE_URL=postgres://<owner>@<host>/<dbname> manage.py migrate'
\echo '  DATABASE_URL=postgres://<owner>@<host>/<dbname> manage.py grant_app_privileges --role <app>'
\echo 'Then run the app as the app role: DATABASE_URL=postgres://<app>@<host>/<dbname>'
