package agent_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/kamerrezz/theminidog/agent"
	"github.com/kamerrezz/theminidog/model"
)

func TestAgentSendsCollectedBatch(t *testing.T) {
	srv := newIngestServer(t, nil)
	cfg := testConfig(srv.URL+"/", "fake_mem", "fake_delta")
	a := startAgent(t, cfg)

	first := next(t, srv.metrics)
	second := next(t, srv.metrics)
	a.stop(t)

	if first.path != "/api/v1/metrics" {
		t.Errorf("path = %q, want /api/v1/metrics", first.path)
	}
	if first.tokenErr != nil {
		t.Errorf("token rejected: %v", first.tokenErr)
	}
	b := first.body
	if b.Host != "test-host" {
		t.Errorf("batch host = %q, want test-host", b.Host)
	}
	if _, err := uuid.Parse(b.BatchID); err != nil {
		t.Errorf("batch_id %q is not a UUID: %v", b.BatchID, err)
	}
	if b.IntervalSeconds != cfg.CollectInterval.Seconds() {
		t.Errorf("interval_seconds = %v, want %v", b.IntervalSeconds, cfg.CollectInterval.Seconds())
	}

	values := map[string]float64{}
	for _, m := range b.Metrics {
		values[m.Name] = m.Value
		if m.Host != "test-host" {
			t.Errorf("%s host = %q, want test-host", m.Name, m.Host)
		}
		if !m.Time.Equal(b.Metrics[0].Time) || m.Time.Location() != time.UTC {
			t.Errorf("%s time = %v, want the tick's one UTC time %v", m.Name, m.Time, b.Metrics[0].Time)
		}
	}
	if values[model.MemUsedPct] != 42.5 || values[model.MemTotalBytes] != 8<<30 {
		t.Errorf("first batch values = %v, want the fake collector's 42.5 and %d", values, 8<<30)
	}
	if _, ok := values[model.CPUUsagePct]; ok {
		t.Error("first batch has a CPU point, but the delta collector's first sample is a baseline")
	}

	var cpu int
	for _, m := range second.body.Metrics {
		if m.Name == model.CPUUsagePct && m.Value == 12.5 && m.Labels["core"] == "total" {
			cpu++
		}
	}
	if cpu != 1 {
		t.Errorf("second batch has %d CPU points, want 1: %+v", cpu, second.body.Metrics)
	}
	if second.body.BatchID == b.BatchID {
		t.Error("two ticks share a batch id")
	}
}

func TestEmptyTickIsNotSent(t *testing.T) {
	srv := newIngestServer(t, nil)
	a := startAgent(t, testConfig(srv.URL, "fake_delta"))

	first := next(t, srv.metrics)
	next(t, srv.metrics)
	a.stop(t)

	if len(first.body.Metrics) == 0 {
		t.Error("the baseline tick sent an empty batch")
	}
	queued := a.Stats().MetricBatchesQueued
	if got := uint64(len(srv.acceptedIDs("/metrics"))); got != queued {
		t.Errorf("server accepted %d batches, agent queued %d", got, queued)
	}
}

