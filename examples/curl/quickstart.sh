#!/usr/bin/env bash
# MiniObserv quick start with curl: mint tokens, push one batch of metrics,
# query it back, and read it on /metrics as Prometheus would.
#
#   SERVER_URL=http://127.0.0.1:8080 AGENT_TOKEN=<server secret> examples/curl/quickstart.sh
#
# Needs bash, curl 7.76 or newer (for --fail-with-body), date, and
# miniobserv-server on PATH to mint the tokens (it signs them with
# AGENT_TOKEN and never contacts the server).
set -euo pipefail

: "${SERVER_URL:?set SERVER_URL to the server base URL, e.g. http://127.0.0.1:8080}"
: "${AGENT_TOKEN:?set AGENT_TOKEN to the server secret, used here only to sign tokens}"
server=${SERVER_URL%/}
host=${AGENT_HOST:-curl-demo}
value=${MEM_USED_PCT:-42.5}

if ! command -v miniobserv-server >/dev/null 2>&1; then
  echo "miniobserv-server is not on PATH: build it with 'make build' and add bin/ to PATH" >&2
  exit 1
fi

# 1. Tokens: one that may only ingest, bound to this host name, and one
#    that may only read. Both expire in ten minutes.
ingest_token=$(miniobserv-server token --scope ingest --sub "$host" --ttl 10m)
read_token=$(miniobserv-server token --scope read --ttl 10m)

# 2. Push one point of mem.used_pct and one of cpu.usage_pct. The server
#    responds 202 {"ingested": 2} once both are stored.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "POST /api/v1/metrics"
curl --silent --show-error --fail-with-body \
  -H "Authorization: Bearer $ingest_token" \
  -H 'Content-Type: application/json' \
  --data-binary @- "$server/api/v1/metrics" <<JSON
{"host": "$host", "metrics": [
  {"time": "$now", "name": "mem.used_pct", "value": $value},
  {"time": "$now", "name": "cpu.usage_pct", "value": 12.5, "labels": {"core": "total"}}
]}
JSON
echo

# 3. Query the last hour of mem.used_pct in one-minute buckets.
echo "GET /api/v1/metrics/query"
curl --silent --show-error --fail-with-body --get \
  -H "Authorization: Bearer $read_token" \
  --data-urlencode "host=$host" \
  --data-urlencode "name=mem.used_pct" \
  --data-urlencode "bucket=1m" \
  "$server/api/v1/metrics/query"
echo

# 4. The same value in the Prometheus exposition.
echo "GET /metrics"
curl --silent --show-error --fail-with-body \
  -H "Authorization: Bearer $read_token" "$server/metrics" |
  grep "^miniobserv_mem_used_pct{host=\"$host\"}"
