package all_test

import (
	"context"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/collectors"
	_ "github.com/kamerrezz/theminidog/collectors/all"
	"github.com/kamerrezz/theminidog/model"
)

func TestEveryMetricRegistered(t *testing.T) {
	names := collectors.Names()
	if want := []string{"cpu", "disk", "mem", "net"}; !slices.Equal(names, want) {
		t.Errorf("registered collectors = %v, want %v", names, want)
	}

	claimed := map[string]string{}
	for _, name := range names {
		reg, _ := collectors.Lookup(name)
		for _, metric := range reg.Metrics {
			claimed[metric] = name
		}
	}
	for _, metric := range model.MetricNames() {
		if _, ok := claimed[metric]; !ok {
			t.Errorf("metric %s has no collector", metric)
		}
	}
}

// collectAll runs every collector once and returns their points by
// collector name, failing the test on any error.
func collectAll(t *testing.T, built []collectors.Named) map[string][]model.Metric {
	t.Helper()

	out := map[string][]model.Metric{}
	for _, c := range built {
		points, err := c.Collect(context.Background())
		if err != nil {
			t.Errorf("collector %s: %v", c.Name, err)
		}
		out[c.Name] = points
	}
	return out
}

// collectUntilCPU repeats collection until the CPU collector reports, which
// needs at least one clock tick between two readings. It gives up after
// about 5 s.
func collectUntilCPU(t *testing.T, built []collectors.Named) map[string][]model.Metric {
	t.Helper()

	for range 100 {
		time.Sleep(50 * time.Millisecond)
		got := collectAll(t, built)
		if len(got["cpu"]) > 0 {
			return got
		}
	}
	t.Fatal("cpu collector reported nothing after 100 samples")
	return nil
}

