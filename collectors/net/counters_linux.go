package net

import (
	"context"
	"path/filepath"

	gonet "github.com/shirou/gopsutil/v4/net"
)

// hostCounters reads the counters of the host's init process network
// namespace, falling back to the agent's own on a bare host when /proc/1
// is hidden. Under another root the agent's own namespace would be the
// container's, so there is no fallback.
func hostCounters(root string) ioCountersFunc {
	proc := filepath.Join(root, "proc")
	return func(ctx context.Context) ([]gonet.IOCountersStat, error) {
		stats, err := gonet.IOCountersByFileWithContext(ctx, true, filepath.Join(proc, "1", "net", "dev"))
		if err != nil && root == "/" {
			return gonet.IOCountersByFileWithContext(ctx, true, filepath.Join(proc, "net", "dev"))
		}
		return stats, err
	}
}
