#!/usr/bin/env bash
# `make run`: the whole MiniObserv system on this host. Starts a local
# PostgreSQL under .data/ unless DATABASE_URL is set, then the server on
# 127.0.0.1:8080 and an agent reporting this host. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

data=.data
mkdir -p "$data"
pids=()
started_pg=

cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$started_pg" ]; then scripts/pg-local-stop.sh "$data"; fi
  echo "stopped"
}
on_signal() {
  cleanup
  exit 130
}
trap on_signal INT TERM
trap cleanup EXIT

scripts/ensure-postgres.sh

if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pg-local.sh "$data")
  started_pg=1
fi
export DATABASE_URL

# One secret per checkout, kept in .data so restarts keep working tokens.
if [ -z "${AGENT_TOKEN:-}" ]; then
  [ -s "$data/agent_token" ] || (umask 077; openssl rand -hex 32 > "$data/agent_token" 2>/dev/null || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$data/agent_token")
  AGENT_TOKEN=$(cat "$data/agent_token")
fi
export AGENT_TOKEN

listen=${LISTEN_ADDR:-127.0.0.1:8080}
url="http://$listen"

touch "$data/server.log"
log_start=$(($(wc -l < "$data/server.log") + 1))
bin/miniobserv-server serve --listen-addr "$listen" 2>>"$data/server.log" &
pids+=($!)

ready=
for _ in $(seq 1 150); do
  if curl -fsS --max-time 2 "$url/readyz" >/dev/null 2>&1; then
    ready=1
    break
  fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "the server exited during start-up; its log:" >&2
    tail -n "+$log_start" "$data/server.log" | tail -n 20 >&2
    exit 1
  fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  echo "the server at $url did not become ready within 30 s: is another program using $listen? Set LISTEN_ADDR to a free address. Its log:" >&2
  tail -n "+$log_start" "$data/server.log" | tail -n 20 >&2
  exit 1
fi

SERVER_URL="$url" COLLECT_INTERVAL=${COLLECT_INTERVAL:-5s} LOG_STATE_FILE="$data/agent-logs.state" \
  bin/miniobserv-agent 2>>"$data/agent.log" &
pids+=($!)

read_token=$(bin/miniobserv-server token --scope read --ttl 24h)
signin=$(bin/miniobserv-server token --scope read --ttl 10m)
host=${AGENT_HOST:-$(hostname)}

cat <<MSG

MiniObserv is running.
  dashboard (one-time sign-in link, valid 10 minutes): $url/login?token=$signin
  server log: $data/server.log   agent log: $data/agent.log
  the shared secret (AGENT_TOKEN) is in $data/agent_token

Sign in again later by pasting this read token (valid 24 hours) at $url/login:
  $read_token

Query this host's CPU for the last hour (points arrive after about two intervals):
  curl -s -H "Authorization: Bearer $read_token" "$url/api/v1/metrics/query?host=$host&name=cpu.usage_pct"

Press Ctrl-C to stop.
MSG

# Both programs exit 0 after a signal (Ctrl-C reaches the whole process
# group), so only a failure status means one of them crashed.
status=0
wait -n "${pids[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "the server or the agent failed (exit status $status); see $data/server.log and $data/agent.log" >&2
  exit 1
fi