func TestCollectorFailureKeepsPartialPoints(t *testing.T) {
	srv := newIngestServer(t, nil)
	logger, logs := newTestLogger()
	a := startAgent(t, testConfig(srv.URL, "fake_partial", "fake_bad", "fake_mem"), agent.WithLogger(logger))

	r := next(t, srv.metrics)
	a.stop(t)

	got := map[string]float64{}
	for _, m := range r.body.Metrics {
		got[m.Name+fmt.Sprint(m.Labels)] = m.Value
	}
	want := map[string]float64{
		model.DiskUsedPct + "map[mount:/]":    55,
		model.NetBytesOut + "map[iface:eth1]": 100,
		model.MemUsedPct + "map[]":            42.5,
		model.MemTotalBytes + "map[]":         8 << 30,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("point %s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got[model.NetBytesOut+"map[iface:eth0]"]; ok {
		t.Error("negative byte count was sent; the server rejects the whole batch for it")
	}

	failed := logLines(t, logs, "collector failed")
	if len(failed) == 0 || failed[0]["collector"] != "fake_partial" || !strings.Contains(fmt.Sprint(failed[0]["error"]), "statfs /mnt/nfs") {
		t.Errorf("collector failure log = %v, want collector fake_partial and its error", failed)
	}
	invalid := logLines(t, logs, "collector produced invalid points")
	if len(invalid) == 0 || invalid[0]["collector"] != "fake_bad" || invalid[0]["dropped"] != float64(1) {
		t.Errorf("invalid point log = %v, want collector fake_bad with 1 dropped", invalid)
	}
}

func TestHungCollectorDoesNotStallTicks(t *testing.T) {
	release := make(chan struct{})
	hangRelease.Store(&release)
	defer close(release)
	srv := newIngestServer(t, nil)
	logger, logs := newTestLogger()
	a := startAgent(t, testConfig(srv.URL, "fake_hang", "fake_mem"), agent.WithLogger(logger))

	for range 3 {
		r := next(t, srv.metrics)
		if len(r.body.Metrics) != 2 {
			t.Errorf("batch has %d points, want fake_mem's 2", len(r.body.Metrics))
		}
	}
	a.stop(t)

	failed := logLines(t, logs, "collector failed")
	if len(failed) == 0 || failed[0]["collector"] != "fake_hang" {
		t.Errorf("no timeout logged for fake_hang: %v", failed)
	}
	if len(logLines(t, logs, "collector skipped: previous call still running")) == 0 {
		t.Error("a tick started a second call of the hung collector")
	}
}

func TestShutdownFlushesQueuedBatches(t *testing.T) {
	// The server takes the first batch, then responds with 503 and a Retry-After
	// of 10s until open is set, so that batches queue up behind a sender in
	// backoff.
	var open atomic.Bool
	var requests atomic.Int64
	srv := newIngestServer(t, func(*received) (int, http.Header) {
		if requests.Add(1) == 1 || open.Load() {
			return http.StatusAccepted, nil
		}
		return http.StatusServiceUnavailable, http.Header{"Retry-After": {"10"}}
	})
	calls := make(chan struct{}, 100)
	collectCalls.Store(&calls)
	defer collectCalls.Store(nil)

	cfg := testConfig(srv.URL, "fake_mem")
	cfg.RetryWaitMax = 10 * time.Second
	a := startAgent(t, cfg)

	next(t, srv.metrics)
	// Wait for three more ticks, so that at least two batches are queued
	// or held behind the 503.
	for range 4 {
		<-calls
	}
	open.Store(true)
	a.stop(t)

	st := a.Stats()
	if st.MetricBatchesQueued < 3 {
		t.Fatalf("agent queued %d batches, want at least 3", st.MetricBatchesQueued)
	}
	if got := uint64(len(srv.acceptedIDs("/metrics"))); got != st.MetricBatchesQueued {
		t.Errorf("server accepted %d distinct batches, agent queued %d: the flush lost some", got, st.MetricBatchesQueued)
	}
	if st.MetricBatchesUnsent != 0 {
		t.Errorf("MetricBatchesUnsent = %d, want 0", st.MetricBatchesUnsent)
	}
}

func TestShutdownBudgetDropsUnsendable(t *testing.T) {
	srv := newIngestServer(t, func(*received) (int, http.Header) {
		return http.StatusTooManyRequests, http.Header{"Retry-After": {"3600"}}
	})
	calls := make(chan struct{}, 100)
	collectCalls.Store(&calls)
	defer collectCalls.Store(nil)
	logger, logs := newTestLogger()

	cfg := testConfig(srv.URL, "fake_mem")
	cfg.RetryWaitMax = 10 * time.Second
	cfg.ShutdownTimeout = time.Second
	a := startAgent(t, cfg, agent.WithLogger(logger))

	next(t, srv.metrics)
	for range 3 {
		<-calls
	}
	a.stop(t)

	st := a.Stats()
	if st.MetricBatchesUnsent == 0 || st.MetricBatchesUnsent != st.MetricBatchesQueued {
		t.Errorf("unsent %d of %d queued batches, want all of them", st.MetricBatchesUnsent, st.MetricBatchesQueued)
	}
	dropped := logLines(t, logs, "batches dropped at shutdown")
	if len(dropped) != 1 || dropped[0]["batches"] != float64(st.MetricBatchesUnsent) || dropped[0]["kind"] != "metrics" {
		t.Errorf("shutdown drop log = %v, want one metrics line with %d batches", dropped, st.MetricBatchesUnsent)
	}
}

func TestLogEntriesBatchedAndSanitized(t *testing.T) {
	srv := newIngestServer(t, nil)
	now := time.Now().UTC()
	src := &fakeSource{entries: []model.LogEntry{
		{Time: now, Path: "/var/log/app.log", Level: "WARNING", Message: "disk almost full"},
		{Time: now, Path: "/var/log/app.log", Level: "", Message: "no level"},
		{Time: now, Path: "/var/log/app.log", Level: "error", Message: "bad \xff byte"},
		{Path: "/var/log/app.log", Level: "info", Message: "no time"},
		{Time: now.Add(48 * time.Hour), Path: "/var/log/app.log", Level: "debug", Message: strings.Repeat("é", model.MaxLogMessageLen)},
	}}
	cfg := testConfig(srv.URL, "fake_mem")
	a := startAgent(t, cfg, agent.WithLogSource(src), agent.WithLogBatching(3, 0, 100*time.Millisecond))

	full := next(t, srv.logs)
	timed := next(t, srv.logs)
	a.stop(t)

	if len(full.body.Entries) != 3 || len(timed.body.Entries) != 2 {
		t.Fatalf("batches of %d and %d entries, want 3 (count limit) and 2 (time limit)", len(full.body.Entries), len(timed.body.Entries))
	}
	if full.path != "/api/v1/logs" || full.body.Host != "test-host" {
		t.Errorf("log batch path %q host %q", full.path, full.body.Host)
	}
	entries := append(full.body.Entries, timed.body.Entries...)
	wantLevels := []string{"warn", "info", "error", "info", "debug"}
	for i, e := range entries {
		if e.Level != wantLevels[i] {
			t.Errorf("entry %d level = %q, want %q", i, e.Level, wantLevels[i])
		}
		if e.Host != "test-host" || e.Time.IsZero() {
			t.Errorf("entry %d host %q time %v, want the agent host and a time", i, e.Host, e.Time)
		}
		if !utf8.ValidString(e.Message) || len(e.Message) > model.MaxLogMessageLen {
			t.Errorf("entry %d message is invalid UTF-8 or %d bytes long", i, len(e.Message))
		}
	}
	if future := entries[4].Time; future.After(time.Now().Add(model.MaxFutureSkew)) {
		t.Errorf("entry time %v more than %s ahead was sent as is", future, model.MaxFutureSkew)
	}

	batch := model.LogBatch{Host: full.body.Host, Entries: entries}
	if err := batch.Validate(model.Limits{Now: time.Now()}); err != nil {
		t.Errorf("sanitized entries fail server validation: %v", err)
	}
}

func TestLogBurstNeverDropsMetrics(t *testing.T) {
	srv := newIngestServer(t, func(r *received) (int, http.Header) {
		if strings.HasSuffix(r.path, "/logs") {
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusAccepted, nil
	})
	logger, logs := newTestLogger()
	src := &fakeSource{}
	for i := range 2000 {
		src.entries = append(src.entries, model.LogEntry{Path: "/var/log/burst.log", Level: "info", Message: fmt.Sprint("line ", i)})
	}

	cfg := testConfig(srv.URL, "fake_mem")
	cfg.LogQueueSize = 2
	cfg.ShutdownTimeout = 200 * time.Millisecond
	a := startAgent(t, cfg, agent.WithLogger(logger), agent.WithLogSource(src), agent.WithLogBatching(10, 0, time.Second))

	for range 3 {
		next(t, srv.metrics)
	}
	a.stop(t)

	st := a.Stats()
	if st.MetricBatchesDropped != 0 {
		t.Errorf("MetricBatchesDropped = %d during a log burst, want 0", st.MetricBatchesDropped)
	}
	if st.LogBatchesDropped == 0 {
		t.Error("LogBatchesDropped = 0, want drops from the full log queue")
	}
	full := logLines(t, logs, "queue full, newest batch dropped")
	if len(full) == 0 || full[0]["kind"] != "logs" {
		t.Errorf("queue-full log = %v, want a logs line", full)
	}
	if len(full) > 2 {
		t.Errorf("%d queue-full lines for one burst, want them rate-limited", len(full))
	}
}

// TestServerErrorBatchDoesNotBlockQueue has the server fail one batch with
// 500 every time and accept the others: the failing batch is dropped after
// its rounds run out and later batches are delivered.
func TestServerErrorBatchDoesNotBlockQueue(t *testing.T) {
	var poison atomic.Value
	srv := newIngestServer(t, func(r *received) (int, http.Header) {
		poison.CompareAndSwap(nil, r.body.BatchID)
		if r.body.BatchID == poison.Load() {
			return http.StatusInternalServerError, nil
		}
		return http.StatusAccepted, nil
	})
	cfg := testConfig(srv.URL, "fake_mem")
	cfg.RetryMax = 0
	cfg.RetryWaitMax = 10 * time.Millisecond
	a := startAgent(t, cfg)

	for {
		r := next(t, srv.metrics)
		if r.body.BatchID != poison.Load() && r.status == http.StatusAccepted {
			break
		}
	}
	a.stop(t)

	if got := a.Stats().MetricBatchesExpired; got != 1 {
		t.Fatalf("expired batches = %d, want 1", got)
	}
	attempts := 0
	srv.mu.Lock()
	for _, r := range srv.requests {
		if r.body.BatchID == poison.Load() {
			attempts++
		}
	}
	srv.mu.Unlock()
	if attempts < 10 {
		t.Fatalf("the failing batch was sent %d times, want at least one per round (10)", attempts)
	}
}
