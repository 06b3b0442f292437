#!/usr/bin/env bash
# Start a local PostgreSQL cluster for `make run` on a free loopback port and
# print its DATABASE_URL on stdout; everything else goes to stderr.
# Usage: scripts/pg-local.sh DATA_DIR
#
# The cluster lives in DATA_DIR/pgdata. As root, PostgreSQL runs as the
# postgres user, which must be able to reach that directory. When a parent
# directory is private (a 0700 home or temporary directory), the cluster goes
# to a directory under /tmp named after DATA_DIR instead. DATA_DIR/pgroot
# records where it is, for pg-local-stop.sh.
set -euo pipefail

dir=$(realpath -m "${1:?usage: pg-local.sh DATA_DIR}")
mkdir -p "$dir"

# Debian keeps the server binaries off PATH, and an initdb on PATH may be a
# link into that directory.
bin=$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)")")
if [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL server binaries not found: install them (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL" >&2
  exit 1
fi

# PostgreSQL refuses to run as root, so root runs it as the postgres user.
as=()
root=$dir
if [ "$(id -u)" = 0 ]; then
  as=(runuser -u postgres --)
  chown postgres "$dir"
  if ! runuser -u postgres -- test -w "$dir"; then
    root=/tmp/miniobserv-pg-$(printf '%s' "$dir" | sha256sum | cut -c1-12)
    mkdir -p "$root"
    chown postgres "$root"
    chmod 700 "$root"
    echo "the postgres user cannot reach $dir, so the cluster lives in $root" >&2
  fi
fi
echo "$root" > "$dir/pgroot"

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "no free loopback port found" >&2
  return 1
}

if [ ! -f "$root/pgdata/PG_VERSION" ]; then
  echo "creating a PostgreSQL cluster in $root/pgdata" >&2
  "${as[@]}" "$bin/initdb" -D "$root/pgdata" -U postgres -A trust -E UTF8 --locale=C >/dev/null
fi

if [ -f "$root/port" ] && "${as[@]}" "$bin/pg_ctl" -D "$root/pgdata" status >/dev/null 2>&1; then
  port=$(cat "$root/port")
else
  port=$(free_port)
  echo "$port" > "$root/port"
  "${as[@]}" "$bin/pg_ctl" -D "$root/pgdata" -l "$root/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $root" start >&2
fi

url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
"$bin/psql" "$url" -tAc "SELECT 1 FROM pg_database WHERE datname = 'miniobserv'" | grep -q 1 ||
  "$bin/psql" "$url" -qc "CREATE DATABASE miniobserv" >&2
echo "postgres://postgres@127.0.0.1:$port/miniobserv?sslmode=disable"
