//go:build unix

package tailer

import (
	"os"
	"syscall"
)

// fileID identifies a file independently of its name, so that a rename
// keeps its read offset.
type fileID struct {
	Device uint64
	Inode  uint64
}

func idOf(_ string, info os.FileInfo) fileID {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{Device: uint64(st.Dev), Inode: uint64(st.Ino)} //nolint:unconvert // field types differ between platforms
}
