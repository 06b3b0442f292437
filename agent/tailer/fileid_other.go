//go:build !unix

package tailer

import (
	"hash/fnv"
	"os"
)

// fileID identifies a file. Without device and inode numbers it falls back
// to the file name.
type fileID struct {
	Device uint64
	Inode  uint64
}

// NOTE: the path-based fallback cannot follow a rename, so rename rotation
// is only handled on unix systems.
func idOf(path string, _ os.FileInfo) fileID {
	h := fnv.New64a()
	h.Write([]byte(path))
	return fileID{Inode: h.Sum64()}
}
