package model

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Validation limits. They bound what one request can make the server store
// and keep label sets usable as Prometheus labels.
const (
	MaxHostLen        = 253 // a fully qualified DNS name
	MaxBatchIDLen     = 64
	MaxLabels         = 16
	MaxLabelKeyLen    = 64
	MaxLabelValueLen  = 256
	MaxPathLen        = 4096
	MaxLogMessageLen  = 64 * 1024
	MaxFutureSkew     = 10 * time.Minute
	MaxBytesValue     = 1 << 53 // largest integer a float64 holds exactly
	maxIntervalSecond = 86400
)

// ErrTooLarge is wrapped by validation errors that the server rejects with
// 413 rather than 400, so that the agent splits the batch.
var ErrTooLarge = errors.New("batch too large")

// FieldError is a validation failure on one field, named by its JSON path
// such as "metrics[3].value".
type FieldError struct {
	Field string
	Msg   string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap returns the sentinel behind the error, if any.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Limits holds the time window a batch must fall in.
type Limits struct {
	// Now is the server's clock reading for this request.
	Now time.Time
	// MaxAge rejects points older than Now-MaxAge (the retention period);
	// zero disables the check.
	MaxAge time.Duration
}

// Validate checks a metric batch against every rule of the API contract and
// returns the first problem as a *FieldError. Point hosts left empty are
// filled in with the batch host, so a valid batch is ready to store.
func (b *MetricBatch) Validate(lim Limits) error {
	if err := validateHeader(b.Host, b.BatchID, len(b.Metrics), "metrics"); err != nil {
		return err
	}
	if b.IntervalSeconds < 0 || b.IntervalSeconds > maxIntervalSecond || math.IsNaN(b.IntervalSeconds) {
		return fieldErr("interval_seconds", "must be between 0 and %d, got %v", maxIntervalSecond, b.IntervalSeconds)
	}
	for i := range b.Metrics {
		if err := b.Metrics[i].validate(b.Host, lim); err != nil {
			err.Field = fmt.Sprintf("metrics[%d].%s", i, err.Field)
			return err
		}
	}
	return nil
}

func validateHeader(host, batchID string, n int, items string) error {
	if err := validateHost(host); err != nil {
		return fieldErr("host", "%s", err)
	}
	if len(batchID) > MaxBatchIDLen {
		return fieldErr("batch_id", "longer than %d characters", MaxBatchIDLen)
	}
	if n == 0 {
		return fieldErr(items, "empty: send between 1 and %d items", MaxBatchItems)
	}
	if n > MaxBatchItems {
		return &FieldError{Field: items, Msg: fmt.Sprintf("%d items, more than %d: split the batch", n, MaxBatchItems), Err: ErrTooLarge}
	}
	return nil
}

func validateHost(host string) error {
	switch {
	case strings.TrimSpace(host) == "":
		return errors.New("empty: set the host name")
	case len(host) > MaxHostLen:
		return fmt.Errorf("longer than %d characters", MaxHostLen)
	case !utf8.ValidString(host) || strings.ContainsFunc(host, isControl):
		return errors.New("contains invalid UTF-8 or control characters")
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func (m *Metric) validate(batchHost string, lim Limits) *FieldError {
	if m.Host == "" {
		m.Host = batchHost
	} else if m.Host != batchHost {
		return fieldErr("host", "%q differs from the batch host %q", m.Host, batchHost)
	}

	info, ok := Metrics[m.Name]
	if !ok {
		return fieldErr("name", "unknown metric %q: use one of %s", m.Name, strings.Join(MetricNames(), ", "))
	}
	if err := validateValue(info, m.Value); err != nil {
		return err
	}
	if err := validateTime(m.Time, lim); err != nil {
		return err
	}
	return validateLabels(m.Labels)
}

func validateValue(info MetricInfo, v float64) *FieldError {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fieldErr("value", "not a finite number")
	}
	switch info.Unit {
	case UnitPercent:
		if v < 0 || v > 100 {
			return fieldErr("value", "%v is outside 0-100 for percentage metric %s", v, info.Name)
		}
	case UnitBytes:
		if v < 0 {
			return fieldErr("value", "%v is negative for byte metric %s", v, info.Name)
		}
		if v > MaxBytesValue {
			return fieldErr("value", "%v is larger than %d for byte metric %s: a counter wrap or reset?", v, int64(MaxBytesValue), info.Name)
		}
	}
	return nil
}

func validateTime(t time.Time, lim Limits) *FieldError {
	if t.IsZero() {
		return fieldErr("time", "missing: set an RFC 3339 timestamp")
	}
	if t.After(lim.Now.Add(MaxFutureSkew)) {
		return fieldErr("time", "%s is more than %s in the future: check the host clock", t.Format(time.RFC3339), MaxFutureSkew)
	}
	if lim.MaxAge > 0 && t.Before(lim.Now.Add(-lim.MaxAge)) {
		return fieldErr("time", "%s is older than the retention period %s", t.Format(time.RFC3339), lim.MaxAge)
	}
	return nil
}

func validateLabels(labels map[string]string) *FieldError {
	if len(labels) > MaxLabels {
		return fieldErr("labels", "%d labels, more than %d", len(labels), MaxLabels)
	}
	for k, v := range labels {
		if err := validateLabel(k, v); err != nil {
			return err
		}
	}
	return nil
}

func validateLabel(k, v string) *FieldError {
	switch {
	case k == "":
		return fieldErr("labels", "empty label key")
	case len(k) > MaxLabelKeyLen:
		return fieldErr("labels", "label key longer than %d characters", MaxLabelKeyLen)
	case !ValidLabelKey(k):
		return fieldErr("labels."+k, "label key must be letters, digits and underscores, not starting with a digit")
	case v == "":
		return fieldErr("labels."+k, "empty label value")
	case len(v) > MaxLabelValueLen:
		return fieldErr("labels."+k, "label value longer than %d characters", MaxLabelValueLen)
	case !utf8.ValidString(v) || strings.ContainsFunc(v, isControl):
		return fieldErr("labels."+k, "label value contains invalid UTF-8 or control characters")
	}
	return nil
}

// ValidLabelKey accepts the Prometheus label name syntax, so every stored
// label can be exported on /metrics unchanged.
func ValidLabelKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// NormalizeLevel maps a log level to its stored form, matching
// case-insensitively and accepting common synonyms. ok is false for a level
// outside debug, info, warn and error.
func NormalizeLevel(level string) (norm string, ok bool) {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug", "trace":
		return LevelDebug, true
	case "info", "notice":
		return LevelInfo, true
	case "warn", "warning":
		return LevelWarn, true
	case "error", "err", "fatal", "critical", "crit", "panic":
		return LevelError, true
	}
	return "", false
}

// Validate checks a log batch, normalises each entry's level and fills empty
// entry hosts with the batch host.
func (b *LogBatch) Validate(lim Limits) error {
	if err := validateHeader(b.Host, b.BatchID, len(b.Entries), "entries"); err != nil {
		return err
	}
	for i := range b.Entries {
		if err := b.Entries[i].validate(b.Host, lim); err != nil {
			err.Field = fmt.Sprintf("entries[%d].%s", i, err.Field)
			return err
		}
	}
	return nil
}

func (e *LogEntry) validate(batchHost string, lim Limits) *FieldError {
	if e.Host == "" {
		e.Host = batchHost
	} else if e.Host != batchHost {
		return fieldErr("host", "%q differs from the batch host %q", e.Host, batchHost)
	}

	level, ok := NormalizeLevel(e.Level)
	if !ok {
		return fieldErr("level", "unknown level %q: use debug, info, warn or error", e.Level)
	}
	e.Level = level

	if err := validateTime(e.Time, lim); err != nil {
		return err
	}
	if len(e.Path) > MaxPathLen {
		return fieldErr("path", "longer than %d bytes", MaxPathLen)
	}
	if len(e.Message) > MaxLogMessageLen {
		return fieldErr("message", "%d bytes, more than %d: truncate long lines before sending", len(e.Message), MaxLogMessageLen)
	}
	// Log lines are whatever programs wrote; invalid bytes are replaced so a
	// line is never lost over its encoding.
	e.Message = strings.ToValidUTF8(e.Message, "\uFFFD")
	e.Path = strings.ToValidUTF8(e.Path, "\uFFFD")
	return nil
}
