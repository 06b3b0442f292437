package tailer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kamerrezz/theminidog/agent/tailer"
	"github.com/kamerrezz/theminidog/model"
)

// A copytruncate rotation copies the file and truncates it in place: the
// tailer must notice the size dropping below its offset and read the new
// lines from byte 0 without sending the old ones again.
func TestCopyTruncate(t *testing.T) {
	inBothModes(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		logs := &logBuffer{}
		h := startTailer(t, testConfig(logs, path), logs)

		appendFile(t, path, "a1\na2\na3\n")
		h.waitMessage(t, "a3")

		copyFile(t, path, path+".1")
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, "b1\n")
		h.waitMessage(t, "b1")
		appendFile(t, path, "b2\n")
		h.waitMessage(t, "b2")
		h.stop(t)

		if got, want := h.col.messages(), []string{"a1", "a2", "a3", "b1", "b2"}; !slices.Equal(got, want) {
			t.Errorf("messages = %q, want %q", got, want)
		}
		if !logs.contains("file truncated") {
			t.Errorf("log does not mention the truncation:\n%s", logs)
		}
	})
}

// With a glob that also matches the copy, the copy must not be read from
// byte 0; lines appended to the copy later are new and are read.
func TestCopyTruncateGlobSkipsCopy(t *testing.T) {
	inBothModes(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		logs := &logBuffer{}
		h := startTailer(t, testConfig(logs, path+"*"), logs)

		appendFile(t, path, "a1\na2\na3\n")
		h.waitMessage(t, "a3")

		copyFile(t, path, path+".1")
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, "b1\n")
		h.waitMessage(t, "b1")
		waitFor(t, "copy recognised", func() bool { return logs.contains("file is a copy of a truncated file") })
		appendFile(t, path+".1", "c1\n")
		h.waitMessage(t, "c1")
		h.stop(t)

		assertExactlyOnce(t, h.col.messages(), []string{"a1", "a2", "a3", "b1", "c1"})
	})
}

// A partial last line is never shipped on its own, and the saved offset
// stops before it, so a restart ships it once and whole.
func TestPartialLineAcrossRestart(t *testing.T) {
	inBothModes(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		logs := &logBuffer{}
		cfg := testConfig(logs, path)
		cfg.StatePath = filepath.Join(t.TempDir(), "state.json")
		h := startTailer(t, cfg, logs)

		appendFile(t, path, `level=info msg="hel`)
		// Nothing can be waited for here: the check is that nothing arrives
		// while the tailer polls the partial line several times.
		time.Sleep(5 * cfg.PollInterval)
		if n := h.col.count(); n != 0 {
			t.Fatalf("partial line emitted as %d entries: %q", n, h.col.messages())
		}

		appendFile(t, path, "lo\"\n")
		h.waitMessage(t, `level=info msg="hello"`)
		appendFile(t, path, "tail-no-newline")
		h.stop(t)

		if got := h.col.messages(); !slices.Equal(got, []string{`level=info msg="hello"`}) {
			t.Errorf("first run messages = %q, want only the joined line", got)
		}
		if lvl := h.col.all()[0].Level; lvl != model.LevelInfo {
			t.Errorf("level = %q, want info", lvl)
		}

		h2 := startTailer(t, cfg, logs)
		appendFile(t, path, "\n")
		h2.waitMessage(t, "tail-no-newline")
		appendFile(t, path, "end\n")
		h2.waitMessage(t, "end")
		h2.stop(t)

		if got, want := h2.col.messages(), []string{"tail-no-newline", "end"}; !slices.Equal(got, want) {
			t.Errorf("second run messages = %q, want %q", got, want)
		}
	})
}

