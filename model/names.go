package model

import "sort"

// The allowlisted metric names. Every other package refers to these
// constants; the server rejects any name not listed in Metrics.
const (
	CPUUsagePct    = "cpu.usage_pct"
	MemUsedPct     = "mem.used_pct"
	MemUsedBytes   = "mem.used_bytes"
	MemTotalBytes  = "mem.total_bytes"
	DiskUsedPct    = "disk.used_pct"
	DiskUsedBytes  = "disk.used_bytes"
	DiskTotalBytes = "disk.total_bytes"
	NetBytesIn     = "net.bytes_in"
	NetBytesOut    = "net.bytes_out"
)

// Unit is the kind of quantity a metric carries; validation derives the
// allowed value range from it.
type Unit int

const (
	// UnitPercent is a percentage in [0, 100].
	UnitPercent Unit = iota
	// UnitBytes is a non-negative byte count.
	UnitBytes
)

// MetricInfo describes one allowlisted metric.
type MetricInfo struct {
	Name string
	Unit Unit
	// Label is the label key that distinguishes series of this metric on one
	// host ("core", "mount", "iface"), or "" when a host has one series.
	Label string
	// Delta reports whether each value is the change since the previous
	// sample rather than a gauge reading.
	Delta bool
	Help  string
}

// Metrics is the allowlist, keyed by metric name. Adding a metric is a
// one-line change here plus a collector that produces it.
var Metrics = map[string]MetricInfo{
	CPUUsagePct:    {Name: CPUUsagePct, Unit: UnitPercent, Label: "core", Help: "busy CPU time since the previous sample, percent"},
	MemUsedPct:     {Name: MemUsedPct, Unit: UnitPercent, Help: "memory in use (total minus available) as a percentage of total"},
	MemUsedBytes:   {Name: MemUsedBytes, Unit: UnitBytes, Help: "memory in use: total minus available, bytes"},
	MemTotalBytes:  {Name: MemTotalBytes, Unit: UnitBytes, Help: "physical memory, bytes"},
	DiskUsedPct:    {Name: DiskUsedPct, Unit: UnitPercent, Label: "mount", Help: "used / (used + available to unprivileged users), percent, as df shows"},
	DiskUsedBytes:  {Name: DiskUsedBytes, Unit: UnitBytes, Label: "mount", Help: "filesystem bytes in use"},
	DiskTotalBytes: {Name: DiskTotalBytes, Unit: UnitBytes, Label: "mount", Help: "filesystem size, bytes"},
	NetBytesIn:     {Name: NetBytesIn, Unit: UnitBytes, Label: "iface", Delta: true, Help: "bytes received since the previous sample"},
	NetBytesOut:    {Name: NetBytesOut, Unit: UnitBytes, Label: "iface", Delta: true, Help: "bytes sent since the previous sample"},
}

// IsKnownMetric reports whether name is in the allowlist.
func IsKnownMetric(name string) bool {
	_, ok := Metrics[name]
	return ok
}

// MetricNames returns the allowlisted names in sorted order.
func MetricNames() []string {
	names := make([]string, 0, len(Metrics))
	for n := range Metrics {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
