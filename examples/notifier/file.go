package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
)

// Type is the config "type" of this notifier.
const Type = "file"

func init() {
	notifiers.RegisterConfig(Type, New)
}

// Config is the JSON config entry of a file notifier.
type Config struct {
	notifiers.Common
	// Path is the file that receives one JSON line per event. It is created
	// with mode 0640 when missing, but its directory must exist.
	Path string `json:"path"`
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs notifiers.ConfigErrors

	switch {
	case c.Path == "":
		errs.Add("path", "missing: set it to the file that should receive the events")
	case !filepath.IsAbs(c.Path):
		errs.Add("path", "%q is relative: use an absolute path, so the file does not depend on the server's working directory", c.Path)
	default:
		dir := filepath.Dir(c.Path)
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			errs.Add("path", "directory %s does not exist: create it first", dir)
		}
	}
	return errs.Err()
}

// Notifier appends events to one file.
type Notifier struct {
	notifiers.EventFilter
	path string
	// mu keeps lines whole when the Dispatcher delivers several events at
	// once.
	mu sync.Mutex
}

// New returns a notifier for cfg, or the validation errors of cfg.
func New(cfg Config) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Notifier{EventFilter: cfg.Filter(), path: cfg.Path}, nil
}

// build is the factory the registry calls with the whole config entry.
// Type returns "file".
func (n *Notifier) Type() string { return Type }

// Notify appends ev as one JSON line, the same body the webhook notifier
// posts.
func (n *Notifier) Notify(ctx context.Context, ev model.Event) error {
	if n.Skips(ev) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	line, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	line = append(line, '\n')

	n.mu.Lock()
	defer n.mu.Unlock()

	f, err := os.OpenFile(n.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open event file: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		_ = f.Close()
		return fmt.Errorf("append to %s: %w", n.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", n.path, err)
	}
	return nil
}
