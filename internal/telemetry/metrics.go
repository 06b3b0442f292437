package telemetry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// durationBuckets are histogram bucket bounds in seconds, from 1 ms (a
// small insert, one collector on a quiet host) to 10 s (a request timeout).
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Attribute keys of the MiniObserv metrics. Every value is drawn from a
// small fixed set, so the number of series stays bounded.
const (
	attrKind      = "kind"      // BatchKind
	attrReason    = "reason"    // RejectReason or DropReason
	attrType      = "type"      // notifier type
	attrCollector = "collector" // collector name
)

// otherValue replaces an attribute value outside its fixed set, so a caller
// bug cannot create unbounded series.
const otherValue = "other"

// BatchKind distinguishes metric batches from log batches. The agent keeps
// one queue of each.
type BatchKind string

// Batch kinds.
const (
	BatchMetrics BatchKind = "metrics"
	BatchLogs    BatchKind = "logs"
)

// RejectReason is the reason the server rejected points or log entries.
type RejectReason string

// Reject reasons. Any other value is recorded as "other".
const (
	RejectInvalid            RejectReason = "invalid"             // failed validation (400)
	RejectTooLarge           RejectReason = "too_large"           // over the item or size limit (413)
	RejectUnauthorized       RejectReason = "unauthorized"        // missing or bad token (401, 403)
	RejectStorageUnavailable RejectReason = "storage_unavailable" // the database failed (503)
	RejectDuplicate          RejectReason = "duplicate"           // batch_id already stored
)

// DropReason is the reason the agent gave up on a batch.
type DropReason string

// Drop reasons. Any other value is recorded as "other".
const (
	DropQueueFull DropReason = "queue_full" // not queued because the queue was full
	DropRejected  DropReason = "rejected"   // the server responded with a 4xx status that a retry cannot fix
	DropExpired   DropReason = "expired"    // retried past its maximum age
	DropShutdown  DropReason = "shutdown"   // still queued when the agent stopped
)

// attrOptions precomputes one measurement option per allowed attribute
// value, so recording allocates nothing; values outside the set share the
// "other" option.
type attrOptions struct {
	known map[string]metric.MeasurementOption
	other metric.MeasurementOption
}

func newAttrOptions(key string, values ...string) attrOptions {
	opts := attrOptions{
		known: make(map[string]metric.MeasurementOption, len(values)),
		other: metric.WithAttributeSet(attribute.NewSet(attribute.String(key, otherValue))),
	}
	for _, v := range values {
		opts.known[v] = metric.WithAttributeSet(attribute.NewSet(attribute.String(key, v)))
	}
	return opts
}

func (a attrOptions) get(value string) metric.MeasurementOption {
	if opt, ok := a.known[value]; ok {
		return opt
	}
	return a.other
}

var (
	kindOptions   = newAttrOptions(attrKind, string(BatchMetrics), string(BatchLogs))
	rejectOptions = newAttrOptions(attrReason, string(RejectInvalid), string(RejectTooLarge),
		string(RejectUnauthorized), string(RejectStorageUnavailable), string(RejectDuplicate))
)

// instrumentFactory creates instruments on one meter and remembers the
// first error, so a constructor can create many and check once.
type instrumentFactory struct {
	meter metric.Meter
	errs  []error
}

func (f *instrumentFactory) counter(name, unit, desc string) metric.Int64Counter {
	c, err := f.meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	f.check(name, err)
	return c
}

func (f *instrumentFactory) seconds(name, desc string) metric.Float64Histogram {
	h, err := f.meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	f.check(name, err)
	return h
}

func (f *instrumentFactory) gauge(name, unit, desc string) metric.Int64ObservableGauge {
	g, err := f.meter.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
	f.check(name, err)
	return g
}

func (f *instrumentFactory) check(name string, err error) {
	if err != nil {
		f.errs = append(f.errs, fmt.Errorf("create instrument %s: %w", name, err))
	}
}

func (f *instrumentFactory) err() error {
	return errors.Join(f.errs...)
}

