package tsdbtest_test

import (
	"context"
	"embed"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers the pgx5:// scheme
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamerrezz/theminidog/internal/tsdbtest"
)

//go:embed testdata/migrations/*.sql
var testMigrations embed.FS

// newMigrate opens golang-migrate on the embedded migrations. The pgx/v5
// driver registers the scheme pgx5 only, so the engine's postgres:// URL
// gets that scheme; the driver passes the query parameters on to pgx.
func newMigrate(tb testing.TB, url string, params string) *migrate.Migrate {
	tb.Helper()
	source, err := iofs.New(testMigrations, "testdata/migrations")
	if err != nil {
		tb.Fatalf("open embedded migrations: %v", err)
	}
	migrateURL := "pgx5://" + strings.TrimPrefix(url, "postgres://") + params
	m, err := migrate.NewWithSourceInstance("iofs", source, migrateURL)
	if err != nil {
		tb.Fatalf("open migrate on the engine: %v", err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

func TestMigrationsUpAndDown(t *testing.T) {
	url := tsdbtest.Start(t)
	m := newMigrate(t, url, "")
	ctx := context.Background()

	if err := m.Up(); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	version, dirty, err := m.Version()
	if err != nil || version != 3 || dirty {
		t.Fatalf("after up: version %d, dirty %v, error %v; want 3, false, nil", version, dirty, err)
	}

	// The migrate driver holds one connection; the pool takes the second.
	pool := openPool(t, url)
	checkTimescaleObjects(ctx, t, pool)
	checkRefreshAfterMigrate(ctx, t, pool)

	if err := m.Down(); err != nil {
		t.Fatalf("migrate down: %v", err)
	}
	if n := queryInt(ctx, t, pool, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relname IN ('metrics', 'logs', 'metrics_1h')`); n != 0 {
		t.Errorf("after down: %d of metrics, logs, metrics_1h remain, want 0", n)
	}
	if n := queryInt(ctx, t, pool, "SELECT count(*) FROM timescaledb_information.jobs WHERE job_id >= 1000"); n != 0 {
		t.Errorf("after down: %d policies remain, want 0", n)
	}

	if err := m.Up(); err != nil {
		t.Fatalf("migrate up after down: %v", err)
	}
	if err := m.Up(); !errors.Is(err, migrate.ErrNoChange) {
		t.Fatalf("second migrate up: error %v, want ErrNoChange", err)
	}
}

func checkTimescaleObjects(ctx context.Context, tb testing.TB, pool *pgxpool.Pool) {
	tb.Helper()
	if n := queryInt(ctx, tb, pool, `SELECT count(*) FROM timescaledb_information.hypertables
		WHERE hypertable_name IN ('metrics', 'logs')`); n != 2 {
		tb.Errorf("%d of metrics and logs are hypertables, want 2", n)
	}
	if n := queryInt(ctx, tb, pool, `SELECT count(*) FROM timescaledb_information.continuous_aggregates
		WHERE view_name = 'metrics_1h'`); n != 1 {
		tb.Errorf("%d continuous aggregates named metrics_1h, want 1", n)
	}

	rows, err := pool.Query(ctx, `SELECT proc_name || ' ' || hypertable_name FROM timescaledb_information.jobs
		WHERE job_id >= 1000 ORDER BY 1`)
	if err != nil {
		tb.Fatalf("list jobs: %v", err)
	}
	var jobs []string
	for rows.Next() {
		var job string
		if err := rows.Scan(&job); err != nil {
			tb.Fatalf("read job: %v", err)
		}
		jobs = append(jobs, job)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("list jobs: %v", err)
	}
	got := strings.Join(jobs, ", ")
	want := "policy_compression metrics, policy_refresh_continuous_aggregate metrics_1h, policy_retention logs, policy_retention metrics"
	if got != want {
		tb.Errorf("jobs = %s; want %s", got, want)
	}
}

// checkRefreshAfterMigrate fills metrics and refreshes the aggregate the
// migrations created empty, as the server does after migrating.
func checkRefreshAfterMigrate(ctx context.Context, tb testing.TB, pool *pgxpool.Pool) {
	tb.Helper()
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	points := makePoints(start, 10*time.Minute, 60)
	if err := insertPoints(ctx, pool, points); err != nil {
		tb.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "CALL refresh_continuous_aggregate('metrics_1h', NULL, NULL)"); err != nil {
		tb.Fatalf("refresh metrics_1h: %v", err)
	}
	got := queryBuckets(ctx, tb, pool, "SELECT bucket, host, name, points, total, low, high FROM metrics_1h ORDER BY 1, 2, 3")
	compareBuckets(tb, "metrics_1h", got, expectBuckets(points, func(ts time.Time) time.Time { return ts.Truncate(time.Hour) }))

	_, err := pool.Exec(ctx, "INSERT INTO logs (time, host, level, message) VALUES ($1, 'web-1', 'info', 'started')", start)
	if err != nil {
		tb.Fatalf("insert log: %v", err)
	}
	if n := queryInt(ctx, tb, pool, "SELECT count(*) FROM logs WHERE id IS NOT NULL"); n != 1 {
		tb.Fatalf("logs has %d rows, want 1", n)
	}
}

// TestMigrationsMultiStatementSplitsDollarQuotes pins a golang-migrate
// behaviour that shapes how migrations are written: x-multi-statement=true
// splits files at every semicolon, including those inside a DO block's
// dollar-quoted body, so migrations with DO blocks must run without it.
func TestMigrationsMultiStatementSplitsDollarQuotes(t *testing.T) {
	url := tsdbtest.Start(t)
	m := newMigrate(t, url, "&x-multi-statement=true")

	err := m.Up()
	if err == nil {
		t.Fatal("migrate up with x-multi-statement=true succeeded, want an error from the split DO block")
	}
	if !strings.Contains(err.Error(), "unterminated dollar-quoted string") {
		t.Fatalf("migrate up with x-multi-statement=true: %v; want an unterminated dollar-quoted string error", err)
	}
	version, dirty, verr := m.Version()
	if verr != nil || version != 1 || !dirty {
		t.Fatalf("after the failed up: version %d, dirty %v, error %v; want 1, true, nil", version, dirty, verr)
	}
}
