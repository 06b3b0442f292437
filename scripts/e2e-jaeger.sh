#!/usr/bin/env bash
# `make e2e-jaeger`: checks one real ingest trace in a real Jaeger. Starts a
# throwaway PostgreSQL, Jaeger v2 with in-memory storage, the server and the
# agent, all on 127.0.0.1. Then waits until Jaeger contains one trace from the
# agent's send span through the server's request span to the PostgreSQL
# insert span, with correct parent links. Everything it started
# is stopped on exit. Not part of `make test`: the first run builds Jaeger
# (minutes, about 2 GB of memory) into tools/jaeger/bin/.
#
# Settings (environment):
#   E2E_TIMEOUT        seconds to wait for the complete trace (default 90)
#   E2E_OTLP_PROTOCOL  http/protobuf (default) or grpc: how both binaries
#                      export their spans to Jaeger
#   E2E_KEEP_LOGS      1 keeps the temporary directory with every log even
#                      when the check passes (it is always kept on failure)
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
trace_timeout=${E2E_TIMEOUT:-90}
protocol=${E2E_OTLP_PROTOCOL:-http/protobuf}
jaeger=tools/jaeger/bin/jaeger
tracecheck=tools/jaeger/bin/tracecheck

case "$protocol" in
  http/protobuf | grpc) ;;
  *) echo "E2E_OTLP_PROTOCOL=$protocol is not supported: use http/protobuf or grpc" >&2; exit 2 ;;
esac
case "$trace_timeout" in
  '' | *[!0-9]*) echo "E2E_TIMEOUT=$trace_timeout is invalid: use a whole number of seconds" >&2; exit 2 ;;
esac

# OTEL_* variables of the caller's shell (a collector endpoint, an
# exporter set to none) would change what this check measures.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^OTEL_' || true)

say() { printf '[e2e-jaeger %3ds] %s\n' "$(($(date +%s) - started))" "$*"; }
fail() { say "FAIL: $*"; exit 1; }

tmp=$(mktemp -d -t miniobserv-e2e-jaeger.XXXXXX)
# The postgres user runs the cluster under $tmp/pg, so it must be able to
# enter $tmp.
chmod 755 "$tmp"
declare -A pids=()
started_pg=
passed=