// ServerMetrics records the server's own metrics. Create it once per
// process. A nil *ServerMetrics records nothing, so handlers under test may
// run without one.
type ServerMetrics struct {
	ingestDuration      metric.Float64Histogram
	pointsIngested      metric.Int64Counter
	pointsRejected      metric.Int64Counter
	logsIngested        metric.Int64Counter
	logsRejected        metric.Int64Counter
	notificationsSent   metric.Int64Counter
	notificationsFailed metric.Int64Counter
	alertEvaluation     metric.Float64Histogram
}

// NewServerMetrics creates the server instruments on meter, usually
// Telemetry.Meter().
func NewServerMetrics(meter metric.Meter) (*ServerMetrics, error) {
	f := &instrumentFactory{meter: meter}
	m := &ServerMetrics{
		ingestDuration:      f.seconds("miniobserv.ingest.duration", "Time to validate and store one ingested batch, by kind (metrics or logs)."),
		pointsIngested:      f.counter("miniobserv.points.ingested", "{point}", "Metric points stored."),
		pointsRejected:      f.counter("miniobserv.points.rejected", "{point}", "Metric points not stored, by reason."),
		logsIngested:        f.counter("miniobserv.logs.ingested", "{entry}", "Log entries stored."),
		logsRejected:        f.counter("miniobserv.logs.rejected", "{entry}", "Log entries not stored, by reason."),
		notificationsSent:   f.counter("miniobserv.notifications.sent", "{notification}", "Notifications delivered, by notifier type."),
		notificationsFailed: f.counter("miniobserv.notifications.failed", "{notification}", "Notifications that failed after every retry, by notifier type."),
		alertEvaluation:     f.seconds("miniobserv.alert.evaluation.duration", "Time to evaluate every alert rule once."),
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	return m, nil
}

// RecordIngestDuration records how long one batch took from request to
// stored (or rejected).
func (m *ServerMetrics) RecordIngestDuration(ctx context.Context, kind BatchKind, d time.Duration) {
	if m == nil {
		return
	}
	m.ingestDuration.Record(ctx, d.Seconds(), kindOptions.get(string(kind)))
}

// AddPointsIngested counts n metric points stored.
func (m *ServerMetrics) AddPointsIngested(ctx context.Context, n int) {
	if m == nil {
		return
	}
	m.pointsIngested.Add(ctx, int64(n))
}

// AddPointsRejected counts n metric points not stored, for reason.
func (m *ServerMetrics) AddPointsRejected(ctx context.Context, reason RejectReason, n int) {
	if m == nil {
		return
	}
	m.pointsRejected.Add(ctx, int64(n), rejectOptions.get(string(reason)))
}

// AddLogsIngested counts n log entries stored.
func (m *ServerMetrics) AddLogsIngested(ctx context.Context, n int) {
	if m == nil {
		return
	}
	m.logsIngested.Add(ctx, int64(n))
}

// AddLogsRejected counts n log entries not stored, for reason.
func (m *ServerMetrics) AddLogsRejected(ctx context.Context, reason RejectReason, n int) {
	if m == nil {
		return
	}
	m.logsRejected.Add(ctx, int64(n), rejectOptions.get(string(reason)))
}

// AddNotificationSent counts one delivered notification. notifierType is
// the registered notifier type ("webhook", "slack", ...), never a URL or a
// channel name, so the attribute stays bounded.
func (m *ServerMetrics) AddNotificationSent(ctx context.Context, notifierType string) {
	if m == nil {
		return
	}
	m.notificationsSent.Add(ctx, 1, metric.WithAttributes(attribute.String(attrType, notifierType)))
}

// AddNotificationFailed counts one notification that could not be
// delivered. notifierType is as for AddNotificationSent.
func (m *ServerMetrics) AddNotificationFailed(ctx context.Context, notifierType string) {
	if m == nil {
		return
	}
	m.notificationsFailed.Add(ctx, 1, metric.WithAttributes(attribute.String(attrType, notifierType)))
}

// RecordAlertEvaluation records how long one pass over every alert rule
// took.
func (m *ServerMetrics) RecordAlertEvaluation(ctx context.Context, d time.Duration) {
	if m == nil {
		return
	}
	m.alertEvaluation.Record(ctx, d.Seconds())
}
