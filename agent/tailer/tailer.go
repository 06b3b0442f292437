package tailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/kamerrezz/theminidog/model"
)

// Tailer follows the files of a Config and emits their entries. Create it
// with New and call Run once.
type Tailer struct {
	cfg      Config
	log      *slog.Logger
	patterns []string
	// Offsets loaded by New and the paths they were saved for, applied by
	// the first scan.
	saved      []stateRecord
	savedPaths map[string]bool
	started    atomic.Bool

	// The goroutine running Run owns every field below.
	ctx         context.Context
	emit        func(model.LogEntry)
	files       []*file
	ghosts      []ghost
	watcher     *fsnotify.Watcher
	readBuf     []byte
	more        bool // a read stopped at readBudget: read again without waiting
	lastState   []byte
	saveFailing bool
	failing     map[string]bool // problems already logged, so each is logged once
}

// New checks cfg, fills in its defaults and loads the saved offsets. An
// unreadable or invalid state file is an error, so that a broken file does
// not silently lose or repeat lines.
func New(cfg Config) (*Tailer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("tailer config: %w", err)
	}

	patterns := make([]string, len(cfg.Paths))
	for i, p := range cfg.Paths {
		patterns[i] = filepath.Clean(p)
	}
	saved, err := loadState(cfg.StatePath)
	if err != nil {
		return nil, err
	}

	savedPaths := make(map[string]bool, len(saved))
	for _, rec := range saved {
		savedPaths[rec.Path] = true
	}

	return &Tailer{
		cfg:        cfg,
		log:        cfg.Logger,
		patterns:   patterns,
		saved:      saved,
		savedPaths: savedPaths,
		readBuf:    make([]byte, readChunk),
		failing:    make(map[string]bool),
	}, nil
}

// Run follows the files until ctx is done, calling emit from this goroutine
// with each complete entry. On return it saves the offsets; an entry still
// waiting for continuation lines is not emitted but read again after a
// restart. Run returns nil after ctx is done, or the error of that last save.
func (t *Tailer) Run(ctx context.Context, emit func(model.LogEntry)) error {
	if emit == nil {
		return errors.New("run tailer: emit function is nil")
	}
	if !t.started.CompareAndSwap(false, true) {
		return errors.New("run tailer: already started: create a new Tailer to run again")
	}
	t.ctx, t.emit = ctx, emit

	t.startWatcher()
	t.scan(true)
	t.log.Info("tailer started", "paths", len(t.patterns), "files", len(t.files), "fsnotify", t.watcher != nil)
	return t.loop()
}

func (t *Tailer) loop() error {
	ticker := time.NewTicker(t.cfg.PollInterval)
	defer ticker.Stop()
	flushTimer := time.NewTimer(t.cfg.MultilineTimeout)
	defer flushTimer.Stop()

	var events <-chan fsnotify.Event
	var watchErrs <-chan error
	if t.watcher != nil {
		events, watchErrs = t.watcher.Events, t.watcher.Errors
	}

	for {
		if t.ctx.Err() != nil {
			return t.stop()
		}
		if t.more {
			t.more = false
			t.readAll()
			continue
		}

		t.armFlushTimer(flushTimer)
		select {
		case <-t.ctx.Done():
			return t.stop()
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			t.handleEvents(ev, events)
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
				continue
			}
			t.log.Warn("file watcher error", "error", err)
		case <-ticker.C:
			t.scan(false)
			t.flushExpired(time.Now())
			_ = t.saveState() // logged by saveState; retried at the next tick
		case <-flushTimer.C:
			t.flushExpired(time.Now())
		}
	}
}

// stop saves the offsets and closes every file and the watcher.
func (t *Tailer) stop() error {
	err := t.saveState()
	for _, f := range t.files {
		f.fh.Close()
	}
	if t.watcher != nil {
		t.watcher.Close()
	}
	return err
}

// readAll reads every followed file once.
func (t *Tailer) readAll() {
	for _, f := range t.files {
		t.readOne(f)
	}
}

// armFlushTimer sets the timer to the moment the oldest waiting entry times
// out, or to one poll interval when no entry is waiting.
func (t *Tailer) armFlushTimer(timer *time.Timer) {
	wait := t.cfg.PollInterval
	for _, f := range t.files {
		if f.pending != nil {
			wait = min(wait, time.Until(f.pending.updated.Add(t.cfg.MultilineTimeout)))
		}
	}
	timer.Reset(max(wait, 0))
}

// flushExpired emits the entries that waited MultilineTimeout for
// continuation lines.
func (t *Tailer) flushExpired(now time.Time) {
	for _, f := range t.files {
		if f.pending != nil && now.Sub(f.pending.updated) >= t.cfg.MultilineTimeout {
			t.flush(f)
		}
	}
}

// warnOnce logs a problem the first time it happens for key, so a file that
// stays unreadable does not flood the log on every poll.
func (t *Tailer) warnOnce(key, msg string, args ...any) {
	if t.failing[key] {
		return
	}
	t.failing[key] = true
	t.log.Warn(msg, args...)
}

// clearFailure removes the key of a logged problem once the problem is gone,
// so that a recurrence is logged again.
func (t *Tailer) clearFailure(key string) {
	delete(t.failing, key)
}