// Rename rotation while the writer keeps its old descriptor: lines written
// to the renamed file before and after the new file appears are read, and
// every line arrives once, reported under the watched name.
func TestRenameRotationOldDescriptor(t *testing.T) {
	inBothModes(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		logs := &logBuffer{}
		h := startTailer(t, testConfig(logs, path), logs)

		old, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		write := func(f *os.File, s string) {
			t.Helper()
			if _, err := f.WriteString(s); err != nil {
				t.Fatal(err)
			}
		}

		before, wantBefore := numbered("old-a", 50)
		write(old, before)
		h.waitMessage(t, wantBefore[49])

		rename(t, path, path+".1")
		afterRename, wantAfterRename := numbered("old-b", 50)
		write(old, afterRename)

		newFile, wantNew := numbered("new", 50)
		appendFile(t, path, newFile)
		afterNew, wantAfterNew := numbered("old-c", 20)
		write(old, afterNew+"old-end\n")
		appendFile(t, path, "new-end\n")

		h.waitMessage(t, "old-end")
		h.waitMessage(t, "new-end")
		h.stop(t)

		want := slices.Concat(wantBefore, wantAfterRename, wantNew, wantAfterNew, []string{"old-end", "new-end"})
		assertExactlyOnce(t, h.col.messages(), want)
		for _, e := range h.col.all() {
			if e.Path != path {
				t.Fatalf("entry %q has path %q, want the watched name %q", e.Message, e.Path, path)
			}
		}
	})
}

// A file renamed away is read to its end and let go after RotateWait. Its
// last line, which can no longer be completed, is shipped then.
func TestRotatedFileReleased(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	logs := &logBuffer{}
	cfg := testConfig(logs, path)
	cfg.RotateWait = 100 * time.Millisecond
	h := startTailer(t, cfg, logs)

	appendFile(t, path, "x1\n")
	h.waitMessage(t, "x1")
	appendFile(t, path, "last-without-newline")
	rename(t, path, path+".1")

	h.waitMessage(t, "last-without-newline")
	waitFor(t, "release logged", func() bool { return logs.contains("file released") })
	h.stop(t)
	assertExactlyOnce(t, h.col.messages(), []string{"x1", "last-without-newline"})
}

// A glob that matches the rotated files follows each by inode across two
// rotations and never reads one again from byte 0.
func TestGlobTwoRotations(t *testing.T) {
	inBothModes(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		logs := &logBuffer{}
		h := startTailer(t, testConfig(logs, path+"*"), logs)

		gen0, want0 := numbered("gen0", 100)
		appendFile(t, path, gen0)
		h.waitMessage(t, want0[99])

		rename(t, path, path+".1")
		gen1, want1 := numbered("gen1", 100)
		appendFile(t, path, gen1)
		h.waitMessage(t, want1[99])

		rename(t, path+".1", path+".2")
		rename(t, path, path+".1")
		gen2, want2 := numbered("gen2", 100)
		appendFile(t, path, gen2)
		appendFile(t, path+".1", "gen1-late\n")
		appendFile(t, path+".2", "gen0-late\n")
		h.waitMessage(t, want2[99])
		h.waitMessage(t, "gen1-late")
		h.waitMessage(t, "gen0-late")
		h.stop(t)

		assertExactlyOnce(t, h.col.messages(), slices.Concat(want0, want1, want2, []string{"gen1-late", "gen0-late"}))
	})
}

// Files that do not exist at start are picked up when they appear, by name
// and by glob, and read from byte 0.
func TestFileCreatedAfterStart(t *testing.T) {
	inBothModes(t, func(t *testing.T) {
		dir := t.TempDir()
		named := filepath.Join(dir, "late.log")
		globDir := filepath.Join(dir, "sub")
		logs := &logBuffer{}
		h := startTailer(t, testConfig(logs, named, filepath.Join(globDir, "*.log")), logs)

		appendFile(t, named, "late-1\nlate-2\n")
		if err := os.Mkdir(globDir, 0o755); err != nil {
			t.Fatal(err)
		}
		appendFile(t, filepath.Join(globDir, "one.log"), "one-1\n")
		appendFile(t, filepath.Join(globDir, "two.log"), "two-1\n")
		appendFile(t, filepath.Join(globDir, "other.txt"), "ignored\n")

		h.waitMessage(t, "late-2")
		h.waitMessage(t, "one-1")
		h.waitMessage(t, "two-1")
		h.stop(t)

		assertExactlyOnce(t, h.col.messages(), []string{"late-1", "late-2", "one-1", "two-1"})
		for _, e := range h.col.all() {
			if e.Host != "test-host" {
				t.Errorf("entry %q has host %q, want test-host", e.Message, e.Host)
			}
		}
	})
}

