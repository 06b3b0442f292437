package disk

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// hostMounts reads the mount table of the host's init process, which is the
// host's mount namespace even when the agent runs in a container with the
// host's /proc under root. On a bare host (root "/") it falls back to the
// agent's own table when /proc/1 is hidden (hidepid). Under another root it
// does not, because the agent's own table would list the container's mounts.
func hostMounts(root string) mountsFunc {
	proc := filepath.Join(root, "proc")
	return func(context.Context) ([]mount, error) {
		data, err := os.ReadFile(filepath.Join(proc, "1", "mountinfo"))
		if err != nil && root == "/" {
			data, err = os.ReadFile(filepath.Join(proc, "self", "mountinfo"))
		}
		if err != nil {
			return nil, fmt.Errorf("read mount table: %w", err)
		}
		return parseMountinfo(data)
	}
}

// parseMountinfo parses the mountinfo format of proc(5):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// Fields: mount ID, parent ID, major:minor, root, mount point, options, any
// number of optional fields, a "-" separator, filesystem type, source and
// super options. Malformed lines are skipped and reported in the error.
func parseMountinfo(data []byte) ([]mount, error) {
	var (
		mounts []mount
		errs   []error
	)

	scanner := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; scanner.Scan(); n++ {
		line := scanner.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := parseMountinfoLine(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("mountinfo line %d: %w", n, err))
			continue
		}
		mounts = append(mounts, m)
	}
	if err := scanner.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read mountinfo: %w", err))
	}
	return mounts, errors.Join(errs...)
}

func parseMountinfoLine(line string) (mount, error) {
	fields := strings.Fields(line)
	sep := -1
	for i := 6; i < len(fields); i++ {
		if fields[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 || len(fields) < sep+3 {
		return mount{}, fmt.Errorf("%q has no \"- type source\" part", line)
	}
	if !validDevice(fields[2]) {
		return mount{}, fmt.Errorf("%q: device %q is not major:minor", line, fields[2])
	}

	return mount{
		Device: fields[2],
		Root:   unescapeOctal(fields[3]),
		Point:  unescapeOctal(fields[4]),
		FSType: fields[sep+1],
		Source: unescapeOctal(fields[sep+2]),
	}, nil
}

func validDevice(dev string) bool {
	major, minor, ok := strings.Cut(dev, ":")
	if !ok {
		return false
	}
	_, errMajor := strconv.ParseUint(major, 10, 32)
	_, errMinor := strconv.ParseUint(minor, 10, 32)
	return errMajor == nil && errMinor == nil
}

// unescapeOctal decodes the \ooo escapes the kernel writes for space, tab,
// newline and backslash in mountinfo paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}

	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && isOctal(s[i+1:i+4]) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	for _, r := range s {
		if r < '0' || r > '7' {
			return false
		}
	}
	return true
}

// statfs reads the block counts of the filesystem at path. Linux counts
// blocks in units of f_frsize; f_bsize is the preferred I/O size and
// usually, but not always, the same.
func statfs(path string) (blockCounts, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return blockCounts{}, err
	}

	size := st.Frsize
	if size <= 0 {
		size = st.Bsize
	}
	return blockCounts{
		BlockSize: uint64(size),
		Blocks:    st.Blocks,
		Free:      st.Bfree,
		Avail:     st.Bavail,
	}, nil
}
