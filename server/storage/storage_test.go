package storage_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/internal/tsdbtest"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/storage"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// engine is a database server the storage suite runs against.
type engine struct {
	name string
	// timescale marks the TimescaleDB engine, which has no COPY FROM STDIN
	// and one session shared by every connection.
	timescale bool
	newDB     func(testing.TB) string
}

// engines are real PostgreSQL, started by pgtest, and TimescaleDB 2.23 in
// its WASM build, started by tsdbtest. Every storage test runs on both
// unless it needs two real sessions.
var engines = []engine{
	{name: "postgres", newDB: pgtest.NewDatabase},
	{name: "timescaledb", timescale: true, newDB: func(tb testing.TB) string { return tsdbtest.Start(tb) }},
}

// onEngines runs fn as one subtest per engine, with a fresh database.
func onEngines(t *testing.T, fn func(t *testing.T, e engine, url string)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { fn(t, e, e.newDB(t)) })
	}
}

// openEngineStore is openStore with the insert path the engine supports.
func openEngineStore(t *testing.T, e engine, url string) *storage.Store {
	t.Helper()
	st := openStore(t, url)
	want := storage.ModePostgres
	if e.timescale {
		st.SetCopyInsert(false)
		want = storage.ModeTimescaleDB
	}
	if st.Mode() != want {
		t.Fatalf("storage mode on %s = %s, want %s", e.name, st.Mode(), want)
	}
	return st
}

// openStore migrates a fresh database and opens a store on it.
func openStore(t *testing.T, url string) *storage.Store {
	t.Helper()
	migrateUp(t, url, "")

	st, err := storage.Open(context.Background(), storage.Options{URL: url, Mode: storage.ModeAuto, Logger: quiet})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

func migrateUp(t *testing.T, url, dir string) {
	t.Helper()
	m, err := storage.NewMigrator(url, dir, quiet)
	if err != nil {
		t.Fatalf("new migrator: %v", err)
	}
	defer m.Close()
	if err := m.Up(); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
}

// series builds n points of one metric, one every step from start, with
// value i*scale for point i.
func series(host, name string, labels map[string]string, start time.Time, step time.Duration, n int, scale float64) []model.Metric {
	out := make([]model.Metric, n)
	for i := range out {
		out[i] = model.Metric{Time: start.Add(time.Duration(i) * step), Host: host, Name: name, Value: float64(i) * scale, Labels: labels}
	}
	return out
}

func insert(t *testing.T, st *storage.Store, id string, points []model.Metric) storage.InsertResult {
	t.Helper()
	res, err := st.InsertMetrics(context.Background(), &model.MetricBatch{Host: points[0].Host, BatchID: id, Metrics: points})
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	return res
}

func TestInsertAndBucketedQuery(t *testing.T) {
	for _, c := range insertPaths() {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t, c.engine.newDB(t))
			st.SetCopyInsert(c.copy)

			start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			points := series("h1", model.MemUsedPct, nil, start, 10*time.Second, 18, 1) // 3 minutes
			res := insert(t, st, "b1", points)
			if res.Inserted != len(points) || res.Duplicate {
				t.Fatalf("insert result = %+v, want %d inserted", res, len(points))
			}

			got, err := st.QueryMetrics(context.Background(), storage.Query{
				Host: "h1", Name: model.MemUsedPct, From: start, To: start.Add(time.Hour), Bucket: "1m", Agg: "avg",
			})
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			want := expectedBuckets(points, time.Minute, avg)
			assertPoints(t, got, want)
		})
	}
}

func TestDuplicateBatchStoredOnce(t *testing.T) {
	for _, c := range insertPaths() {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t, c.engine.newDB(t))
			st.SetCopyInsert(c.copy)
			start := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
			points := series("h1", model.MemUsedPct, nil, start, time.Second, 5, 2)

			first := insert(t, st, "same-id", points)
			second := insert(t, st, "same-id", points)
			if first.Inserted != 5 || first.Duplicate {
				t.Fatalf("first insert = %+v, want 5 inserted", first)
			}
			if second.Inserted != 0 || !second.Duplicate {
				t.Fatalf("second insert = %+v, want duplicate", second)
			}

			got, err := st.QueryMetrics(context.Background(), storage.Query{
				Host: "h1", Name: model.MemUsedPct, From: start.Add(-time.Hour), To: start.Add(time.Hour), Bucket: "1d", Agg: "count",
			})
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			if len(got) != 1 || got[0].Value != 5 {
				t.Fatalf("stored count = %+v, want one bucket with 5 rows", got)
			}
		})
	}
}

func TestHostLevelDefaults(t *testing.T) { onEngines(t, testHostLevelDefaults) }

