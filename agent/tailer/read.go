package tailer

import (
	"errors"
	"io"
	"time"
)

// readOne reads what was appended to f and reports whether more is left
// because the read budget ran out. The main loop then reads again at once.
func (t *Tailer) readOne(f *file) bool {
	more := t.readFile(f)
	t.more = t.more || more
	return more
}

func (t *Tailer) readFile(f *file) bool {
	info, err := f.fh.Stat()
	if err != nil {
		t.warnOnce("stat "+f.name, "stat log file failed", "path", f.name, "error", err)
		return false
	}
	size := info.Size()

	if !t.checkCopy(f, size) {
		return false
	}
	if size == f.lastSize && f.readOff >= size {
		return false
	}

	sizeChanged := size != f.lastSize
	f.lastSize = size
	if !f.isCopy && (size < f.readOff || sizeChanged && !t.headMatches(f, size)) {
		t.restart(f, size)
	}
	return t.readAppended(f)
}

// headMatches reports whether f still starts with the bytes it started with.
// A read error counts as a match, so that it cannot cause a re-read.
func (t *Tailer) headMatches(f *file, size int64) bool {
	same, err := f.headMatches(size)
	if err != nil {
		t.warnOnce("read "+f.name, "read log file failed", "path", f.name, "error", err)
		return true
	}
	return same
}

// restart reads f again from byte 0 after copytruncate or another writer
// truncated it or replaced its content in place.
func (t *Tailer) restart(f *file, size int64) {
	t.log.Info("file truncated", "path", f.path, "offset", f.readOff, "size", size)
	t.flush(f)
	t.addGhost(f)

	f.head = nil
	f.seek(0)
	if _, err := f.loadHead(size); err != nil {
		t.warnOnce("read "+f.name, "read log file failed", "path", f.name, "error", err)
	}
}

// readAppended reads from f.readOff to the end of the file, at most
// readBudget bytes, and reports whether it stopped at the budget.
func (t *Tailer) readAppended(f *file) bool {
	for read := 0; read < readBudget; {
		if t.ctx.Err() != nil {
			return false
		}

		n, err := f.fh.ReadAt(t.readBuf, f.readOff)
		if n > 0 {
			f.lastGrowth = time.Now()
			t.consume(f, t.readBuf[:n])
			read += n
		}
		if err != nil && !errors.Is(err, io.EOF) {
			t.warnOnce("read "+f.name, "read log file failed", "path", f.name, "error", err)
			return false
		}
		if err != nil {
			if len(t.failing) > 0 {
				t.clearFailure("read " + f.name)
			}
			return false
		}
	}
	return true
}