func assertValidBatch(t *testing.T, points []model.Metric) {
	t.Helper()

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

func valueOf(points []model.Metric, name, labelKey, labelValue string) (float64, bool) {
	for _, p := range points {
		if p.Name == name && p.Labels[labelKey] == labelValue {
			return p.Value, true
		}
	}
	return 0, false
}

// TestCollectThisHost runs every collector on this machine through
// gopsutil and checks that the values are plausible. Network points appear
// only for interfaces that the default filter keeps, and a host may have
// none. A second network collector, limited to the loopback interface that
// every Linux host has, makes sure that all nine metric names are produced.
// TestLoopbackTraffic checks the network values.
func TestCollectThisHost(t *testing.T) {
	built, err := collectors.Build(nil, collectors.Config{RootPath: "/"})
	if err != nil {
		t.Fatal(err)
	}
	loopback, err := collectors.Build([]string{"net"}, collectors.Config{RootPath: "/", NetIfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	built = append(built, collectors.Named{Name: "net-lo", Collector: loopback[0].Collector})

	baseline := collectAll(t, built)
	for _, name := range []string{"cpu", "net", "net-lo"} {
		if n := len(baseline[name]); n != 0 {
			t.Errorf("first %s sample returned %d points, want a baseline only", name, n)
		}
	}

	got := collectUntilCPU(t, built)
	var all []model.Metric
	for _, points := range got {
		all = append(all, points...)
	}
	assertValidBatch(t, all)

	t.Run("cpu", func(t *testing.T) { checkCPU(t, got["cpu"]) })
	t.Run("mem", func(t *testing.T) { checkMem(t, got["mem"]) })
	t.Run("disk", func(t *testing.T) { checkDisk(t, got["disk"]) })
	t.Run("net", func(t *testing.T) { checkNet(t, got["net"], "lo") })
	t.Run("net-lo", func(t *testing.T) { checkNet(t, got["net-lo"]) })

	if runtime.GOOS == "linux" {
		names := map[string]bool{}
		for _, p := range all {
			names[p.Name] = true
		}
		for _, name := range model.MetricNames() {
			if !names[name] {
				t.Errorf("no %s point from any collector", name)
			}
		}
	}
}

func checkCPU(t *testing.T, points []model.Metric) {
	total, ok := valueOf(points, model.CPUUsagePct, "core", "total")
	if !ok {
		t.Fatalf("no core=total point in %v", points)
	}
	t.Logf("cpu total %.1f %% over %d points", total, len(points))

	if len(points) < 2 {
		t.Errorf("got %d cpu points, want the total and at least one core", len(points))
	}
	for _, p := range points {
		if p.Value < 0 || p.Value > 100 {
			t.Errorf("core %s = %v, want 0-100", p.Labels["core"], p.Value)
		}
	}
}

func checkMem(t *testing.T, points []model.Metric) {
	total, okTotal := valueOf(points, model.MemTotalBytes, "", "")
	used, okUsed := valueOf(points, model.MemUsedBytes, "", "")
	pct, okPct := valueOf(points, model.MemUsedPct, "", "")
	if !okTotal || !okUsed || !okPct {
		t.Fatalf("memory points = %v, want total, used and used_pct", points)
	}
	t.Logf("mem total %.0f used %.0f (%.1f %%)", total, used, pct)

	if total <= 0 {
		t.Errorf("total = %v, want > 0", total)
	}
	if used > total {
		t.Errorf("used %v exceeds total %v", used, total)
	}
	if want := 100 * used / total; pct < want-0.01 || pct > want+0.01 {
		t.Errorf("used_pct = %v, want %v", pct, want)
	}
}

func checkDisk(t *testing.T, points []model.Metric) {
	mounts := map[string]bool{}
	for _, p := range points {
		mounts[p.Labels["mount"]] = true
	}
	if len(mounts) == 0 {
		t.Fatal("no disk reported")
	}

	for mount := range mounts {
		total, _ := valueOf(points, model.DiskTotalBytes, "mount", mount)
		used, _ := valueOf(points, model.DiskUsedBytes, "mount", mount)
		pct, okPct := valueOf(points, model.DiskUsedPct, "mount", mount)
		t.Logf("disk %s total %.0f used %.0f (%.1f %%)", mount, total, used, pct)

		if !okPct {
			t.Errorf("mount %s has no used_pct", mount)
		}
		if total <= 0 {
			t.Errorf("mount %s total = %v, want > 0", mount, total)
		}
		if used > total {
			t.Errorf("mount %s used %v exceeds total %v", mount, used, total)
		}
	}
}

// checkNet checks that each interface has both points and that none of the
// excluded interfaces appears.
func checkNet(t *testing.T, points []model.Metric, excluded ...string) {
	perIface := map[string]int{}
	for _, p := range points {
		iface := p.Labels["iface"]
		if slices.Contains(excluded, iface) {
			t.Errorf("excluded interface %s reported: %v", iface, p)
		}
		perIface[iface]++
	}
	t.Logf("net interfaces %v", perIface)

	for iface, n := range perIface {
		if iface == "" {
			t.Errorf("%d network points without an iface label", n)
		}
		if n != 2 {
			t.Errorf("interface %s has %d points, want bytes_in and bytes_out", iface, n)
		}
	}
}

// TestLoopbackTraffic sends a known amount of data over the loopback
// interface, which the allow-list brings back in, and checks that both
// counters moved at least that much. Other processes may add traffic, so
// the check is a lower bound.
func TestLoopbackTraffic(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("loopback is named lo only on Linux")
	}
	skipUnlessInitNetNamespace(t)

	built, err := collectors.Build([]string{"net"}, collectors.Config{RootPath: "/", NetIfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	netCollector := built[0]
	ctx := context.Background()

	if _, err := netCollector.Collect(ctx); err != nil {
		t.Fatalf("baseline collect: %v", err)
	}

	const sent = 256 << 10
	sendOverLoopback(t, sent)

	points, err := netCollector.Collect(ctx)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	in, okIn := valueOf(points, model.NetBytesIn, "iface", "lo")
	out, okOut := valueOf(points, model.NetBytesOut, "iface", "lo")
	if !okIn || !okOut {
		t.Fatalf("points = %v, want bytes_in and bytes_out for lo", points)
	}
	t.Logf("lo in %.0f out %.0f after sending %d bytes", in, out, sent)

	if in < sent {
		t.Errorf("lo bytes_in = %v, want at least %d", in, sent)
	}
	if out < sent {
		t.Errorf("lo bytes_out = %v, want at least %d", out, sent)
	}
	assertValidBatch(t, points)
}

// skipUnlessInitNetNamespace skips when this process does not share the
// network namespace of PID 1, whose counters the collector reads.
func skipUnlessInitNetNamespace(t *testing.T) {
	t.Helper()

	initNS, errInit := os.Readlink("/proc/1/ns/net")
	selfNS, errSelf := os.Readlink("/proc/self/ns/net")
	if errInit != nil || errSelf != nil {
		// Sandboxes may deny the readlink even to root. A test run in
		// another namespace than PID 1 is rare, so go on.
		t.Logf("cannot compare network namespaces: %v, %v", errInit, errSelf)
		return
	}
	if initNS != selfNS {
		t.Skipf("test runs in network namespace %s, the collector reads %s", selfNS, initNS)
	}
}

// sendOverLoopback copies n bytes through a TCP connection on 127.0.0.1
// and returns once the receiver has read them all.
func sendOverLoopback(t *testing.T, n int64) {
	t.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	received := make(chan int64, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			received <- 0
			return
		}
		defer conn.Close()
		got, _ := io.Copy(io.Discard, conn)
		received <- got
	}()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(conn, zeroReader{}, n); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}

	if got := <-received; got != n {
		t.Fatalf("receiver read %d bytes, want %d", got, n)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
