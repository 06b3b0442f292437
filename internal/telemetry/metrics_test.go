package telemetry_test

import (
	"context"
	"maps"
	"math"
	"sync/atomic"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"

	"github.com/kamerrezz/theminidog/internal/otlptest"
	"github.com/kamerrezz/theminidog/internal/telemetry"
)

// wantSum checks the latest value of one metric series.
func wantSum(t *testing.T, rcv *otlptest.Receiver, name string, attrs map[string]string, want float64) {
	t.Helper()
	got, ok := rcv.MetricSum(name, attrs)
	if !ok {
		t.Errorf("metric %s%v missing", name, attrs)
		return
	}
	if got != want {
		t.Errorf("metric %s%v = %v, want %v", name, attrs, got, want)
	}
}

// wantCount checks the observation count of one histogram series.
func wantCount(t *testing.T, rcv *otlptest.Receiver, name string, attrs map[string]string, want uint64) {
	t.Helper()
	got, ok := rcv.MetricCount(name, attrs)
	if !ok {
		t.Errorf("histogram %s%v missing", name, attrs)
		return
	}
	if got != want {
		t.Errorf("histogram %s%v count = %d, want %d", name, attrs, got, want)
	}
}

func TestServerMetricsArrive(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	tel, _ := setup(t, "miniobserv-server")
	m, err := telemetry.NewServerMetrics(tel.Meter())
	if err != nil {
		t.Fatalf("create server metrics: %v", err)
	}
	ctx := context.Background()

	m.AddPointsIngested(ctx, 5)
	m.AddPointsIngested(ctx, 7)
	m.AddPointsRejected(ctx, telemetry.RejectInvalid, 2)
	m.AddPointsRejected(ctx, telemetry.RejectTooLarge, 1000)
	m.AddPointsRejected(ctx, "made up", 4)
	m.AddLogsIngested(ctx, 9)
	m.AddLogsRejected(ctx, telemetry.RejectDuplicate, 3)
	m.AddNotificationSent(ctx, "webhook")
	m.AddNotificationSent(ctx, "webhook")
	m.AddNotificationFailed(ctx, "slack")
	m.RecordIngestDuration(ctx, telemetry.BatchMetrics, 20*time.Millisecond)
	m.RecordIngestDuration(ctx, telemetry.BatchMetrics, 40*time.Millisecond)
	m.RecordIngestDuration(ctx, telemetry.BatchLogs, 10*time.Millisecond)
	m.RecordAlertEvaluation(ctx, 3*time.Millisecond)
	flush(t, tel)

	rcv.WaitForMetric(t, "miniobserv.points.ingested", nil, func(v float64) bool { return v == 12 }, waitTimeout)
	wantSum(t, rcv, "miniobserv.points.rejected", map[string]string{"reason": "invalid"}, 2)
	wantSum(t, rcv, "miniobserv.points.rejected", map[string]string{"reason": "too_large"}, 1000)
	wantSum(t, rcv, "miniobserv.points.rejected", map[string]string{"reason": "other"}, 4)
	wantSum(t, rcv, "miniobserv.points.rejected", nil, 1006)
	wantSum(t, rcv, "miniobserv.logs.ingested", nil, 9)
	wantSum(t, rcv, "miniobserv.logs.rejected", map[string]string{"reason": "duplicate"}, 3)
	wantSum(t, rcv, "miniobserv.notifications.sent", map[string]string{"type": "webhook"}, 2)
	wantSum(t, rcv, "miniobserv.notifications.failed", map[string]string{"type": "slack"}, 1)
	wantCount(t, rcv, "miniobserv.ingest.duration", map[string]string{"kind": "metrics"}, 2)
	wantCount(t, rcv, "miniobserv.ingest.duration", map[string]string{"kind": "logs"}, 1)
	if sum, _ := rcv.MetricSum("miniobserv.ingest.duration", map[string]string{"kind": "metrics"}); math.Abs(sum-0.06) > 1e-9 {
		t.Errorf("ingest duration sum = %v s, want 0.06", sum)
	}
	wantCount(t, rcv, "miniobserv.alert.evaluation.duration", nil, 1)

	for _, p := range rcv.Points() {
		if p.Metric == "miniobserv.ingest.duration" && p.Unit != "s" {
			t.Errorf("ingest duration unit = %q, want s", p.Unit)
		}
	}
}

