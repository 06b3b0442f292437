package sender

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	const max = 30 * time.Second

	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"soon", 0, false},
		{"-5", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{" 12 ", 12 * time.Second, true},
		{"3600", max, true},
		{"99999999999999999", max, true},
		{now.Add(20 * time.Second).Format(http.TimeFormat), 20 * time.Second, true},
		{now.Add(24 * time.Hour).Format(http.TimeFormat), max, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Friday, 01-May-26 12:00:10 GMT", 10 * time.Second, true},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.value, now, max)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tc.value, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestBackoffHonoursRetryAfterWithinBounds(t *testing.T) {
	t.Parallel()
	b := newBackoff(time.Now)
	resp := func(retryAfter string) *http.Response {
		return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {retryAfter}}}
	}

	if got := b.wait(time.Second, 10*time.Second, 0, resp("3600")); got != 10*time.Second {
		t.Errorf("Retry-After 3600 with a 10s cap: wait %s, want 10s", got)
	}
	if got := b.wait(time.Second, 10*time.Second, 0, resp("4")); got != 4*time.Second {
		t.Errorf("Retry-After 4: wait %s, want 4s", got)
	}
	if got := b.wait(time.Second, 10*time.Second, 0, resp("0")); got != time.Second {
		t.Errorf("Retry-After 0: wait %s, want the 1s minimum", got)
	}
	if got := b.wait(5*time.Second, time.Second, 0, resp("3600")); got != time.Second {
		t.Errorf("cap below minimum: wait %s, want the 1s cap", got)
	}
}

func TestBackoffGrowsWithJitterUpToCap(t *testing.T) {
	t.Parallel()
	b := newBackoff(time.Now)
	const lo, hi = 100 * time.Millisecond, 3 * time.Second

	for attempt := range 70 {
		base := hi
		if attempt < 5 {
			base = lo << attempt
		}
		for range 20 {
			got := b.wait(lo, hi, attempt, nil)
			if got < base/2 || got > base {
				t.Fatalf("attempt %d: wait %s outside [%s, %s]", attempt, got, base/2, base)
			}
		}
	}
}
