package tsdbtest_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamerrezz/theminidog/internal/tsdbtest"
)

const createMetricsSQL = `
CREATE TABLE metrics (
	time   timestamptz      NOT NULL,
	host   text             NOT NULL,
	name   text             NOT NULL,
	value  double precision NOT NULL,
	labels jsonb
);
SELECT create_hypertable('metrics', by_range('time', INTERVAL '1 day'));`

// insertSQL sends a whole batch in one round trip without COPY, which the
// engine does not support.
const insertSQL = `INSERT INTO metrics (time, host, name, value, labels)
SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::float8[], $5::jsonb[])`

// batchSize is the number of points per INSERT.
const batchSize = 1000

type point struct {
	time   time.Time
	host   string
	name   string
	value  float64
	labels map[string]string
}

// bucketRow is one group of an aggregate over metrics.
type bucketRow struct {
	Bucket time.Time
	Host   string
	Name   string
	Count  int64
	Sum    float64
	Min    float64
	Max    float64
}

func (r bucketRow) String() string {
	return fmt.Sprintf("%s %s %s count=%d sum=%g min=%g max=%g",
		r.Bucket.UTC().Format(time.RFC3339), r.Host, r.Name, r.Count, r.Sum, r.Min, r.Max)
}

var (
	testHosts = []string{"web-1", "web-2", "db-1", "db-2", "cache-1"}
	testNames = []string{"cpu.usage_pct", "mem.used_pct"}
)

// makePoints returns perSeries points for each host and name, step apart
// from start. Values are multiples of 0.5 below 100, so sums are exact in
// float64 whatever order the engine adds them in.
func makePoints(start time.Time, step time.Duration, perSeries int) []point {
	points := make([]point, 0, perSeries*len(testHosts)*len(testNames))
	for h, host := range testHosts {
		for n, name := range testNames {
			for i := 0; i < perSeries; i++ {
				points = append(points, point{
					time:   start.Add(time.Duration(i) * step),
					host:   host,
					name:   name,
					value:  float64((i*7+h*3+n*11)%200) / 2,
					labels: map[string]string{"core": "total", "series": fmt.Sprint(h*10 + n)},
				})
			}
		}
	}
	return points
}

// openPool connects to url and closes the pool when the test ends, before
// tsdbtest releases the engine.
func openPool(tb testing.TB, url string) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		tb.Fatalf("open pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// startMetrics starts a fresh engine with an empty metrics hypertable.
func startMetrics(tb testing.TB) (context.Context, *pgxpool.Pool) {
	tb.Helper()
	ctx := context.Background()
	pool := openPool(tb, tsdbtest.Start(tb))
	if _, err := pool.Exec(ctx, createMetricsSQL); err != nil {
		tb.Fatalf("create metrics hypertable: %v", err)
	}
	return ctx, pool
}

func insertPoints(ctx context.Context, pool *pgxpool.Pool, points []point) error {
	for start := 0; start < len(points); start += batchSize {
		batch := points[start:min(start+batchSize, len(points))]
		if err := insertBatch(ctx, pool, batch); err != nil {
			return fmt.Errorf("insert points %d to %d: %w", start, start+len(batch), err)
		}
	}
	return nil
}

func insertBatch(ctx context.Context, pool *pgxpool.Pool, batch []point) error {
	times := make([]time.Time, len(batch))
	hosts := make([]string, len(batch))
	names := make([]string, len(batch))
	values := make([]float64, len(batch))
	labels := make([]map[string]string, len(batch))
	for i, p := range batch {
		times[i], hosts[i], names[i], values[i], labels[i] = p.time, p.host, p.name, p.value, p.labels
	}
	_, err := pool.Exec(ctx, insertSQL, times, hosts, names, values, labels)
	return err
}

// queryBuckets runs an aggregate query whose columns match bucketRow.
func queryBuckets(ctx context.Context, tb testing.TB, pool *pgxpool.Pool, query string, args ...any) []bucketRow {
	tb.Helper()
	rows, err := pool.Query(ctx, query, args...)
	if err != nil {
		tb.Fatalf("query buckets: %v\n%s", err, query)
	}
	result, err := pgx.CollectRows(rows, pgx.RowToStructByPos[bucketRow])
	if err != nil {
		tb.Fatalf("read buckets: %v\n%s", err, query)
	}
	return result
}

// expectBuckets aggregates points in Go: the reference the engine's results
// are checked against. bucket maps a point's time to its bucket start.
func expectBuckets(points []point, bucket func(time.Time) time.Time) []bucketRow {
	type key struct {
		bucket     time.Time
		host, name string
	}
	groups := map[key]*bucketRow{}
	for _, p := range points {
		k := key{bucket(p.time).UTC(), p.host, p.name}
		row, ok := groups[k]
		if !ok {
			row = &bucketRow{Bucket: k.bucket, Host: p.host, Name: p.name, Min: p.value, Max: p.value}
			groups[k] = row
		}
		row.Count++
		row.Sum += p.value
		row.Min = min(row.Min, p.value)
		row.Max = max(row.Max, p.value)
	}

	rows := make([]bucketRow, 0, len(groups))
	for _, row := range groups {
		rows = append(rows, *row)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if !a.Bucket.Equal(b.Bucket) {
			return a.Bucket.Before(b.Bucket)
		}
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.Name < b.Name
	})
	return rows
}

// compareBuckets fails the test at the first row where got and want differ.
// Both must be ordered by bucket, host and name.
func compareBuckets(tb testing.TB, what string, got, want []bucketRow) {
	tb.Helper()
	for i := 0; i < min(len(got), len(want)); i++ {
		if got[i].String() != want[i].String() {
			tb.Fatalf("%s: row %d = %s, want %s", what, i, got[i], want[i])
		}
	}
	if len(got) != len(want) {
		tb.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
}

func queryInt(ctx context.Context, tb testing.TB, pool *pgxpool.Pool, query string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := pool.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}
