package e2e

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
)

// logRecord is one entry of GET /api/v1/logs/query.
type logRecord struct {
	ID      int64     `json:"id"`
	Time    time.Time `json:"time"`
	Host    string    `json:"host"`
	Path    string    `json:"path"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// logWait bounds every wait for log entries to reach the query API. It is
// generous because the machine running the tests may be shared.
const logWait = 90 * time.Second

// logServer starts the server binary on db at addr and waits until it is
// ready.
func logServer(t *testing.T, serverBin, db, addr string) *process {
	t.Helper()
	p := start(t, serverBin, []string{"DATABASE_URL=" + db, "AGENT_TOKEN=" + secret, "LISTEN_ADDR=" + addr}, "serve")
	waitReady(t, "http://"+addr, p)
	return p
}

// logAgent starts the agent binary shipping logPath. One cheap collector
// at the longest interval allowed, five minutes, keeps metric traffic out
// of the way.
// RETRY_WAIT_MAX=1s makes it retry quickly once the server is back, and
// SHUTDOWN_TIMEOUT=30s leaves its shutdown flush ample time.
func logAgent(t *testing.T, agentBin, base, host, logPath, statePath string) *process {
	t.Helper()
	return start(t, agentBin, []string{
		"SERVER_URL=" + base, "AGENT_TOKEN=" + secret, "AGENT_HOST=" + host,
		"COLLECTORS=mem", "COLLECT_INTERVAL=5m",
		"LOG_PATHS=" + logPath, "LOG_STATE_FILE=" + statePath, "LOG_FROM_START=true",
		"LOG_QUEUE_SIZE=64", "RETRY_WAIT_MAX=1s", "SHUTDOWN_TIMEOUT=30s",
	})
}

// queryAllLogs pages through /api/v1/logs/query for host over the last
// hour and returns every entry, newest first.
func queryAllLogs(t *testing.T, base, host string, extra url.Values) []logRecord {
	t.Helper()
	now := time.Now().UTC()
	v := url.Values{
		"host":  {host},
		"from":  {now.Add(-time.Hour).Format(time.RFC3339)},
		"to":    {now.Add(time.Hour).Format(time.RFC3339)},
		"limit": {"1000"},
	}
	for k, vals := range extra {
		v[k] = vals
	}

	var all []logRecord
	for range 100 {
		var page struct {
			Entries    []logRecord `json:"entries"`
			NextCursor *string     `json:"next_cursor"`
		}
		if status := getJSON(t, base, "/api/v1/logs/query?"+v.Encode(), &page); status != 200 {
			t.Fatalf("log query %s: status %d", v.Encode(), status)
		}
		all = append(all, page.Entries...)
		if page.NextCursor == nil {
			return all
		}
		v.Set("cursor", *page.NextCursor)
	}
	t.Fatalf("log query %s: more than 100 pages", v.Encode())
	return nil
}

// waitForLogCount polls the query API until host has at least n entries.
func waitForLogCount(t *testing.T, base, host string, n int) {
	t.Helper()
	deadline := time.Now().Add(logWait)
	for {
		got := len(queryAllLogs(t, base, host, nil))
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("host %s has %d log entries after %s, want %d", host, got, logWait, n)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// outputOf returns what p has printed so far. It takes the writer's lock
// because the process may still be writing.
func outputOf(p *process) string {
	w := p.cmd.Stdout.(*lockedWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return p.output.String()
}

// appendLines appends text to the file at path in one write.
func appendLines(t *testing.T, path, text string) {
	t.Helper()
	if err := appendText(path, text); err != nil {
		t.Fatal(err)
	}
}

func appendText(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// waitExit waits for p to exit after a signal the test sent and returns
// its exit error. Unlike stop it sends no signal of its own, because a
// second SIGTERM ends the agent's shutdown flush at once.
func waitExit(t *testing.T, p *process, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %s of SIGTERM", filepath.Base(p.cmd.Path), timeout)
		return nil
	}
}

// TestLogLinesArriveParsed appends lines of common formats to a tailed
// file and checks each entry's level, time, path and host through the
// query API. A stack trace must arrive as one entry, and an unfinished
// last line must wait for its newline.
func TestLogLinesArriveParsed(t *testing.T) {
	serverBin, agentBin := binaries(t)
	db := pgtest.NewDatabase(t)
	addr := freeAddr(t)
	base := "http://" + addr
	const host = "e2e-logs-parse"
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")

	logServer(t, serverBin, db, addr)
	logAgent(t, agentBin, base, host, logPath, filepath.Join(dir, "state.json"))

	// Times in lines are whole seconds a few minutes back, inside the
	// server's retention window and not in the future.
	now := time.Now().UTC().Truncate(time.Second)
	ts1, ts2, ts3 := now.Add(-2*time.Minute), now.Add(-3*time.Minute), now.Add(-4*time.Minute)
	stackTrace := "ERROR request failed\n\tat com.example.Handler.serve(Handler.java:42)\nCaused by: java.io.IOException: connection reset"
	want := []struct {
		message string
		level   string
		time    time.Time // zero: the line has no time, so the agent's read time is used
	}{
		{`{"time":"` + ts1.Format(time.RFC3339) + `","level":"warn","msg":"disk almost full"}`, "warn", ts1},
		{"time=" + ts2.Format(time.RFC3339) + ` level=error msg="payment failed" order=42`, "error", ts2},
		{ts3.Format(time.RFC3339) + " INFO server started on :8080", "info", ts3},
		{"2024/01/02 10:00:00 [warn] 12#0: upstream timed out", "warn", time.Time{}},
		{"E0102 10:00:00.000000 1 main.go:10] leader election lost", "error", time.Time{}},
		{`{"level":50,"msg":"pino fatal"}`, "error", time.Time{}},
		{"DEBUG cache refreshed in 3ms", "debug", time.Time{}},
		{"user warn flag cleared", "info", time.Time{}},
		// Older than the server's retention: the agent stamps it with the
		// read time, or the server would reject the whole batch.
		{`time=2000-01-01T00:00:00Z level=info msg="replayed from an old file"`, "info", time.Time{}},
		{stackTrace, "error", time.Time{}},
	}

	var text strings.Builder
	for _, w := range want {
		text.WriteString(w.message + "\n")
	}
	const partial = "INFO partial line"
	text.WriteString(partial)
	written := time.Now()
	appendLines(t, logPath, text.String())

	waitForLogCount(t, base, host, len(want))
	got := queryAllLogs(t, base, host, nil)
	if len(got) != len(want) {
		t.Errorf("got %d entries, want %d (the partial line must wait for its newline)", len(got), len(want))
	}
	byMessage := map[string]logRecord{}
	for _, r := range got {
		byMessage[r.Message] = r
	}

	for _, w := range want {
		r, ok := byMessage[w.message]
		if !ok {
			t.Errorf("no entry with message %q", w.message)
			continue
		}
		if r.Level != w.level {
			t.Errorf("level of %q = %q, want %q", w.message, r.Level, w.level)
		}
		if r.Path != logPath {
			t.Errorf("path of %q = %q, want %q", w.message, r.Path, logPath)
		}
		if r.Host != host {
			t.Errorf("host of %q = %q, want %q", w.message, r.Host, host)
		}
		if !w.time.IsZero() && !r.Time.Equal(w.time) {
			t.Errorf("time of %q = %s, want %s from the line", w.message, r.Time, w.time)
		}
		if w.time.IsZero() && (r.Time.Before(written.Add(-time.Minute)) || r.Time.After(time.Now().Add(time.Minute))) {
			t.Errorf("time of %q = %s, want the read time, about %s", w.message, r.Time, written.UTC())
		}
	}

	// The filters of the query API apply to the shipped entries.
	wantErrors := 0
	for _, w := range want {
		if w.level == "error" {
			wantErrors++
		}
	}
	errorEntries := queryAllLogs(t, base, host, url.Values{"level": {"error"}})
	if len(errorEntries) != wantErrors {
		t.Errorf("level=error returned %d entries, want %d", len(errorEntries), wantErrors)
	}
	upstream := queryAllLogs(t, base, host, url.Values{"q": {"UPSTREAM TIMED"}})
	if len(upstream) != 1 || !strings.Contains(upstream[0].Message, "upstream timed out") {
		t.Errorf("q=UPSTREAM TIMED returned %+v, want the nginx line only", upstream)
	}

	// Completing the partial line ships it as one entry.
	appendLines(t, logPath, " completed\n")
	waitForLogCount(t, base, host, len(want)+1)
	done := queryAllLogs(t, base, host, url.Values{"q": {partial}})
	if len(done) != 1 || done[0].Message != partial+" completed" {
		t.Errorf("entries for the completed line = %+v, want one with message %q", done, partial+" completed")
	}
}

// burstLevels cycles through the level words of burst lines, so that the
// check covers level parsing at volume as well.
var burstLevels = []string{"INFO", "WARN", "ERROR", "DEBUG"}

// burstText returns lines [from, to) of a burst, each naming its number.
func burstText(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "%s burst line %06d of the delivery test\n", burstLevels[i%len(burstLevels)], i)
	}
	return b.String()
}

// burstChunk is the number of lines of one write to the log file.
const burstChunk = 50

// writeBurst appends lines [from, to) to path in writes of burstChunk
// lines, as fast as it can.
func writeBurst(t *testing.T, path string, from, to int) {
	t.Helper()
	for i := from; i < to; i += burstChunk {
		appendLines(t, path, burstText(i, min(i+burstChunk, to)))
	}
}

// burstPause paces a background burst at 1 000 lines a second, so that a
// process stopped as soon as the first entries are stored is stopped while
// the burst goes on.
const burstPause = 50 * time.Millisecond

// writeBurstInBackground appends lines [from, to) to path from another
// goroutine, one write of burstChunk lines every burstPause, and returns a
// channel that is closed after the last write. The test waits for it
// before it ends.
func writeBurstInBackground(t *testing.T, path string, from, to int) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := from; i < to; i += burstChunk {
			if err := appendText(path, burstText(i, min(i+burstChunk, to))); err != nil {
				t.Errorf("append burst lines: %v", err)
				return
			}
			time.Sleep(burstPause)
		}
	}()
	t.Cleanup(func() { <-done })
	return done
}

// checkBurstExactlyOnce checks that host has exactly the lines [0, n) of
// a burst from logPath, each once and with its level.
func checkBurstExactlyOnce(t *testing.T, base, host, logPath string, n int) {
	t.Helper()
	got := queryAllLogs(t, base, host, nil)
	seen := make([]int, n)
	for _, r := range got {
		var level string
		var i int
		if _, err := fmt.Sscanf(r.Message, "%s burst line %d of the delivery test", &level, &i); err != nil || i < 0 || i >= n {
			t.Errorf("unexpected entry %q", r.Message)
			continue
		}
		seen[i]++
		if want := strings.ToLower(burstLevels[i%len(burstLevels)]); r.Level != want {
			t.Errorf("line %d: level %q, want %q", i, r.Level, want)
		}
		if r.Path != logPath {
			t.Errorf("line %d: path %q, want %q", i, r.Path, logPath)
		}
	}

	var missing, repeated []string
	for i, c := range seen {
		switch {
		case c == 0:
			missing = append(missing, strconv.Itoa(i))
		case c > 1:
			repeated = append(repeated, fmt.Sprintf("%d (%d times)", i, c))
		}
	}
	if len(got) != n {
		t.Errorf("got %d entries, want %d", len(got), n)
	}
	if len(missing) > 0 {
		t.Errorf("%d lines missing: %s", len(missing), abbreviate(missing))
	}
	if len(repeated) > 0 {
		t.Errorf("%d lines stored more than once: %s", len(repeated), abbreviate(repeated))
	}
}

// abbreviate joins at most the first 20 items of a list.
func abbreviate(items []string) string {
	if len(items) > 20 {
		return strings.Join(items[:20], ", ") + ", …"
	}
	return strings.Join(items, ", ")
}

// checkCleanAgentStop checks the counters an agent logs when it stops:
// nothing dropped because the log queue was full and nothing left unsent
// when the shutdown budget ran out.
func checkCleanAgentStop(t *testing.T, p *process) {
	t.Helper()
	out := outputOf(p)
	for _, want := range []string{"log_batches_dropped_queue_full=0", "log_batches_unsent=0"} {
		if !strings.Contains(out, want) {
			t.Errorf("agent stop message lacks %s:\n%s", want, out)
		}
	}
}

// burstLines is the size of the bursts of the delivery tests. Their
// first burstBackground lines are written in the background while a
// process is stopped, the rest while it is down. At 500 entries a batch
// and one more batch per second of writing, a burst makes at most a few
// dozen batches, so LOG_QUEUE_SIZE=64 never drops one.
const (
	burstLines      = 5000
	burstBackground = 3000
)

// TestLogsSurviveServerRestart stops the server in the middle of a burst,
// keeps writing while it is down, and starts it again on the same database
// and port. Every line must be stored exactly once. Batches the agent
// retries keep their batch ids, so a batch that the stopping server stored
// but did not acknowledge is not stored twice.
func TestLogsSurviveServerRestart(t *testing.T) {
	serverBin, agentBin := binaries(t)
	db := pgtest.NewDatabase(t)
	addr := freeAddr(t)
	base := "http://" + addr
	const host = "e2e-logs-server-restart"
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")

	srv := logServer(t, serverBin, db, addr)
	agent := logAgent(t, agentBin, base, host, logPath, filepath.Join(dir, "state.json"))

	// The server gets SIGTERM as soon as the first entries are stored,
	// while the agent ships the burst.
	writing := writeBurstInBackground(t, logPath, 0, burstBackground)
	waitForLogCount(t, base, host, 1)
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, srv, 30*time.Second); err != nil {
		t.Fatalf("server exit after SIGTERM: %v", err)
	}
	<-writing

	// The rest is written while no server runs; the agent must see the
	// outage before the server comes back.
	writeBurst(t, logPath, burstBackground, burstLines)
	waitFor(t, logWait, "the agent to report a failed send", func() bool {
		return strings.Contains(outputOf(agent), "send failed, will retry")
	})

	logServer(t, serverBin, db, addr)
	waitForLogCount(t, base, host, burstLines)

	// Stopping the agent ends every retry, so nothing can arrive after the
	// final count.
	if err := agent.stop(t, 60*time.Second); err != nil {
		t.Errorf("agent exit after SIGTERM: %v", err)
	}
	checkCleanAgentStop(t, agent)
	checkBurstExactlyOnce(t, base, host, logPath, burstLines)
}

// TestLogsSurviveAgentRestart stops the agent in the middle of a burst,
// keeps writing while it is down, and starts a new agent on the same state
// file. Every line must be stored exactly once, because the stopping agent
// delivers what it read and the saved offsets let the new agent continue
// right after it.
func TestLogsSurviveAgentRestart(t *testing.T) {
	serverBin, agentBin := binaries(t)
	db := pgtest.NewDatabase(t)
	addr := freeAddr(t)
	base := "http://" + addr
	const host = "e2e-logs-agent-restart"
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	statePath := filepath.Join(dir, "state.json")

	logServer(t, serverBin, db, addr)
	first := logAgent(t, agentBin, base, host, logPath, statePath)

	// The agent gets SIGTERM as soon as the first entries are stored,
	// while it reads and ships the burst.
	writing := writeBurstInBackground(t, logPath, 0, burstBackground)
	waitForLogCount(t, base, host, 1)
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, first, 60*time.Second); err != nil {
		t.Fatalf("first agent exit after SIGTERM: %v", err)
	}
	checkCleanAgentStop(t, first)
	<-writing

	writeBurst(t, logPath, burstBackground, burstLines)
	second := logAgent(t, agentBin, base, host, logPath, statePath)
	waitForLogCount(t, base, host, burstLines)

	if err := second.stop(t, 60*time.Second); err != nil {
		t.Errorf("second agent exit after SIGTERM: %v", err)
	}
	checkCleanAgentStop(t, second)
	checkBurstExactlyOnce(t, base, host, logPath, burstLines)
}
