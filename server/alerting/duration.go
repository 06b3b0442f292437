package alerting

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Duration is a rule duration. Rules give it as a Go duration string such
// as "5m" or "90s"; JSON output writes it in the compact form of
// FormatDuration.
type Duration time.Duration

// FormatDuration writes d compactly: "5m", "90s", "1h30m", "2h", "0s". A
// duration under an hour that is not a whole number of minutes is written
// in seconds ("90s", not "1m30s"). Durations with a fraction of a second
// keep Go's form ("500ms", "1.5s").
func FormatDuration(d time.Duration) string {
	if d <= 0 || d%time.Second != 0 {
		return d.String()
	}
	if d < time.Hour && d%time.Minute != 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}

	var b strings.Builder
	hours, minutes, seconds := d/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second
	if hours > 0 {
		fmt.Fprintf(&b, "%dh", hours)
	}
	if minutes > 0 {
		fmt.Fprintf(&b, "%dm", minutes)
	}
	if seconds > 0 {
		fmt.Fprintf(&b, "%ds", seconds)
	}
	return b.String()
}

// String returns the compact form.
func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// MarshalJSON writes the compact form as a JSON string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// parseDuration reads a non-negative Go duration string.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use a value like \"90s\", \"5m\" or \"1h30m\"", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}
