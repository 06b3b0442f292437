package telemetry

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestSummarizeSQL(t *testing.T) {
	tests := []struct {
		sql, operation, table string
	}{
		{"INSERT INTO metrics (time, host) VALUES ($1, $2)", "INSERT", "metrics"},
		{"insert into public.metrics values ($1)", "INSERT", "public.metrics"},
		{`INSERT INTO "Weird Table" VALUES ($1)`, "INSERT", "Weird Table"},
		{"  -- leading comment\n/* block */ SELECT value FROM metrics WHERE host = $1", "SELECT", "metrics"},
		{"SELECT time_bucket($1, time) AS t, avg(value) FROM metrics GROUP BY t", "SELECT", "metrics"},
		{"SELECT (SELECT max(x) FROM inner_table) AS m, y FROM outer_table", "SELECT", "outer_table"},
		{"SELECT * FROM (SELECT 1) AS sub", "SELECT", ""},
		{"SELECT 'from nowhere' AS s FROM hosts", "SELECT", "hosts"},
		{"SELECT 1", "SELECT", ""},
		{"UPDATE ONLY hosts SET last_seen = $1", "UPDATE", "hosts"},
		{"DELETE FROM logs WHERE time < $1", "DELETE", "logs"},
		{"COPY metrics (time, host) FROM STDIN", "COPY", "metrics"},
		{"WITH recent AS (SELECT * FROM metrics) SELECT * FROM recent", "WITH", ""},
		{"begin", "BEGIN", ""},
		{"CREATE TABLE metrics (time timestamptz)", "CREATE", ""},
		{"", "", ""},
		{"   ", "", ""},
		{"/* unterminated", "", ""},
		{"(SELECT 1)", "", ""},
		{"SELECT 'unterminated FROM x", "SELECT", ""},
		{"DELETE metrics", "DELETE", ""},
	}
	for _, tc := range tests {
		operation, table := summarizeSQL(tc.sql)
		if operation != tc.operation || table != tc.table {
			t.Errorf("summarizeSQL(%q) = %q, %q, want %q, %q", tc.sql, operation, table, tc.operation, tc.table)
		}
	}
}

func TestSummarizeSQLReadsOnlyThePrefix(t *testing.T) {
	sql := "SELECT " + strings.Repeat("a, ", maxScanBytes) + "b FROM metrics"

	operation, table := summarizeSQL(sql)

	if operation != "SELECT" || table != "" {
		t.Errorf("summarizeSQL(long) = %q, %q, want SELECT and no table past the scan limit", operation, table)
	}
}

func TestTruncateKeepsUTF8Whole(t *testing.T) {
	s := strings.Repeat("é", 10) // 2 bytes each

	got := truncate(s, 5)

	if got != "éé" {
		t.Errorf("truncate = %q, want two whole runes", got)
	}
	if truncate("short", 10) != "short" {
		t.Error("truncate changed a string shorter than the limit")
	}
}

func TestErrorHandlerRateLimits(t *testing.T) {
	var out bytes.Buffer
	h := newErrorHandler(slog.New(slog.NewTextHandler(&out, nil)))
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	h.now = func() time.Time { return now }

	h.Handle(errors.New("export failed 1"))
	for i := range 5 {
		now = now.Add(time.Second)
		h.Handle(errors.New("export failed again " + string(rune('a'+i))))
	}
	now = now.Add(errorLogInterval)
	h.Handle(errors.New("export failed later"))

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %d lines, want 2:\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[0], "export failed 1") || !strings.Contains(lines[0], "suppressed_since_last=0") {
		t.Errorf("first line = %q, want the first error and nothing suppressed", lines[0])
	}
	if !strings.Contains(lines[1], "export failed later") || !strings.Contains(lines[1], "suppressed_since_last=5") {
		t.Errorf("second line = %q, want the later error and 5 suppressed", lines[1])
	}
}
