package net

import (
	"context"
	"errors"
	"testing"
	"time"

	gonet "github.com/shirou/gopsutil/v4/net"

	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/model"
)

type traffic struct {
	in, out float64
}

// byIface indexes points by interface and fails on a point that is not a
// net.bytes_* point with exactly one iface label.
func byIface(t *testing.T, points []model.Metric) map[string]traffic {
	t.Helper()

	out := map[string]traffic{}
	for _, p := range points {
		iface, ok := p.Labels[ifaceLabel]
		if !ok || len(p.Labels) != 1 {
			t.Errorf("%s labels = %v, want only %q", p.Name, p.Labels, ifaceLabel)
			continue
		}
		tr := out[iface]
		switch p.Name {
		case model.NetBytesIn:
			tr.in = p.Value
		case model.NetBytesOut:
			tr.out = p.Value
		default:
			t.Errorf("unexpected metric %q", p.Name)
		}
		out[iface] = tr
	}
	return out
}

func assertValidBatch(t *testing.T, points []model.Metric) {
	t.Helper()

	if len(points) == 0 {
		return // an empty batch is never sent
	}

	now := time.Now()
	batch := model.MetricBatch{Host: "test-host"}
	for _, p := range points {
		p.Time = now
		batch.Metrics = append(batch.Metrics, p)
	}
	if err := batch.Validate(model.Limits{Now: now}); err != nil {
		t.Errorf("batch does not validate: %v", err)
	}
}

// pollSequence serves one scripted reading per Collect call.
func pollSequence(polls [][]gonet.IOCountersStat) ioCountersFunc {
	call := 0
	return func(context.Context) ([]gonet.IOCountersStat, error) {
		reading := polls[call]
		call++
		return reading, nil
	}
}

func iface(name string, recv, sent uint64) gonet.IOCountersStat {
	return gonet.IOCountersStat{Name: name, BytesRecv: recv, BytesSent: sent}
}

// resetPolls are cumulative counters with a reset of eth0 at poll 2 and
// veth7 missing at poll 1.
var resetPolls = [][]gonet.IOCountersStat{
	{iface("eth0", 4294960000, 1000), iface("veth7", 10000000, 10000000)},
	{iface("eth0", 4294967000, 1500)},
	{iface("eth0", 1200, 20), iface("veth7", 500, 500)},
	{iface("eth0", 5200, 520), iface("veth7", 900, 700)},
}

func TestDeltaAcrossCounterReset(t *testing.T) {
	c := newCollector(nil, pollSequence(resetPolls))
	ctx := context.Background()

	want := []map[string]traffic{
		{},                             // baseline only
		{"eth0": {in: 7000, out: 500}}, // plain deltas
		{},                             // eth0 went backwards: re-baseline
		{"eth0": {in: 4000, out: 500}}, // deltas from the new baseline
	}
	for poll, wantPoll := range want {
		points, err := c.Collect(ctx)
		if err != nil {
			t.Fatalf("poll %d: %v", poll, err)
		}
		got := byIface(t, points)
		if len(got) != len(wantPoll) {
			t.Errorf("poll %d: interfaces %v, want %v", poll, got, wantPoll)
		}
		for name, w := range wantPoll {
			if got[name] != w {
				t.Errorf("poll %d: %s = %+v, want %+v", poll, name, got[name], w)
			}
		}
		if _, ok := got["veth7"]; ok {
			t.Errorf("poll %d: virtual interface veth7 reported by default", poll)
		}
		assertValidBatch(t, points)
	}
}

func TestAllowListedIfaceReappears(t *testing.T) {
	c := newCollector([]string{"veth*"}, pollSequence(resetPolls))
	ctx := context.Background()

	want := []map[string]traffic{
		{},                             // baseline
		{},                             // absent
		{},                             // back: a new baseline, not 500 - 10000000
		{"veth7": {in: 400, out: 200}}, // delta from the new baseline
	}
	for poll, wantPoll := range want {
		points, err := c.Collect(ctx)
		if err != nil {
			t.Fatalf("poll %d: %v", poll, err)
		}
		got := byIface(t, points)
		if len(got) != len(wantPoll) {
			t.Errorf("poll %d: interfaces %v, want %v", poll, got, wantPoll)
		}
		for name, w := range wantPoll {
			if got[name] != w {
				t.Errorf("poll %d: %s = %+v, want %+v", poll, name, got[name], w)
			}
		}
	}
}

func TestDeltaBounds(t *testing.T) {
	tests := []struct {
		name      string
		prev, cur uint64
		want      uint64
		wantOK    bool
	}{
		{name: "advance", prev: 100, cur: 350, want: 250, wantOK: true},
		{name: "unchanged", prev: 100, cur: 100, want: 0, wantOK: true},
		{name: "backwards", prev: 4294967000, cur: 1200, wantOK: false},
		{name: "beyond float precision", prev: 0, cur: model.MaxBytesValue + 1, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := delta(tt.prev, tt.cur)
			if ok != tt.wantOK {
				t.Fatalf("delta ok = %v, want %v", ok, tt.wantOK)
			}
			if ok && got != tt.want {
				t.Errorf("delta = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDefaultExclusion(t *testing.T) {
	tests := map[string]bool{
		"eth0":                        true,
		"ens3":                        true,
		"enp0s31f6":                   true,
		"wlan0":                       true,
		"bond0":                       true,
		"br0":                         true,
		"Ethernet":                    true,
		"lo":                          false,
		"lo0":                         false,
		"Loopback Pseudo-Interface 1": false,
		"veth7":                       false,
		"docker0":                     false,
		"br-3f2a9c":                   false,
		"virbr0":                      false,
		"vnet3":                       false,
		"cali12ab":                    false,
		"flannel.1":                   false,
		"cni0":                        false,
		"ifb0":                        false,
	}
	c := newCollector(nil, nil)
	for name, want := range tests {
		if got := c.included(name); got != want {
			t.Errorf("included(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestAllowListPatterns(t *testing.T) {
	c := newCollector([]string{"lo", "eth*"}, nil)
	tests := map[string]bool{"lo": true, "eth0": true, "eth1": true, "ens3": false, "docker0": false}
	for name, want := range tests {
		if got := c.included(name); got != want {
			t.Errorf("included(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestCollectReadError(t *testing.T) {
	errRead := errors.New("net/dev unreadable")
	c := newCollector(nil, func(context.Context) ([]gonet.IOCountersStat, error) {
		return nil, errRead
	})

	points, err := c.Collect(context.Background())
	if !errors.Is(err, errRead) {
		t.Errorf("error = %v, want it to wrap %v", err, errRead)
	}
	if len(points) != 0 {
		t.Errorf("points = %v, want none", points)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(collectors.Config{RootPath: "host"}); err == nil {
		t.Error("New accepted a relative root path")
	}
	if _, err := New(collectors.Config{NetIfaces: []string{"eth["}}); err == nil {
		t.Error("New accepted an invalid interface pattern")
	}
}

func BenchmarkCollect(b *testing.B) {
	c, err := New(collectors.Config{RootPath: "/"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()

	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Collect(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
