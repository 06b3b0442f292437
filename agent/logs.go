package agent

import (
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/kamerrezz/theminidog/model"
)

// entryOverhead estimates the JSON keys and time of one encoded log entry,
// in bytes, for the batch size limit.
const entryOverhead = 96

// logBatcher groups log entries into batches. A batch is queued when it
// reaches maxEntries entries or maxBytes bytes, or maxWait after its first
// entry, whichever comes first.
type logBatcher struct {
	host       string
	maxEntries int
	maxBytes   int
	maxWait    time.Duration
	maxAge     time.Duration
	now        func() time.Time
	push       func(model.LogBatch)

	mu      sync.Mutex
	entries []model.LogEntry
	size    int
	// generation counts flushes. A wait timer flushes only the batch it was
	// started for, never a newer one that happens to be pending when it
	// fires.
	generation uint64
	timer      *time.Timer
}

func newLogBatcher(host string, maxEntries, maxBytes int, maxWait, maxAge time.Duration, now func() time.Time, push func(model.LogBatch)) *logBatcher {
	return &logBatcher{
		host:       host,
		maxAge:     maxAge,
		maxEntries: max(maxEntries, 1),
		maxBytes:   max(maxBytes, 1),
		maxWait:    maxWait,
		now:        now,
		push:       push,
	}
}

// add is the emit function handed to the LogSource.
func (b *logBatcher) add(e model.LogEntry) {
	e = sanitizeEntry(e, b.host, b.now().UTC(), b.maxAge)
	size := len(e.Message) + len(e.Path) + len(e.Host) + len(e.Level) + entryOverhead

	b.mu.Lock()
	defer b.mu.Unlock()

	if len(b.entries) > 0 && b.size+size > b.maxBytes {
		b.flushLocked()
	}
	b.entries = append(b.entries, e)
	b.size += size

	if len(b.entries) == 1 {
		generation := b.generation
		b.timer = time.AfterFunc(b.maxWait, func() { b.flushGeneration(generation) })
	}
	if len(b.entries) >= b.maxEntries || b.size >= b.maxBytes {
		b.flushLocked()
	}
}

func (b *logBatcher) flushGeneration(generation uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.generation == generation {
		b.flushLocked()
	}
}

// flush queues the pending entries now.
func (b *logBatcher) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()

	b.flushLocked()
}

func (b *logBatcher) flushLocked() {
	if len(b.entries) == 0 {
		return
	}
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}

	batch := model.LogBatch{Host: b.host, BatchID: uuid.NewString(), Entries: b.entries}
	b.entries, b.size = nil, 0
	b.generation++
	b.push(batch)
}

// sanitizeEntry makes an entry acceptable to the server, because one bad
// entry makes the server reject the whole batch. It fills in the host and
// a missing time and maps an unknown level to info. A time more than the
// allowed skew ahead, or older than maxAge (0: no limit), becomes now.
// Invalid UTF-8 is replaced and an over-long message or path truncated.
func sanitizeEntry(e model.LogEntry, host string, now time.Time, maxAge time.Duration) model.LogEntry {
	e.Host = host

	tooOld := maxAge > 0 && e.Time.Before(now.Add(-maxAge))
	if e.Time.IsZero() || e.Time.After(now.Add(model.MaxFutureSkew)) || tooOld {
		e.Time = now
	}
	e.Time = e.Time.UTC()

	if level, ok := model.NormalizeLevel(e.Level); ok {
		e.Level = level
	} else {
		e.Level = model.LevelInfo
	}

	e.Message = truncateUTF8(strings.ToValidUTF8(e.Message, "\uFFFD"), model.MaxLogMessageLen)
	e.Path = truncateUTF8(strings.ToValidUTF8(e.Path, "\uFFFD"), model.MaxPathLen)
	return e
}

// truncateUTF8 cuts s to at most limit bytes without splitting a rune.
func truncateUTF8(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
