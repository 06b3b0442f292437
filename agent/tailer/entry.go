package tailer

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kamerrezz/theminidog/model"
)

// TruncatedMarker ends a message that was cut at MaxLineBytes.
const TruncatedMarker = "…[truncated]"

// entry is a log entry being assembled from a first line and its
// continuation lines.
type entry struct {
	start     int64     // file offset of the first line
	first     string    // first line, parsed for level and time
	joined    []byte    // first line plus continuations; nil while there are none
	readAt    time.Time // Config.Now when the first line was read
	updated   time.Time // wall clock when the last line was added
	truncated bool      // the message reached the size limit; later lines are dropped
	traceback bool      // a Python traceback is open, so its exception line continues it
}

func newEntry(first string, start int64, readAt, now time.Time) *entry {
	return &entry{
		start:     start,
		first:     first,
		readAt:    readAt,
		updated:   now,
		traceback: strings.HasPrefix(first, "Traceback "),
	}
}

// add joins a continuation line to the entry, cutting the message at limit
// bytes.
func (e *entry) add(line string, limit int, now time.Time) {
	e.updated = now
	if strings.HasPrefix(line, "Traceback ") {
		e.traceback = true
	}
	if e.truncated {
		return
	}

	if e.joined == nil {
		e.joined = append(make([]byte, 0, 2*len(e.first)+len(line)), e.first...)
	}
	e.joined = append(e.joined, '\n')
	e.joined = append(e.joined, line...)

	if len(e.joined) > limit {
		e.joined = append(cutUTF8(e.joined, limit-len(TruncatedMarker)), TruncatedMarker...)
		e.truncated = true
	}
}

func (e *entry) message() string {
	if e.joined == nil {
		return e.first
	}
	return string(e.joined)
}

// logEntry converts e for the agent. A timestamp in the line is used unless
// it lies further in the future than the server accepts, because such an
// entry would get the whole batch rejected. The read time is used then.
func (e *entry) logEntry(path, host string) model.LogEntry {
	level, ts := parseLine(e.first)
	if ts.IsZero() || ts.After(e.readAt.Add(model.MaxFutureSkew)) {
		ts = e.readAt
	}
	return model.LogEntry{
		Time:    ts.UTC(),
		Host:    host,
		Path:    path,
		Level:   level,
		Message: e.message(),
	}
}

// isContinuation reports whether line belongs to the entry before it: an
// indented line, a stack trace line ("at ...", "Caused by", "..."), a
// qualified exception line such as "java.lang.IllegalStateException: boom"
// or the parts of a Python traceback.
func isContinuation(line string, prev *entry) bool {
	if line[0] == ' ' || line[0] == '\t' {
		return true
	}
	for _, p := range []string{"Traceback ", "Caused by", "at ", "..."} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}

	name, isException := exceptionName(line)
	if isException && strings.Contains(name, ".") {
		return true
	}
	if !prev.traceback {
		return false
	}
	return isException ||
		strings.HasPrefix(line, "During handling of the above exception") ||
		strings.HasPrefix(line, "The above exception was the direct cause")
}

// exceptionName returns the exception class that starts a line such as
// "ValueError: bad value" or "com.example.AppException", and whether there
// is one.
func exceptionName(line string) (string, bool) {
	name, _, _ := strings.Cut(line, ":")
	if name == "" || strings.ContainsAny(name, " \t") {
		return "", false
	}
	for _, suffix := range []string{"Error", "Exception", "Warning", "Interrupt", "Exit"} {
		if strings.HasSuffix(name, suffix) {
			return name, true
		}
	}
	return "", false
}

// cleanLine turns the raw bytes of one line into message text. It strips a
// trailing carriage return and leading NUL bytes, replaces invalid UTF-8
// with U+FFFD and cuts the text at limit bytes. NUL bytes appear when a
// writer without O_APPEND keeps writing at its old offset after
// copytruncate, which leaves a gap. long reports that raw is only the start
// of a longer line.
func cleanLine(raw []byte, long bool, limit int) string {
	if !long {
		raw = bytes.TrimSuffix(raw, []byte{'\r'})
	}
	raw = bytes.TrimLeft(raw, "\x00")

	text := string(raw)
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	if long || len(text) > limit {
		text = string(cutUTF8([]byte(text), limit-len(TruncatedMarker))) + TruncatedMarker
	}
	return text
}

// cutUTF8 shortens b to at most n bytes without splitting a character.
func cutUTF8(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return b[:n]
}
