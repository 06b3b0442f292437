package alerting_test

import (
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/server/alerting"
)

func TestFormatDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{5 * time.Minute, "5m"},
		{90 * time.Second, "90s"},
		{90 * time.Minute, "1h30m"},
		{2 * time.Hour, "2h"},
		{time.Hour + time.Second, "1h1s"},
		{3661 * time.Second, "1h1m1s"},
		{500 * time.Millisecond, "500ms"},
		{1500 * time.Millisecond, "1.5s"},
		{48 * time.Hour, "48h"},
	}
	for _, c := range cases {
		if got := alerting.FormatDuration(c.d); got != c.want {
			t.Errorf("FormatDuration(%s) = %q, want %q", c.d, got, c.want)
		}
		back, err := time.ParseDuration(alerting.FormatDuration(c.d))
		if err != nil || back != c.d {
			t.Errorf("ParseDuration(%q) = %s, %v, want %s", alerting.FormatDuration(c.d), back, err, c.d)
		}
	}
}
