package collectors_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/model"
)

type constCollector float64

func (c constCollector) Collect(context.Context) ([]model.Metric, error) {
	return []model.Metric{{Name: model.MemUsedPct, Value: float64(c)}}, nil
}

func factory(v float64) collectors.Factory {
	return func(collectors.Config) (collectors.Collector, error) { return constCollector(v), nil }
}

// mustPanic runs fn and returns its panic message, failing when it does
// not panic.
func mustPanic(t *testing.T, fn func()) string {
	t.Helper()
	var msg string
	func() {
		defer func() {
			if v := recover(); v != nil {
				msg, _ = v.(string)
			}
		}()
		fn()
	}()
	if msg == "" {
		t.Fatal("no panic")
	}
	return msg
}

func TestRegisterRejectsUnknownAndDuplicateNames(t *testing.T) {
	collectors.Register(collectors.Registration{Name: "test-mem-a", Metrics: []string{model.MemUsedPct}, New: factory(1)})

	msg := mustPanic(t, func() {
		collectors.Register(collectors.Registration{Name: "test-temp", Metrics: []string{"cpu.temperature"}, New: factory(0)})
	})
	if !strings.Contains(msg, `"cpu.temperature"`) || !strings.Contains(msg, "allowlist") {
		t.Errorf("unknown metric panic = %q, want the name and a hint about the allowlist", msg)
	}

	msg = mustPanic(t, func() {
		collectors.Register(collectors.Registration{Name: "test-mem-b", Metrics: []string{model.MemUsedPct}, New: factory(2)})
	})
	if !strings.Contains(msg, "test-mem-a") || !strings.Contains(msg, "test-mem-b") {
		t.Errorf("duplicate metric panic = %q, want both collector names", msg)
	}

	mustPanic(t, func() {
		collectors.Register(collectors.Registration{Name: "test-mem-a", Metrics: []string{model.MemTotalBytes}, New: factory(3)})
	})
}

func TestRegisterReplacesNamedCollector(t *testing.T) {
	collectors.Register(collectors.Registration{Name: "test-old", Metrics: []string{model.DiskUsedPct}, New: factory(1)})
	collectors.Register(collectors.Registration{Name: "test-new", Metrics: []string{model.DiskUsedPct}, Replaces: "test-old", New: factory(2)})

	if _, ok := collectors.Lookup("test-old"); ok {
		t.Error("the replaced collector is still registered")
	}
	built, err := collectors.Build([]string{"test-new"}, collectors.Config{})
	if err != nil || len(built) != 1 {
		t.Fatalf("build the replacement: %v, %d collectors", err, len(built))
	}
	points, _ := built[0].Collect(context.Background())
	if len(points) != 1 || points[0].Value != 2 {
		t.Errorf("replacement collected %+v, want the new factory's value 2", points)
	}
}

func TestBuildUnknownCollectorListsKnown(t *testing.T) {
	collectors.Register(collectors.Registration{Name: "test-known", Metrics: []string{model.NetBytesIn}, New: factory(0)})
	_, err := collectors.Build([]string{"test-missing"}, collectors.Config{})
	if err == nil || !strings.Contains(err.Error(), "test-missing") || !strings.Contains(err.Error(), "test-known") {
		t.Fatalf("err = %v, want the unknown name and the registered ones", err)
	}
}

func TestConfigRoot(t *testing.T) {
	cases := []struct {
		in, want string
		fails    bool
	}{
		{"", "/", false},
		{"/", "/", false},
		{"/host/", "/host", false},
		{"host", "", true},
	}
	for _, tc := range cases {
		got, err := collectors.Config{RootPath: tc.in}.Root()
		if (err != nil) != tc.fails || got != tc.want {
			t.Errorf("Root(%q) = %q, %v; want %q, failure %v", tc.in, got, err, tc.want, tc.fails)
		}
	}
}
