package tailer

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

const stateVersion = 1

// stateFile is the JSON document stored at Config.StatePath.
type stateFile struct {
	Version int           `json:"version"`
	Files   []stateRecord `json:"files"`
}

// stateRecord is the saved read position of one file.
type stateRecord struct {
	// Path is the name the file was first matched under.
	Path   string `json:"path"`
	Device uint64 `json:"device"`
	Inode  uint64 `json:"inode"`
	// Offset is just past the last line handed to emit.
	Offset int64 `json:"offset"`
	// HeadLen and HeadSum (CRC-64/ECMA in hex) describe the file's first
	// bytes, so that a new file that reuses the inode is not taken for the
	// old one.
	HeadLen int    `json:"head_len"`
	HeadSum string `json:"head_sum"`
}

var crcTable = crc64.MakeTable(crc64.ECMA)

func headSum(b []byte) string {
	return strconv.FormatUint(crc64.Checksum(b, crcTable), 16)
}

// loadState reads the state file. A missing file is no error and returns
// nil records.
func loadState(path string) ([]stateRecord, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read tailer state: %w", err)
	}

	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("read tailer state %s: invalid JSON: %w: fix or delete the file", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("read tailer state %s: version %d, expected %d: delete the file", path, st.Version, stateVersion)
	}
	return st.Files, nil
}

// encodeState renders the read positions of files, sorted by path so that
// unchanged positions give identical bytes.
func encodeState(files []*file) ([]byte, error) {
	st := stateFile{Version: stateVersion, Files: make([]stateRecord, 0, len(files))}
	for _, f := range files {
		offset := f.committed()
		if f.copyOf != nil {
			// A suspected copy still waiting for its source to be truncated
			// is saved as fully read, as it is when the wait times out, so
			// that a restart does not ship it from byte 0.
			offset = f.lastSize
		}
		st.Files = append(st.Files, stateRecord{
			Path:    f.path,
			Device:  f.id.Device,
			Inode:   f.id.Inode,
			Offset:  offset,
			HeadLen: len(f.head),
			HeadSum: headSum(f.head),
		})
	}
	slices.SortFunc(st.Files, func(a, b stateRecord) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Inode, b.Inode))
	})
	return json.MarshalIndent(st, "", "  ")
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new content: write a temporary file in the same directory,
// sync it, then rename it over path.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename

	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// saveState writes the state file when the positions changed since the
// last write. Failures are logged once until a write succeeds again.
func (t *Tailer) saveState() error {
	if t.cfg.StatePath == "" {
		return nil
	}
	data, err := encodeState(t.files)
	if err != nil {
		return fmt.Errorf("encode tailer state: %w", err)
	}
	if bytes.Equal(data, t.lastState) {
		return nil
	}

	if err := writeFileAtomic(t.cfg.StatePath, data); err != nil {
		err = fmt.Errorf("write tailer state %s: %w", t.cfg.StatePath, err)
		if !t.saveFailing {
			t.log.Error("state save failed", "path", t.cfg.StatePath, "error", err)
		}
		t.saveFailing = true
		return err
	}
	if t.saveFailing {
		t.log.Info("state save recovered", "path", t.cfg.StatePath)
	}
	t.saveFailing = false
	t.lastState = data
	return nil
}
