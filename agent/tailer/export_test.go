package tailer

import (
	"errors"
	"testing"

	"github.com/fsnotify/fsnotify"
)

// DisableWatcher makes Tailers started during t fail to create their
// fsnotify watcher, so that they find changes by polling alone.
func DisableWatcher(t *testing.T) {
	saved := newWatcher
	newWatcher = func() (*fsnotify.Watcher, error) { return nil, errors.New("disabled by test") }
	t.Cleanup(func() { newWatcher = saved })
}
