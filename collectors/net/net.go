package net

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"

	gonet "github.com/shirou/gopsutil/v4/net"

	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/model"
)

// Name selects this collector in the agent's COLLECTORS setting.
const Name = "net"

const ifaceLabel = "iface"

// loopbackNames are the loopback interfaces of Linux, macOS and Windows.
var loopbackNames = []string{"lo", "lo0"}

const windowsLoopbackPrefix = "Loopback Pseudo-Interface"

// virtualPrefixes start the names of interfaces that container runtimes,
// hypervisors and overlay networks create. Their traffic also crosses a
// physical interface, so counting them would count it twice.
var virtualPrefixes = []string{
	"veth", "docker", "br-", "virbr", "vnet", "tap",
	"cali", "flannel", "cni", "cilium_", "weave", "vxlan", "tunl", "kube-",
	"lxc", "lxdbr", "podman", "ifb", "dummy", "nlmon",
}

func init() {
	collectors.Register(collectors.Registration{
		Name:    Name,
		Metrics: []string{model.NetBytesIn, model.NetBytesOut},
		New:     New,
	})
}

// ioCountersFunc returns the cumulative counters of every interface.
type ioCountersFunc func(ctx context.Context) ([]gonet.IOCountersStat, error)

type counters struct {
	recv, sent uint64
}

type collector struct {
	allow        []string
	ioCountersFn ioCountersFunc

	mu   sync.Mutex
	prev map[string]counters // keyed by interface name
}

// New builds the network collector on gopsutil, reading the host's counters
// under cfg.RootPath and filtering by cfg.NetIfaces when it is set.
func New(cfg collectors.Config) (collectors.Collector, error) {
	root, err := cfg.Root()
	if err != nil {
		return nil, err
	}
	for _, pattern := range cfg.NetIfaces {
		if _, err := path.Match(pattern, ""); err != nil {
			return nil, fmt.Errorf("network interface pattern %q is invalid: %w", pattern, err)
		}
	}
	return newCollector(cfg.NetIfaces, hostCounters(root)), nil
}

func newCollector(allow []string, fn ioCountersFunc) *collector {
	return &collector{allow: allow, ioCountersFn: fn}
}

// Collect returns bytes received and sent since the previous call for each
// reported interface that has a baseline and whose counters did not go
// backwards.
func (c *collector) Collect(ctx context.Context) ([]model.Metric, error) {
	stats, err := c.ioCountersFn(ctx)
	if err != nil {
		return nil, fmt.Errorf("read network counters: %w", err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()

	out := make([]model.Metric, 0, 2*len(stats))
	next := make(map[string]counters, len(stats))
	for _, s := range stats {
		if !c.included(s.Name) {
			continue
		}
		cur := counters{recv: s.BytesRecv, sent: s.BytesSent}
		next[s.Name] = cur

		prev, seen := c.prev[s.Name]
		if !seen {
			continue
		}
		in, okIn := delta(prev.recv, cur.recv)
		sent, okOut := delta(prev.sent, cur.sent)
		if !okIn || !okOut {
			continue
		}
		out = append(out,
			model.Metric{Name: model.NetBytesIn, Value: float64(in), Labels: map[string]string{ifaceLabel: s.Name}},
			model.Metric{Name: model.NetBytesOut, Value: float64(sent), Labels: map[string]string{ifaceLabel: s.Name}},
		)
	}

	// Interfaces missing from this reading are dropped, and every reading
	// becomes the next baseline, including one that went backwards.
	c.prev = next
	return out, nil
}

// delta returns cur - prev, and false when the counter went backwards or
// jumped further than a float64 holds exactly, which only a bogus reading
// does.
func delta(prev, cur uint64) (uint64, bool) {
	if cur < prev {
		return 0, false
	}
	d := cur - prev
	return d, d <= model.MaxBytesValue
}

func (c *collector) included(name string) bool {
	if len(c.allow) > 0 {
		return matchesAny(c.allow, name)
	}
	return !isLoopback(name) && !isVirtual(name)
}

func matchesAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

func isLoopback(name string) bool {
	for _, lo := range loopbackNames {
		if name == lo {
			return true
		}
	}
	return strings.HasPrefix(name, windowsLoopbackPrefix)
}

func isVirtual(name string) bool {
	for _, prefix := range virtualPrefixes {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}
