package telemetry

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
)

var dropOptions = newDropOptions()

// newDropOptions precomputes the attribute sets of batches dropped, one per
// batch kind and drop reason.
func newDropOptions() map[BatchKind]attrOptions {
	reasons := []DropReason{DropQueueFull, DropRejected, DropExpired, DropShutdown}
	out := map[BatchKind]attrOptions{}
	for _, kind := range []BatchKind{BatchMetrics, BatchLogs, otherValue} {
		kindAttr := attribute.String(attrKind, string(kind))
		opts := attrOptions{
			known: map[string]metric.MeasurementOption{},
			other: metric.WithAttributeSet(attribute.NewSet(kindAttr, attribute.String(attrReason, otherValue))),
		}
		for _, r := range reasons {
			opts.known[string(r)] = metric.WithAttributeSet(attribute.NewSet(kindAttr, attribute.String(attrReason, string(r))))
		}
		out[kind] = opts
	}
	return out
}

// AgentMetrics records the agent's own metrics. Create it once per process.
// A nil *AgentMetrics records nothing.
type AgentMetrics struct {
	meter           metric.Meter
	batchesQueued   metric.Int64Counter
	batchesSent     metric.Int64Counter
	batchesRetried  metric.Int64Counter
	batchesDropped  metric.Int64Counter
	queueLength     metric.Int64ObservableGauge
	collectDuration metric.Float64Histogram
}

// NewAgentMetrics creates the agent instruments on meter, usually
// Telemetry.Meter().
func NewAgentMetrics(meter metric.Meter) (*AgentMetrics, error) {
	f := &instrumentFactory{meter: meter}
	m := &AgentMetrics{
		meter:           meter,
		batchesQueued:   f.counter("miniobserv.agent.batches.queued", "{batch}", "Batches put on the send queue, by kind."),
		batchesSent:     f.counter("miniobserv.agent.batches.sent", "{batch}", "Batches the server accepted, by kind."),
		batchesRetried:  f.counter("miniobserv.agent.batches.retried", "{batch}", "Send attempts that failed and will be retried, by kind."),
		batchesDropped:  f.counter("miniobserv.agent.batches.dropped", "{batch}", "Batches given up on, by kind and reason."),
		queueLength:     f.gauge("miniobserv.agent.queue.length", "{batch}", "Batches waiting in the send queue, by kind."),
		collectDuration: f.seconds("miniobserv.agent.collect.duration", "Time one collector took for one tick, by collector."),
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	return m, nil
}

// AddBatchesQueued counts n batches put on the queue of kind.
func (m *AgentMetrics) AddBatchesQueued(ctx context.Context, kind BatchKind, n int) {
	if m == nil {
		return
	}
	m.batchesQueued.Add(ctx, int64(n), kindOptions.get(string(kind)))
}

// AddBatchesSent counts n batches the server accepted.
func (m *AgentMetrics) AddBatchesSent(ctx context.Context, kind BatchKind, n int) {
	if m == nil {
		return
	}
	m.batchesSent.Add(ctx, int64(n), kindOptions.get(string(kind)))
}

// AddBatchesRetried counts n failed send attempts that will be retried.
func (m *AgentMetrics) AddBatchesRetried(ctx context.Context, kind BatchKind, n int) {
	if m == nil {
		return
	}
	m.batchesRetried.Add(ctx, int64(n), kindOptions.get(string(kind)))
}

// AddBatchesDropped counts n batches given up on, for reason.
func (m *AgentMetrics) AddBatchesDropped(ctx context.Context, kind BatchKind, reason DropReason, n int) {
	if m == nil {
		return
	}
	opts, ok := dropOptions[kind]
	if !ok {
		opts = dropOptions[otherValue]
	}
	m.batchesDropped.Add(ctx, int64(n), opts.get(string(reason)))
}

// RecordCollectDuration records how long collector took for one tick.
// collector is the registered collector name, a bounded set.
func (m *AgentMetrics) RecordCollectDuration(ctx context.Context, collector string, d time.Duration) {
	if m == nil {
		return
	}
	m.collectDuration.Record(ctx, d.Seconds(), metric.WithAttributes(attribute.String(attrCollector, collector)))
}

// ObserveQueueLength reports length() as the queue length of kind each
// time metrics are collected. length runs on the SDK's export goroutine,
// so it must be safe for concurrent use and must not block. Call
// Unregister on the result to stop reporting.
func (m *AgentMetrics) ObserveQueueLength(kind BatchKind, length func() int) (metric.Registration, error) {
	if m == nil {
		return metricnoop.Meter{}.RegisterCallback(nil)
	}

	opt := metric.WithAttributeSet(attribute.NewSet(attribute.String(attrKind, string(kind))))
	if _, ok := kindOptions.known[string(kind)]; !ok {
		opt = metric.WithAttributeSet(attribute.NewSet(attribute.String(attrKind, otherValue)))
	}

	reg, err := m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(m.queueLength, int64(length()), opt)
		return nil
	}, m.queueLength)
	if err != nil {
		return nil, fmt.Errorf("register queue length callback for %s: %w", kind, err)
	}
	return reg, nil
}
