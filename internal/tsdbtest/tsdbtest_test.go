package tsdbtest_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kamerrezz/theminidog/internal/tsdbtest"
)

// dirtySQL creates one object of every kind the reset must remove.
const dirtySQL = `
CREATE SCHEMA extra;
CREATE TABLE extra.t (x int);
CREATE TYPE level AS ENUM ('info', 'error');
CREATE DOMAIN percent AS double precision CHECK (VALUE BETWEEN 0 AND 100);
CREATE TYPE span AS RANGE (subtype = float8);
CREATE TYPE pair AS (a int, b int);
CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE PROCEDURE noop(job_id int, config jsonb) LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE SEQUENCE loose_seq;
CREATE TABLE serials (id serial PRIMARY KEY, l level, p percent);
CREATE TABLE identities (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
CREATE TABLE series (time timestamptz NOT NULL, value float8 NOT NULL);
SELECT create_hypertable('series', by_range('time', INTERVAL '1 day'));
INSERT INTO series SELECT t, 1 FROM generate_series(TIMESTAMPTZ '2024-01-01', '2024-01-05', INTERVAL '1 hour') t;
ALTER TABLE series SET (timescaledb.compress);
SELECT add_compression_policy('series', INTERVAL '1 day');
CREATE MATERIALIZED VIEW series_1h WITH (timescaledb.continuous) AS
	SELECT time_bucket('1 hour', time) AS bucket, sum(value) FROM series GROUP BY 1 WITH NO DATA;
SELECT add_continuous_aggregate_policy('series_1h', INTERVAL '1 day', INTERVAL '1 hour', INTERVAL '1 hour');
SELECT add_job('noop', INTERVAL '1 hour');
CREATE VIEW series_view AS SELECT * FROM series;
CREATE MATERIALIZED VIEW plain_mv AS SELECT 1 AS x;
CREATE TEMP TABLE scratch (x int);
SELECT pg_advisory_lock(42);
PREPARE stmt AS SELECT 1;
SET search_path TO extra, public`

// leftoverChecks count what a reset must have removed, each with a query
// that returns 0 on a clean engine.
var leftoverChecks = map[string]string{
	"relations in public": `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND NOT EXISTS (
			SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`,
	"routines in public": `SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'public' AND NOT EXISTS (
			SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`,
	"types in public": `SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname = 'public' AND NOT EXISTS (
			SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')`,
	"schema extra":           `SELECT count(*) FROM pg_namespace WHERE nspname = 'extra'`,
	"hypertables":            `SELECT count(*) FROM _timescaledb_catalog.hypertable`,
	"chunks":                 `SELECT count(*) FROM _timescaledb_catalog.chunk`,
	"continuous aggregates":  `SELECT count(*) FROM _timescaledb_catalog.continuous_agg`,
	"jobs":                   `SELECT count(*) FROM timescaledb_information.jobs WHERE job_id >= 1000`,
	"temporary tables":       `SELECT count(*) FROM pg_class WHERE relpersistence = 't'`,
	"advisory locks":         `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'`,
	"prepared statements":    `SELECT count(*) FROM pg_prepared_statements`,
	"search_path not public": `SELECT count(*) FROM (SELECT current_setting('search_path') AS path) s WHERE path <> 'public'`,
}

func TestStartResetsEngine(t *testing.T) {
	t.Run("dirty", func(t *testing.T) {
		conn := connect(t, tsdbtest.Start(t))
		if _, err := conn.Exec(context.Background(), dirtySQL); err != nil {
			t.Fatalf("create objects: %v", err)
		}
	})

	t.Run("clean", func(t *testing.T) {
		conn := connect(t, tsdbtest.Start(t))
		for kind, query := range leftoverChecks {
			var n int
			if err := conn.QueryRow(context.Background(), query).Scan(&n); err != nil {
				t.Errorf("count %s: %v", kind, err)
				continue
			}
			if n != 0 {
				t.Errorf("%d %s left after reset, want 0", n, kind)
			}
		}
		if _, err := conn.Exec(context.Background(), createMetricsSQL); err != nil {
			t.Errorf("create a hypertable after reset: %v", err)
		}
	})
}

