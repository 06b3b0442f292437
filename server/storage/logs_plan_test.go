package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/server/storage"
)

// TestLogSearchKeepsTrigramIndex runs one rare-word search ten times and
// checks in PostgreSQL's statistics that every run read the trigram index.
// A cached generic plan, which PostgreSQL may pick for a prepared
// statement from its sixth run on, does not know the search text and
// scans the time index instead. It runs on PostgreSQL only, because it
// needs the server's index statistics and the planner's own choice.
func TestLogSearchKeepsTrigramIndex(t *testing.T) {
	st := openStore(t, pgtest.NewDatabase(t))
	ctx := context.Background()
	if !hasTrigramIndex(t, st) {
		t.Skip("pg_trgm is not installed on the test server")
	}

	const rows, matches = 200_000, 2
	end := time.Now().UTC().Truncate(time.Minute)
	_, err := st.Pool().Exec(ctx, `INSERT INTO logs (time, host, path, level, message)
SELECT $1::timestamptz - g * INTERVAL '100 milliseconds', 'web-1', '/var/log/app.log', 'info',
       'GET /api/v1/items/' || g || ' status=200' ||
       CASE WHEN g % ($2::int / $3::int) = 7 THEN ' payment declined for order ' || g ELSE '' END
FROM generate_series(1, $2::int) AS g`, end, rows, matches)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, "ANALYZE logs"); err != nil {
		t.Fatal(err)
	}

	before := trigramScans(t, st)
	const runs = 10
	q := storage.LogQuery{From: end.Add(-24 * time.Hour), To: end.Add(time.Minute), Text: "Payment Declined", Limit: 100}
	for i := range runs {
		recs, _, err := st.QueryLogs(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != matches {
			t.Fatalf("run %d found %d entries, want %d", i+1, len(recs), matches)
		}
	}

	// Backends publish their statistics when idle, at most once a second
	// and at the latest ten seconds later.
	deadline := time.Now().Add(30 * time.Second)
	scans := trigramScans(t, st) - before
	for scans < runs && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		scans = trigramScans(t, st) - before
	}
	if scans != runs {
		t.Errorf("%d of %d searches read the trigram index", scans, runs)
	}
}

func hasTrigramIndex(t *testing.T, st *storage.Store) bool {
	t.Helper()
	var ok bool
	err := st.Pool().QueryRow(context.Background(),
		"SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'logs_message_trgm_idx')").Scan(&ok)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// trigramScans returns how many index scans PostgreSQL has counted on the
// trigram index of logs.message.
func trigramScans(t *testing.T, st *storage.Store) int64 {
	t.Helper()
	var n int64
	err := st.Pool().QueryRow(context.Background(),
		"SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'logs_message_trgm_idx'").Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
