package storage_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/storage"
)

func TestLatestSeriesNewestPerSeries(t *testing.T) {
	st := openStore(t, pgtest.NewDatabase(t))
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	core0 := map[string]string{"core": "0"}
	core1 := map[string]string{"core": "1"}

	// Point i has value i*scale, so the newest of n points is (n-1)*scale.
	insert(t, st, "b1", series("b", model.CPUUsagePct, core0, start, 10*time.Second, 5, 1))
	insert(t, st, "b2", series("b", model.CPUUsagePct, core1, start, 10*time.Second, 7, 2))
	insert(t, st, "b3", series("a", model.MemUsedPct, nil, start, time.Minute, 3, 10))

	got, err := st.LatestSeries(context.Background(), 15*time.Minute)
	if err != nil {
		t.Fatalf("latest values: %v", err)
	}

	want := []storage.LatestValue{
		{Host: "a", Name: model.MemUsedPct, Labels: map[string]string{}, Value: 20, Time: start.Add(2 * time.Minute)},
		{Host: "b", Name: model.CPUUsagePct, Labels: core0, Value: 4, Time: start.Add(40 * time.Second)},
		{Host: "b", Name: model.CPUUsagePct, Labels: core1, Value: 12, Time: start.Add(60 * time.Second)},
	}
	if len(got) != len(want) {
		t.Fatalf("latest values = %+v, want %d rows", got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Host != w.Host || g.Name != w.Name || !maps.Equal(g.Labels, w.Labels) || g.Value != w.Value || !g.Time.Equal(w.Time) {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestLatestSeriesRejectsBadWindow(t *testing.T) {
	st := openStore(t, pgtest.NewDatabase(t))

	for _, window := range []time.Duration{0, -time.Minute, time.Second} {
		if _, err := st.LatestSeries(context.Background(), window); err == nil {
			t.Errorf("window %s: no error, want one", window)
		}
	}
}

// BenchmarkLatestSeries measures the /metrics query on 100 hosts with 6
// hours of data at a 10 s interval and 18 series per host (3.9 million
// rows). The baseline is the simpler query it replaces: DISTINCT ON over
// the last 15 minutes of the whole table. Run it with
// go test -run '^$' -bench LatestSeries -benchtime 20x ./server/storage/
func BenchmarkLatestSeries(b *testing.B) {
	url := pgtest.NewDatabase(b)
	migrateUpB(b, url)
	st, err := storage.Open(context.Background(), storage.Options{URL: url, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	fillLatestBench(b, st.Pool())

	b.Run("loose-index-scan", func(b *testing.B) {
		for b.Loop() {
			vals, err := st.LatestSeries(context.Background(), 15*time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			if len(vals) != 100*18 {
				b.Fatalf("rows = %d, want %d", len(vals), 100*18)
			}
		}
	})
	b.Run("recent-window-baseline", func(b *testing.B) {
		for b.Loop() {
			rows, err := st.Pool().Query(context.Background(), `SELECT DISTINCT ON (host, name, labels) host, name, labels, value, time
FROM metrics WHERE time >= now() - interval '15 minutes' ORDER BY host, name, labels, time DESC`)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if rows.Err() != nil || n != 100*18 {
				b.Fatalf("rows = %d (%v), want %d", n, rows.Err(), 100*18)
			}
		}
	})
}

// fillLatestBench writes the benchmark data in one statement on the
// server side: 100 hosts and 2160 ticks of 10 s ending now. Each tick has
// cpu for core total and 0-3, three mem metrics, three disk metrics on
// two mounts and two net metrics on two interfaces.
func fillLatestBench(b *testing.B, pool *pgxpool.Pool) {
	b.Helper()
	ctx := context.Background()
	_, err := pool.Exec(ctx, `
INSERT INTO metrics (time, host, name, value, labels)
SELECT now() - tick * interval '10 seconds', 'host-' || h, s.name, (tick % 100)::float8, s.labels
FROM generate_series(1, 100) h
CROSS JOIN generate_series(0, 2159) tick
CROSS JOIN (VALUES
    ('cpu.usage_pct', '{"core":"total"}'::jsonb), ('cpu.usage_pct', '{"core":"0"}'), ('cpu.usage_pct', '{"core":"1"}'),
    ('cpu.usage_pct', '{"core":"2"}'), ('cpu.usage_pct', '{"core":"3"}'),
    ('mem.used_pct', '{}'), ('mem.used_bytes', '{}'), ('mem.total_bytes', '{}'),
    ('disk.used_pct', '{"mount":"/"}'), ('disk.used_pct', '{"mount":"/data"}'),
    ('disk.used_bytes', '{"mount":"/"}'), ('disk.used_bytes', '{"mount":"/data"}'),
    ('disk.total_bytes', '{"mount":"/"}'), ('disk.total_bytes', '{"mount":"/data"}'),
    ('net.bytes_in', '{"iface":"eth0"}'), ('net.bytes_in', '{"iface":"eth1"}'),
    ('net.bytes_out', '{"iface":"eth0"}'), ('net.bytes_out', '{"iface":"eth1"}')
) AS s(name, labels)`)
	if err != nil {
		b.Fatalf("fill benchmark data: %v", err)
	}

	// On a live database autovacuum has processed these rows. Without this
	// step the first scans pay for setting hint bits on every row.
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE metrics`); err != nil {
		b.Fatalf("vacuum benchmark data: %v", err)
	}
}
