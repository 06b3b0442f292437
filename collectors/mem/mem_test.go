package mem

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	gomem "github.com/shirou/gopsutil/v4/mem"

	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/model"
)

func byName(t *testing.T, points []model.Metric) map[string]float64 {
	t.Helper()

	out := map[string]float64{}
	for _, p := range points {
		if len(p.Labels) != 0 {
			t.Errorf("%s has labels %v, want none", p.Name, p.Labels)
		}
		if _, dup := out[p.Name]; dup {
			t.Errorf("%s reported twice", p.Name)
		}
		out[p.Name] = p.Value
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

func TestUsedMatchesFree(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the meminfo fixture is parsed by gopsutil's Linux reader")
	}
	root, err := filepath.Abs(filepath.Join("testdata", "free-vs-available"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(collectors.Config{RootPath: root})
	if err != nil {
		t.Fatal(err)
	}

	points, err := c.Collect(context.Background())
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	got := byName(t, points)

	// MemTotal 8000000 kB and MemAvailable 4000000 kB. gopsutil's Used
	// (total - free - buffers - cached) would give 43.75 %.
	if got[model.MemTotalBytes] != 8192000000 {
		t.Errorf("%s = %v, want 8192000000", model.MemTotalBytes, got[model.MemTotalBytes])
	}
	if got[model.MemUsedBytes] != 4096000000 {
		t.Errorf("%s = %v, want 4096000000", model.MemUsedBytes, got[model.MemUsedBytes])
	}
	if got[model.MemUsedPct] != 50.0 {
		t.Errorf("%s = %v, want 50", model.MemUsedPct, got[model.MemUsedPct])
	}
	assertValidBatch(t, points)
}

func TestUsedPercentConsistent(t *testing.T) {
	c := newCollector("/", func(context.Context) (*gomem.VirtualMemoryStat, error) {
		return &gomem.VirtualMemoryStat{Total: 3 << 30, Available: 1 << 30}, nil
	})

	points, err := c.Collect(context.Background())
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	got := byName(t, points)

	if got[model.MemUsedBytes] > got[model.MemTotalBytes] {
		t.Errorf("used %v exceeds total %v", got[model.MemUsedBytes], got[model.MemTotalBytes])
	}
	want := 100 * got[model.MemUsedBytes] / got[model.MemTotalBytes]
	if math.Abs(got[model.MemUsedPct]-want) > 0.01 {
		t.Errorf("%s = %v, want %v", model.MemUsedPct, got[model.MemUsedPct], want)
	}
}

func TestCollectRejectsBrokenReading(t *testing.T) {
	errRead := errors.New("meminfo unreadable")
	tests := []struct {
		name    string
		stat    *gomem.VirtualMemoryStat
		readErr error
	}{
		{name: "read error", readErr: errRead},
		{name: "zero total", stat: &gomem.VirtualMemoryStat{}},
		{name: "available above total", stat: &gomem.VirtualMemoryStat{Total: 100, Available: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCollector("/", func(context.Context) (*gomem.VirtualMemoryStat, error) {
				return tt.stat, tt.readErr
			})

			points, err := c.Collect(context.Background())
			if err == nil {
				t.Fatal("collect returned no error")
			}
			if tt.readErr != nil && !errors.Is(err, tt.readErr) {
				t.Errorf("error = %v, want it to wrap %v", err, tt.readErr)
			}
			if len(points) != 0 {
				t.Errorf("collect returned %v, want no points", points)
			}
		})
	}
}

func TestCollectMissingMeminfo(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("RootPath only applies to Linux")
	}
	c, err := New(collectors.Config{RootPath: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := c.Collect(context.Background()); err == nil {
		t.Error("collect without meminfo returned no error")
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
