package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
)

// BenchmarkAgentLogCPU runs the agent binary shipping one log file to a
// sink that accepts every batch. It reports the agent's CPU time, user
// plus system from /proc, per 10 000 lines. Each iteration appends 10 000
// logfmt lines of about 100 bytes and waits until the sink has received
// all of them. Metrics come from the mem collector alone, once at
// start-up, and start-up is not measured.
func BenchmarkAgentLogCPU(b *testing.B) {
	const linesPerOp = 10_000
	_, agentBin := binaries(b)

	var entries, metricBatches atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/logs" {
			var batch model.LogBatch
			if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			entries.Add(int64(len(batch.Entries)))
		} else {
			_, _ = io.Copy(io.Discard, r.Body)
			metricBatches.Add(1)
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"ingested":1}`))
	}))
	defer sink.Close()

	dir := b.TempDir()
	logPath := filepath.Join(dir, "app.log")
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	p := start(b, agentBin, []string{"SERVER_URL=" + sink.URL, "AGENT_TOKEN=" + secret, "AGENT_HOST=bench",
		"COLLECTORS=mem", "COLLECT_INTERVAL=5m", "LOG_PATHS=" + logPath, "LOG_STATE_FILE=" + filepath.Join(dir, "state.json")})
	waitUntil(b, "the agent to start", func() bool {
		return metricBatches.Load() > 0 && strings.Contains(outputOf(p), "tailer started")
	})

	chunks := logfmtChunks(linesPerOp, 100)
	pid := p.cmd.Process.Pid
	cpuStart := cpuTime(b, pid)
	var target int64
	for b.Loop() {
		target += linesPerOp
		for _, c := range chunks {
			if err := appendText(logPath, c); err != nil {
				b.Fatal(err)
			}
		}
		waitUntil(b, fmt.Sprintf("%d entries at the sink", target), func() bool { return entries.Load() >= target })
	}
	cpu := cpuTime(b, pid) - cpuStart

	if got := entries.Load(); got != target {
		b.Fatalf("sink received %d entries, want %d", got, target)
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/10k-lines")
	b.ReportMetric(float64(rssBytes(b, pid))/(1<<20), "rss-MiB")
}

// waitUntil polls check every 10 ms for up to a minute.
func waitUntil(b *testing.B, what string, check func() bool) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for !check() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out after 1m waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logfmtChunks returns n logfmt lines grouped into writes of per lines.
func logfmtChunks(n, per int) []string {
	var chunks []string
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "time=2024-01-02T03:04:05Z level=info msg=\"request served\" id=%d path=/api/v1/items status=200\n", i)
		if (i+1)%per == 0 {
			chunks = append(chunks, sb.String())
			sb.Reset()
		}
	}
	if sb.Len() > 0 {
		chunks = append(chunks, sb.String())
	}
	return chunks
}