// An existing file without a saved offset starts after its last complete
// line when FromStart is false, and at byte 0 when it is true.
func TestFromStart(t *testing.T) {
	for _, fromStart := range []bool{false, true} {
		t.Run(map[bool]string{false: "end", true: "start"}[fromStart], func(t *testing.T) {
			path := tempPath(t, "app.log")
			appendFile(t, path, "old-1\nold-2\npartial-")
			logs := &logBuffer{}
			cfg := testConfig(logs, path)
			cfg.FromStart = fromStart
			h := startTailer(t, cfg, logs)

			appendFile(t, path, "line\nnew-1\n")
			h.waitMessage(t, "new-1")
			h.stop(t)

			want := []string{"partial-line", "new-1"}
			if fromStart {
				want = append([]string{"old-1", "old-2"}, want...)
			}
			if got := h.col.messages(); !slices.Equal(got, want) {
				t.Errorf("messages = %q, want %q", got, want)
			}
		})
	}
}

// Stopping in the middle of a burst and restarting with the same state file
// ships every line exactly once.
func TestRestartMidBurst(t *testing.T) {
	const total = 10000
	path := tempPath(t, "burst.log")
	logs := &logBuffer{}
	cfg := testConfig(logs, path)
	cfg.StatePath = filepath.Join(t.TempDir(), "state.json")
	cfg.FromStart = true

	first := startTailerEmit(t, cfg, logs, func(h *harness) {
		if h.col.count() == total/3 {
			h.cancel()
		}
	})
	burst, want := numbered("burst-line-with-some-padding", total)
	lines := strings.SplitAfter(burst, "\n")
	for i := 0; i < len(lines); i += 100 {
		appendFile(t, path, strings.Join(lines[i:min(i+100, len(lines))], ""))
	}
	waitFor(t, "first run to reach a third", func() bool { return first.col.count() >= total/3 })
	first.stop(t)
	firstRun := first.col.messages()
	if len(firstRun) < total/3 || len(firstRun) >= total {
		t.Fatalf("first run emitted %d entries, want a stop in the middle of the burst", len(firstRun))
	}

	second := startTailer(t, cfg, logs)
	second.waitMessage(t, want[total-1])
	appendFile(t, path, "end\n")
	second.waitMessage(t, "end")
	second.stop(t)

	assertExactlyOnce(t, slices.Concat(firstRun, second.col.messages()), append(want, "end"))
}

// A line far longer than MaxLineBytes is cut with a marker and the rest of
// it skipped, without harming the lines around it.
func TestLongLineTruncated(t *testing.T) {
	path := tempPath(t, "long.log")
	logs := &logBuffer{}
	h := startTailer(t, testConfig(logs, path), logs)

	huge := strings.Repeat("x", 1<<20)
	appendFile(t, path, "before\n"+huge[:300000])
	appendFile(t, path, huge[300000:]+"\nafter\n")
	wide := strings.Repeat("é", 40000) // 80000 bytes of two-byte characters
	appendFile(t, path, wide+"\nlast\n")
	h.waitMessage(t, "last")
	h.stop(t)

	msgs := h.col.messages()
	if len(msgs) != 5 || msgs[0] != "before" || msgs[2] != "after" || msgs[4] != "last" {
		t.Fatalf("got %d entries, want before, long, after, wide, last", len(msgs))
	}
	for _, long := range []string{msgs[1], msgs[3]} {
		if len(long) > tailer.DefaultMaxLineBytes {
			t.Errorf("long line kept %d bytes, more than %d", len(long), tailer.DefaultMaxLineBytes)
		}
		if !strings.HasSuffix(long, tailer.TruncatedMarker) {
			t.Errorf("long line does not end with the marker: ...%q", long[len(long)-20:])
		}
		if !utf8.ValidString(long) {
			t.Errorf("long line is not valid UTF-8")
		}
	}
	if body := strings.TrimSuffix(msgs[1], tailer.TruncatedMarker); strings.Trim(body, "x") != "" || len(body) < tailer.DefaultMaxLineBytes-64 {
		t.Errorf("long line body is %d bytes, want only x and close to the limit", len(body))
	}
}

