package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
// checks the ingested and rejected counters an OTLP receiver gets.
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

	if r := do(t, "POST", srv.URL+"/api/v1/metrics", "", mustJSON(t, validBatch("h", 2))); r.status != 401 {
		t.Fatalf("batch without a token: %d %s", r.status, r.raw)
	}

	rcv.WaitForMetric(t, "miniobserv.points.ingested", nil, func(v float64) bool { return v == 4 }, 30*time.Second)
	rcv.WaitForMetric(t, "miniobserv.points.rejected", map[string]string{"reason": "unauthorized"}, func(v float64) bool { return v == 1 }, 30*time.Second)
	rcv.WaitForMetric(t, "miniobserv.points.rejected", map[string]string{"reason": "invalid"}, func(v float64) bool { return v == 3 }, 30*time.Second)
	rcv.WaitForMetric(t, "db.client.connection.max", nil, func(v float64) bool { return v > 0 }, 30*time.Second)
}

// TestNotificationTraced makes a host go down with a webhook configured
// and checks the delivery's span and sent counter.
func TestNotificationTraced(t *testing.T) {
	rcv := otlptest.New(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL())
	t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "200")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{ServiceName: "miniobserv-server"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })

	events := make(chan string, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Event string `json:"event"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		events <- ev.Event
	}))
	t.Cleanup(hook.Close)

	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.AgentToken = servertest.Secret
	cfg.HostStaleAfter = 200 * time.Millisecond
	cfg.HostDownAfter = 500 * time.Millisecond
	cfg.Notifications = `[{"type": "webhook", "url": "` + hook.URL + `"}]`
	srv := servertest.StartConfig(t, cfg, server.WithTelemetry(tel))

	if r := do(t, "POST", srv.URL+"/api/v1/metrics", servertest.AgentToken(t), mustJSON(t, validBatch("quiet-host", 1))); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.raw)
	}
	select {
	case ev := <-events:
		if ev != "host.down" {
			t.Fatalf("first event = %q, want host.down", ev)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no host.down webhook within 30s")
	}

	spans := rcv.WaitForSpans(t, otlptest.HasSpan("notify webhook"), 30*time.Second)
	for _, s := range spans {
		if s.Name == "notify webhook" && s.Attr("miniobserv.event") != "host.down" {
			t.Errorf("notify span event = %q, want host.down", s.Attr("miniobserv.event"))
		}
	}
	rcv.WaitForMetric(t, "miniobserv.notifications.sent", map[string]string{"type": "webhook"}, func(v float64) bool { return v >= 1 }, 30*time.Second)
}
