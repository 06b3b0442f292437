package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAgentTick runs the agent binary with every collector at a
// one-second interval against a sink that accepts every batch, and reports
// its CPU time per tick, its resident memory, and the share of one core it
// uses. b.N is ignored: each run lasts 15 ticks.
func BenchmarkAgentTick(b *testing.B) {
	_, agentBin := binaries(b)
	var batches atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		batches.Add(1)
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"ingested":1}`))
	}))
	defer sink.Close()

	const ticks = 15
	p := start(b, agentBin, []string{"SERVER_URL=" + sink.URL, "AGENT_TOKEN=" + secret, "COLLECT_INTERVAL=1s",
		"LOG_STATE_FILE=" + b.TempDir() + "/state.json"})
	start := time.Now()
	cpuStart := cpuTime(b, p.cmd.Process.Pid)
	time.Sleep(ticks * time.Second)
	cpu := cpuTime(b, p.cmd.Process.Pid) - cpuStart
	wall := time.Since(start)
	rss := rssBytes(b, p.cmd.Process.Pid)

	if batches.Load() < ticks/2 {
		b.Fatalf("sink received %d batches in %d ticks", batches.Load(), ticks)
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/ticks, "cpu-ms/tick")
	b.ReportMetric(float64(rss)/(1<<20), "rss-MiB")
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpu-share")
}

// cpuTime reads a process's user plus system CPU time from /proc.
func cpuTime(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: utime is
	// field 14 and stime field 15 of the whole line, in clock ticks.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicks
}

func rssBytes(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc status")
	return 0
}
