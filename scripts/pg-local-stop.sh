#!/usr/bin/env bash
# Stop the cluster started by pg-local.sh. Usage: scripts/pg-local-stop.sh DATA_DIR
set -euo pipefail
dir=$(realpath -m "${1:?usage: pg-local-stop.sh DATA_DIR}")
root=$dir
[ -f "$dir/pgroot" ] && root=$(cat "$dir/pgroot")
[ -f "$root/pgdata/PG_VERSION" ] || exit 0

bin=$(dirname "$(readlink -f "$(command -v pg_ctl 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)")")
as=()
[ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
"${as[@]}" "$bin/pg_ctl" -D "$root/pgdata" -m fast stop >/dev/null 2>&1 || true
