#!/usr/bin/env bash
# `make bench`: run the benchmarks and print each result as a ratio against
# a baseline measured in the same run. Raw output is kept in bench.out.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-bench.out}
: > "$out"

run() { # package, benchmark regexp, benchtime
  go test -run '^$' -bench "$2" -benchtime "${3:-3s}" -count 1 "$1" 2>/dev/null | tee -a "$out" | grep -E '^(pkg:|Benchmark)' || true
}

metric() { # benchmark name (exact, without -N suffix), unit
  awk -v name="$1" -v unit="$2" '
    $1 ~ "^"name"(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == unit) { print $i; exit } }' "$out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "== ingest: end to end (HTTP + JSON + validation + storage) vs raw COPY, 4 writers per core"
run ./server/api 'BenchmarkIngestHTTP|BenchmarkCopyBaseline'
ingest=$(metric BenchmarkIngestHTTP rows/s)
copy=$(metric BenchmarkCopyBaseline rows/s)

echo "== ingest with telemetry off, exporting to a local receiver, and pointed at a collector that never answers"
run ./server/api 'BenchmarkIngestTelemetry' 2s
tel_off=$(metric BenchmarkIngestTelemetry/off rows/s)
tel_rcv=$(metric BenchmarkIngestTelemetry/receiver rows/s)
tel_hole=$(metric BenchmarkIngestTelemetry/blackhole rows/s)

echo "== insert design: COPY in a transaction vs one INSERT ... unnest statement, 4 writers per core"
run ./server/storage 'BenchmarkRawCopyFrom|BenchmarkInsertMetrics'

echo "== 30-day query at 1h buckets: raw rows vs hourly rollup"
run ./server/storage 'BenchmarkQuery30Days' 2s
raw=$(metric BenchmarkQuery30Days/raw ns/op)
rollup=$(metric BenchmarkQuery30Days/rollup ns/op)

echo "== logs: one-page substring search over 1M rows, without and with the trigram index"
run ./server/storage 'BenchmarkQueryLogsText' 2s
log_scan=$(metric BenchmarkQueryLogsText/scan/rare ns/op)
log_trigram=$(metric BenchmarkQueryLogsText/trigram/rare ns/op)

echo "== dashboard: one host view (16 requests), 100 hosts x 24 h and 5 hosts x 30 d"
run ./server/dashboard 'BenchmarkDashboardHostView' 20x
v24=$(metric BenchmarkDashboardHostView/24h ms/view)
v30=$(metric BenchmarkDashboardHostView/30d ms/view)
v30raw=$(metric BenchmarkDashboardHostView/30d-no-rollup ms/view)

echo "== TimescaleDB test engine: INSERT ... unnest, 1000-row batches"
run ./internal/tsdbtest 'BenchmarkInsertUnnest' 200x

echo "== agent binary: CPU time and memory per tick, all collectors, 1s interval, 15 ticks"
run ./e2e 'BenchmarkAgentTick' 1x

echo "== agent binary: CPU time per 10 000 shipped log lines, 5 rounds"
run ./e2e 'BenchmarkAgentLogCPU' 5x
log_cpu=$(metric BenchmarkAgentLogCPU cpu-ms/10k-lines)

for extra in ./collectors/... ./agent/... ./internal/telemetry/...; do
  if go list "$extra" >/dev/null 2>&1 && grep -rqs '^func Benchmark' $(go list -f '{{.Dir}}' "$extra"); then
    echo "== $extra"
    run "$extra" . 2s
  fi
done

echo
echo "summary"
echo "  ingest end to end: $ingest rows/s; raw COPY: $copy rows/s; ratio $(ratio "$ingest" "$copy") (target >= 0.50)"
echo "  ingest with telemetry exporting: $(ratio "$tel_rcv" "$tel_off") of telemetry off; collector never answering: $(ratio "$tel_hole" "$tel_off")"
echo "  30-day 1h query: raw $raw ns, rollup $rollup ns; rollup is $(ratio "$raw" "$rollup")x faster"
echo "  log search for a rare word over 1M rows: scan $log_scan ns, trigram index $log_trigram ns; the index is $(ratio "$log_scan" "$log_trigram")x faster"
echo "  agent log shipping: $log_cpu CPU ms per 10 000 lines"
echo "  dashboard host view: 24h $v24 ms, 30d $v30 ms ($(ratio "$v30" "$v24")x the 24h view); 30d without rollup is $(ratio "$v30raw" "$v30")x slower"
echo "raw results: $out"
