package tsdbtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// BenchmarkEngineStart measures a cold engine start: Node.js, the PGlite
// WASM module, CREATE EXTENSION timescaledb and the first LISTENING line.
//
//	go test ./internal/tsdbtest -run '^$' -bench EngineStart -benchtime 3x
func BenchmarkEngineStart(b *testing.B) {
	node, dir, err := prepare()
	if err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e, err := startEngine(node, dir)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		e.stop()
		b.StartTimer()
	}
}

// benchDirtySQL leaves what a typical storage test leaves: a compressed
// hypertable with 1000 rows over two chunks, a policy and a continuous
// aggregate.
const benchDirtySQL = `
CREATE TABLE metrics (time timestamptz NOT NULL, host text NOT NULL, value float8 NOT NULL);
SELECT create_hypertable('metrics', by_range('time', INTERVAL '1 day'));
INSERT INTO metrics SELECT TIMESTAMPTZ '2024-03-01' + i * INTERVAL '2 minutes', 'web-1', i FROM generate_series(1, 1000) i;
ALTER TABLE metrics SET (timescaledb.compress);
SELECT add_compression_policy('metrics', INTERVAL '2 days');
CREATE MATERIALIZED VIEW metrics_1h WITH (timescaledb.continuous) AS
	SELECT time_bucket('1 hour', time) AS bucket, host, avg(value) FROM metrics GROUP BY 1, 2 WITH NO DATA`

// BenchmarkReset measures the reset Start runs before each test after the
// first, on an engine left dirty by benchDirtySQL.
//
//	go test ./internal/tsdbtest -run '^$' -bench 'Reset$' -benchtime 50x
func BenchmarkReset(b *testing.B) {
	node, dir, err := prepare()
	if err != nil {
		b.Fatal(err)
	}
	e, err := startEngine(node, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer e.stop()
	ctx := context.Background()

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		conn, err := pgx.Connect(ctx, e.url())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Exec(ctx, benchDirtySQL); err != nil {
			b.Fatalf("create objects: %v", err)
		}
		conn.Close(ctx)
		b.StartTimer()

		if err := resetEngine(e.url()); err != nil {
			b.Fatal(err)
		}
	}
}
