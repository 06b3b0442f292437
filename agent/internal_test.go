package agent

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kamerrezz/theminidog/model"
)

func TestTruncateUTF8KeepsRunesWhole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},
		{"éé", 3, "é"},
		{"€", 2, ""},
	}
	for _, tc := range tests {
		got := truncateUTF8(tc.in, tc.limit)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("truncateUTF8(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
	}
}

func TestBatcherFlushesBySize(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var batches []model.LogBatch
	push := func(b model.LogBatch) {
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, b)
	}
	// Each entry is about 400 bytes with the overhead, so two fit in 1000.
	b := newLogBatcher("h", 100, 1000, time.Hour, 24*time.Hour, time.Now, push)
	for range 5 {
		b.add(model.LogEntry{Path: "/p", Level: "info", Message: strings.Repeat("x", 300)})
	}
	b.flush()

	mu.Lock()
	defer mu.Unlock()
	var sizes []int
	total := 0
	for _, batch := range batches {
		sizes = append(sizes, len(batch.Entries))
		total += len(batch.Entries)
	}
	if total != 5 {
		t.Errorf("batches hold %d entries, want 5", total)
	}
	for _, n := range sizes {
		if n > 2 {
			t.Errorf("batch sizes %v: a batch exceeds the 1000-byte limit", sizes)
		}
	}
}

func TestBatcherTimerFlushesOnlyItsBatch(t *testing.T) {
	t.Parallel()
	pushed := make(chan model.LogBatch, 10)
	b := newLogBatcher("h", 2, 1<<20, 50*time.Millisecond, 24*time.Hour, time.Now, func(batch model.LogBatch) { pushed <- batch })

	// The first two entries fill a batch by count, which stops its timer;
	// the third starts a new batch with a fresh wait.
	for i := range 3 {
		b.add(model.LogEntry{Level: "info", Message: string(rune('a' + i))})
	}

	first := <-pushed
	second := <-pushed
	if len(first.Entries) != 2 || len(second.Entries) != 1 || second.Entries[0].Message != "c" {
		t.Errorf("batches %d and %d entries, want 2 then the timed-out 1", len(first.Entries), len(second.Entries))
	}
	if first.BatchID == second.BatchID || first.BatchID == "" {
		t.Errorf("batch ids %q and %q, want two distinct ids", first.BatchID, second.BatchID)
	}
}

func TestDropReporterRateLimits(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := &dropReporter{
		log:  slog.New(slog.NewTextHandler(&out, nil)),
		kind: "metrics",
		now:  func() time.Time { return now },
	}

	for range 5 {
		d.drop(10)
		now = now.Add(time.Second)
	}
	if lines := strings.Count(out.String(), "queue full"); lines != 1 {
		t.Fatalf("%d log lines for 5 drops within 30s, want 1:\n%s", lines, out.String())
	}

	now = now.Add(dropLogInterval)
	d.drop(10)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "batches=5") || !strings.Contains(lines[1], "items=50") {
		t.Errorf("second line should count the 5 drops since the first:\n%s", out.String())
	}
}

func TestSanitizeEntryReplacesOldTimes(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	maxAge := 24 * time.Hour
	cases := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"recent kept", now.Add(-23 * time.Hour), now.Add(-23 * time.Hour)},
		{"older than max age", now.Add(-25 * time.Hour), now},
		{"year 2000", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), now},
		{"far future", now.Add(time.Hour), now},
		{"missing", time.Time{}, now},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := sanitizeEntry(model.LogEntry{Time: tc.in, Level: "info", Message: "m"}, "h", now, maxAge)
			if !got.Time.Equal(tc.want) {
				t.Fatalf("time %v became %v, want %v", tc.in, got.Time, tc.want)
			}
		})
	}
}
