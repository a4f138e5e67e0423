#!/usr/bin/env bash
# Entrypoint of a streaming replica (compose's db-replica), run as the postgres user.
#
# On first start (no cluster in PGDATA) it clones the primary with pg_basebackup: -R writes
# standby.signal and primary_conninfo, so the copy starts as a hot standby that streams the
# primary's WAL; -X stream copies the WAL written during the backup, so the copy is consistent.
# The clone goes to a scratch directory first, so a failed copy never looks like a cluster.
# Then, and on every later start, it runs its arguments (the postgres server).
set -euo pipefail

: "${PGDATA:?set PGDATA to the data directory of the replica}"
PRIMARY_HOST="${PRIMARY_HOST:-db-primary}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
REPLICATION_USER="${REPLICATION_USER:-replicator}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD (deploy/.env)}"
  until pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT"; do
    echo "replica: waiting for the primary at ${PRIMARY_HOST}:${PRIMARY_PORT}"
    sleep 2
  done
  partial="${PGDATA%/}.partial"
  rm -rf "$partial"
  echo "replica: cloning ${PRIMARY_HOST}:${PRIMARY_PORT} into ${PGDATA}"
  PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup \
    -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$REPLICATION_USER" \
    -D "$partial" -R -X stream --checkpoint=fast --no-password
  rm -rf "$PGDATA"
  mv "$partial" "$PGDATA"
  chmod 0700 "$PGDATA"
fi

exec "$@"
