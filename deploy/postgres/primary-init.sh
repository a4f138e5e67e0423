#!/usr/bin/env bash
# Initialise the primary (compose's db-primary): postgres:15 runs this once, from
# /docker-entrypoint-initdb.d, on an empty data directory, with a server that listens on its
# Unix socket only. It
#   1. creates the replication role that replicas clone and stream from (REPLICATION_USER,
#      REPLICATION_PASSWORD) and lets it connect for replication (pg_hba.conf);
#   2. runs deploy/postgres/roles.sql (mounted at ROLES_SQL): the owner and app roles with their
#      passwords, and the database, owned by the owner role (docs/database-roles.md).
# Migrations and grant_app_privileges come next, from compose's migrate service.
set -euo pipefail

REPLICATION_USER="${REPLICATION_USER:-replicator}"
: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD (deploy/.env)}"
: "${STRATA_OWNER_PASSWORD:?set STRATA_OWNER_PASSWORD (deploy/.env)}"
: "${STRATA_APP_PASSWORD:?set STRATA_APP_PASSWORD (deploy/.env)}"
ROLES_SQL="${ROLES_SQL:-/etc/strata/roles.sql}"
STRATA_DB="${STRATA_DB:-strata}"

run_psql() {
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres "$@"
}

echo "primary-init: replication role ${REPLICATION_USER}"
run_psql -v repl_user="$REPLICATION_USER" -v repl_password="$REPLICATION_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I', :'repl_user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'repl_user') \gexec
ALTER ROLE :"repl_user" WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE
    PASSWORD :'repl_password';
SQL

# Replication connections match only lines that name the "replication" database. The password
# travels as a SCRAM exchange, never in clear.
printf '\n# Streaming replicas (deploy/postgres/replica-entrypoint.sh)\nhost replication %s all scram-sha-256\n' \
  "$REPLICATION_USER" >> "$PGDATA/pg_hba.conf"

echo "primary-init: Strata's roles and database (${ROLES_SQL})"
run_psql -v owner=strata_owner -v app=strata_app -v dbname="$STRATA_DB" \
  -v owner_password="$STRATA_OWNER_PASSWORD" -v app_password="$STRATA_APP_PASSWORD" \
  -f "$ROLES_SQL"
