package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/storage"
)

// TestTimescalePoliciesDropAndCompress registers the retention and
// compression policies for 10 days of metrics and runs their jobs the way
// TimescaleDB's scheduler would. Expired chunks must be gone and old chunks
// compressed. A query across compressed and uncompressed chunks must return
// the numbers it returned before.
func TestTimescalePoliciesDropAndCompress(t *testing.T) {
	e := engines[1]
	url := e.newDB(t)
	st := openEngineStore(t, e, url)
	ctx := context.Background()

	// One point per hour for 14 days, so some chunks are past the
	// retention period and some past the compression age (5 days).
	now := time.Now().UTC().Truncate(time.Hour)
	var pts []model.Metric
	for h := range 14 * 24 {
		pts = append(pts, model.Metric{Time: now.Add(-time.Duration(h) * time.Hour), Host: "h", Name: model.MemUsedPct, Value: float64(h % 97)})
	}
	insert(t, st, "", pts)

	// The defaults first, then the configured periods: applying policies
	// again must replace the jobs, not add more.
	if err := st.ApplyPolicies(ctx, storage.Retention{Metrics: 30 * 24 * time.Hour, Logs: 14 * 24 * time.Hour}); err != nil {
		t.Fatalf("apply default policies: %v", err)
	}
	retention := storage.Retention{Metrics: 10 * 24 * time.Hour, Logs: 10 * 24 * time.Hour}
	if err := st.ApplyPolicies(ctx, retention); err != nil {
		t.Fatalf("apply policies: %v", err)
	}
	keep := storage.Query{Host: "h", Name: model.MemUsedPct, From: now.Add(-9 * 24 * time.Hour), To: now.Add(time.Hour), Bucket: "1d", Agg: "sum"}
	st.SetRollupQueries(false)
	before, err := st.QueryMetrics(ctx, keep)
	if err != nil {
		t.Fatal(err)
	}

	runJob(t, url, "policy_retention")
	if n := queryInt(t, url, `SELECT count(*)::int FROM metrics WHERE time < now() - INTERVAL '11 days'`); n != 0 {
		t.Fatalf("%d rows older than the retention period remain after the retention job", n)
	}
	if n := queryInt(t, url, `SELECT count(*)::int FROM metrics`); n == 0 {
		t.Fatal("the retention job dropped every row")
	}

	runJob(t, url, "policy_compression")
	compressed := queryInt(t, url, `SELECT count(*)::int FROM timescaledb_information.chunks WHERE hypertable_name = 'metrics' AND is_compressed`)
	plain := queryInt(t, url, `SELECT count(*)::int FROM timescaledb_information.chunks WHERE hypertable_name = 'metrics' AND NOT is_compressed`)
	if compressed == 0 || plain == 0 {
		t.Fatalf("chunks: %d compressed, %d not; want both kinds so the query spans them", compressed, plain)
	}

	after, err := st.QueryMetrics(ctx, keep)
	if err != nil {
		t.Fatal(err)
	}
	assertPoints(t, after, before)
}

// runJob runs every job of one policy kind on the metrics hypertable, as
// the scheduler would; the WASM engine has no background workers.
func runJob(t *testing.T, url, proc string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	rows, err := conn.Query(context.Background(),
		`SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = $1 AND hypertable_name = 'metrics'`, proc)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(ids) != 1 {
		t.Fatalf("%s jobs on metrics: %v (err %v), want exactly one", proc, ids, err)
	}
	if _, err := conn.Exec(context.Background(), `CALL run_job($1)`, ids[0]); err != nil {
		t.Fatalf("run %s job: %v", proc, err)
	}
}

// TestPlainSchemaOnTimescaleFallsBack migrates a database in plain mode,
// then opens it where TimescaleDB is available, as after installing the
// extension on a running deployment: the store must keep plain mode, or
// refuse when TimescaleDB is required.
func TestPlainSchemaOnTimescaleFallsBack(t *testing.T) {
	url := engines[1].newDB(t)
	ctx := context.Background()

	plain, err := storage.Open(ctx, storage.Options{URL: url, Mode: storage.ModePostgres, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	plain.Close()
	exec(t, url, `CREATE TABLE metrics (time TIMESTAMPTZ NOT NULL, host TEXT NOT NULL, name TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, labels JSONB NOT NULL DEFAULT '{}')`)

	st, err := storage.Open(ctx, storage.Options{URL: url, Mode: storage.ModeAuto, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Mode() != storage.ModeTimescaleDB {
		t.Fatalf("mode before the schema check = %s, want timescaledb", st.Mode())
	}
	if err := st.MatchSchema(ctx, storage.ModeAuto); err != nil || st.Mode() != storage.ModePostgres {
		t.Fatalf("auto on a plain schema: err %v, mode %s; want plain mode", err, st.Mode())
	}

	strict, err := storage.Open(ctx, storage.Options{URL: url, Mode: storage.ModeTimescaleDB, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer strict.Close()
	if err := strict.MatchSchema(ctx, storage.ModeTimescaleDB); err == nil {
		t.Fatal("timescaledb mode on a plain schema: no error")
	}
}
