package tailer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/kamerrezz/theminidog/model"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultMaxLineBytes = 64 * 1024
	DefaultPollInterval = time.Second
	// DefaultMultilineTimeout is short so that a single-line entry, which
	// waits this long for continuation lines, still arrives within two poll
	// intervals of being written.
	DefaultMultilineTimeout = time.Second
	DefaultRotateWait       = 5 * time.Second
)

// minMaxLineBytes leaves room for the truncation marker plus some text.
const minMaxLineBytes = 256

// Config sets what a Tailer follows and how.
type Config struct {
	// Paths lists files and glob patterns (filepath.Match syntax). A file
	// that does not exist yet is picked up when it appears.
	Paths []string

	// StatePath is the file that stores read offsets across restarts; its
	// directory must exist. Empty means offsets are not kept.
	StatePath string

	// FromStart selects where reading begins in a file that already exists
	// at start-up and has no saved offset: at byte 0 when true, after its
	// last complete line when false. Files that appear later are always
	// read from byte 0.
	FromStart bool

	// MaxLineBytes caps the size of one entry's message, whether one long
	// line or a line with its continuations. A longer message is cut and
	// ends with TruncatedMarker. Default DefaultMaxLineBytes, which
	// is also the largest value, because the server rejects longer messages.
	MaxLineBytes int

	// PollInterval is how often every file is checked even without fsnotify
	// events. Default DefaultPollInterval.
	PollInterval time.Duration

	// MultilineTimeout is how long an entry waits for continuation lines
	// before it is emitted. Default DefaultMultilineTimeout.
	MultilineTimeout time.Duration

	// RotateWait is how long a file that was renamed away or deleted is
	// still read after it last grew, for writers that keep appending
	// through their open descriptor. Default DefaultRotateWait.
	RotateWait time.Duration

	// Host is copied into every entry.
	Host string

	// Logger receives the tailer's own messages. Default: discarded.
	Logger *slog.Logger

	// Now is the clock that stamps entries whose line carries no timestamp.
	// Timeouts use the wall clock whatever Now returns. Default time.Now.
	Now func() time.Time
}

// withDefaults returns a copy of c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.MultilineTimeout == 0 {
		c.MultilineTimeout = DefaultMultilineTimeout
	}
	if c.RotateWait == 0 {
		c.RotateWait = DefaultRotateWait
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// validate returns every problem of c joined into one error.
func (c Config) validate() error {
	var errs []error

	if len(c.Paths) == 0 {
		errs = append(errs, errors.New("no log paths: set at least one file or glob pattern"))
	}
	for _, p := range c.Paths {
		if p == "" {
			errs = append(errs, errors.New("empty log path: remove it from the list"))
			continue
		}
		if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("log path %q: invalid glob pattern: %w", p, err))
		}
	}

	if c.StatePath != "" {
		dir := filepath.Dir(c.StatePath)
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			errs = append(errs, fmt.Errorf("state path %s: directory %s does not exist: create it", c.StatePath, dir))
		}
	}

	if c.MaxLineBytes < minMaxLineBytes || c.MaxLineBytes > model.MaxLogMessageLen {
		errs = append(errs, fmt.Errorf("max line bytes %d: must be between %d and %d", c.MaxLineBytes, minMaxLineBytes, model.MaxLogMessageLen))
	}
	errs = append(errs,
		checkPositive("poll interval", c.PollInterval),
		checkPositive("multiline timeout", c.MultilineTimeout),
		checkPositive("rotate wait", c.RotateWait),
	)
	return errors.Join(errs...)
}

func checkPositive(name string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%s %s: must be positive", name, d)
	}
	return nil
}
