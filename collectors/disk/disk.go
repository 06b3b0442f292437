package disk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/model"
)

// Name selects this collector in the agent's COLLECTORS setting.
const Name = "disk"

const (
	mountLabel = "mount"

	// defaultStatTimeout bounds how long one tick waits for statfs. A
	// local filesystem returns in microseconds, while a dead NFS server
	// can block far longer than a collection interval.
	defaultStatTimeout = 2 * time.Second
)

func init() {
	collectors.Register(collectors.Registration{
		Name:    Name,
		Metrics: []string{model.DiskTotalBytes, model.DiskUsedBytes, model.DiskUsedPct},
		New:     New,
	})
}

// mountsFunc lists the host's mount table.
type mountsFunc func(ctx context.Context) ([]mount, error)

type collector struct {
	// root is the path of the host's root filesystem in the agent's mount
	// namespace. Mount points are statted under it.
	root   string
	allow  []string
	logger *slog.Logger

	mountsFn mountsFunc
	statfsFn statfsFunc
	// statTimeout bounds the wait for statfs in one tick.
	statTimeout time.Duration

	mu      sync.Mutex
	pending map[string]*statCall // mount point -> statfs not yet consumed
	hung    map[string]bool      // mount points whose statfs timed out
}

// New builds the disk collector for cfg: the host's mount table and statfs
// under cfg.RootPath, filtered by cfg.DiskMounts when it is set.
func New(cfg collectors.Config) (collectors.Collector, error) {
	root, err := cfg.Root()
	if err != nil {
		return nil, err
	}

	c := newCollector(root, cfg.DiskMounts, cfg.Logger)
	c.mountsFn = hostMounts(root)
	c.statfsFn = statfs
	return c, nil
}

func newCollector(root string, allow []string, logger *slog.Logger) *collector {
	if logger == nil {
		logger = slog.Default()
	}

	points := make([]string, len(allow))
	for i, p := range allow {
		points[i] = normalizeMountPoint(p)
	}

	return &collector{
		root:        root,
		allow:       points,
		logger:      logger.With("collector", Name),
		statTimeout: defaultStatTimeout,
		pending:     map[string]*statCall{},
		hung:        map[string]bool{},
	}
}

// Collect returns three points per reported mount. A mount that fails is
// left out and its error joined into the returned error, next to the points
// of the other mounts. A hung mount is left out without an error (see the
// package documentation).
func (c *collector) Collect(ctx context.Context) ([]model.Metric, error) {
	table, tableErr := c.mountsFn(ctx)
	if len(table) == 0 {
		if tableErr == nil {
			tableErr = errors.New("read mount table: no mounts listed")
		}
		return nil, tableErr
	}

	mounts, selectErr := selectMounts(table, c.allow)
	results, statErr := c.statAll(ctx, mounts)

	errs := []error{tableErr, selectErr, statErr}
	out := make([]model.Metric, 0, 3*len(results))
	for _, r := range results {
		if !r.ok {
			continue
		}
		points, err := usagePoints(r.mount.Point, r.counts, r.err)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, points...)
	}
	return out, errors.Join(errs...)
}

// usagePoints turns the statfs counts of one mount into its three points.
func usagePoints(point string, counts blockCounts, statErr error) ([]model.Metric, error) {
	if statErr != nil {
		return nil, fmt.Errorf("statfs %s: %w", point, statErr)
	}
	if counts.Free > counts.Blocks {
		return nil, fmt.Errorf("statfs %s: %d free blocks exceed the %d total blocks", point, counts.Free, counts.Blocks)
	}

	total := counts.Blocks * counts.BlockSize
	used := (counts.Blocks - counts.Free) * counts.BlockSize
	avail := counts.Avail * counts.BlockSize
	overflowed := counts.BlockSize != 0 && total/counts.BlockSize != counts.Blocks
	if overflowed || total > model.MaxBytesValue {
		return nil, fmt.Errorf("statfs %s: size of %d blocks of %d bytes is too large to report exactly", point, counts.Blocks, counts.BlockSize)
	}

	pct := 0.0
	if used+avail > 0 {
		pct = 100 * float64(used) / float64(used+avail)
	}

	return []model.Metric{
		{Name: model.DiskTotalBytes, Value: float64(total), Labels: map[string]string{mountLabel: point}},
		{Name: model.DiskUsedBytes, Value: float64(used), Labels: map[string]string{mountLabel: point}},
		{Name: model.DiskUsedPct, Value: pct, Labels: map[string]string{mountLabel: point}},
	}, nil
}
