package disk

import (
	"context"
	"path/filepath"
)

// blockCounts contains the statfs(2) block counts of one filesystem.
type blockCounts struct {
	// BlockSize is the unit of the counts below (f_frsize, or f_bsize
	// where the system has no fragment size), in bytes.
	BlockSize uint64
	// Blocks is the filesystem size (f_blocks).
	Blocks uint64
	// Free counts free blocks, including those reserved for root (f_bfree).
	Free uint64
	// Avail counts blocks free for unprivileged users (f_bavail).
	Avail uint64
}

// statfsFunc reads the block counts of the filesystem mounted at path. It
// takes no context because statfs cannot be interrupted.
type statfsFunc func(path string) (blockCounts, error)

// statCall is one statfs running in its own goroutine. counts and err are
// written before done is closed and read only after.
type statCall struct {
	done   chan struct{}
	counts blockCounts
	err    error
}

// statResult is the outcome of a statfs for one mount in one tick.
type statResult struct {
	mount  mount
	counts blockCounts
	err    error
	// ok is false when the mount was skipped: its statfs is hung or the
	// tick was cancelled.
	ok bool
}

// statAll runs statfs on every mount concurrently and waits for all of them
// together for at most c.statTimeout.
func (c *collector) statAll(ctx context.Context, mounts []mount) ([]statResult, error) {
	calls := make([]*statCall, len(mounts))
	for i, m := range mounts {
		calls[i] = c.startStat(m)
	}

	waitCtx, cancel := context.WithTimeout(ctx, c.statTimeout)
	defer cancel()

	results := make([]statResult, len(mounts))
	for i, call := range calls {
		results[i] = statResult{mount: mounts[i]}
		if !waitFor(waitCtx, call) {
			if ctx.Err() == nil {
				c.markHung(mounts[i])
			}
			continue
		}
		c.finishStat(mounts[i])
		results[i].counts, results[i].err, results[i].ok = call.counts, call.err, true
	}
	return results, ctx.Err()
}

// startStat returns the statfs still running for the mount from an earlier
// tick, or starts a new one.
func (c *collector) startStat(m mount) *statCall {
	c.mu.Lock()
	defer c.mu.Unlock()

	if call, ok := c.pending[m.Point]; ok {
		return call
	}

	call := &statCall{done: make(chan struct{})}
	c.pending[m.Point] = call
	path := c.statPath(m.Point)
	go func() {
		defer close(call.done)
		call.counts, call.err = c.statfsFn(path)
	}()
	return call
}

// waitFor reports whether the call finished before ctx ended. A call that
// has already finished counts even when ctx has ended too.
func waitFor(ctx context.Context, call *statCall) bool {
	select {
	case <-call.done:
		return true
	default:
	}

	select {
	case <-call.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// finishStat drops the finished call, so that the next tick starts a new
// one, and logs the recovery of a mount that was hung.
func (c *collector) finishStat(m mount) {
	c.mu.Lock()
	defer c.mu.Unlock()

	delete(c.pending, m.Point)
	if c.hung[m.Point] {
		delete(c.hung, m.Point)
		c.logger.Info("statfs responds again", "mount", m.Point)
	}
}

// markHung logs a mount whose statfs timed out, once until it responds
// again.
func (c *collector) markHung(m mount) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.hung[m.Point] {
		return
	}
	c.hung[m.Point] = true
	c.logger.Warn("statfs timed out, skipping mount until it responds",
		"mount", m.Point, "path", c.statPath(m.Point), "timeout", c.statTimeout)
}

// statPath returns the path under root at which the agent reaches a host
// mount point.
func (c *collector) statPath(point string) string {
	if c.root == "/" {
		return point
	}
	return filepath.Join(c.root, point)
}
