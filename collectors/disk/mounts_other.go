//go:build !linux

package disk

import (
	"context"
	"fmt"

	godisk "github.com/shirou/gopsutil/v4/disk"
)

// hostMounts lists mounts through gopsutil's Partitions. Without Linux's
// mountinfo there is no device number or bind-mount root, so the device name
// is used as the device and every mount counts as showing its filesystem's
// root.
//
// NOTE: this path and statfs below are cross-compiled for macOS and Windows
// but not exercised by tests, which run on Linux.
func hostMounts(string) mountsFunc {
	return func(ctx context.Context) ([]mount, error) {
		parts, err := godisk.PartitionsWithContext(ctx, false)
		if err != nil && len(parts) == 0 {
			return nil, fmt.Errorf("read mount table: %w", err)
		}

		mounts := make([]mount, 0, len(parts))
		for _, p := range parts {
			mounts = append(mounts, mount{
				Device: p.Device,
				Root:   "/",
				Point:  p.Mountpoint,
				FSType: p.Fstype,
				Source: p.Device,
			})
		}
		return mounts, err
	}
}

// statfs reads usage through gopsutil, which reports bytes: a block size of
// 1. On Windows, gopsutil's Free is the space free to the caller, so Free
// and Avail are the same there.
func statfs(path string) (blockCounts, error) {
	u, err := godisk.UsageWithContext(context.Background(), path)
	if err != nil {
		return blockCounts{}, err
	}
	if u.Used > u.Total {
		return blockCounts{}, fmt.Errorf("used %d bytes exceeds total %d bytes", u.Used, u.Total)
	}
	return blockCounts{
		BlockSize: 1,
		Blocks:    u.Total,
		Free:      u.Total - u.Used,
		Avail:     u.Free,
	}, nil
}
