#!/usr/bin/env bash
# Start a local PostgreSQL cluster under a data directory on a free loopback
# port, for `make run`. Prints the DATABASE_URL on stdout; everything else
# goes to stderr. Usage: scripts/pg-local.sh DATA_DIR
set -euo pipefail

dir=$(realpath -m "${1:?usage: pg-local.sh DATA_DIR}")
mkdir -p "$dir"

# Debian keeps the server binaries off PATH. An initdb on PATH may be a
# symlink into that directory, and psql sits next to its target.
bin=$(dirname "$(realpath "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)")")
if [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL server binaries not found: install them (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL" >&2
  exit 1
fi

# PostgreSQL refuses to run as root, so root runs it as the postgres user.
as=()
if [ "$(id -u)" = 0 ]; then
  as=(runuser -u postgres --)
  chown postgres "$dir"
fi

if [ ! -f "$dir/pgdata/PG_VERSION" ]; then
  echo "creating a PostgreSQL cluster in $dir/pgdata" >&2
  "${as[@]}" "$bin/initdb" -D "$dir/pgdata" -U postgres -A trust -E UTF8 --locale=C >/dev/null
fi

if [ -f "$dir/port" ] && "${as[@]}" "$bin/pg_ctl" -D "$dir/pgdata" status >/dev/null 2>&1; then
  port=$(cat "$dir/port")
else
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "$port" > "$dir/port"
  "${as[@]}" "$bin/pg_ctl" -D "$dir/pgdata" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" start >&2
fi

url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
"$bin/psql" "$url" -tAc "SELECT 1 FROM pg_database WHERE datname = 'miniobserv'" | grep -q 1 ||
  "$bin/psql" "$url" -qc "CREATE DATABASE miniobserv" >&2
echo "postgres://postgres@127.0.0.1:$port/miniobserv?sslmode=disable"
