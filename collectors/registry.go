// Package collectors is the registry that metric collectors join from their
// init functions. Each collector lives in its own package under collectors/
// and is compiled into the agent by one blank import in collectors/all.
package collectors

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/kamerrezz/theminidog/model"
)

// Collector produces one sample set per call. Implementations set Name,
// Value and Labels; the agent stamps Time and Host.
type Collector interface {
	Collect(ctx context.Context) ([]model.Metric, error)
}

// Config is the agent configuration passed to every collector factory.
type Config struct {
	// RootPath is the host's root filesystem as seen by the agent ("/" on a
	// bare host, "/host" in a container with the root mounted there).
	RootPath string
	// DiskMounts, when not empty, lists the mount points to report and
	// overrides the default exclusion of pseudo and duplicate filesystems.
	DiskMounts []string
	// NetIfaces, when not empty, lists the interfaces to report and
	// overrides the default exclusion of loopback and virtual interfaces.
	NetIfaces []string
	Logger    *slog.Logger
}

// Root returns RootPath cleaned, "/" when unset. A relative path is an
// error, because it would depend on the agent's working directory.
func (c Config) Root() (string, error) {
	if c.RootPath == "" || c.RootPath == "/" {
		return "/", nil
	}
	if !filepath.IsAbs(c.RootPath) {
		return "", fmt.Errorf("root path %q is not absolute: set it to / or to where the host's root is mounted, such as /host", c.RootPath)
	}
	return filepath.Clean(c.RootPath), nil
}

// Factory builds a collector from the agent configuration.
type Factory func(Config) (Collector, error)

// Registration describes one collector.
type Registration struct {
	// Name selects the collector in COLLECTORS ("cpu", "mem", ...).
	Name string
	// Metrics lists the allowlisted metric names the collector produces.
	Metrics []string
	// Replaces names a registered collector whose metrics this one takes
	// over; without it, claiming a metric that is already claimed panics.
	Replaces string
	New      Factory
}

var (
	mu       sync.Mutex
	byName   = map[string]Registration{}
	byMetric = map[string]string{} // metric name -> collector name
)

// Register adds a collector. It panics on an empty name, on a name outside
// the metric allowlist, and on a metric or collector name that another
// collector claimed, unless reg.Replaces names that collector. Each of these
// is a programming error, so it must stop the agent at start-up.
func Register(reg Registration) {
	mu.Lock()
	defer mu.Unlock()

	if reg.Name == "" || reg.New == nil || len(reg.Metrics) == 0 {
		panic(fmt.Sprintf("collectors: registration %q needs a name, a factory and at least one metric", reg.Name))
	}
	if _, dup := byName[reg.Name]; dup {
		panic(fmt.Sprintf("collectors: collector %q registered twice", reg.Name))
	}
	if reg.Replaces != "" {
		removeLocked(reg.Replaces)
	}
	for _, m := range reg.Metrics {
		if !model.IsKnownMetric(m) {
			panic(fmt.Sprintf("collectors: collector %q registers unknown metric %q; add it to the allowlist in package model first", reg.Name, m))
		}
		if owner, taken := byMetric[m]; taken {
			panic(fmt.Sprintf("collectors: metric %q registered by both %q and %q; set Replaces to take over a built-in collector", m, owner, reg.Name))
		}
	}

	for _, m := range reg.Metrics {
		byMetric[m] = reg.Name
	}
	byName[reg.Name] = reg
}

func removeLocked(name string) {
	old, ok := byName[name]
	if !ok {
		return
	}
	for _, m := range old.Metrics {
		delete(byMetric, m)
	}
	delete(byName, name)
}

// Names returns the registered collector names in sorted order.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()

	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the registration of a collector by name.
func Lookup(name string) (Registration, bool) {
	mu.Lock()
	defer mu.Unlock()

	reg, ok := byName[name]
	return reg, ok
}

// Named is a built collector with its registry name.
type Named struct {
	Name string
	Collector
}

// Build constructs the selected collectors, or every registered one when
// selected is empty. An unknown name is an error that lists the known ones.
func Build(selected []string, cfg Config) ([]Named, error) {
	if len(selected) == 0 {
		selected = Names()
	}

	out := make([]Named, 0, len(selected))
	for _, name := range selected {
		reg, ok := Lookup(name)
		if !ok {
			return nil, fmt.Errorf("unknown collector %q: registered collectors are %s", name, strings.Join(Names(), ", "))
		}
		c, err := reg.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("start collector %s: %w", name, err)
		}
		out = append(out, Named{Name: name, Collector: c})
	}
	return out, nil
}
