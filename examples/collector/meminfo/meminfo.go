// Package meminfo is an example of a drop-in collector: it registers as
// "meminfo", replaces the built-in "mem" collector, and produces the same
// three metrics by parsing /proc/meminfo itself instead of through
// gopsutil. Used memory keeps the project's one definition, MemTotal
// minus MemAvailable, so dashboards and alerts read the same numbers.
//
// It reads Linux's /proc/meminfo only. A collector that must also run on
// macOS or Windows would need another source there.
package meminfo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kamerrezz/theminidog/collectors"
	// The built-in collector must register before this one replaces it.
	// Importing it here makes Go run its init first.
	_ "github.com/kamerrezz/theminidog/collectors/mem"
	"github.com/kamerrezz/theminidog/model"
)

// Name selects this collector in the agent's COLLECTORS setting.
const Name = "meminfo"

func init() {
	collectors.Register(collectors.Registration{
		Name:     Name,
		Metrics:  []string{model.MemTotalBytes, model.MemUsedBytes, model.MemUsedPct},
		Replaces: "mem",
		New:      New,
	})
}

type collector struct {
	path string
}

// New returns the collector reading RootPath/proc/meminfo ("/" when
// RootPath is empty). A relative RootPath is rejected because it would
// depend on the agent's working directory.
func New(cfg collectors.Config) (collectors.Collector, error) {
	root := cfg.RootPath
	if root == "" {
		root = "/"
	}
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("root path %q is not absolute: set it to / or to where the host's root is mounted, such as /host", root)
	}
	return &collector{path: filepath.Join(root, "proc", "meminfo")}, nil
}

// Collect returns total, used and used-percent memory, or no points and an
// error when the file is unreadable or lacks a field.
func (c *collector) Collect(_ context.Context) ([]model.Metric, error) {
	raw, err := os.ReadFile(c.path)
	if err != nil {
		return nil, fmt.Errorf("read meminfo: %w", err)
	}
	fields, err := parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", c.path, err)
	}

	total := fields["MemTotal"]
	if total == 0 {
		return nil, fmt.Errorf("parse %s: MemTotal is missing or 0", c.path)
	}
	avail, ok := fields["MemAvailable"]
	if !ok {
		return nil, fmt.Errorf("parse %s: MemAvailable is missing (Linux before 3.14): use the built-in mem collector", c.path)
	}
	if avail > total {
		return nil, fmt.Errorf("parse %s: MemAvailable %d bytes exceeds MemTotal %d bytes", c.path, avail, total)
	}

	used := total - avail
	return []model.Metric{
		{Name: model.MemTotalBytes, Value: float64(total)},
		{Name: model.MemUsedBytes, Value: float64(used)},
		{Name: model.MemUsedPct, Value: 100 * float64(used) / float64(total)},
	}, nil
}

// parse reads "Key:   value kB" lines into bytes by key. Lines without a
// kB unit (such as HugePages_Total) are counts and are skipped.
func parse(raw []byte) (map[string]uint64, error) {
	fields := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		parts := strings.Fields(rest)
		if len(parts) != 2 || parts[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseUint(parts[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number of kB", key, parts[0])
		}
		fields[key] = kb * 1024
	}
	return fields, sc.Err()
}
