#!/usr/bin/env bash
# Make sure PostgreSQL server binaries are installed, installing Debian's
# package when they are missing and apt-get can run.
set -euo pipefail
if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing PostgreSQL with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >&2
  exit 0
fi
echo "PostgreSQL server binaries are missing: install PostgreSQL 14 or newer (Debian/Ubuntu: sudo apt-get install postgresql), or set DATABASE_URL" >&2
exit 1
