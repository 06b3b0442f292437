package cpu

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"

	"github.com/shirou/gopsutil/v4/common"
	gocpu "github.com/shirou/gopsutil/v4/cpu"

	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/model"
)

// Name selects this collector in the agent's COLLECTORS setting.
const Name = "cpu"

const (
	coreLabel = "core"
	totalCore = "total"

	// counterSlack absorbs float rounding in the counters, which gopsutil
	// converts from clock ticks to seconds. One tick is 10 ms at the usual
	// USER_HZ of 100, far above this.
	counterSlack = 1e-6
)

func init() {
	collectors.Register(collectors.Registration{
		Name:    Name,
		Metrics: []string{model.CPUUsagePct},
		New:     New,
	})
}

// timesFunc reads cumulative CPU times: the host total when percpu is false,
// one entry per core otherwise. gopsutil's TimesWithContext has this shape.
type timesFunc func(ctx context.Context, percpu bool) ([]gocpu.TimesStat, error)

type collector struct {
	root    string
	env     common.EnvMap
	timesFn timesFunc

	mu   sync.Mutex
	prev map[string]gocpu.TimesStat // keyed by core label
}

// New builds the CPU collector on gopsutil, reading the counters under
// cfg.RootPath.
func New(cfg collectors.Config) (collectors.Collector, error) {
	root, err := cfg.Root()
	if err != nil {
		return nil, err
	}
	return newCollector(root, gocpu.TimesWithContext), nil
}

func newCollector(root string, timesFn timesFunc) *collector {
	return &collector{
		root: root,
		env: common.EnvMap{
			common.HostProcEnvKey: filepath.Join(root, "proc"),
			common.HostSysEnvKey:  filepath.Join(root, "sys"),
		},
		timesFn: timesFn,
	}
}

// Collect returns one cpu.usage_pct point per core and one for the total,
// except on the first call and for cores whose counters did not advance.
// When only the per-core or only the total read fails, it returns the points
// it could compute together with the error.
func (c *collector) Collect(ctx context.Context) ([]model.Metric, error) {
	times, readErr := c.readTimes(context.WithValue(ctx, common.EnvKey, c.env))
	if len(times) == 0 {
		return nil, readErr
	}

	c.mu.Lock()
	defer c.mu.Unlock()

	out := make([]model.Metric, 0, len(times))
	next := make(map[string]gocpu.TimesStat, len(times))
	for _, cur := range times {
		core := coreLabelOf(cur.CPU)
		next[core] = cur

		prev, seen := c.prev[core]
		if !seen {
			continue
		}
		pct, ok := busyPercent(prev, cur)
		if !ok {
			continue
		}
		out = append(out, model.Metric{
			Name:   model.CPUUsagePct,
			Value:  pct,
			Labels: map[string]string{coreLabel: core},
		})
	}

	// Every reading becomes the next baseline, including one that went
	// backwards, so a reset core reports again from the following sample.
	c.prev = next
	return out, readErr
}

// readTimes returns the total followed by the per-core times. gopsutil's
// Linux reader returns an empty slice and no error when it cannot read the
// stat file, so an empty result is an error here.
func (c *collector) readTimes(ctx context.Context) ([]gocpu.TimesStat, error) {
	var errs []error

	total, err := c.timesFn(ctx, false)
	if err == nil && len(total) == 0 {
		err = c.noDataError()
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("read total cpu times: %w", err))
	}

	cores, err := c.timesFn(ctx, true)
	if err == nil && len(cores) == 0 {
		err = c.noDataError()
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("read per-core cpu times: %w", err))
	}

	return append(total, cores...), errors.Join(errs...)
}

func (c *collector) noDataError() error {
	return fmt.Errorf("no cpu lines returned: check that %s is readable", filepath.Join(c.root, "proc", "stat"))
}

// coreLabelOf maps gopsutil's CPU names ("cpu-total", "cpu0") to the label
// values "total" and "0".
func coreLabelOf(name string) string {
	if name == "cpu-total" {
		return totalCore
	}
	return strings.TrimPrefix(name, "cpu")
}

// busyPercent returns the busy share of the CPU time that passed between two
// readings, and false when no time passed or the counters went backwards.
func busyPercent(prev, cur gocpu.TimesStat) (float64, bool) {
	elapsed := totalTime(cur) - totalTime(prev)
	idle := idleTime(cur) - idleTime(prev)
	busy := elapsed - idle

	if elapsed <= counterSlack || idle < -counterSlack || busy < -counterSlack {
		return 0, false
	}

	pct := 100 * busy / elapsed
	if math.IsNaN(pct) {
		return 0, false
	}
	return min(max(pct, 0), 100), true
}

// totalTime sums every CPU state except guest and guest_nice, which the
// kernel already counts in user and nice.
func totalTime(t gocpu.TimesStat) float64 {
	return t.User + t.Nice + t.System + t.Idle + t.Iowait + t.Irq + t.Softirq + t.Steal
}

// idleTime counts iowait as idle: the CPU had nothing to run.
func idleTime(t gocpu.TimesStat) float64 {
	return t.Idle + t.Iowait
}
