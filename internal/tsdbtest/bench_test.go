package tsdbtest_test

import (
	"testing"
	"time"
)

// BenchmarkInsertUnnest measures inserts into the metrics hypertable in
// batches of 1000 rows, one INSERT … SELECT FROM unnest round trip each.
// Each batch covers about 17 minutes of one-second points, so batches keep
// filling the same daily chunk for a while and then open the next one.
//
//	go test ./internal/tsdbtest -run '^$' -bench InsertUnnest -benchtime 200x
func BenchmarkInsertUnnest(b *testing.B) {
	ctx, pool := startMetrics(b)
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	batches := make([][]point, 4)
	for i := range batches {
		batches[i] = make([]point, batchSize)
	}

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := batches[i%len(batches)]
		for j := range batch {
			offset := time.Duration(i*batchSize+j) * time.Second
			batch[j] = point{
				time:   start.Add(offset),
				host:   testHosts[j%len(testHosts)],
				name:   testNames[j%len(testNames)],
				value:  float64(j % 100),
				labels: map[string]string{"core": "total"},
			}
		}
		if err := insertBatch(ctx, pool, batch); err != nil {
			b.Fatalf("insert batch %d: %v", i, err)
		}
	}
	b.StopTimer()

	b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "rows/s")
	if n := queryInt(ctx, b, pool, "SELECT count(*) FROM metrics"); n != int64(b.N*batchSize) {
		b.Fatalf("metrics has %d rows, want %d", n, b.N*batchSize)
	}
}