// fatalRecorder replaces a testing.TB to catch the message Start fails
// with. Fatalf ends the calling goroutine, as testing.T does.
type fatalRecorder struct {
	testing.TB
	message chan string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.message <- fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestStartRejectsSecondUser(t *testing.T) {
	tsdbtest.Start(t)

	recorder := &fatalRecorder{TB: t, message: make(chan string, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tsdbtest.Start(recorder)
	}()
	<-done

	select {
	case message := <-recorder.message:
		if !strings.Contains(message, t.Name()) || !strings.Contains(message, "t.Parallel") {
			t.Errorf("second Start failed with %q, want the holder's name and a word on t.Parallel", message)
		}
	default:
		t.Fatal("second Start while the engine is in use succeeded, want a test failure")
	}
}

// TestEngineSharesOneSession pins the engine's main difference from a real
// server: every connection is the same backend, so session state, advisory
// locks included, is shared between clients.
func TestEngineSharesOneSession(t *testing.T) {
	url := tsdbtest.Start(t)
	ctx := context.Background()
	first, second := connect(t, url), connect(t, url)

	var pid1, pid2 int
	if err := first.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid1); err != nil {
		t.Fatal(err)
	}
	if err := second.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid2); err != nil {
		t.Fatal(err)
	}
	if pid1 != pid2 {
		t.Errorf("backend pids %d and %d differ, want one shared backend", pid1, pid2)
	}

	if _, err := first.Exec(ctx, "SELECT pg_advisory_lock(7)"); err != nil {
		t.Fatal(err)
	}
	var locked bool
	if err := second.QueryRow(ctx, "SELECT pg_try_advisory_lock(7)").Scan(&locked); err != nil {
		t.Fatal(err)
	}
	if !locked {
		t.Error("a second connection could not take an advisory lock the first holds, want it granted to the shared session")
	}
}

// TestEngineAcceptsClientsAfterResets checks that connections a client
// aborts with a TCP reset free their slot, so the engine keeps accepting
// clients. pgx resets a connection when a context ends mid-query.
func TestEngineAcceptsClientsAfterResets(t *testing.T) {
	url := tsdbtest.Start(t)
	ctx := context.Background()

	for i := 0; i < 10; i++ {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatalf("connect after %d resets: %v", i, err)
		}
		tcp, ok := conn.PgConn().Conn().(*net.TCPConn)
		if !ok {
			t.Fatalf("connection is %T, want *net.TCPConn", conn.PgConn().Conn())
		}
		if err := tcp.SetLinger(0); err != nil {
			t.Fatal(err)
		}
		tcp.Close()
	}

	var value int
	if err := connect(t, url).QueryRow(ctx, "SELECT 1").Scan(&value); err != nil {
		t.Fatalf("query after resets: %v", err)
	}
}

// TestStartReplacesBrokenEngine breaks the engine with COPY FROM STDIN,
// which PGlite's wire protocol bridge does not support, and checks that the
// next test still gets a working engine.
func TestStartReplacesBrokenEngine(t *testing.T) {
	t.Run("copy", func(t *testing.T) {
		conn := connect(t, tsdbtest.Start(t))
		ctx := context.Background()
		if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
			t.Fatal(err)
		}
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"x"}, pgx.CopyFromRows([][]any{{1}, {2}}))
		if err == nil {
			t.Fatal("CopyFrom succeeded; the engine now supports COPY, so update the package docs and this test")
		}
	})

	t.Run("after", func(t *testing.T) {
		var value int
		if err := connect(t, tsdbtest.Start(t)).QueryRow(context.Background(), "SELECT 1").Scan(&value); err != nil {
			t.Fatalf("query on the engine after a broken one: %v", err)
		}
	})
}

func connect(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
