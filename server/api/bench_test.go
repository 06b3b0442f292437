package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kamerrezz/theminidog/internal/otlptest"
	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/internal/telemetry"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server"
	"github.com/kamerrezz/theminidog/server/config"
	"github.com/kamerrezz/theminidog/server/servertest"
)

// BenchmarkIngestHTTP measures the whole ingest path: HTTP, JSON decoding,
// validation, batch id claim and storage, with 1000-point batches sent by
// concurrent clients (4 per core).
func BenchmarkIngestHTTP(b *testing.B) {
	srv := servertest.Start(b, nil)
	postBatches(b, srv.URL, servertest.AgentToken(b))
}

// postBatches posts b.N batches of 1000 points from 4 clients per core
// and reports rows per second.
func postBatches(b *testing.B, base, tok string) {
	start := time.Now().UTC().Add(-time.Minute)
	batch := model.MetricBatch{Host: "bench", Metrics: make([]model.Metric, 1000)}
	for i := range batch.Metrics {
		batch.Metrics[i] = model.Metric{Time: start.Add(time.Duration(i) * time.Millisecond), Name: model.CPUUsagePct,
			Value: float64(i % 100), Labels: map[string]string{"core": strconv.Itoa(i % 8)}}
	}
	var seq atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		local := batch
		for pb.Next() {
			local.BatchID = "bench-" + strconv.FormatInt(seq.Add(1), 10)
			body, _ := json.Marshal(local)
			req, _ := http.NewRequest("POST", base+"/api/v1/metrics", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N*len(batch.Metrics))/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCopyBaseline is the reference for BenchmarkIngestHTTP: the same
// 1000-row batches written with pgx CopyFrom straight into the metrics
// table by the same number of concurrent writers, with no HTTP, JSON,
// validation or deduplication.
func BenchmarkCopyBaseline(b *testing.B) {
	srv := servertest.Start(b, nil)
	pool := srv.Server.Store().Pool()
	start := time.Now().UTC().Add(-time.Minute)
	rows := make([][]any, 1000)
	for i := range rows {
		rows[i] = []any{start.Add(time.Duration(i) * time.Millisecond), "bench", model.CPUUsagePct, float64(i % 100),
			`{"core":"` + strconv.Itoa(i%8) + `"}`}
	}

	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, err := pool.CopyFrom(context.Background(), pgx.Identifier{"metrics"},
				[]string{"time", "host", "name", "value", "labels"}, pgx.CopyFromRows(rows))
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkIngestTelemetry measures end-to-end ingest with telemetry off,
// exporting to a local OTLP receiver, and pointed at a collector that
// accepts connections and never responds. The last case shows whether a
// hung collector slows ingest.
func BenchmarkIngestTelemetry(b *testing.B) {
	modes := []struct {
		name     string
		endpoint func(testing.TB) string
	}{
		{"off", func(testing.TB) string { return "" }},
		{"receiver", func(tb testing.TB) string { return otlptest.New(tb).URL() }},
		{"blackhole", otlptest.NewBlackHole},
	}
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			b.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", mode.endpoint(b))
			// The exporter's own log lines would break the benchmark's
			// result lines apart.
			tel, err := telemetry.Setup(context.Background(), telemetry.Options{ServiceName: "miniobserv-server", Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			// Shutdown waits up to its deadline for a collector that never
			// responds, so it runs after the timed part.
			b.Cleanup(func() { _ = tel.Shutdown(context.Background()) })

			cfg := config.Default()
			cfg.DatabaseURL = pgtest.NewDatabase(b)
			cfg.AgentToken = servertest.Secret
			srv := servertest.StartConfig(b, cfg, server.WithTelemetry(tel))
			postBatches(b, srv.URL, servertest.AgentToken(b))
		})
	}
}
