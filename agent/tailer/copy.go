package tailer

import (
	"bytes"
	"slices"
	"time"
)

const (
	// ghostTTL is how long the first bytes of a truncated file are kept to
	// recognise its copy, and how long a suspected copy waits for its
	// source to be truncated.
	ghostTTL  = time.Minute
	maxGhosts = 16
)

// ghost is the record of a file truncated in place: its first bytes and the
// offset up to which its lines were processed. A new file that starts with
// the same bytes is the copy, and only its lines past offset are new.
type ghost struct {
	path   string
	head   []byte
	offset int64
	at     time.Time
}

func (t *Tailer) addGhost(f *file) {
	if len(f.head) == 0 || f.consumed == 0 {
		return
	}
	t.ghosts = append(t.ghosts, ghost{path: f.path, head: f.head, offset: f.consumed, at: time.Now()})
	if len(t.ghosts) > maxGhosts {
		t.ghosts = slices.Delete(t.ghosts, 0, len(t.ghosts)-maxGhosts)
	}
}

func (t *Tailer) expireGhosts(now time.Time) {
	t.ghosts = slices.DeleteFunc(t.ghosts, func(g ghost) bool { return now.Sub(g.at) >= ghostTTL })
}

// checkCopy decides, at the first data of a file that appeared while
// running, whether it is a copy of a followed file, as copytruncate makes
// one, and moves its read offset past the lines already shipped from the
// source. It reports whether the file may be read now.
//
// A file that starts with the first bytes of a truncated file continues at
// the offset that file had reached. A file that starts with the first bytes
// of a followed file that was not truncated yet waits for that truncation,
// since copytruncate copies first and truncates next. When the source is not
// truncated within ghostTTL, the copy's content is skipped as a duplicate.
//
// NOTE: a genuinely new file under another name whose first bytes equal
// those of a followed file (log lines without timestamps) is taken for a
// copy, and its content up to that point is skipped.
func (t *Tailer) checkCopy(f *file, size int64) bool {
	if !f.unverified && f.copyOf == nil {
		return true
	}
	if size == 0 {
		return false
	}
	if _, err := f.loadHead(size); err != nil {
		t.warnOnce("read "+f.name, "read log file failed", "path", f.name, "error", err)
		return false
	}

	if g, ok := t.findGhost(f); ok {
		t.log.Info("file is a copy of a truncated file, skipping lines already read", "path", f.path, "source", g.path, "offset", g.offset)
		f.unverified, f.copyOf, f.isCopy = false, nil, true
		f.seek(g.offset)
		return true
	}
	if f.copyOf != nil {
		return t.settleCopy(f, size)
	}

	f.unverified = false
	if src := t.findSource(f); src != nil {
		t.log.Debug("file looks like a copy, waiting for its source to be truncated", "path", f.path, "source", src.path)
		f.copyOf, f.deferredAt = src, time.Now()
		return false
	}
	return true
}

// settleCopy ends the wait of a suspected copy whose source was neither
// truncated nor can be any more.
func (t *Tailer) settleCopy(f *file, size int64) bool {
	src := f.copyOf
	if t.followed(src.id) == src && src.goneSince.IsZero() && time.Since(f.deferredAt) < ghostTTL {
		return false
	}

	t.log.Info("file is a copy of a followed file, skipping its content", "path", f.path, "source", src.path, "size", size)
	f.copyOf, f.isCopy = nil, true
	f.seek(size)
	return true
}

// findGhost returns the newest recently truncated file, under another name,
// whose first bytes f starts with.
func (t *Tailer) findGhost(f *file) (ghost, bool) {
	for _, g := range slices.Backward(t.ghosts) {
		if g.path != f.path && samePrefix(f.head, g.head) {
			return g, true
		}
	}
	return ghost{}, false
}

// findSource returns a followed file, still under the name it was found
// with and other than f's, whose first bytes f starts with. A file renamed
// away is no candidate: its name was taken over by a new file, which is the
// rename rotation, not a copy.
func (t *Tailer) findSource(f *file) *file {
	for _, src := range t.files {
		candidate := src != f && src.goneSince.IsZero() && src.name == src.path &&
			src.path != f.path && !src.unverified && src.copyOf == nil
		if candidate && samePrefix(f.head, src.head) {
			return src
		}
	}
	return nil
}

// samePrefix reports whether a and b are equal over the shorter one's
// length, which must not be zero.
func samePrefix(a, b []byte) bool {
	n := min(len(a), len(b))
	return n > 0 && bytes.Equal(a[:n], b[:n])
}
