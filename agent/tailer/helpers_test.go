package tailer_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/agent/tailer"
	"github.com/kamerrezz/theminidog/model"
)

// waitTimeout bounds every wait; it is far above the expected time so that
// a loaded machine does not fail the tests.
const waitTimeout = 15 * time.Second

// collector stores the entries a Tailer emits.
type collector struct {
	mu      sync.Mutex
	entries []model.LogEntry
}

func (c *collector) emit(e model.LogEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append(c.entries, e)
}

func (c *collector) all() []model.LogEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.entries)
}

func (c *collector) messages() []string {
	var msgs []string
	for _, e := range c.all() {
		msgs = append(msgs, e.Message)
	}
	return msgs
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *collector) has(msg string) bool {
	return slices.Contains(c.messages(), msg)
}

// logBuffer captures the tailer's own log output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) contains(s string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Contains(b.buf.String(), s)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness runs one Tailer in the background.
type harness struct {
	col    *collector
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
}

// testConfig returns a config with short intervals for paths.
func testConfig(logs *logBuffer, paths ...string) tailer.Config {
	return tailer.Config{
		Paths:            paths,
		PollInterval:     20 * time.Millisecond,
		MultilineTimeout: 50 * time.Millisecond,
		Host:             "test-host",
		Logger:           slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// startTailer runs a Tailer built from cfg and waits until its first scan
// is done, so that files created afterwards count as created after start.
func startTailer(t *testing.T, cfg tailer.Config, logs *logBuffer) *harness {
	t.Helper()
	return startTailerEmit(t, cfg, logs, nil)
}

// startTailerEmit is startTailer with a hook called after each entry.
func startTailerEmit(t *testing.T, cfg tailer.Config, logs *logBuffer, hook func(*harness)) *harness {
	t.Helper()
	tl, err := tailer.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{col: &collector{}, logs: logs, cancel: cancel, done: make(chan error, 1)}
	emit := h.col.emit
	if hook != nil {
		emit = func(e model.LogEntry) {
			h.col.emit(e)
			hook(h)
		}
	}
	started := strings.Count(logs.String(), "tailer started")
	go func() { h.done <- tl.Run(ctx, emit) }()
	t.Cleanup(func() { h.stop(t) })

	waitFor(t, "first scan", func() bool { return strings.Count(logs.String(), "tailer started") > started })
	return h
}

// stop cancels the Tailer and waits for Run to return; it may be called
// more than once.
func (h *harness) stop(t *testing.T) {
	t.Helper()
	h.cancel()
	select {
	case err, ok := <-h.done:
		if !ok {
			return
		}
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
		close(h.done)
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after cancel")
	}
}

// waitFor polls cond until it holds or waitTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitMessage waits until an entry with message msg was emitted.
func (h *harness) waitMessage(t *testing.T, msg string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("entry %q (have %q)", msg, lastN(h.col.messages(), 5)), func() bool { return h.col.has(msg) })
}

func lastN(s []string, n int) []string {
	return s[max(len(s)-n, 0):]
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.WriteString(f, text); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// numbered returns prefix-0000, prefix-0001, ... as log lines and as the
// messages expected from them.
func numbered(prefix string, n int) (string, []string) {
	var b strings.Builder
	msgs := make([]string, n)
	for i := range n {
		msgs[i] = fmt.Sprintf("%s-%04d", prefix, i)
		b.WriteString(msgs[i] + "\n")
	}
	return b.String(), msgs
}

// assertExactlyOnce fails unless got holds every message of want exactly
// once and nothing else, in any order.
func assertExactlyOnce(t *testing.T, got, want []string) {
	t.Helper()
	counts := make(map[string]int)
	for _, m := range got {
		counts[m]++
	}
	for _, m := range want {
		switch counts[m] {
		case 0:
			t.Errorf("message %q missing", m)
		case 1:
		default:
			t.Errorf("message %q emitted %d times", m, counts[m])
		}
		delete(counts, m)
	}
	for m, n := range counts {
		t.Errorf("unexpected message %q emitted %d times", m, n)
	}
}

func tempPath(t *testing.T, name string) string {
	return filepath.Join(t.TempDir(), name)
}

// inBothModes runs test once with fsnotify and once on polling alone.
func inBothModes(t *testing.T, test func(t *testing.T)) {
	t.Run("fsnotify", test)
	t.Run("polling", func(t *testing.T) {
		tailer.DisableWatcher(t)
		test(t)
	})
}
