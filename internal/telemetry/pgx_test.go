package telemetry_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamerrezz/theminidog/internal/otlptest"
	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/internal/telemetry"
)

const (
	createMetrics = `CREATE TABLE metrics (time timestamptz NOT NULL, host text NOT NULL, name text NOT NULL, value double precision NOT NULL)`
	insertMetric  = `INSERT INTO metrics (time, host, name, value) VALUES ($1, $2, $3, $4)`
	countMetrics  = `SELECT count(*) FROM metrics WHERE host = $1`
	selectMissing = `SELECT * FROM missing_table`
)

// newTracedPool opens a pool on a fresh database with the Telemetry's pgx
// tracer and pool metrics, and returns it with the database URL.
func newTracedPool(t *testing.T, tel *telemetry.Telemetry, maxConns int32) (*pgxpool.Pool, *url.URL) {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatalf("parse database URL: %v", err)
	}
	cfg.ConnConfig.Tracer = tel.PgxTracer()
	cfg.MaxConns = maxConns

	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	t.Cleanup(pool.Close)

	reg, err := telemetry.RegisterPoolMetrics(tel.Meter(), "main", telemetry.PgxPoolStat(pool))
	if err != nil {
		t.Fatalf("register pool metrics: %v", err)
	}
	t.Cleanup(func() { _ = reg.Unregister() })

	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("parse database URL: %v", err)
	}
	return pool, u
}

// runStorageWork runs, under one parent span, the statements whose spans
// TestPgxTracerSpans checks: DDL, a single insert, a batch of three
// inserts, a COPY of two rows, a count and two failing statements.
func runStorageWork(t *testing.T, ctx context.Context, pool *pgxpool.Pool) {
	t.Helper()
	now := time.Now()

	if _, err := pool.Exec(ctx, createMetrics); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := pool.Exec(ctx, insertMetric, now, "h1", "cpu.usage_pct", 12.5); err != nil {
		t.Fatalf("insert: %v", err)
	}

	batch := &pgx.Batch{}
	for i := range 3 {
		batch.Queue(insertMetric, now.Add(time.Duration(i)*time.Second), "h1", "mem.used_pct", float64(i))
	}
	if err := pool.SendBatch(ctx, batch).Close(); err != nil {
		t.Fatalf("send batch: %v", err)
	}

	rows := [][]any{{now, "h1", "net.bytes_in", 1.0}, {now, "h1", "net.bytes_out", 2.0}}
	copied, err := pool.CopyFrom(ctx, pgx.Identifier{"metrics"}, []string{"time", "host", "name", "value"}, pgx.CopyFromRows(rows))
	if err != nil || copied != 2 {
		t.Fatalf("copy from = %d, %v, want 2 rows", copied, err)
	}

	var count int
	if err := pool.QueryRow(ctx, countMetrics, "h1").Scan(&count); err != nil || count != 6 {
		t.Fatalf("count = %d, %v, want 6", count, err)
	}

	if _, err := pool.Exec(ctx, selectMissing); err == nil {
		t.Fatal("select from a missing table succeeded, want an error")
	}
	bad := &pgx.Batch{}
	bad.Queue(`DELETE FROM missing_table`)
	if err := pool.SendBatch(ctx, bad).Close(); err == nil {
		t.Fatal("batch on a missing table succeeded, want an error")
	}
}

func TestPgxTracerSpans(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	tel, _ := setup(t, "miniobserv-server")
	pool, dbURL := newTracedPool(t, tel, 3)

	ctx, parent := tel.Tracer().Start(context.Background(), "store batch")
	runStorageWork(t, ctx, pool)
	parent.End()
	flush(t, tel)

	names := []string{"CREATE", "INSERT metrics", "BATCH INSERT metrics", "COPY metrics", "SELECT metrics", "SELECT missing_table", "BATCH DELETE missing_table"}
	rcv.WaitForSpans(t, otlptest.HasSpan(append(names, "store batch")...), waitTimeout)
	root, _ := rcv.SpanByName("store batch")
	database := strings.TrimPrefix(dbURL.Path, "/")

	for _, name := range names {
		s, _ := rcv.SpanByName(name)
		if s.ParentSpanID != root.SpanID || s.TraceID != root.TraceID {
			t.Errorf("span %q is not a child of the store batch span", name)
		}
		if s.Kind != "client" {
			t.Errorf("span %q kind = %s, want client", name, s.Kind)
		}
		want := map[string]string{"db.system.name": "postgresql", "db.namespace": database, "server.address": dbURL.Hostname(), "server.port": dbURL.Port()}
		for key, value := range want {
			if got := s.Attr(key); got != value {
				t.Errorf("span %q %s = %q, want %q", name, key, got, value)
			}
		}
	}

	insert, _ := rcv.SpanByName("INSERT metrics")
	checkAttrs(t, insert, map[string]string{"db.operation.name": "INSERT", "db.collection.name": "metrics", "db.query.text": insertMetric})
	for key, value := range insert.Attributes {
		if value == "h1" || value == "cpu.usage_pct" {
			t.Errorf("insert span attribute %s holds a query argument", key)
		}
	}

	batch, _ := rcv.SpanByName("BATCH INSERT metrics")
	checkAttrs(t, batch, map[string]string{"db.operation.name": "BATCH INSERT", "db.collection.name": "metrics", "db.operation.batch.size": "3", "db.query.text": insertMetric})

	copySpan, _ := rcv.SpanByName("COPY metrics")
	checkAttrs(t, copySpan, map[string]string{"db.operation.name": "COPY", "db.collection.name": "metrics"})

	count, _ := rcv.SpanByName("SELECT metrics")
	checkAttrs(t, count, map[string]string{"db.response.returned_rows": "1", "db.query.text": countMetrics})

	for _, name := range []string{"SELECT missing_table", "BATCH DELETE missing_table"} {
		failed, _ := rcv.SpanByName(name)
		if failed.StatusCode != "error" {
			t.Errorf("span %q status = %s, want error", name, failed.StatusCode)
		}
		checkAttrs(t, failed, map[string]string{"db.response.status_code": "42P01", "error.type": "42P01"})
		if len(failed.Events) == 0 || failed.Events[0].Name != "exception" {
			t.Errorf("span %q events = %v, want an exception event", name, failed.Events)
		}
	}
	if insert.StatusCode == "error" {
		t.Errorf("insert span status = error, want unset")
	}
}

func checkAttrs(t *testing.T, s otlptest.Span, want map[string]string) {
	t.Helper()
	for key, value := range want {
		if got := s.Attr(key); got != value {
			t.Errorf("span %q %s = %q, want %q", s.Name, key, got, value)
		}
	}
}

func TestPgxPoolMetrics(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	tel, _ := setup(t, "miniobserv-server")
	pool, _ := newTracedPool(t, tel, 3)
	ctx := context.Background()

	// Hold one connection so the pool reports it as used.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	defer conn.Release()
	flush(t, tel)

	attrs := map[string]string{"db.client.connection.pool.name": "main"}
	rcv.WaitForMetric(t, "db.client.connection.max", attrs, func(v float64) bool { return v == 3 }, waitTimeout)
	attrs["db.client.connection.state"] = "used"
	wantSum(t, rcv, "db.client.connection.count", attrs, 1)
}
