package tailer

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// compressedExts lists the suffixes of rotated files that logrotate and
// similar tools compress. A glob such as app.log* matches them, but their
// bytes are not log lines.
var compressedExts = []string{".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip", ".Z"}

// match is a file found under one of the configured paths.
type match struct {
	path string
	id   fileID
}

// scan finds the files the paths match now, reads every followed file and
// lets go of rotated files that have been idle for RotateWait. first marks
// the scan at start-up, which applies the saved offsets and FromStart.
func (t *Tailer) scan(first bool) {
	t.watchDirs()
	found := t.expand()
	now := time.Now()

	for _, f := range slices.Clone(t.files) {
		if m, ok := found[f.id]; ok {
			delete(found, f.id)
			f.name, f.goneSince = m.path, time.Time{}
		} else if f.goneSince.IsZero() {
			f.goneSince = now
			t.log.Info("file rotated or removed, reading it to its end", "path", f.path, "name", f.name)
		}

		more := t.readOne(f)
		idle := min(time.Since(f.goneSince), time.Since(f.lastGrowth))
		if !f.goneSince.IsZero() && !more && idle >= t.cfg.RotateWait {
			t.release(f)
		}
	}

	if first {
		t.recoverSaved(found)
	}
	newFiles := make([]match, 0, len(found))
	for _, m := range found {
		newFiles = append(newFiles, m)
	}
	slices.SortFunc(newFiles, func(a, b match) int { return strings.Compare(a.path, b.path) })
	for _, m := range newFiles {
		t.follow(m, first)
	}

	if first {
		t.saved, t.savedPaths = nil, nil
	}
	t.expireGhosts(now)
}

// expand returns the regular files the configured paths match, keyed by
// identity so that a file matched twice (two patterns, hard links) is
// followed once.
func (t *Tailer) expand() map[fileID]match {
	found := make(map[fileID]match)
	for _, p := range t.patterns {
		names := []string{p}
		isGlob := hasMeta(p)
		if isGlob {
			names, _ = filepath.Glob(p) // the pattern was checked by New
		}

		for _, name := range names {
			if t.skipName(name, isGlob) {
				continue
			}
			m, ok := t.statMatch(name, isGlob)
			if !ok {
				continue
			}
			if _, dup := found[m.id]; !dup {
				found[m.id] = m
			}
		}
	}
	return found
}

func (t *Tailer) statMatch(name string, isGlob bool) (match, bool) {
	key := "stat " + name
	info, err := os.Stat(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.warnOnce(key, "stat log file failed", "path", name, "error", err)
		}
		return match{}, false
	}
	if !info.Mode().IsRegular() {
		if !isGlob {
			t.warnOnce(key, "log path is not a regular file, skipping it", "path", name, "mode", info.Mode().String())
		}
		return match{}, false
	}
	t.clearFailure(key)
	return match{path: name, id: idOf(name, info)}, true
}

// skipName reports whether a matched name is the tailer's own state file or
// a compressed rotation that only a glob matched.
func (t *Tailer) skipName(name string, isGlob bool) bool {
	if t.isStateFile(name) {
		return true
	}
	if !isGlob {
		return false
	}
	return slices.ContainsFunc(compressedExts, func(ext string) bool { return strings.HasSuffix(name, ext) })
}

// isStateFile reports whether name is the state file or one of its
// temporary files.
func (t *Tailer) isStateFile(name string) bool {
	return t.cfg.StatePath != "" && strings.HasPrefix(filepath.Clean(name), filepath.Clean(t.cfg.StatePath))
}

