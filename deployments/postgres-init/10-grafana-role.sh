#!/bin/sh
# Runs once, when the database volume is first initialised (the postgres
# image runs /docker-entrypoint-initdb.d/*.sh). Creates the read-only role
# the Grafana datasource logs in with: it may read every table the
# miniobserv role creates later (migrations run at server start) and
# nothing else. Without GRAFANA_DB_PASSWORD no role is created.
set -eu

if [ -z "${GRAFANA_DB_PASSWORD:-}" ]; then
  echo "GRAFANA_DB_PASSWORD is empty: not creating the grafana role"
  exit 0
fi

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set pw="$GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE grafana LOGIN PASSWORD :'pw';
GRANT CONNECT ON DATABASE miniobserv TO grafana;
GRANT USAGE ON SCHEMA public TO grafana;
ALTER DEFAULT PRIVILEGES FOR ROLE miniobserv IN SCHEMA public GRANT SELECT ON TABLES TO grafana;
SQL
