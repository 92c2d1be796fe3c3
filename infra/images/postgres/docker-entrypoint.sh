#!/bin/sh
# Creates the cluster on first start, as the official image does: a superuser POSTGRES_USER with the
# password of POSTGRES_PASSWORD_FILE (or POSTGRES_PASSWORD), the database POSTGRES_DB, password
# authentication for every remote client. Then runs the command (postgres).
set -eu
user="${POSTGRES_USER:-postgres}"
database="${POSTGRES_DB:-$user}"
if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  password="${POSTGRES_PASSWORD:-}"
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then password="$(cat "$POSTGRES_PASSWORD_FILE")"; fi
  if [ -z "$password" ]; then
    echo "postgres: set POSTGRES_PASSWORD_FILE (or POSTGRES_PASSWORD) for the first start" >&2
    exit 1
  fi
  password_file="$(mktemp)"
  printf '%s\n' "$password" >"$password_file"
  initdb --username="$user" --pwfile="$password_file" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
  rm -f "$password_file"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  if [ "$database" != postgres ]; then
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    createdb --username="$user" "$database"
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  echo "postgres: created the cluster with database $database" >&2
fi
exec "$@"
