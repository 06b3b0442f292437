package tailer

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/fsnotify/fsnotify"
)

// maxEventBatch bounds how many queued events are handled as one batch.
const maxEventBatch = 256

// newWatcher creates the fsnotify watcher; tests replace it to run on
// polling alone.
var newWatcher = fsnotify.NewWatcher

// startWatcher creates the fsnotify watcher. Without one the tailer relies
// on polling alone.
func (t *Tailer) startWatcher() {
	w, err := newWatcher()
	if err != nil {
		t.log.Warn("file watcher unavailable, polling only", "error", err)
		return
	}
	t.watcher = w
}

// watchDirs adds a watch on each directory that holds configured paths and
// is not watched yet, such as a directory created after start.
func (t *Tailer) watchDirs() {
	if t.watcher == nil {
		return
	}
	watched := t.watcher.WatchList()
	for _, dir := range t.dirs() {
		if slices.Contains(watched, dir) {
			continue
		}
		key := "watch " + dir
		if err := t.watcher.Add(dir); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				t.warnOnce(key, "watch directory failed, polling it", "path", dir, "error", err)
			}
			continue
		}
		t.clearFailure(key)
	}
}

// dirs returns the existing directories that hold the configured paths.
func (t *Tailer) dirs() []string {
	var dirs []string
	for _, p := range t.patterns {
		dir := filepath.Dir(p)
		candidates := []string{dir}
		if hasMeta(dir) {
			candidates, _ = filepath.Glob(dir)
		}
		for _, d := range candidates {
			if info, err := os.Stat(d); err == nil && info.IsDir() && !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// handleEvents handles ev and the events queued behind it as one batch: a
// write to a followed file reads that file, and a file created, renamed or
// removed under a configured path starts a scan. Events on other files in
// the watched directories are ignored.
func (t *Tailer) handleEvents(ev fsnotify.Event, events <-chan fsnotify.Event) {
	written := make(map[string]bool)
	rescan := false
	note := func(ev fsnotify.Event) {
		switch {
		case ev.Op == fsnotify.Write && t.named(ev.Name) != nil:
			written[ev.Name] = true
		case ev.Op == fsnotify.Write, ev.Op == fsnotify.Chmod:
			rescan = rescan || t.matchesPath(ev.Name)
		default:
			rescan = rescan || t.matchesPath(ev.Name) || t.named(ev.Name) != nil
		}
	}

	note(ev)
	for range maxEventBatch {
		next, ok := tryReceive(events)
		if !ok {
			break
		}
		note(next)
	}

	if rescan {
		t.scan(false)
		return
	}
	for name := range written {
		if f := t.named(name); f != nil {
			t.readOne(f)
		}
	}
}

// named returns the followed file that has name now.
func (t *Tailer) named(name string) *file {
	for _, f := range t.files {
		if f.name == name {
			return f
		}
	}
	return nil
}

// tryReceive returns a queued event without waiting.
func tryReceive(events <-chan fsnotify.Event) (fsnotify.Event, bool) {
	select {
	case ev, ok := <-events:
		return ev, ok
	default:
		return fsnotify.Event{}, false
	}
}
