package storage_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/storage"
)

// rollupFixture stores three days of 5-minute samples for two mounts and
// refreshes the rollup as of two hours after the last sample.
func rollupFixture(t *testing.T, st *storage.Store) (start, end time.Time) {
	t.Helper()
	start = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var pts []model.Metric
	for i := range 3 * 24 * 12 {
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		for j, mount := range []string{"/", "/home"} {
			v := float64((i*7+j*13)%101) + 0.25
			pts = append(pts, model.Metric{Time: at, Host: "h", Name: model.DiskUsedPct, Value: v, Labels: map[string]string{"mount": mount}})
		}
	}
	for len(pts) > 0 {
		n := min(len(pts), 1000)
		insert(t, st, "", pts[:n])
		pts = pts[n:]
	}
	end = start.Add(3 * 24 * time.Hour)
	if err := st.RefreshRollup(context.Background(), end.Add(2*time.Hour)); err != nil {
		t.Fatalf("refresh rollup: %v", err)
	}
	return start, end
}

// TestRollupMatchesRaw compares every aggregate at 1h and 1d buckets read
// through the rollup with the same query over raw rows, for ranges that
// start and end mid-hour.
func TestRollupMatchesRaw(t *testing.T) { onEngines(t, testRollupMatchesRaw) }

func testRollupMatchesRaw(t *testing.T, e engine, url string) {
	st := openEngineStore(t, e, url)
	start, end := rollupFixture(t, st)
	if n := queryInt(t, url, "SELECT count(*)::int FROM metrics_1h"); n != 2*3*24 {
		t.Fatalf("rollup rows = %d, want one per mount and hour: %d", n, 2*3*24)
	}

	ranges := [][2]time.Time{
		{start, end},
		{start.Add(17 * time.Minute), end.Add(-43 * time.Minute)},
		{start.Add(25 * time.Hour), start.Add(50*time.Hour + 30*time.Minute)},
	}
	for _, r := range ranges {
		for _, bucket := range []string{"1h", "1d"} {
			for _, agg := range []string{"avg", "min", "max", "sum", "count"} {
				for _, group := range []string{"", "mount"} {
					name := fmt.Sprintf("%s-%s-%s-group=%s-from=%s", bucket, agg, r[0].Format("02T15:04"), group, r[1].Format("02T15:04"))
					q := storage.Query{Host: "h", Name: model.DiskUsedPct, From: r[0], To: r[1], Bucket: bucket, Agg: agg, GroupBy: group}
					compareRollup(t, st, name, q)
				}
			}
		}
	}
}

func compareRollup(t *testing.T, st *storage.Store, name string, q storage.Query) {
	t.Helper()
	ctx := context.Background()
	read := func(rollup bool) []storage.Series {
		st.SetRollupQueries(rollup)
		defer st.SetRollupQueries(true)
		if q.GroupBy != "" {
			s, err := st.QueryMetricSeries(ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return s
		}
		p, err := st.QueryMetrics(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return []storage.Series{{Points: p}}
	}

	raw, rolled := read(false), read(true)
	if len(raw) != len(rolled) {
		t.Fatalf("%s: %d series from the rollup, %d raw", name, len(rolled), len(raw))
	}
	for i := range raw {
		if len(raw[i].Points) == 0 {
			t.Fatalf("%s: raw query returned no points; the fixture is wrong", name)
		}
		if len(raw[i].Points) != len(rolled[i].Points) {
			t.Fatalf("%s: %d points from the rollup, %d raw", name, len(rolled[i].Points), len(raw[i].Points))
		}
		for j, p := range raw[i].Points {
			r := rolled[i].Points[j]
			if !p.Time.Equal(r.Time) || math.Abs(p.Value-r.Value) > 1e-9*math.Max(1, math.Abs(p.Value)) {
				t.Fatalf("%s: point %d rollup %+v, raw %+v", name, j, r, p)
			}
		}
	}
}

func TestRollupPicksUpLatePointsWithinLookback(t *testing.T) {
	onEngines(t, testRollupPicksUpLatePoints)
}

func testRollupPicksUpLatePoints(t *testing.T, e engine, url string) {
	st := openEngineStore(t, e, url)
	_, end := rollupFixture(t, st)

	// A late point in the last complete hour, then another refresh.
	late := end.Add(-30 * time.Minute)
	insert(t, st, "", []model.Metric{{Time: late, Host: "h", Name: model.DiskUsedPct, Value: 99.5, Labels: map[string]string{"mount": "/"}}})
	if err := st.RefreshRollup(context.Background(), end.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	compareRollup(t, st, "after late point", storage.Query{Host: "h", Name: model.DiskUsedPct, From: end.Add(-24 * time.Hour), To: end, Bucket: "1h", Agg: "max"})
}

// TestPruneExpiredInBatches covers plain mode, where the server applies
// retention itself; TimescaleDB drops chunks through its policies instead.
func TestPruneExpiredInBatches(t *testing.T) {
	url := pgtest.NewDatabase(t)
	st := openEngineStore(t, engines[0], url)
	now := time.Now().UTC()

	// 25 000 expired rows (more than two delete batches) and 10 recent ones.
	exec(t, url, `INSERT INTO metrics (time, host, name, value, labels)
SELECT now() - INTERVAL '40 days' - g * INTERVAL '1 second', 'h', 'mem.used_pct', 1, '{}'
FROM generate_series(1, 25000) AS g`)
	insert(t, st, "", series("h", model.MemUsedPct, nil, now.Add(-time.Hour), time.Second, 10, 1))
	exec(t, url, `INSERT INTO logs (time, host, level, message) VALUES (now() - INTERVAL '20 days', 'h', 'info', 'old'), (now(), 'h', 'info', 'new')`)

	n, err := st.PruneExpired(context.Background(), now, storage.Retention{Metrics: 30 * 24 * time.Hour, Logs: 14 * 24 * time.Hour})
	if err != nil {
		t.Fatalf("prune: %v", err)
	}
	if n != 25001 {
		t.Fatalf("pruned %d rows, want 25001", n)
	}
	assertRowCount(t, url, 10)
	if left := queryInt(t, url, "SELECT count(*)::int FROM logs"); left != 1 {
		t.Fatalf("logs left = %d, want 1", left)
	}
}

// TestListSeriesAcrossRollupAndRaw lists mounts where one series exists
// only in rolled-up hours and another only after the rollup's watermark.
func TestListSeriesAcrossRollupAndRaw(t *testing.T) { onEngines(t, testListSeriesAcrossRollup) }

func testListSeriesAcrossRollup(t *testing.T, e engine, url string) {
	st := openEngineStore(t, e, url)
	start, end := rollupFixture(t, st)
	insert(t, st, "", []model.Metric{{Time: end.Add(90 * time.Minute), Host: "h", Name: model.DiskUsedPct, Value: 1, Labels: map[string]string{"mount": "/new"}}})

	for _, rollup := range []bool{true, false} {
		st.SetRollupQueries(rollup)
		sets, err := st.ListSeries(context.Background(), "h", model.DiskUsedPct, start)
		if err != nil {
			t.Fatal(err)
		}
		var mounts []string
		for _, s := range sets {
			mounts = append(mounts, s["mount"])
		}
		if fmt.Sprint(mounts) != "[/ /home /new]" {
			t.Fatalf("rollup=%v: mounts = %v, want [/ /home /new]", rollup, mounts)
		}
	}
	st.SetRollupQueries(true)
}
