package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/migrations"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/storage"
)

// failOnLabelTrigger makes every insert of a row labelled test=fail raise,
// so a batch fails inside the database half-way through.
const failOnLabelTrigger = `
CREATE FUNCTION fail_on_label() RETURNS trigger AS $$
BEGIN
    IF NEW.labels->>'test' = 'fail' THEN
        RAISE EXCEPTION 'test trigger rejects label test=fail';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER fail_on_label BEFORE INSERT ON metrics FOR EACH ROW EXECUTE FUNCTION fail_on_label();`

// TestFailedBatchesReleaseConnections is the pgx "conn busy" failure
// (https://github.com/jackc/pgx/issues/1656): batches that fail in the
// database must give their pool connection back. It needs a pool of two
// real sessions, so it runs on PostgreSQL only.
func TestFailedBatchesReleaseConnections(t *testing.T) {
	for _, copyInsert := range []bool{true, false} {
		name := "unnest"
		if copyInsert {
			name = "copy"
		}
		t.Run(name, func(t *testing.T) {
			url := pgtest.NewDatabase(t)
			migrateUp(t, url, "")
			exec(t, url, failOnLabelTrigger)

			st, err := storage.Open(context.Background(), storage.Options{URL: url + "&pool_max_conns=2", Logger: quiet})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer st.Close()
			st.SetCopyInsert(copyInsert)
			now := time.Now().UTC()

			for i := range 3 {
				pts := series("h", model.MemUsedPct, nil, now, time.Millisecond, 10, 1)
				pts[5].Labels = map[string]string{"test": "fail"}
				_, err := st.InsertMetrics(context.Background(), &model.MetricBatch{Host: "h", BatchID: "bad-" + string(rune('a'+i)), Metrics: pts})
				if err == nil || errors.Is(err, storage.ErrUnavailable) {
					t.Fatalf("failing batch %d: err = %v, want a database error", i, err)
				}
			}

			for i := range 20 {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				pts := series("h", model.MemUsedPct, nil, now.Add(time.Duration(i)*time.Second), time.Millisecond, 10, 1)
				_, err := st.InsertMetrics(ctx, &model.MetricBatch{Host: "h", Metrics: pts})
				cancel()
				if err != nil {
					t.Fatalf("valid batch %d after failures: %v", i, err)
				}
			}

			if n := st.Pool().Stat().AcquiredConns(); n != 0 {
				t.Fatalf("acquired connections after all inserts = %d, want 0", n)
			}
			// The failed batches must not have stored their good rows.
			assertRowCount(t, url, 20*10)
		})
	}
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("exec: %v", err)
	}
}

func queryInt(t *testing.T, url, sql string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return n
}

func assertRowCount(t *testing.T, url string, want int) {
	t.Helper()
	if n := queryInt(t, url, "SELECT count(*)::int FROM metrics"); n != want {
		t.Fatalf("metrics rows = %d, want %d", n, want)
	}
}

// TestDirtyMigrationStopsStartup covers a migration whose second statement
// fails: the first must be rolled back, the schema left dirty, start-up
// refused with the recovery steps, and recovery must work.
func TestDirtyMigrationStopsStartup(t *testing.T) { onEngines(t, testDirtyMigration) }

func testDirtyMigration(t *testing.T, _ engine, url string) {
	dir := copyMigrations(t)
	version := countUpMigrations(t) + 1
	bad := filepath.Join(dir, migrationFile(version, "x.up.sql"))
	writeFile(t, bad, "CREATE TABLE t_ok(id int);\nALTER TABLE no_such_table ADD COLUMN x int;\n")
	writeFile(t, filepath.Join(dir, migrationFile(version, "x.down.sql")), "DROP TABLE IF EXISTS t_ok;\n")

	m, err := storage.NewMigrator(url, dir, quiet)
	if err != nil {
		t.Fatalf("new migrator: %v", err)
	}
	defer m.Close()

	err = m.Up()
	var dirty *storage.DirtyError
	if !errors.As(err, &dirty) || dirty.Version != uint(version) {
		t.Fatalf("up with a failing migration: err = %v, want DirtyError at version %d", err, version)
	}
	for _, part := range []string{"dirty", "force " + itoa(version-1), "migrate up"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not mention %q", err, part)
		}
	}
	if v, isDirty, _ := m.Version(); v != uint(version) || !isDirty {
		t.Fatalf("recorded version = %d dirty=%v, want %d dirty", v, isDirty, version)
	}
	if n := queryInt(t, url, "SELECT count(*)::int FROM pg_tables WHERE tablename = 't_ok'"); n != 0 {
		t.Fatalf("t_ok exists after the failed migration: its statement was not rolled back")
	}

	// A second start must still refuse, not clear the flag.
	if err := m.Up(); !errors.As(err, &dirty) {
		t.Fatalf("second up: err = %v, want DirtyError", err)
	}

	writeFile(t, bad, "CREATE TABLE t_ok(id int);\n")
	if err := m.Force(version - 1); err != nil {
		t.Fatalf("force: %v", err)
	}
	m2, err := storage.NewMigrator(url, dir, quiet)
	if err != nil {
		t.Fatalf("new migrator after fix: %v", err)
	}
	defer m2.Close()
	if err := m2.Up(); err != nil {
		t.Fatalf("up after fix: %v", err)
	}
	if v, isDirty, _ := m2.Version(); v != uint(version) || isDirty {
		t.Fatalf("version after fix = %d dirty=%v, want %d clean", v, isDirty, version)
	}
}

func TestMigrateURLSchemes(t *testing.T) {
	base := pgtest.NewDatabase(t)
	rest := strings.TrimPrefix(base, "postgres://")
	for _, scheme := range []string{"postgres://", "postgresql://", "pgx5://"} {
		t.Run(strings.TrimSuffix(scheme, "://"), func(t *testing.T) {
			m, err := storage.NewMigrator(scheme+rest+"&pool_max_conns=3", "", quiet)
			if err != nil {
				t.Fatalf("new migrator: %v", err)
			}
			defer m.Close()
			if err := m.Up(); err != nil {
				t.Fatalf("up: %v", err)
			}
		})
	}

	if _, err := storage.MigrateURL("mysql://x@y/z"); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("mysql URL: err = %v, want a message naming postgres://", err)
	}
}

func copyMigrations(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := migrations.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := migrations.FS.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, e.Name()), string(raw))
	}
	return dir
}

func countUpMigrations(t *testing.T) int {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(copyMigrations(t), "*.up.sql"))
	if err != nil {
		t.Fatal(err)
	}
	return len(matches)
}

func migrationFile(version int, suffix string) string {
	return fmt.Sprintf("%04d_%s", version, suffix)
}

func itoa(i int) string { return strconv.Itoa(i) }

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
