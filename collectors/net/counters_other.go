//go:build !linux

package net

import (
	"context"

	gonet "github.com/shirou/gopsutil/v4/net"
)

// hostCounters reads the counters through gopsutil. Outside Linux there is
// no proc filesystem to point at another root, so root is not used.
func hostCounters(string) ioCountersFunc {
	return func(ctx context.Context) ([]gonet.IOCountersStat, error) {
		return gonet.IOCountersWithContext(ctx, true)
	}
}