func TestAgentMetricsArrive(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	tel, _ := setup(t, "miniobserv-agent")
	m, err := telemetry.NewAgentMetrics(tel.Meter())
	if err != nil {
		t.Fatalf("create agent metrics: %v", err)
	}
	ctx := context.Background()
	var metricsQueue, logsQueue atomic.Int64
	metricsQueue.Store(4)
	logsQueue.Store(11)
	if _, err := m.ObserveQueueLength(telemetry.BatchMetrics, func() int { return int(metricsQueue.Load()) }); err != nil {
		t.Fatalf("observe metrics queue: %v", err)
	}
	reg, err := m.ObserveQueueLength(telemetry.BatchLogs, func() int { return int(logsQueue.Load()) })
	if err != nil {
		t.Fatalf("observe logs queue: %v", err)
	}

	m.AddBatchesQueued(ctx, telemetry.BatchMetrics, 3)
	m.AddBatchesSent(ctx, telemetry.BatchMetrics, 2)
	m.AddBatchesRetried(ctx, telemetry.BatchLogs, 5)
	m.AddBatchesDropped(ctx, telemetry.BatchLogs, telemetry.DropQueueFull, 6)
	m.AddBatchesDropped(ctx, telemetry.BatchMetrics, telemetry.DropRejected, 1)
	m.AddBatchesDropped(ctx, "traces", "lost", 1)
	m.RecordCollectDuration(ctx, "cpu", 2*time.Millisecond)
	m.RecordCollectDuration(ctx, "cpu", 4*time.Millisecond)
	m.RecordCollectDuration(ctx, "disk", 8*time.Millisecond)
	flush(t, tel)

	rcv.WaitForMetric(t, "miniobserv.agent.batches.queued", map[string]string{"kind": "metrics"}, func(v float64) bool { return v == 3 }, waitTimeout)
	wantSum(t, rcv, "miniobserv.agent.batches.sent", map[string]string{"kind": "metrics"}, 2)
	wantSum(t, rcv, "miniobserv.agent.batches.retried", map[string]string{"kind": "logs"}, 5)
	wantSum(t, rcv, "miniobserv.agent.batches.dropped", map[string]string{"kind": "logs", "reason": "queue_full"}, 6)
	wantSum(t, rcv, "miniobserv.agent.batches.dropped", map[string]string{"kind": "metrics", "reason": "rejected"}, 1)
	wantSum(t, rcv, "miniobserv.agent.batches.dropped", map[string]string{"kind": "other", "reason": "other"}, 1)
	wantSum(t, rcv, "miniobserv.agent.queue.length", map[string]string{"kind": "metrics"}, 4)
	wantSum(t, rcv, "miniobserv.agent.queue.length", map[string]string{"kind": "logs"}, 11)
	wantCount(t, rcv, "miniobserv.agent.collect.duration", map[string]string{"collector": "cpu"}, 2)
	wantCount(t, rcv, "miniobserv.agent.collect.duration", map[string]string{"collector": "disk"}, 1)

	// The gauge reads the callback at each collection.
	metricsQueue.Store(9)
	if err := reg.Unregister(); err != nil {
		t.Fatalf("unregister logs queue: %v", err)
	}
	flush(t, tel)
	rcv.WaitForMetric(t, "miniobserv.agent.queue.length", map[string]string{"kind": "metrics"}, func(v float64) bool { return v == 9 }, waitTimeout)
}

func TestPoolMetricsFromStat(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	tel, _ := setup(t, "miniobserv-server")
	stat := telemetry.PoolStat{
		Acquired: 3, Idle: 2, Total: 6, Max: 10,
		WaitCount: 17, WaitDuration: 1500 * time.Millisecond, CanceledAcquires: 4,
	}

	reg, err := telemetry.RegisterPoolMetrics(tel.Meter(), "main", func() telemetry.PoolStat { return stat })
	if err != nil {
		t.Fatalf("register pool metrics: %v", err)
	}
	defer reg.Unregister()
	flush(t, tel)

	pool := map[string]string{"db.client.connection.pool.name": "main"}
	with := func(key, value string) map[string]string {
		m := maps.Clone(pool)
		m[key] = value
		return m
	}
	rcv.WaitForMetric(t, "db.client.connection.max", pool, func(v float64) bool { return v == 10 }, waitTimeout)
	wantSum(t, rcv, "db.client.connection.count", with("db.client.connection.state", "used"), 3)
	wantSum(t, rcv, "db.client.connection.count", with("db.client.connection.state", "idle"), 2)
	wantSum(t, rcv, "miniobserv.db.pool.connections.total", pool, 6)
	wantSum(t, rcv, "miniobserv.db.pool.acquire.waits", pool, 17)
	wantSum(t, rcv, "miniobserv.db.pool.acquire.wait_time", pool, 1.5)
	wantSum(t, rcv, "miniobserv.db.pool.acquire.canceled", pool, 4)
}

func TestMetricsOnNoopMeter(t *testing.T) {
	meter := metricnoop.NewMeterProvider().Meter("test")

	server, err := telemetry.NewServerMetrics(meter)
	if err != nil {
		t.Fatalf("server metrics on a no-op meter: %v", err)
	}
	agent, err := telemetry.NewAgentMetrics(meter)
	if err != nil {
		t.Fatalf("agent metrics on a no-op meter: %v", err)
	}
	if _, err := telemetry.RegisterPoolMetrics(meter, "main", func() telemetry.PoolStat { return telemetry.PoolStat{} }); err != nil {
		t.Fatalf("pool metrics on a no-op meter: %v", err)
	}

	server.AddPointsIngested(context.Background(), 1)
	agent.AddBatchesSent(context.Background(), telemetry.BatchMetrics, 1)
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var server *telemetry.ServerMetrics
	var agent *telemetry.AgentMetrics
	ctx := context.Background()

	server.AddPointsIngested(ctx, 1)
	server.AddPointsRejected(ctx, telemetry.RejectInvalid, 1)
	server.AddLogsIngested(ctx, 1)
	server.AddLogsRejected(ctx, telemetry.RejectInvalid, 1)
	server.AddNotificationSent(ctx, "webhook")
	server.AddNotificationFailed(ctx, "webhook")
	server.RecordIngestDuration(ctx, telemetry.BatchMetrics, time.Millisecond)
	server.RecordAlertEvaluation(ctx, time.Millisecond)
	agent.AddBatchesQueued(ctx, telemetry.BatchMetrics, 1)
	agent.AddBatchesSent(ctx, telemetry.BatchMetrics, 1)
	agent.AddBatchesRetried(ctx, telemetry.BatchMetrics, 1)
	agent.AddBatchesDropped(ctx, telemetry.BatchMetrics, telemetry.DropQueueFull, 1)
	agent.RecordCollectDuration(ctx, "cpu", time.Millisecond)

	reg, err := agent.ObserveQueueLength(telemetry.BatchMetrics, func() int { return 1 })
	if err != nil || reg == nil {
		t.Fatalf("observe on nil agent metrics = %v, %v, want a registration and no error", reg, err)
	}
	if err := reg.Unregister(); err != nil {
		t.Errorf("unregister: %v", err)
	}
}
