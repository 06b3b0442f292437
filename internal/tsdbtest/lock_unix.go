//go:build unix

package tsdbtest

import (
	"fmt"
	"os"
	"syscall"
)

// lockInstall takes an exclusive lock shared by every process on the
// machine and returns the function that releases it.
func lockInstall(dir string) (func(), error) {
	path := installLockPath(dir)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open npm install lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
