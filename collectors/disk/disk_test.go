package disk

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/model"
)

// dfCase is an ext4 volume with 5 % of its blocks reserved for root.
var dfCase = blockCounts{BlockSize: 4096, Blocks: 1000000, Free: 100000, Avail: 50000}

type usage struct {
	total, used, pct float64
}

// byMount indexes points by mount label and fails on a point without one.
func byMount(t *testing.T, points []model.Metric) map[string]usage {
	t.Helper()

	out := map[string]usage{}
	for _, p := range points {
		point, ok := p.Labels[mountLabel]
		if !ok || len(p.Labels) != 1 {
			t.Errorf("%s labels = %v, want only %q", p.Name, p.Labels, mountLabel)
			continue
		}
		u := out[point]
		switch p.Name {
		case model.DiskTotalBytes:
			u.total = p.Value
		case model.DiskUsedBytes:
			u.used = p.Value
		case model.DiskUsedPct:
			u.pct = p.Value
		default:
			t.Errorf("unexpected metric %q", p.Name)
		}
		out[point] = u
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

func staticMounts(mounts ...mount) mountsFunc {
	return func(context.Context) ([]mount, error) { return mounts, nil }
}

func ext4(device, point string) mount {
	return mount{Device: device, Root: "/", Point: point, FSType: "ext4", Source: "/dev/" + device}
}

// fakeStatfs returns counts from a table keyed by path and counts calls per
// path.
type fakeStatfs struct {
	mu     sync.Mutex
	counts map[string]blockCounts
	calls  map[string]int
}

func newFakeStatfs(counts map[string]blockCounts) *fakeStatfs {
	return &fakeStatfs{counts: counts, calls: map[string]int{}}
}

func (f *fakeStatfs) statfs(path string) (blockCounts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.calls[path]++
	c, ok := f.counts[path]
	if !ok {
		return blockCounts{}, errors.New("no such file or directory")
	}
	return c, nil
}

func (f *fakeStatfs) callCount(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

func TestUsageExcludesReservedBlocks(t *testing.T) {
	c := newCollector("/", nil, nil)
	c.mountsFn = staticMounts(ext4("8:1", "/"))
	c.statfsFn = newFakeStatfs(map[string]blockCounts{"/": dfCase}).statfs

	points, err := c.Collect(context.Background())
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	got := byMount(t, points)["/"]

	if got.total != 4096000000 {
		t.Errorf("total = %v, want 4096000000", got.total)
	}
	if got.used != 3686400000 {
		t.Errorf("used = %v, want 3686400000", got.used)
	}
	// used / (used + avail): 900000 / 950000. Including the reserved
	// blocks would give 90.00 and keep a "> 92" alert from firing.
	if math.Abs(got.pct-94.74) > 0.01 {
		t.Errorf("used_pct = %v, want 94.74", got.pct)
	}
	if got.pct <= 92 {
		t.Errorf("used_pct = %v would not fire a disk.used_pct > 92 rule", got.pct)
	}
	assertValidBatch(t, points)
}

func TestUsagePointsEmptyFilesystem(t *testing.T) {
	points, err := usagePoints("/empty", blockCounts{BlockSize: 4096}, nil)
	if err != nil {
		t.Fatalf("usagePoints: %v", err)
	}

	got := byMount(t, points)["/empty"]
	if got != (usage{}) {
		t.Errorf("usage = %+v, want all zero", got)
	}
}

func TestUsagePointsRejectsBadCounts(t *testing.T) {
	tests := map[string]blockCounts{
		"free above total": {BlockSize: 4096, Blocks: 10, Free: 11},
		"size overflows":   {BlockSize: 1 << 40, Blocks: 1 << 40},
		"size above 2^53":  {BlockSize: 4096, Blocks: 1 << 42},
	}
	for name, counts := range tests {
		t.Run(name, func(t *testing.T) {
			points, err := usagePoints("/data", counts, nil)
			if err == nil {
				t.Fatalf("usagePoints returned %v and no error", points)
			}
			if !strings.Contains(err.Error(), "/data") {
				t.Errorf("error %q does not name the mount", err)
			}
		})
	}
}

func TestCollectPartialFailure(t *testing.T) {
	c := newCollector("/", nil, nil)
	c.mountsFn = staticMounts(ext4("8:1", "/"), ext4("8:2", "/broken"), ext4("8:3", "/home"))
	c.statfsFn = newFakeStatfs(map[string]blockCounts{"/": dfCase, "/home": dfCase}).statfs

	points, err := c.Collect(context.Background())
	if err == nil || !strings.Contains(err.Error(), "/broken") {
		t.Errorf("error = %v, want one naming /broken", err)
	}
	got := byMount(t, points)
	if len(got) != 2 {
		t.Errorf("mounts = %v, want / and /home", got)
	}
	if _, ok := got["/broken"]; ok {
		t.Error("failed mount /broken was reported")
	}
	assertValidBatch(t, points)
}

func TestCollectStatsUnderRoot(t *testing.T) {
	c := newCollector("/host", nil, nil)
	c.mountsFn = staticMounts(ext4("8:1", "/"), ext4("8:2", "/home"))
	fake := newFakeStatfs(map[string]blockCounts{"/host": dfCase, "/host/home": dfCase})
	c.statfsFn = fake.statfs

	points, err := c.Collect(context.Background())
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	got := byMount(t, points)
	for _, point := range []string{"/", "/home"} {
		if _, ok := got[point]; !ok {
			t.Errorf("mount %q not reported; got %v", point, got)
		}
	}
	if fake.callCount("/host/home") != 1 {
		t.Errorf("statfs calls on /host/home = %d, want 1", fake.callCount("/host/home"))
	}
}

func TestAllowListOverridesExclusion(t *testing.T) {
	c := newCollector("/", []string{"/run/", "/var/lib/app", "/missing"}, nil)
	c.mountsFn = staticMounts(
		ext4("8:1", "/"),
		mount{Device: "8:1", Root: "/srv/appdata", Point: "/var/lib/app", FSType: "ext4", Source: "/dev/sda1"},
		mount{Device: "0:26", Root: "/", Point: "/run", FSType: "tmpfs", Source: "tmpfs"},
	)
	c.statfsFn = newFakeStatfs(map[string]blockCounts{"/": dfCase, "/var/lib/app": dfCase, "/run": dfCase}).statfs

	points, err := c.Collect(context.Background())
	if err == nil || !strings.Contains(err.Error(), "/missing") {
		t.Errorf("error = %v, want one naming /missing", err)
	}
	got := byMount(t, points)
	if len(got) != 2 {
		t.Errorf("mounts = %v, want /run and /var/lib/app", got)
	}
	for _, point := range []string{"/run", "/var/lib/app"} {
		if _, ok := got[point]; !ok {
			t.Errorf("allowed mount %q not reported", point)
		}
	}
}

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) count(substr string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), substr)
}

