package meminfo_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/collectors/mem"
	"github.com/kamerrezz/theminidog/examples/collector/meminfo"
	"github.com/kamerrezz/theminidog/model"
)

func fixtureRoot(t *testing.T, name string) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func byName(points []model.Metric) map[string]float64 {
	out := map[string]float64{}
	for _, p := range points {
		out[p.Name] = p.Value
	}
	return out
}

func TestRegistrationReplacesMem(t *testing.T) {
	if _, ok := collectors.Lookup("mem"); ok {
		t.Error(`built-in "mem" is still registered, want it replaced`)
	}
	reg, ok := collectors.Lookup(meminfo.Name)
	if !ok {
		t.Fatalf("%q is not registered; registered: %v", meminfo.Name, collectors.Names())
	}
	want := []string{model.MemTotalBytes, model.MemUsedBytes, model.MemUsedPct}
	if !slices.Equal(reg.Metrics, want) {
		t.Errorf("metrics = %v, want %v", reg.Metrics, want)
	}

	// With COLLECTORS empty the agent builds every registered collector.
	built, err := collectors.Build(nil, collectors.Config{RootPath: fixtureRoot(t, "host")})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	var names []string
	for _, c := range built {
		names = append(names, c.Name)
	}
	if !slices.Contains(names, meminfo.Name) || slices.Contains(names, "mem") {
		t.Errorf("built collectors = %v, want meminfo and not mem", names)
	}
}

func TestCollectFromMeminfo(t *testing.T) {
	c, err := meminfo.New(collectors.Config{RootPath: fixtureRoot(t, "host")})
	if err != nil {
		t.Fatal(err)
	}
	points, err := c.Collect(context.Background())
	if err != nil {
		t.Fatalf("collect: %v", err)
	}

	// The fixture has MemTotal 8000000 kB and MemAvailable 4000000 kB.
	total, avail := 8000000.0*1024, 4000000.0*1024
	got := byName(points)
	want := map[string]float64{
		model.MemTotalBytes: total,
		model.MemUsedBytes:  total - avail,
		model.MemUsedPct:    100 * (total - avail) / total,
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
	if len(points) != len(want) {
		t.Errorf("points = %d, want %d", len(points), len(want))
	}

	now := time.Now()
	batch := model.MetricBatch{Host: "example"}
	for _, p := range points {
		p.Time = now
		batch.Metrics = append(batch.Metrics, p)
	}
	if err := batch.Validate(model.Limits{Now: now}); err != nil {
		t.Errorf("points do not validate: %v", err)
	}
}

// TestMatchesBuiltInMem proves the replacement is drop-in: on the same
// meminfo file the built-in collector reports the same values.
func TestMatchesBuiltInMem(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the built-in collector parses meminfo only on Linux")
	}
	cfg := collectors.Config{RootPath: fixtureRoot(t, "host")}
	ours, err := meminfo.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	builtIn, err := mem.New(cfg)
	if err != nil {
		t.Fatal(err)
	}

	a, err := ours.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := builtIn.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, want := byName(a), byName(b)
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, built-in mem reports %v", name, got[name], v)
		}
	}
}

func TestCollectRejectsBadFiles(t *testing.T) {
	cases := map[string]string{
		"no MemAvailable":     "MemTotal: 1000 kB\nMemFree: 10 kB\n",
		"no MemTotal":         "MemAvailable: 1000 kB\n",
		"available too large": "MemTotal: 1000 kB\nMemAvailable: 2000 kB\n",
		"not a number":        "MemTotal: lots kB\nMemAvailable: 10 kB\n",
	}
	for name, content := range cases {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "proc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "proc", "meminfo"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := meminfo.New(collectors.Config{RootPath: root})
		if err != nil {
			t.Fatal(err)
		}
		if points, err := c.Collect(context.Background()); err == nil {
			t.Errorf("%s: points %v and no error, want an error", name, points)
		}
	}
}

func TestNewRejectsRelativeRoot(t *testing.T) {
	if _, err := meminfo.New(collectors.Config{RootPath: "host"}); err == nil {
		t.Fatal("relative root: no error, want one")
	}
}
