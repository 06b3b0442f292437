package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/otlptest"
	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/internal/telemetry"
	"github.com/kamerrezz/theminidog/server"
	"github.com/kamerrezz/theminidog/server/config"
	"github.com/kamerrezz/theminidog/server/servertest"
)

// TestIngestCountersExported posts one valid and one invalid batch and
// checks the ingested and rejected counters as an OTLP receiver sees them.
func TestIngestCountersExported(t *testing.T) {
	rcv := otlptest.New(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL())
	t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "200")
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{ServiceName: "miniobserv-server"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })

	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.AgentToken = servertest.Secret
	srv := servertest.StartConfig(t, cfg, server.WithTelemetry(tel))
	tok := servertest.AgentToken(t)

	if r := do(t, "POST", srv.URL+"/api/v1/metrics", tok, mustJSON(t, validBatch("h", 4))); r.status != 202 {
		t.Fatalf("valid batch: %d %s", r.status, r.raw)
	}
	bad := validBatch("h", 3)
	bad.Metrics[2].Value = 101
	if r := do(t, "POST", srv.URL+"/api/v1/metrics", tok, mustJSON(t, bad)); r.status != 400 {
		t.Fatalf("invalid batch: %d %s", r.status, r.raw)
	}

	rcv.WaitForMetric(t, "miniobserv.points.ingested", nil, func(v float64) bool { return v == 4 }, 30*time.Second)
	rcv.WaitForMetric(t, "miniobserv.points.rejected", map[string]string{"reason": "invalid"}, func(v float64) bool { return v == 3 }, 30*time.Second)
	rcv.WaitForMetric(t, "db.client.connection.max", nil, func(v float64) bool { return v > 0 }, 30*time.Second)
}
