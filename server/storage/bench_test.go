package storage_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/storage"
)

const benchBatch = 1000

func benchPoints(host string, start time.Time) []model.Metric {
	pts := make([]model.Metric, benchBatch)
	for i := range pts {
		pts[i] = model.Metric{Time: start.Add(time.Duration(i) * time.Millisecond), Host: host, Name: model.CPUUsagePct,
			Value: float64(i % 100), Labels: map[string]string{"core": "0"}}
	}
	return pts
}

// BenchmarkRawCopyFrom is the baseline: pgx CopyFrom of 1000-row batches
// into the metrics table, with no batch id, validation or HTTP.
func BenchmarkRawCopyFrom(b *testing.B) {
	url := pgtest.NewDatabase(b)
	migrateUpB(b, url)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	pts := benchPoints("bench", time.Now().UTC())
	rows := make([][]any, len(pts))
	for i, m := range pts {
		rows[i] = []any{m.Time, m.Host, m.Name, m.Value, `{"core":"0"}`}
	}

	b.ResetTimer()
	for b.Loop() {
		_, err := pool.CopyFrom(context.Background(), pgx.Identifier{"metrics"},
			[]string{"time", "host", "name", "value", "labels"}, pgx.CopyFromRows(rows))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkInsertMetrics compares the store's two insert paths on the same
// batches, each with a batch id as agents send them, from 4 writers per core.
func BenchmarkInsertMetrics(b *testing.B) {
	for _, mode := range []struct {
		name string
		copy bool
	}{{"copy", true}, {"unnest", false}} {
		b.Run(mode.name, func(b *testing.B) {
			url := pgtest.NewDatabase(b)
			migrateUpB(b, url)
			st, err := storage.Open(context.Background(), storage.Options{URL: url, Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			st.SetCopyInsert(mode.copy)
			points := benchPoints("bench", time.Now().UTC())
			var seq atomic.Int64

			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					batch := &model.MetricBatch{Host: "bench", BatchID: "b-" + strconv.FormatInt(seq.Add(1), 10), Metrics: points}
					if _, err := st.InsertMetrics(context.Background(), batch); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func migrateUpB(b *testing.B, url string) {
	b.Helper()
	m, err := storage.NewMigrator(url, "", quiet)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.Up(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQuery30Days reads one series of 10-second samples over 30 days
// (259 200 rows) at 1h buckets, from raw rows and through the hourly rollup.
func BenchmarkQuery30Days(b *testing.B) {
	url := pgtest.NewDatabase(b)
	migrateUpB(b, url)
	st, err := storage.Open(context.Background(), storage.Options{URL: url, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()

	end := time.Now().UTC().Truncate(time.Hour)
	start := end.Add(-30 * 24 * time.Hour)
	_, err = st.Pool().Exec(context.Background(), `INSERT INTO metrics (time, host, name, value, labels)
SELECT $1::timestamptz + g * INTERVAL '10 seconds', 'bench', 'cpu.usage_pct', (g % 100)::float8, '{"core":"total"}'
FROM generate_series(0, 259199) AS g`, start)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Pool().Exec(context.Background(), "ANALYZE metrics"); err != nil {
		b.Fatal(err)
	}
	if err := st.RefreshRollup(context.Background(), end.Add(time.Minute)); err != nil {
		b.Fatal(err)
	}
	q := storage.Query{Host: "bench", Name: model.CPUUsagePct, From: start, To: end, Bucket: "1h", Agg: "avg"}

	for _, path := range []struct {
		name   string
		rollup bool
	}{{"raw", false}, {"rollup", true}} {
		b.Run(path.name, func(b *testing.B) {
			st.SetRollupQueries(path.rollup)
			for b.Loop() {
				pts, err := st.QueryMetrics(context.Background(), q)
				if err != nil || len(pts) != 720 {
					b.Fatalf("got %d points, err %v; want 720", len(pts), err)
				}
			}
		})
	}
}
