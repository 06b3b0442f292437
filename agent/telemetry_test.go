package agent_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/agent"
	"github.com/kamerrezz/theminidog/internal/otlptest"
	"github.com/kamerrezz/theminidog/internal/telemetry"
)

// TestFullQueueCountsDrops runs the agent against a server that responds
// 503 to every batch, with a one-batch queue, and checks that the drop
// counter exported over OTLP moves and matches the agent's own count.
func TestFullQueueCountsDrops(t *testing.T) {
	rcv := otlptest.New(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL())
	t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "200")
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{ServiceName: "miniobserv-agent"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })

	srv := newIngestServer(t, func(*received) (int, http.Header) {
		return http.StatusServiceUnavailable, http.Header{"Retry-After": {"1"}}
	})
	cfg := testConfig(srv.URL, "fake_mem")
	cfg.QueueSize = 1
	cfg.CollectInterval = 20 * time.Millisecond
	a := startAgent(t, cfg, agent.WithTelemetry(tel))

	attrs := map[string]string{"kind": "metrics", "reason": "queue_full"}
	exported := rcv.WaitForMetric(t, "miniobserv.agent.batches.dropped", attrs, func(v float64) bool { return v >= 3 }, 30*time.Second)
	if own := a.Stats().MetricBatchesDropped; float64(own) < exported {
		t.Fatalf("exported %v queue-full drops, but the agent counted only %d", exported, own)
	}
	queued := rcv.WaitForMetric(t, "miniobserv.agent.batches.queued", map[string]string{"kind": "metrics"}, func(v float64) bool { return v >= 1 }, 30*time.Second)
	if queued < 1 {
		t.Fatalf("queued counter = %v, want at least 1", queued)
	}
}
