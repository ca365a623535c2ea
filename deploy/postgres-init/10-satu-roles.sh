#!/bin/sh
# Run by the postgres image when it creates the database (docker-compose.yml mounts this folder on
# /docker-entrypoint-initdb.d): the owner role (migrations only) and the application's role (rows
# only). See satu-roles.psql and SECURITY.md. It does not run again on an existing volume.
set -eu
psql --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" --no-psqlrc \
  -v owner="${SATU_DB_OWNER:-satu_owner}" -v app="${SATU_DB_APP:-satu_app}" \
  -v owner_password="$SATU_DB_OWNER_PASSWORD" -v app_password="$SATU_DB_APP_PASSWORD" \
  -f "${SATU_ROLES_SQL:-/docker-entrypoint-initdb.d/satu-roles.psql}"
