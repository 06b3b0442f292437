package cpu

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gocpu "github.com/shirou/gopsutil/v4/cpu"

	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/model"
)

const tolerance = 1e-9

// installStat copies a /proc/stat fixture into root/proc/stat, so that the
// collector reads it through gopsutil's real parser.
func installStat(t *testing.T, root, fixture string) {
	t.Helper()

	data, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "proc", "stat"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// byCore indexes points by their core label and fails on anything that is
// not a cpu.usage_pct point with exactly one core label.
func byCore(t *testing.T, points []model.Metric) map[string]float64 {
	t.Helper()

	out := map[string]float64{}
	for _, p := range points {
		if p.Name != model.CPUUsagePct {
			t.Errorf("point name = %q, want %q", p.Name, model.CPUUsagePct)
		}
		if len(p.Labels) != 1 {
			t.Errorf("point labels = %v, want only %q", p.Labels, coreLabel)
		}
		core := p.Labels[coreLabel]
		if _, dup := out[core]; dup {
			t.Errorf("core %q reported twice", core)
		}
		out[core] = p.Value
	}
	return out
}

// assertValidBatch checks the points against the wire model's validation,
// the same rules the server applies.
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

func assertNear(t *testing.T, label string, got, want float64) {
	t.Helper()

	if got < want-tolerance || got > want+tolerance {
		t.Errorf("%s = %v, want %v", label, got, want)
	}
}

func TestUsageCountsIowaitAsIdle(t *testing.T) {
	root := t.TempDir()
	c := newCollector(root, gocpu.TimesWithContext)
	ctx := context.Background()

	installStat(t, root, "stat.r0")
	points, err := c.Collect(ctx)
	if err != nil {
		t.Fatalf("baseline collect: %v", err)
	}
	if len(points) != 0 {
		t.Fatalf("baseline collect returned %v, want no points", points)
	}

	installStat(t, root, "stat.r1")
	points, err = c.Collect(ctx)
	if err != nil {
		t.Fatalf("second collect: %v", err)
	}
	got := byCore(t, points)
	if len(got) != 3 {
		t.Fatalf("second collect returned cores %v, want total, 0 and 1", got)
	}
	// 90, 96 and 84 would mean iowait was counted as busy; a total of
	// 19.05 would mean guest was counted twice.
	assertNear(t, "total", got[totalCore], 15.0)
	assertNear(t, "core 0", got["0"], 26.0)
	assertNear(t, "core 1", got["1"], 4.0)
	assertValidBatch(t, points)

	// The same counters again: no time passed, so there is no percentage.
	points, err = c.Collect(ctx)
	if err != nil {
		t.Fatalf("zero-delta collect: %v", err)
	}
	if len(points) != 0 {
		t.Errorf("zero-delta collect returned %v, want no points", points)
	}
}

func times(name string, user, system, idle, iowait, guest float64) gocpu.TimesStat {
	return gocpu.TimesStat{CPU: name, User: user, System: system, Idle: idle, Iowait: iowait, Guest: guest}
}

// fakeTimes serves one scripted reading per Collect call.
type fakeTimes struct {
	readings [][]gocpu.TimesStat
	call     int
}

func (f *fakeTimes) times(_ context.Context, percpu bool) ([]gocpu.TimesStat, error) {
	reading := f.readings[f.call]
	if percpu {
		f.call++
		return reading[1:], nil
	}
	return reading[:1], nil
}

func TestUsageCoreCountersBackwards(t *testing.T) {
	fake := &fakeTimes{readings: [][]gocpu.TimesStat{
		{times("cpu-total", 100, 0, 100, 0, 0), times("cpu0", 50, 0, 50, 0, 0), times("cpu1", 50, 0, 50, 0, 0)},
		// cpu0 was reset (hot-plugged back in); cpu1 and the total advance.
		{times("cpu-total", 120, 0, 180, 0, 0), times("cpu0", 1, 0, 1, 0, 0), times("cpu1", 70, 0, 130, 0, 0)},
		// cpu0 advances from its new baseline.
		{times("cpu-total", 140, 0, 260, 0, 0), times("cpu0", 11, 0, 31, 0, 0), times("cpu1", 80, 0, 200, 0, 0)},
	}}
	c := newCollector("/", fake.times)
	ctx := context.Background()

	if _, err := c.Collect(ctx); err != nil {
		t.Fatalf("baseline collect: %v", err)
	}

	points, err := c.Collect(ctx)
	if err != nil {
		t.Fatalf("collect after reset: %v", err)
	}
	got := byCore(t, points)
	if _, ok := got["0"]; ok {
		t.Errorf("reset core 0 reported %v, want no point", got["0"])
	}
	assertNear(t, "total after reset", got[totalCore], 20.0)
	assertNear(t, "core 1 after reset", got["1"], 20.0)

	points, err = c.Collect(ctx)
	if err != nil {
		t.Fatalf("collect after re-baseline: %v", err)
	}
	got = byCore(t, points)
	assertNear(t, "core 0 after re-baseline", got["0"], 100*10.0/40.0)
	assertValidBatch(t, points)
}

func TestBusyPercent(t *testing.T) {
	tests := []struct {
		name      string
		prev, cur gocpu.TimesStat
		want      float64
		wantOK    bool
	}{
		{
			name:   "only iowait",
			prev:   times("cpu0", 10, 10, 10, 10, 0),
			cur:    times("cpu0", 10, 10, 20, 90, 0),
			want:   0,
			wantOK: true,
		},
		{
			name:   "guest inside user",
			prev:   times("cpu0", 0, 0, 0, 0, 0),
			cur:    times("cpu0", 50, 0, 50, 0, 40),
			want:   50,
			wantOK: true,
		},
		{
			name:   "fully busy",
			prev:   times("cpu0", 0, 0, 5, 0, 0),
			cur:    times("cpu0", 60, 40, 5, 0, 0),
			want:   100,
			wantOK: true,
		},
		{
			// The kernel may move time from iowait to idle; only the sum
			// has to advance.
			name:   "iowait decreases alone",
			prev:   times("cpu0", 10, 0, 10, 30, 0),
			cur:    times("cpu0", 20, 0, 45, 25, 0),
			want:   100 * 10.0 / 40.0,
			wantOK: true,
		},
		{
			name:   "no time passed",
			prev:   times("cpu0", 10, 10, 10, 10, 0),
			cur:    times("cpu0", 10, 10, 10, 10, 0),
			wantOK: false,
		},
		{
			name:   "busy went backwards",
			prev:   times("cpu0", 100, 10, 10, 0, 0),
			cur:    times("cpu0", 50, 10, 100, 0, 0),
			wantOK: false,
		},
		{
			name:   "idle went backwards",
			prev:   times("cpu0", 10, 10, 100, 10, 0),
			cur:    times("cpu0", 80, 10, 50, 10, 0),
			wantOK: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := busyPercent(tt.prev, tt.cur)
			if ok != tt.wantOK {
				t.Fatalf("busyPercent ok = %v, want %v", ok, tt.wantOK)
			}
			if ok {
				assertNear(t, "busyPercent", got, tt.want)
			}
		})
	}
}