func TestHungStatfsSkipsMount(t *testing.T) {
	logs := &lockedBuffer{}
	c := newCollector("/", nil, slog.New(slog.NewTextHandler(logs, nil)))
	c.mountsFn = staticMounts(ext4("8:1", "/"), mount{Device: "0:60", Root: "/", Point: "/mnt/nfs", FSType: "nfs4", Source: "srv:/export"}, ext4("8:2", "/home"))
	// Long enough for the responsive mounts on a loaded machine, short
	// enough to keep the test quick.
	c.statTimeout = 250 * time.Millisecond

	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unblock)

	fake := newFakeStatfs(map[string]blockCounts{"/": dfCase, "/home": dfCase, "/mnt/nfs": dfCase})
	var nfsCalls atomic.Int32
	c.statfsFn = func(path string) (blockCounts, error) {
		if path == "/mnt/nfs" {
			nfsCalls.Add(1)
			<-release
		}
		return fake.statfs(path)
	}
	ctx := context.Background()

	const hungTicks = 3
	for tick := range hungTicks {
		points, err := c.Collect(ctx)
		if err != nil {
			t.Errorf("tick %d: error = %v, want none for a hung mount", tick, err)
		}
		got := byMount(t, points)
		if len(got) != 2 {
			t.Errorf("tick %d: mounts = %v, want / and /home", tick, got)
		}
		if _, ok := got["/mnt/nfs"]; ok {
			t.Errorf("tick %d: hung mount reported", tick)
		}
	}
	if n := nfsCalls.Load(); n != 1 {
		t.Errorf("statfs started %d times on the hung mount, want 1", n)
	}
	if n := logs.count("statfs timed out"); n != 1 {
		t.Errorf("timeout logged %d times over %d ticks, want 1", n, hungTicks)
	}

	// The server comes back: the pending call finishes and its result is
	// used, without a new statfs.
	unblock()
	c.statTimeout = time.Minute
	points, err := c.Collect(ctx)
	if err != nil {
		t.Fatalf("tick after recovery: %v", err)
	}
	if _, ok := byMount(t, points)["/mnt/nfs"]; !ok {
		t.Error("recovered mount not reported")
	}
	if n := nfsCalls.Load(); n != 1 {
		t.Errorf("statfs started %d times before the pending answer was used, want 1", n)
	}
	if n := logs.count("statfs responds again"); n != 1 {
		t.Errorf("recovery logged %d times, want 1", n)
	}

	// The next tick starts a fresh statfs.
	if _, err := c.Collect(ctx); err != nil {
		t.Fatalf("tick after recovery: %v", err)
	}
	if n := nfsCalls.Load(); n != 2 {
		t.Errorf("statfs started %d times, want 2", n)
	}
	if n := logs.count("statfs timed out"); n != 1 {
		t.Errorf("timeout logged %d times in total, want 1", n)
	}
}

func TestCollectCancelled(t *testing.T) {
	logs := &lockedBuffer{}
	c := newCollector("/", nil, slog.New(slog.NewTextHandler(logs, nil)))
	c.mountsFn = staticMounts(ext4("8:1", "/"))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	c.statfsFn = func(string) (blockCounts, error) {
		<-release
		return dfCase, nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	points, err := c.Collect(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want %v", err, context.Canceled)
	}
	if len(points) != 0 {
		t.Errorf("points = %v, want none", points)
	}
	if n := logs.count("statfs timed out"); n != 0 {
		t.Errorf("cancelled tick logged a timeout %d times, want 0", n)
	}
}

func TestCollectEmptyMountTable(t *testing.T) {
	c := newCollector("/", nil, nil)
	c.mountsFn = staticMounts()
	c.statfsFn = newFakeStatfs(nil).statfs

	if _, err := c.Collect(context.Background()); err == nil {
		t.Error("collect with an empty mount table returned no error")
	}
}

func TestNormalizeMountPoint(t *testing.T) {
	for in, want := range map[string]string{"/": "/", "//": "/", "/home/": "/home", "/home": "/home", "C:": "C:"} {
		if got := normalizeMountPoint(in); got != want {
			t.Errorf("normalizeMountPoint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewRejectsRelativeRoot(t *testing.T) {
	if _, err := New(collectors.Config{RootPath: "host"}); err == nil {
		t.Error("New accepted a relative root path")
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
