package tailer

import (
	"bytes"
	"time"
)

// consume splits data, read at f.readOff, into lines and handles each
// complete one. The bytes after the last newline stay in f.partial until
// their newline arrives.
func (t *Tailer) consume(f *file, data []byte) {
	limit := t.cfg.MaxLineBytes
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			f.addPartial(data, limit)
			f.readOff += int64(len(data))
			return
		}

		lineEnd := f.readOff + int64(i) + 1
		switch {
		case f.skipLine:
			f.skipLine = false
			f.consumed = lineEnd
		case len(f.partial) == 0 && i <= limit:
			t.handleLine(f, data[:i], false, lineEnd)
		default:
			f.addPartial(data[:i], limit)
			t.handleLine(f, f.partial, f.partialLong, lineEnd)
		}

		f.partial, f.partialLong = f.partial[:0], false
		f.readOff = lineEnd
		data = data[i+1:]
	}
}

// handleLine adds one complete line to the waiting entry when it continues
// it, and otherwise emits the waiting entry and starts a new one.
func (t *Tailer) handleLine(f *file, raw []byte, long bool, lineEnd int64) {
	start := f.consumed
	f.consumed = lineEnd

	text := cleanLine(raw, long, t.cfg.MaxLineBytes)
	if text == "" {
		return
	}

	now := time.Now()
	if f.pending != nil && isContinuation(text, f.pending) {
		f.pending.add(text, t.cfg.MaxLineBytes, now)
		return
	}
	t.flush(f)
	f.pending = newEntry(text, start, t.cfg.Now(), now)
}

// flush emits the entry waiting for continuation lines, if any.
func (t *Tailer) flush(f *file) {
	e := f.pending
	if e == nil {
		return
	}
	f.pending = nil
	t.emit(e.logEntry(f.path, t.cfg.Host))
}

// flushFinal emits the waiting entry and, as a last line of its own, the
// text after the last newline. It is used only for a file that is let go
// after rotation, whose last line can no longer be completed.
func (t *Tailer) flushFinal(f *file) {
	if len(f.partial) > 0 && !f.skipLine {
		t.handleLine(f, f.partial, f.partialLong, f.readOff)
		f.partial, f.partialLong = f.partial[:0], false
	}
	t.flush(f)
}