// matchesPath reports whether name is one of the configured files or
// matches one of the globs.
func (t *Tailer) matchesPath(name string) bool {
	if t.isStateFile(name) {
		return false
	}
	for _, p := range t.patterns {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return false
}

func hasMeta(path string) bool {
	return strings.ContainsAny(path, `*?[\`)
}

// follow opens a newly found file and decides where reading starts.
func (t *Tailer) follow(m match, first bool) {
	f, size, ok := t.open(m.path, m.path)
	if !ok {
		return
	}
	t.place(f, size, first)
	t.files = append(t.files, f)
	t.log.Info("following file", "path", f.path, "offset", f.readOff)
	t.readOne(f)
}

// open opens name for a file reported as path. It returns false when the
// file cannot be opened or is already followed, which happens when name was
// replaced by a followed file after it was matched.
func (t *Tailer) open(name, path string) (*file, int64, bool) {
	key := "open " + name
	fh, err := os.Open(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.warnOnce(key, "open log file failed", "path", name, "error", err)
		}
		return nil, 0, false
	}
	info, err := fh.Stat()
	if err != nil {
		fh.Close()
		t.warnOnce(key, "stat log file failed", "path", name, "error", err)
		return nil, 0, false
	}
	t.clearFailure(key)

	id := idOf(name, info)
	if t.followed(id) != nil {
		fh.Close()
		return nil, 0, false
	}
	f := &file{path: path, name: name, id: id, fh: fh, lastGrowth: time.Now(), lastSize: info.Size()}
	if _, err := f.loadHead(info.Size()); err != nil {
		t.warnOnce("read "+name, "read log file failed", "path", name, "error", err)
	}
	return f, info.Size(), true
}

func (t *Tailer) followed(id fileID) *file {
	for _, f := range t.files {
		if f.id == id {
			return f
		}
	}
	return nil
}

// place sets where reading of a newly followed file starts: at its saved
// offset, at byte 0 for a file that appeared while running or replaced a
// file followed before the restart, and otherwise as FromStart selects.
func (t *Tailer) place(f *file, size int64, first bool) {
	if rec, ok := t.takeSaved(f.id); ok {
		t.resume(f, rec, size)
		return
	}

	switch {
	case !first:
		f.unverified = true
	case t.savedPath(f.path), t.cfg.FromStart:
	default:
		f.seek(f.lastLineEnd(size, t.cfg.MaxLineBytes))
	}
}

// resume continues a file at its saved offset and reports true, unless it
// is shorter than that offset or starts with other bytes than when it was
// saved. Then the file stays at byte 0 and resume reports false.
func (t *Tailer) resume(f *file, rec stateRecord, size int64) bool {
	switch {
	case size < rec.Offset:
		t.log.Info("file truncated", "path", rec.Path, "offset", rec.Offset, "size", size)
		return false
	case len(f.head) < rec.HeadLen || headSum(f.head[:rec.HeadLen]) != rec.HeadSum:
		t.log.Info("file replaced since the last run, reading it from the start", "path", f.name)
		return false
	}

	f.path = rec.Path
	f.seek(rec.Offset)
	return true
}

// takeSaved removes and returns the saved offset of the file with id.
func (t *Tailer) takeSaved(id fileID) (stateRecord, bool) {
	for i, rec := range t.saved {
		if rec.Device == id.Device && rec.Inode == id.Inode {
			t.saved = slices.Delete(t.saved, i, i+1)
			return rec, true
		}
	}
	return stateRecord{}, false
}

// savedPath reports whether the state file had an offset for path, whatever
// file that was.
func (t *Tailer) savedPath(path string) bool {
	return t.savedPaths[path]
}

// recoverSaved looks for the files of saved offsets that no path matches
// any more: a file rotated while the agent was stopped usually sits in the
// same directory under a new name. Such a file is read to its end.
func (t *Tailer) recoverSaved(found map[fileID]match) {
	for _, rec := range slices.Clone(t.saved) {
		id := fileID{Device: rec.Device, Inode: rec.Inode}
		if _, ok := found[id]; ok {
			continue
		}
		t.takeSaved(id)

		name, ok := findByID(filepath.Dir(rec.Path), id)
		if !ok {
			t.log.Info("saved file not found, forgetting its offset", "path", rec.Path)
			continue
		}
		f, size, ok := t.open(name, rec.Path)
		if !ok {
			continue
		}
		if !t.resume(f, rec, size) {
			// The inode now belongs to another file, which no path matches.
			f.fh.Close()
			continue
		}
		f.goneSince = time.Now()
		t.files = append(t.files, f)
		t.log.Info("file rotated while stopped, reading it to its end", "path", rec.Path, "name", name, "offset", f.readOff)
		t.readOne(f)
	}
}

// findByID returns the name of the file in dir with the given identity.
func findByID(dir string, id fileID) (string, bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		name := filepath.Join(dir, e.Name())
		info, err := e.Info()
		if err == nil && idOf(name, info) == id {
			return name, true
		}
	}
	return "", false
}

// release emits what is left of a rotated file and stops following it.
func (t *Tailer) release(f *file) {
	t.flushFinal(f)
	f.fh.Close()
	t.files = slices.DeleteFunc(t.files, func(x *file) bool { return x == f })
	t.log.Info("file released", "path", f.path, "name", f.name, "offset", f.readOff)
}
