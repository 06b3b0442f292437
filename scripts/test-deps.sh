#!/usr/bin/env bash
# Install what the test suite needs and this machine lacks: PostgreSQL
# server binaries, Chromium for the dashboard tests, docker-compose for the
# Compose file check, systemd-analyze for the unit files, and the Node
# packages of the TimescaleDB test engine.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-postgres.sh

if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing Chromium with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  else
    echo "Chromium is missing: the dashboard tests need it (Debian: apt-get install chromium)" >&2
    exit 1
  fi
fi

# Only the docker-compose tool: --no-install-recommends keeps apt from
# adding a Docker engine, which the tests do not use.
if ! command -v docker-compose >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing docker-compose with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >&2
  else
    echo "docker-compose is missing: the deployment tests need it (Debian: apt-get install --no-install-recommends docker-compose)" >&2
    exit 1
  fi
fi

if ! command -v systemd-analyze >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing systemd (for systemd-analyze) with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >&2
  else
    echo "systemd-analyze is missing: the unit file tests need it (Debian: apt-get install systemd)" >&2
    exit 1
  fi
fi

if ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing Node.js and npm with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
  else
    echo "npm is missing: the TimescaleDB engine and dashboard tests need Node.js 20 and npm" >&2
    exit 1
  fi
fi

if [ -f tools/pglite/package-lock.json ] && [ ! -d tools/pglite/node_modules ]; then
  npm ci --prefix tools/pglite --no-audit --no-fund >&2
fi