# stop ends one process started here: SIGTERM, then SIGKILL after 10 s.
stop() {
  local name=$1 pid=${pids[$1]}
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - INT TERM EXIT
  # The agent before the server, so its last sends still find the server;
  # Jaeger last, so it receives the spans both flush on shutdown.
  for name in tracecheck agent server jaeger; do
    [ -n "${pids[$name]:-}" ] && stop "$name"
  done
  [ -n "$started_pg" ] && scripts/pg-local-stop.sh "$tmp/pg"

  if [ -n "$passed" ] && [ "${E2E_KEEP_LOGS:-}" != 1 ]; then
    rm -rf "$tmp"
  else
    say "logs kept in $tmp (jaeger.log, server.log, agent.log, pg/postgres.log)"
  fi
  say "stopped everything this script started; total $(($(date +%s) - started))s"
  exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for runs a command until it succeeds, at most $1 seconds, and fails
# early when the process named $2 has exited.
wait_for() {
  local seconds=$1 name=$2
  shift 2
  local deadline=$(($(date +%s) + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "${pids[$name]}" 2>/dev/null; then
      tail -n 20 "$tmp/$name.log" >&2 || true
      fail "$name exited during start-up; see $tmp/$name.log"
    fi
    [ "$(date +%s)" -lt "$deadline" ] || fail "$name was not ready within ${seconds}s; see $tmp/$name.log"
    sleep 0.2
  done
}

build_jaeger() {
  if [ -x "$jaeger" ] && [ "$jaeger" -nt tools/jaeger/go.mod ] && [ "$jaeger" -nt tools/jaeger/go.sum ]; then
    return
  fi
  say "building Jaeger into $jaeger (the first build takes several minutes and about 2 GB of memory)"
  local t0
  t0=$(date +%s)
  (cd tools/jaeger && nice -n 19 go build -trimpath -o bin/jaeger github.com/jaegertracing/jaeger/cmd/jaeger) ||
    fail "building Jaeger failed; see the go output above"
  say "built Jaeger in $(($(date +%s) - t0))s"
}

build_miniobserv() {
  say "building bin/ (make build)"
  "${MAKE:-make}" --no-print-directory build || fail "make build failed"
  (cd tools/jaeger && go build -o bin/tracecheck ./tracecheck) || fail "building tracecheck failed"

  [ -x bin/miniobserv-server ] || fail "bin/miniobserv-server is missing after make build"
  [ -x bin/miniobserv-agent ] ||
    fail "bin/miniobserv-agent is missing: this check needs the agent (cmd/miniobserv-agent) to produce the trace"
  local help
  help=$(bin/miniobserv-agent -h 2>&1 || true)
  for setting in SERVER_URL AGENT_TOKEN COLLECT_INTERVAL; do
    grep -q "$setting" <<<"$help" ||
      fail "bin/miniobserv-agent does not list the $setting setting in -h: it cannot be started the way this check starts it"
  done
}

start_postgres() {
  scripts/ensure-postgres.sh
  # Set before the start, so a cluster that starts but then fails a later
  # step of pg-local.sh is stopped too.
  started_pg=1
  DATABASE_URL=$(scripts/pg-local.sh "$tmp/pg" 2>>"$tmp/pg-local.log") || fail "PostgreSQL did not start; see $tmp/pg-local.log"
  export DATABASE_URL
  say "PostgreSQL up"
}

start_jaeger() {
  query_port=$(free_port)
  export E2E_JAEGER_QUERY_HTTP_PORT=$query_port
  export E2E_JAEGER_QUERY_GRPC_PORT=$(free_port)
  export E2E_JAEGER_OTLP_GRPC_PORT=$(free_port)
  export E2E_JAEGER_OTLP_HTTP_PORT=$(free_port)

  "$jaeger" --config tools/jaeger/e2e.yaml >"$tmp/jaeger.log" 2>&1 &
  pids[jaeger]=$!
  query_url=http://127.0.0.1:$query_port
  wait_for 60 jaeger curl -fsS "$query_url/api/services"
  # A GET on the OTLP path returns 405, which shows the receiver is up.
  wait_for 60 jaeger sh -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$E2E_JAEGER_OTLP_HTTP_PORT/v1/traces | grep -q 405"
  check_loopback_only
  say "Jaeger up: query API $query_url, OTLP gRPC :$E2E_JAEGER_OTLP_GRPC_PORT, OTLP HTTP :$E2E_JAEGER_OTLP_HTTP_PORT"
}

# check_loopback_only fails unless every TCP and UDP port Jaeger listens on
# is bound to 127.0.0.1.
check_loopback_only() {
  local sockets others
  sockets=$(ss -H -tulnp | grep "pid=${pids[jaeger]}," || true)
  [ -n "$sockets" ] || fail "ss lists no listening socket of Jaeger (pid ${pids[jaeger]})"
  # Column 5 is the local address and port.
  others=$(awk '$5 !~ /^127\.0\.0\.1:/ { print $1, $5 }' <<<"$sockets")
  [ -z "$others" ] ||
    fail "Jaeger listens on an address other than 127.0.0.1: $others; fix tools/jaeger/e2e.yaml"
  say "Jaeger listens on 127.0.0.1 only: $(awk '{ print $5 }' <<<"$sockets" | sort | tr '\n' ' ')"
}

# otel_env prints the OTEL_* settings of both binaries: traces to Jaeger
# over $protocol, metrics off because Jaeger has no OTLP metrics receiver,
# and a short batch delay so spans reach Jaeger within a second.
otel_env() {
  if [ "$protocol" = grpc ]; then
    echo "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:$E2E_JAEGER_OTLP_GRPC_PORT"
  else
    # A per-signal HTTP endpoint is used as given, so it needs the path.
    echo "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:$E2E_JAEGER_OTLP_HTTP_PORT/v1/traces"
  fi
  echo "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=$protocol"
  echo "OTEL_METRICS_EXPORTER=none"
  echo "OTEL_BSP_SCHEDULE_DELAY=500"
}

start_server() {
  server_addr=127.0.0.1:$(free_port)
  AGENT_TOKEN=$(openssl rand -hex 32)
  export AGENT_TOKEN

  env $(otel_env) LISTEN_ADDR="$server_addr" LOG_LEVEL=info \
    bin/miniobserv-server serve >"$tmp/server.log" 2>&1 &
  pids[server]=$!
  wait_for 60 server curl -fsS "http://$server_addr/readyz"
  grep -q '"telemetry export enabled"' "$tmp/server.log" ||
    fail "the server did not enable trace export; see $tmp/server.log"
  say "server up on $server_addr"
}

start_agent() {
  env $(otel_env) SERVER_URL="http://$server_addr" COLLECT_INTERVAL=1s AGENT_HOST=e2e-jaeger LOG_LEVEL=info \
    LOG_STATE_FILE="$tmp/agent-logs.state" bin/miniobserv-agent >"$tmp/agent.log" 2>&1 &
  pids[agent]=$!
  # The agent has no readiness endpoint. It logs "agent started" once its
  # settings are accepted and its collectors built.
  wait_for 30 agent grep -q 'agent started' "$tmp/agent.log"
  grep -q 'telemetry export enabled' "$tmp/agent.log" ||
    fail "the agent did not enable trace export: this agent build does not export OpenTelemetry traces; see $tmp/agent.log"
  say "agent up, collecting every 1s"
}

build_jaeger
build_miniobserv
start_postgres
start_jaeger
start_server
start_agent

say "waiting up to ${trace_timeout}s for a complete ingest trace ($protocol export)"
# In the background, so that Ctrl-C or SIGTERM reach the cleanup at once
# instead of after the check's timeout.
"$tracecheck" -query "$query_url" -timeout "${trace_timeout}s" &
pids[tracecheck]=$!
if wait "${pids[tracecheck]}"; then
  passed=1
  say "PASS: agent → server → PostgreSQL trace found in Jaeger"
else
  fail "no complete agent → server → PostgreSQL trace in Jaeger; see the lines above and the logs"
fi
