#!/bin/sh
# Run by the postgres image when it creates the database (see 10-satu-roles.sh): when
# SATU_DB_REPLICATION_PASSWORD is set, the role `replicator` that the read replica
# (docker-compose.yml, profile `replica`) streams the primary's WAL with, and the pg_hba.conf line
# that lets it connect for replication from the compose network. Unset: nothing is done.
set -eu
if [ -z "${SATU_DB_REPLICATION_PASSWORD:-}" ]; then
  exit 0
fi
psql --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" --no-psqlrc -v ON_ERROR_STOP=1 \
  -v password="$SATU_DB_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
