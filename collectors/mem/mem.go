package mem

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/shirou/gopsutil/v4/common"
	gomem "github.com/shirou/gopsutil/v4/mem"

	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/model"
)

// Name selects this collector in the agent's COLLECTORS setting.
const Name = "mem"

func init() {
	collectors.Register(collectors.Registration{
		Name:    Name,
		Metrics: []string{model.MemTotalBytes, model.MemUsedBytes, model.MemUsedPct},
		New:     New,
	})
}

// virtualMemoryFunc has the shape of gopsutil's VirtualMemoryWithContext.
type virtualMemoryFunc func(ctx context.Context) (*gomem.VirtualMemoryStat, error)

type collector struct {
	env             common.EnvMap
	virtualMemoryFn virtualMemoryFunc
}

// New builds the memory collector on gopsutil, reading under cfg.RootPath.
func New(cfg collectors.Config) (collectors.Collector, error) {
	root, err := cfg.Root()
	if err != nil {
		return nil, err
	}
	return newCollector(root, gomem.VirtualMemoryWithContext), nil
}

func newCollector(root string, fn virtualMemoryFunc) *collector {
	return &collector{
		env:             common.EnvMap{common.HostProcEnvKey: filepath.Join(root, "proc")},
		virtualMemoryFn: fn,
	}
}

// Collect returns total, used and used-percent memory, or no points and an
// error when the reading is missing or inconsistent.
func (c *collector) Collect(ctx context.Context) ([]model.Metric, error) {
	vm, err := c.virtualMemoryFn(context.WithValue(ctx, common.EnvKey, c.env))
	if err != nil {
		return nil, fmt.Errorf("read memory: %w", err)
	}

	used, err := usedBytes(vm)
	if err != nil {
		return nil, err
	}

	return []model.Metric{
		{Name: model.MemTotalBytes, Value: float64(vm.Total)},
		{Name: model.MemUsedBytes, Value: float64(used)},
		{Name: model.MemUsedPct, Value: 100 * float64(used) / float64(vm.Total)},
	}, nil
}

// usedBytes returns total minus available after checking that both are
// usable: a zero total or an available above total means the reading is
// broken, and subtracting would wrap around.
func usedBytes(vm *gomem.VirtualMemoryStat) (uint64, error) {
	if vm == nil || vm.Total == 0 {
		return 0, fmt.Errorf("read memory: total is 0: check that meminfo is readable")
	}
	if vm.Available > vm.Total {
		return 0, fmt.Errorf("read memory: available %d bytes exceeds total %d bytes", vm.Available, vm.Total)
	}
	return vm.Total - vm.Available, nil
}
