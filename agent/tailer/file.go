package tailer

import (
	"bytes"
	"errors"
	"io"
	"os"
	"time"
)

const (
	// readChunk is the size of one read from a file.
	readChunk = 64 * 1024
	// readBudget bounds what one file may read before the others get their
	// turn; the rest is read in the next pass, which starts at once.
	readBudget = 4 << 20
	// headMax is how many leading bytes of a file are kept to notice that
	// its content was replaced and to recognise copies of it.
	headMax = 1024
)

// file is one followed file and its read position.
type file struct {
	path string // name the file was first matched under, reported in entries
	name string // name it has now, which differs from path after a rename
	id   fileID
	fh   *os.File

	readOff  int64 // next byte to read
	consumed int64 // offset just past the last complete line processed
	lastSize int64 // size at the previous check

	partial     []byte // start of the incomplete line at the end, at most MaxLineBytes
	partialLong bool   // the incomplete line is longer than MaxLineBytes
	skipLine    bool   // reading started inside a line: drop bytes up to the next newline

	pending *entry // entry waiting for continuation lines

	head []byte // the first headMax bytes, or fewer while the file is shorter

	goneSince  time.Time // when the file stopped matching any path; zero while it matches
	lastGrowth time.Time

	// unverified marks a file found while running whose first bytes have
	// not yet been compared with other files to recognise a copy.
	unverified bool
	// copyOf is the followed file that this one seems to be a copy of. Its
	// reading waits until that file is truncated (copytruncate) or the
	// wait times out.
	copyOf     *file
	deferredAt time.Time
	// isCopy marks a recognised copy: a size below the read offset means
	// the copy is still being written, not that it was truncated.
	isCopy bool
}

// committed returns the offset up to which every entry has been emitted, the
// offset that is saved in the state file.
func (f *file) committed() int64 {
	if f.pending != nil {
		return f.pending.start
	}
	return f.consumed
}

// seek makes off the next byte to read. When off is not at the start of a
// line, the rest of that line is dropped, because it would be a fragment.
func (f *file) seek(off int64) {
	f.readOff, f.consumed = off, off
	f.partial, f.partialLong = f.partial[:0], false
	f.skipLine = false
	if off == 0 {
		return
	}

	var prev [1]byte
	if _, err := f.fh.ReadAt(prev[:], off-1); err == nil && prev[0] != '\n' {
		f.skipLine = true
	}
}

// loadHead re-reads the first bytes of the file. It reports false when they
// no longer start with the bytes seen before, so the content was replaced.
func (f *file) loadHead(size int64) (bool, error) {
	n := min(size, headMax)
	if int64(len(f.head)) == n {
		return true, nil
	}

	buf := make([]byte, n)
	if _, err := f.fh.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return true, err
	}
	same := bytes.HasPrefix(buf, f.head)
	f.head = buf
	return same, nil
}

// headMatches reports whether the file still starts with the saved head,
// and extends the head while the file is shorter than headMax.
func (f *file) headMatches(size int64) (bool, error) {
	if size < int64(len(f.head)) {
		return false, nil
	}
	if len(f.head) < headMax {
		return f.loadHead(size)
	}

	buf := make([]byte, headMax)
	if _, err := f.fh.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return true, err
	}
	return bytes.Equal(buf, f.head), nil
}

// addPartial keeps the start of an incomplete line, up to limit bytes.
func (f *file) addPartial(p []byte, limit int) {
	if f.skipLine {
		return
	}
	room := limit - len(f.partial)
	if len(p) > room {
		p = p[:max(room, 0)]
		f.partialLong = true
	}
	f.partial = append(f.partial, p...)
}

// lastLineEnd returns the offset just past the last newline before size,
// looking back at most limit+1 bytes. Without a newline in that window it
// returns 0 for a short file and size otherwise.
func (f *file) lastLineEnd(size int64, limit int) int64 {
	window := min(size, int64(limit)+1)
	buf := make([]byte, window)
	if _, err := f.fh.ReadAt(buf, size-window); err != nil && !errors.Is(err, io.EOF) {
		return size
	}
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		return size - window + int64(i) + 1
	}
	if window == size {
		return 0
	}
	return size
}
