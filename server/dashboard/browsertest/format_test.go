package browsertest_test

import (
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/server/dashboard/browsertest"
)

// The same cases as web/test/format.test.js, so that the Go and the
// JavaScript formatting cannot drift apart unnoticed.
func TestFormatBytesMatchesDashboard(t *testing.T) {
	cases := []struct {
		value float64
		want  string
	}{
		{0, "0 B"},
		{512, "512 B"},
		{1023, "1023 B"},
		{1024, "1.00 KiB"},
		{1536, "1.50 KiB"},
		{12.3 * 1024 * 1024, "12.3 MiB"},
		{931 * (1 << 30), "931 GiB"},
		{8 * (1 << 30), "8.00 GiB"},
		{1023.9 * 1024, "1.00 MiB"},
		{2.5 * (1 << 40), "2.50 TiB"},
		{-2048, "-2.00 KiB"},
	}
	for _, c := range cases {
		if got := browsertest.FormatBytes(c.value); got != c.want {
			t.Errorf("FormatBytes(%v) = %q, want %q", c.value, got, c.want)
		}
	}
}

func TestFormatRateAndPercent(t *testing.T) {
	if got := browsertest.FormatRate(1.25 * 1024 * 1024); got != "1.25 MiB/s" {
		t.Errorf("FormatRate = %q", got)
	}
	if got := browsertest.FormatPercent(42.46); got != "42.5%" {
		t.Errorf("FormatPercent(42.46) = %q", got)
	}
	if got := browsertest.FormatPercent(100); got != "100.0%" {
		t.Errorf("FormatPercent(100) = %q", got)
	}
}

func TestFormatDateTimeInZone(t *testing.T) {
	zone := time.FixedZone("plus0530", 5*3600+1800)
	at := time.Date(2026, 1, 2, 23, 45, 6, 0, time.UTC)
	if got := browsertest.FormatDateTime(at, zone); got != "2026-01-03 05:15:06" {
		t.Errorf("FormatDateTime = %q", got)
	}
}

func TestSortedHostNames(t *testing.T) {
	hosts := []browsertest.Host{
		{Name: "b", Status: "ok"}, {Name: "a", Status: "ok"}, {Name: "z", Status: "down"},
		{Name: "m", Status: "stale"}, {Name: "c", Status: "weird"}, {Name: "d", Status: "unknown"}, {Name: "y", Status: "down"},
	}
	want := []string{"y", "z", "m", "c", "d", "a", "b"}
	got := browsertest.SortedHostNames(hosts)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("SortedHostNames = %v, want %v", got, want)
		}
	}
}