// Line endings, invalid UTF-8, NUL padding and blank lines are cleaned.
func TestLineCleaning(t *testing.T) {
	path := tempPath(t, "clean.log")
	logs := &logBuffer{}
	h := startTailer(t, testConfig(logs, path), logs)

	appendFile(t, path, "crlf\r\nbad\xff\xfeutf8\n\x00\x00after-gap\n\n\nlast\n")
	h.waitMessage(t, "last")
	h.stop(t)

	want := []string{"crlf", "bad\uFFFDutf8", "after-gap", "last"}
	if got := h.col.messages(); !slices.Equal(got, want) {
		t.Errorf("messages = %q, want %q", got, want)
	}
}

// Continuation lines join the entry they follow; the last entry is emitted
// after MultilineTimeout.
func TestMultiline(t *testing.T) {
	path := tempPath(t, "multi.log")
	logs := &logBuffer{}
	h := startTailer(t, testConfig(logs, path), logs)

	javaTrace := strings.Join([]string{
		"2024-01-02T03:04:05Z ERROR request failed",
		"java.lang.IllegalStateException: boom",
		"\tat com.example.Foo.bar(Foo.java:10)",
		"\tat com.example.Main.main(Main.java:5)",
		"Caused by: java.io.IOException: disk",
		"\t... 2 more",
	}, "\n")
	pythonTrace := strings.Join([]string{
		"ERROR:root:failed",
		"Traceback (most recent call last):",
		`  File "x.py", line 1, in <module>`,
		"ValueError: bad",
	}, "\n")
	appendFile(t, path, javaTrace+"\nINFO next entry\n"+pythonTrace+"\nWARN after traceback\n")
	h.waitMessage(t, "WARN after traceback")
	h.stop(t)

	entries := h.col.all()
	wantMsgs := []string{javaTrace, "INFO next entry", pythonTrace, "WARN after traceback"}
	wantLevels := []string{model.LevelError, model.LevelInfo, model.LevelError, model.LevelWarn}
	if len(entries) != len(wantMsgs) {
		t.Fatalf("got %d entries %q, want %d", len(entries), h.col.messages(), len(wantMsgs))
	}
	for i, e := range entries {
		if e.Message != wantMsgs[i] {
			t.Errorf("entry %d message = %q, want %q", i, e.Message, wantMsgs[i])
		}
		if e.Level != wantLevels[i] {
			t.Errorf("entry %d level = %q, want %q", i, e.Level, wantLevels[i])
		}
	}
	if want := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC); !entries[0].Time.Equal(want) {
		t.Errorf("entry 0 time = %v, want %v from the line", entries[0].Time, want)
	}
}

// Entry times come from the line when it has a timestamp the server
// accepts, and from the injected clock otherwise.
func TestEntryTime(t *testing.T) {
	path := tempPath(t, "time.log")
	logs := &logBuffer{}
	cfg := testConfig(logs, path)
	clock := time.Date(2030, 5, 6, 7, 8, 9, 0, time.FixedZone("X", 3600))
	cfg.Now = func() time.Time { return clock }
	h := startTailer(t, cfg, logs)

	appendFile(t, path, strings.Join([]string{
		`{"time":"2030-05-06T05:00:00+02:00","level":"warn","msg":"json"}`,
		"no timestamp here",
		"2031-01-01T00:00:00Z far in the future",
		`127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326`,
	}, "\n")+"\n")
	h.waitMessage(t, `127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326`)
	h.stop(t)

	want := []time.Time{
		time.Date(2030, 5, 6, 3, 0, 0, 0, time.UTC),
		clock.UTC(),
		clock.UTC(),
		time.Date(2000, 10, 10, 20, 55, 36, 0, time.UTC),
	}
	entries := h.col.all()
	if len(entries) != len(want) {
		t.Fatalf("got %d entries, want %d", len(entries), len(want))
	}
	for i, e := range entries {
		if !e.Time.Equal(want[i]) || e.Time.Location() != time.UTC {
			t.Errorf("entry %q time = %v, want %v in UTC", e.Message, e.Time, want[i])
		}
	}
}

// The agent restarted after its file was rotated: the old file is found by
// inode and read from the saved offset, the new one from byte 0.
func TestRotatedWhileStopped(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	logs := &logBuffer{}
	cfg := testConfig(logs, path)
	cfg.StatePath = filepath.Join(t.TempDir(), "state.json")
	h := startTailer(t, cfg, logs)

	appendFile(t, path, "before-stop\n")
	h.waitMessage(t, "before-stop")
	h.stop(t)

	appendFile(t, path, "after-stop\n")
	rename(t, path, path+".1")
	appendFile(t, path, "new-file\n")

	h2 := startTailer(t, cfg, logs)
	h2.waitMessage(t, "after-stop")
	h2.waitMessage(t, "new-file")
	h2.stop(t)
	assertExactlyOnce(t, h2.col.messages(), []string{"after-stop", "new-file"})
}

