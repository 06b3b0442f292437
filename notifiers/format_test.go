package notifiers_test

import (
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
)

func ptr[T any](v T) *T { return &v }

var (
	firedAt    = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	resolvedAt = firedAt.Add(2 * time.Minute)
)

func TestSummary(t *testing.T) {
	cases := []struct {
		name string
		ev   model.Event
		want string
	}{
		{
			"firing above",
			model.Event{Event: model.EventFiring, RuleID: ptr("cpu-high"), Host: "host-a", Name: model.CPUUsagePct,
				Labels: map[string]string{"core": "total"}, Value: ptr(95.0), Threshold: ptr(90.0), FiredAt: &firedAt},
			"[FIRING] cpu.usage_pct > 90 on host-a (core=total): 95.0",
		},
		{
			"firing below with two labels",
			model.Event{Event: model.EventFiring, Host: "db-1", Name: "disk.free_pct",
				Labels: map[string]string{"mount": "/", "device": "sda1"}, Value: ptr(4.25), Threshold: ptr(10.5)},
			"[FIRING] disk.free_pct < 10.5 on db-1 (device=sda1, mount=/): 4.2",
		},
		{
			"firing without value",
			model.Event{Event: model.EventFiring, Host: "host-a", Name: model.MemUsedPct},
			"[FIRING] mem.used_pct on host-a",
		},
		{
			"resolved",
			model.Event{Event: model.EventResolved, Host: "host-a", Name: model.CPUUsagePct,
				Labels: map[string]string{"core": "total"}, Value: ptr(50.0), Threshold: ptr(90.0), FiredAt: &firedAt, ResolvedAt: &resolvedAt},
			"[RESOLVED] cpu.usage_pct on host-a (core=total): 50.0 (threshold 90), fired for 2m",
		},
		{
			"host down",
			model.Event{Event: model.EventHostDown, Host: "host-b", FiredAt: &firedAt},
			"[HOST DOWN] host-b stopped sending data (down since 2025-01-02T03:04:05Z)",
		},
		{
			"host up",
			model.Event{Event: model.EventHostUp, Host: "host-b", FiredAt: &firedAt, ResolvedAt: ptr(firedAt.Add(90 * time.Second))},
			"[HOST UP] host-b is sending data again after 1m30s down",
		},
		{
			"host up without times",
			model.Event{Event: model.EventHostUp, Host: "host-b"},
			"[HOST UP] host-b is sending data again",
		},
		{
			"unknown kind",
			model.Event{Event: "silenced", Host: "host-c", Name: model.CPUUsagePct},
			"[SILENCED] cpu.usage_pct on host-c",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := notifiers.Summary(tc.ev); got != tc.want {
				t.Errorf("Summary =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestDetails(t *testing.T) {
	ev := model.Event{
		Event: model.EventResolved, RuleID: ptr("cpu-high"), IncidentID: "inc-7", Host: "host-a",
		Name: model.CPUUsagePct, Labels: map[string]string{"core": "total"},
		Value: ptr(50.0), Threshold: ptr(90.0), FiredAt: &firedAt, ResolvedAt: &resolvedAt,
	}

	want := "[RESOLVED] cpu.usage_pct on host-a (core=total): 50.0 (threshold 90), fired for 2m\n" +
		"\n" +
		"Event:       resolved\n" +
		"Rule:        cpu-high\n" +
		"Incident:    inc-7\n" +
		"Host:        host-a\n" +
		"Metric:      cpu.usage_pct\n" +
		"Labels:      core=total\n" +
		"Value:       50.0\n" +
		"Threshold:   90\n" +
		"Fired at:    2025-01-02T03:04:05Z\n" +
		"Resolved at: 2025-01-02T03:06:05Z\n" +
		"Duration:    2m\n"
	if got := notifiers.Details(ev); got != want {
		t.Errorf("Details =\n%s\nwant\n%s", got, want)
	}
}

func TestFormatDuration(t *testing.T) {
	cases := map[time.Duration]string{
		0:                                    "0s",
		45 * time.Second:                     "45s",
		90 * time.Second:                     "1m30s",
		5 * time.Minute:                      "5m",
		time.Hour:                            "1h",
		90 * time.Minute:                     "1h30m",
		time.Hour + 5*time.Second:            "1h0m5s",
		2*time.Minute + 400*time.Millisecond: "2m",
	}
	for d, want := range cases {
		if got := notifiers.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	cases := map[float64]string{
		95:      "95.0",
		0:       "0.0",
		12.345:  "12.3",
		0.042:   "0.042",
		-0.0042: "-0.0042",
		1.5e9:   "1500000000.0",
	}
	for v, want := range cases {
		if got := notifiers.FormatValue(v); got != want {
			t.Errorf("FormatValue(%v) = %q, want %q", v, got, want)
		}
	}
}
