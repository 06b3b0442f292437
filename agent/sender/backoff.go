package sender

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// backoff computes the wait before a retry. It replaces
// retryablehttp.DefaultBackoff, which returns the server's Retry-After
// as it is, even when that is far beyond RetryWaitMax
// (https://github.com/hashicorp/go-retryablehttp/issues/247). One 429
// with "Retry-After: 3600" would otherwise stall the sender for an hour
// and block shutdown.
type backoff struct {
	now func() time.Time
	// jitter returns a random duration in [0, n).
	jitter func(n time.Duration) time.Duration
}

func newBackoff(now func() time.Time) *backoff {
	return &backoff{
		now:    now,
		jitter: func(n time.Duration) time.Duration { return rand.N(n) },
	}
}

// wait has the signature of retryablehttp.Backoff. A Retry-After header,
// in seconds or as an HTTP date, is honoured but clamped to [min, max].
// Without one, the wait grows exponentially from min and is capped at max,
// and then jittered into [base/2, base] so that agents that failed
// together do not retry together.
func (b *backoff) wait(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	min = clampMin(min, max)

	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), b.now(), max); ok {
			return clamp(d, min, max)
		}
	}

	base := exponential(min, max, attempt)
	half := base / 2
	if half <= 0 {
		return base
	}
	return half + b.jitter(base-half+1)
}

// clampMin keeps min within (0, max], so a cap below the default minimum
// still works.
func clampMin(min, max time.Duration) time.Duration {
	if min <= 0 {
		min = time.Millisecond
	}
	if min > max {
		min = max
	}
	return min
}

// exponential returns min * 2^attempt, capped at max without overflowing.
func exponential(min, max time.Duration, attempt int) time.Duration {
	d := min
	for range attempt {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	if d > max {
		return max
	}
	return d
}

func clamp(d, min, max time.Duration) time.Duration {
	switch {
	case d < min:
		return min
	case d > max:
		return max
	}
	return d
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
// Values beyond max are returned as max, which also keeps a huge number of
// seconds from overflowing time.Duration. ok is false for an absent or
// malformed header.
func parseRetryAfter(value string, now time.Time, max time.Duration) (d time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}

	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs >= int64(max/time.Second)+1 {
			return max, true
		}
		return time.Duration(secs) * time.Second, true
	}

	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	until := at.Sub(now)
	switch {
	case until < 0:
		return 0, true
	case until > max:
		return max, true
	}
	return until, true
}