func TestCollectUnreadableStat(t *testing.T) {
	root := t.TempDir()
	c := newCollector(root, gocpu.TimesWithContext)

	points, err := c.Collect(context.Background())
	if err == nil {
		t.Fatal("collect without a stat file returned no error")
	}
	if !strings.Contains(err.Error(), filepath.Join(root, "proc", "stat")) {
		t.Errorf("error %q does not name the stat file", err)
	}
	if len(points) != 0 {
		t.Errorf("collect returned %v, want no points", points)
	}
}

func TestCollectPerCoreReadFails(t *testing.T) {
	errBroken := errors.New("broken per-core read")
	readings := [][]gocpu.TimesStat{
		{times("cpu-total", 100, 0, 100, 0, 0)},
		{times("cpu-total", 150, 0, 150, 0, 0)},
	}
	call := 0
	c := newCollector("/", func(_ context.Context, percpu bool) ([]gocpu.TimesStat, error) {
		if percpu {
			call++
			return nil, errBroken
		}
		return readings[call], nil
	})
	ctx := context.Background()

	if _, err := c.Collect(ctx); !errors.Is(err, errBroken) {
		t.Fatalf("baseline collect error = %v, want %v", err, errBroken)
	}

	points, err := c.Collect(ctx)
	if !errors.Is(err, errBroken) {
		t.Errorf("collect error = %v, want %v", err, errBroken)
	}
	got := byCore(t, points)
	if len(got) != 1 {
		t.Fatalf("collect returned cores %v, want only the total", got)
	}
	assertNear(t, "total", got[totalCore], 50)
}

func TestNewRejectsRelativeRoot(t *testing.T) {
	if _, err := New(collectors.Config{RootPath: "host"}); err == nil {
		t.Error("New accepted a relative root path")
	}
}

func TestCoreLabelOf(t *testing.T) {
	for name, want := range map[string]string{"cpu-total": "total", "cpu0": "0", "cpu17": "17"} {
		if got := coreLabelOf(name); got != want {
			t.Errorf("coreLabelOf(%q) = %q, want %q", name, got, want)
		}
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
