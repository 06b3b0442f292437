package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/server/storage"
)

// benchLogRows is the size of the logs table the text search benchmark
// reads.
const benchLogRows = 1_000_000

// BenchmarkQueryLogsText measures a one-page (100 entries) substring search
// through Store.QueryLogs over one million log rows spread over 24 hours,
// without and then with the trigram index of the migrations. "rare" finds
// the 10 rows that contain "payment declined"; "common" finds a page of
// the 20% of rows that contain "status=503", newest first. Each case runs
// the same statement many more than five times, so it would also show a
// cached generic plan that ignores the index.
func BenchmarkQueryLogsText(b *testing.B) {
	url := pgtest.NewDatabase(b)
	migrateUpB(b, url)
	st, err := storage.Open(context.Background(), storage.Options{URL: url, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()

	var trgm bool
	if err := st.Pool().QueryRow(context.Background(),
		"SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'logs_message_trgm_idx')").Scan(&trgm); err != nil {
		b.Fatal(err)
	}
	if !trgm {
		b.Skip("pg_trgm is not installed on the test server: no trigram index to compare")
	}

	// The index is dropped before the seed, because building it once
	// afterwards is much faster than updating it row by row.
	end := time.Now().UTC().Truncate(time.Minute)
	execB(b, st, "DROP INDEX logs_message_trgm_idx")
	seedStart := time.Now()
	execB(b, st, `INSERT INTO logs (time, host, path, level, message)
SELECT $1::timestamptz - g * INTERVAL '86400 milliseconds' / 1000,
       'host-' || (g % 10), '/var/log/app.log',
       (ARRAY['info', 'info', 'info', 'warn', 'error'])[g % 5 + 1],
       'GET /api/v1/items/' || g || ' status=' || (ARRAY['200', '200', '404', '500', '503'])[g % 5 + 1] ||
       ' user=user' || (g % 5000) || ' took=' || (g % 997) || 'ms' ||
       CASE WHEN g % 100000 = 7 THEN ' payment declined for order ' || g ELSE '' END
FROM generate_series(1, $2::int) AS g`, end, benchLogRows)
	execB(b, st, "ANALYZE logs")
	b.Logf("seeded %d rows in %s", benchLogRows, time.Since(seedStart).Round(time.Second))

	from, to := end.Add(-25*time.Hour), end.Add(time.Minute)
	searches := []struct {
		name, text string
		want       int
	}{
		{"rare", "PAYMENT DECLINED", benchLogRows / 100_000},
		{"common", "status=503", 100},
	}
	run := func(index string) {
		for _, s := range searches {
			b.Run(index+"/"+s.name, func(b *testing.B) {
				q := storage.LogQuery{From: from, To: to, Text: s.text, Limit: 100}
				for b.Loop() {
					recs, _, err := st.QueryLogs(context.Background(), q)
					if err != nil {
						b.Fatal(err)
					}
					if len(recs) != s.want {
						b.Fatalf("%q found %d entries, want %d", s.text, len(recs), s.want)
					}
				}
			})
		}
	}

	run("scan")
	indexStart := time.Now()
	execB(b, st, "CREATE INDEX logs_message_trgm_idx ON logs USING gin (message gin_trgm_ops)")
	execB(b, st, "ANALYZE logs")
	b.Logf("built the trigram index in %s", time.Since(indexStart).Round(time.Second))
	run("trigram")
}

func execB(b *testing.B, st *storage.Store, sql string, args ...any) {
	b.Helper()
	if _, err := st.Pool().Exec(context.Background(), sql, args...); err != nil {
		b.Fatalf("%s: %v", sql, err)
	}
}
