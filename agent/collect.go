package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/internal/telemetry"
	"github.com/kamerrezz/theminidog/model"
)

// collectorRunner is a collector with the state the tick loop keeps for
// it.
type collectorRunner struct {
	name      string
	collector collectors.Collector
	// busy is set while a Collect call runs. A call that ignores its
	// context can outlive its tick, and the next tick then skips the
	// collector rather than piling up goroutines behind it.
	busy atomic.Bool
}

type collectResult struct {
	metrics  []model.Metric
	err      error
	duration time.Duration
}

// collectLoop runs one tick at once and then one every interval, until
// ctx ends.
func (a *Agent) collectLoop(ctx context.Context) {
	ticker := time.NewTicker(a.cfg.CollectInterval)
	defer ticker.Stop()

	for {
		a.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// collectTimeout is how long a tick waits for its collectors: four fifths
// of the interval, so that a hung collector never delays the next tick.
func (a *Agent) collectTimeout() time.Duration {
	return a.cfg.CollectInterval * 4 / 5
}

// tick collects from every collector, stamps the points with one UTC
// timestamp and the host, and queues them. First samples of delta
// collectors may yield no points, and an empty tick queues nothing.
func (a *Agent) tick(ctx context.Context) {
	now := a.now().UTC()
	spanCtx, span := a.tracer.Start(ctx, "collect")
	points := a.collect(spanCtx, now)
	span.SetAttributes(attribute.Int("miniobserv.points", len(points)))
	span.End()
	if len(points) == 0 {
		return
	}

	for start := 0; start < len(points); start += model.MaxBatchItems {
		end := min(start+model.MaxBatchItems, len(points))
		batch := model.MetricBatch{
			Host:            a.cfg.AgentHost,
			BatchID:         uuid.NewString(),
			IntervalSeconds: a.cfg.CollectInterval.Seconds(),
			Metrics:         points[start:end:end],
		}
		if a.metricQueue.Push(batch) {
			a.metricBatchesQueued.Add(1)
			a.metrics.AddBatchesQueued(ctx, telemetry.BatchMetrics, 1)
		}
	}
}

// collect runs the collectors concurrently and gathers their points in
// collector order. A failing collector is logged and its partial points
// are kept.
func (a *Agent) collect(ctx context.Context, now time.Time) []model.Metric {
	tickCtx, cancel := context.WithTimeout(ctx, a.collectTimeout())
	defer cancel()

	results := make([]chan collectResult, len(a.collectors))
	for i, r := range a.collectors {
		results[i] = a.startCollector(tickCtx, r)
	}

	var points []model.Metric
	for i, r := range a.collectors {
		if results[i] == nil {
			continue
		}
		res := awaitResult(tickCtx, results[i], a.collectTimeout())
		if ctx.Err() != nil {
			// Shutting down: cancelled collectors fail as expected, so their
			// errors are not logged.
			res.err = nil
		}
		points = append(points, a.acceptPoints(r.name, res, now)...)
	}
	return points
}

// startCollector runs one Collect call in its own goroutine, unless the
// previous call is still running.
func (a *Agent) startCollector(ctx context.Context, r *collectorRunner) chan collectResult {
	if !r.busy.CompareAndSwap(false, true) {
		a.log.Warn("collector skipped: previous call still running", "collector", r.name)
		return nil
	}

	out := make(chan collectResult, 1)
	go func() {
		defer r.busy.Store(false)
		ctx, span := a.tracer.Start(ctx, "collect "+r.name, trace.WithAttributes(attribute.String("miniobserv.collector", r.name)))
		start := time.Now()
		metrics, err := r.collector.Collect(ctx)
		d := time.Since(start)
		telemetry.EndSpan(span, err)
		a.metrics.RecordCollectDuration(ctx, r.name, d)
		out <- collectResult{metrics: metrics, err: err, duration: d}
	}()
	return out
}

// awaitResult waits for a collector until ctx ends. A result that is
// already there wins over an ended ctx.
func awaitResult(ctx context.Context, ch chan collectResult, timeout time.Duration) collectResult {
	select {
	case res := <-ch:
		return res
	default:
	}

	select {
	case res := <-ch:
		return res
	case <-ctx.Done():
		return collectResult{err: fmt.Errorf("collect timed out after %s: %w", timeout, ctx.Err())}
	}
}

// acceptPoints logs the outcome of one collector and returns its points
// stamped and validated. A point the server would reject is dropped here,
// because one bad point makes the server reject the whole batch.
func (a *Agent) acceptPoints(name string, res collectResult, now time.Time) []model.Metric {
	if res.err != nil {
		a.log.Warn("collector failed", "collector", name, "error", res.err, "points", len(res.metrics))
	} else {
		a.log.Debug("collector finished", "collector", name, "points", len(res.metrics), "duration", res.duration)
	}

	valid := make([]model.Metric, 0, len(res.metrics))
	var rejected int
	var firstErr error
	for _, m := range res.metrics {
		m.Time, m.Host = now, a.cfg.AgentHost
		if err := validatePoint(m, now); err != nil {
			rejected++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		valid = append(valid, m)
	}

	if rejected > 0 {
		a.log.Warn("collector produced invalid points", "collector", name, "dropped", rejected, "error", firstErr)
	}
	return valid
}

// validatePoint applies the server's validation to a single point. The
// error names the metric and labels instead of a position in a batch.
func validatePoint(m model.Metric, now time.Time) error {
	single := model.MetricBatch{Host: m.Host, Metrics: []model.Metric{m}}
	err := single.Validate(model.Limits{Now: now})

	var fieldErr *model.FieldError
	if errors.As(err, &fieldErr) {
		field := strings.TrimPrefix(fieldErr.Field, "metrics[0].")
		return fmt.Errorf("%s %v: %s: %s", m.Name, m.Labels, field, fieldErr.Msg)
	}
	return err
}