// The state file is JSON written by rename, holding the offset of the last
// emitted line and the file's inode.
func TestStateFileContent(t *testing.T) {
	path := tempPath(t, "app.log")
	logs := &logBuffer{}
	cfg := testConfig(logs, path)
	cfg.StatePath = filepath.Join(t.TempDir(), "state.json")
	h := startTailer(t, cfg, logs)

	appendFile(t, path, "one\ntwo\nhalf")
	h.waitMessage(t, "two")
	h.stop(t)

	data, err := os.ReadFile(cfg.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Files []struct {
			Path   string `json:"path"`
			Inode  uint64 `json:"inode"`
			Offset int64  `json:"offset"`
		} `json:"files"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("state is not JSON: %v\n%s", err, data)
	}
	if len(st.Files) != 1 {
		t.Fatalf("state has %d files, want 1:\n%s", len(st.Files), data)
	}
	if got := st.Files[0]; got.Path != path || got.Offset != int64(len("one\ntwo\n")) || got.Inode == 0 {
		t.Errorf("state record = %+v, want path %s, offset %d and an inode", got, path, len("one\ntwo\n"))
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	statePath := tempPath(t, "state.json")
	if err := os.WriteFile(statePath, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		cfg  tailer.Config
		want string
	}{
		{"no paths", tailer.Config{}, "no log paths"},
		{"bad glob", tailer.Config{Paths: []string{"/var/log/[.log"}}, "invalid glob pattern"},
		{"line limit", tailer.Config{Paths: []string{"/x.log"}, MaxLineBytes: 1 << 20}, "max line bytes"},
		{"negative poll", tailer.Config{Paths: []string{"/x.log"}, PollInterval: -time.Second}, "poll interval"},
		{"corrupt state", tailer.Config{Paths: []string{"/x.log"}, StatePath: statePath}, "invalid JSON"},
		{"state directory", tailer.Config{Paths: []string{"/x.log"}, StatePath: filepath.Join(statePath, "missing", "state.json")}, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tailer.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// When the copy is seen before the source is truncated, it waits for the
// truncation and then continues where the source had been read to.
func TestCopySeenBeforeTruncate(t *testing.T) {
	inBothModes(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		logs := &logBuffer{}
		h := startTailer(t, testConfig(logs, path+"*"), logs)

		appendFile(t, path, "a1\na2\na3\n")
		h.waitMessage(t, "a3")
		copyFile(t, path, path+".1")
		waitFor(t, "copy suspected", func() bool { return logs.contains("file looks like a copy") })

		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, "b1\n")
		waitFor(t, "copy recognised", func() bool { return logs.contains("file is a copy of a truncated file") })
		appendFile(t, path+".1", "c1\n")
		h.waitMessage(t, "b1")
		h.waitMessage(t, "c1")
		h.stop(t)

		assertExactlyOnce(t, h.col.messages(), []string{"a1", "a2", "a3", "b1", "c1"})
	})
}

// A file deleted and created anew while the agent was stopped is read from
// byte 0, even if the new file got the old inode.
func TestReplacedWhileStopped(t *testing.T) {
	path := tempPath(t, "app.log")
	logs := &logBuffer{}
	cfg := testConfig(logs, path)
	cfg.StatePath = filepath.Join(t.TempDir(), "state.json")
	h := startTailer(t, cfg, logs)

	appendFile(t, path, "first-file-line-1\nfirst-file-line-2\n")
	h.waitMessage(t, "first-file-line-2")
	h.stop(t)

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "second-file-line-1\nsecond-file-line-2\nsecond-file-line-3\n")

	h2 := startTailer(t, cfg, logs)
	h2.waitMessage(t, "second-file-line-3")
	h2.stop(t)
	assertExactlyOnce(t, h2.col.messages(), []string{"second-file-line-1", "second-file-line-2", "second-file-line-3"})
}