func testHostLevelDefaults(t *testing.T, e engine, url string) {
	st := openEngineStore(t, e, url)
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()

	var pts []model.Metric
	pts = append(pts, series("h", model.CPUUsagePct, map[string]string{"core": "total"}, start, 10*time.Second, 6, 1)...)
	pts = append(pts, series("h", model.CPUUsagePct, map[string]string{"core": "0"}, start, 10*time.Second, 6, 10)...)
	eth := series("h", model.NetBytesIn, map[string]string{"iface": "eth0"}, start, 10*time.Second, 6, 100)
	wlan := series("h", model.NetBytesIn, map[string]string{"iface": "wlan0"}, start, 10*time.Second, 6, 1000)
	pts = append(pts, eth...)
	pts = append(pts, wlan...)
	pts = append(pts, series("h", model.DiskUsedPct, map[string]string{"mount": "/"}, start, 10*time.Second, 6, 3)...)
	pts = append(pts, series("h", model.DiskUsedPct, map[string]string{"mount": "/home"}, start, 10*time.Second, 6, 7)...)
	insert(t, st, "", pts)

	q := storage.Query{Host: "h", From: start, To: start.Add(time.Hour), Bucket: "1m", Agg: "max"}

	q.Name = model.CPUUsagePct
	cpu, err := st.QueryMetrics(ctx, q)
	if err != nil {
		t.Fatalf("cpu query: %v", err)
	}
	assertPoints(t, cpu, []storage.Point{{Time: start, Value: 5}})

	q.Name = model.NetBytesIn
	net, err := st.QueryMetrics(ctx, q)
	if err != nil {
		t.Fatalf("net query: %v", err)
	}
	// max over the minute of (eth0 + wlan0) at each timestamp: 5*100 + 5*1000.
	assertPoints(t, net, []storage.Point{{Time: start, Value: 5*100 + 5*1000}})

	q.Name = model.DiskUsedPct
	disk, err := st.QueryMetrics(ctx, q)
	if err != nil {
		t.Fatalf("disk query: %v", err)
	}
	assertPoints(t, disk, []storage.Point{{Time: start, Value: 15}})

	q.GroupBy = "iface"
	q.Name = model.NetBytesIn
	grouped, err := st.QueryMetricSeries(ctx, q)
	if err != nil {
		t.Fatalf("grouped query: %v", err)
	}
	if len(grouped) != 2 || grouped[0].Labels["iface"] != "eth0" || grouped[1].Labels["iface"] != "wlan0" {
		t.Fatalf("grouped series = %+v, want eth0 then wlan0", grouped)
	}
	assertPoints(t, grouped[0].Points, []storage.Point{{Time: start, Value: 500}})
	assertPoints(t, grouped[1].Points, []storage.Point{{Time: start, Value: 5000}})

	sets, err := st.ListSeries(ctx, "h", model.DiskUsedPct, start.Add(-time.Hour))
	if err != nil {
		t.Fatalf("list series: %v", err)
	}
	if len(sets) != 2 || sets[0]["mount"] != "/" || sets[1]["mount"] != "/home" {
		t.Fatalf("series = %v, want mounts / and /home", sets)
	}
}

func TestDiskQueryWithoutRootMount(t *testing.T) { onEngines(t, testDiskQueryWithoutRootMount) }

func testDiskQueryWithoutRootMount(t *testing.T, e engine, url string) {
	st := openEngineStore(t, e, url)
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	insert(t, st, "", series("h", model.DiskUsedPct, map[string]string{"mount": "/data"}, start, time.Second, 3, 1))

	_, err := st.QueryMetrics(context.Background(), storage.Query{
		Host: "h", Name: model.DiskUsedPct, From: start, To: start.Add(time.Hour), Bucket: "1m", Agg: "avg",
	})
	if err != storage.ErrNoRootMount {
		t.Fatalf("err = %v, want ErrNoRootMount", err)
	}
}

// TestBucketsIgnoreTimeZones checks that bucket starts are UTC-aligned when
// both the database session and the Go process use a zone with a
// half-hour offset.
func TestBucketsIgnoreTimeZones(t *testing.T) { onEngines(t, testBucketsIgnoreTimeZones) }

func testBucketsIgnoreTimeZones(t *testing.T, e engine, url string) {
	oldLocal := time.Local
	time.Local = time.FixedZone("IST", 5*3600+1800)
	t.Cleanup(func() { time.Local = oldLocal })

	st := openEngineStore(t, e, url+"&timezone=Asia/Kolkata")

	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	points := series("h", model.MemUsedPct, nil, start, 30*time.Minute, 96, 0.5) // two days
	insert(t, st, "", points)

	for _, bucket := range []string{"1h", "1d"} {
		got, err := st.QueryMetrics(context.Background(), storage.Query{
			Host: "h", Name: model.MemUsedPct, From: start, To: start.Add(48 * time.Hour), Bucket: bucket, Agg: "sum",
		})
		if err != nil {
			t.Fatalf("query %s: %v", bucket, err)
		}
		assertPoints(t, got, expectedBuckets(points, storage.BucketDurations[bucket], sum))
	}
}

type insertPath struct {
	name   string
	engine engine
	copy   bool
}

// insertPaths lists both insert paths on PostgreSQL and the INSERT path,
// the only one it supports, on the TimescaleDB engine.
func insertPaths() []insertPath {
	return []insertPath{
		{"postgres/copy", engines[0], true},
		{"postgres/unnest", engines[0], false},
		{"timescaledb/unnest", engines[1], false},
	}
}

type aggFunc func([]float64) float64

func avg(v []float64) float64 { return sum(v) / float64(len(v)) }

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

// expectedBuckets computes what the database should return: UTC buckets
// aligned to 2000-01-03, which for the bucket sizes used here are
// whole minutes, hours and days in UTC.
func expectedBuckets(points []model.Metric, size time.Duration, f aggFunc) []storage.Point {
	var out []storage.Point
	var cur []float64
	var curStart time.Time
	for _, p := range points {
		b := p.Time.UTC().Truncate(size)
		if len(cur) > 0 && !b.Equal(curStart) {
			out = append(out, storage.Point{Time: curStart, Value: f(cur)})
			cur = nil
		}
		curStart = b
		cur = append(cur, p.Value)
	}
	if len(cur) > 0 {
		out = append(out, storage.Point{Time: curStart, Value: f(cur)})
	}
	return out
}

func assertPoints(t *testing.T, got, want []storage.Point) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d points %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) || got[i].Time.Location() != time.UTC {
			t.Errorf("point %d time = %v, want %v in UTC", i, got[i].Time, want[i].Time)
		}
		if math.Abs(got[i].Value-want[i].Value) > 1e-9 {
			t.Errorf("point %d value = %v, want %v", i, got[i].Value, want[i].Value)
		}
	}
}
