package alerting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/kamerrezz/theminidog/internal/telemetry"
	"github.com/kamerrezz/theminidog/server/storage"
)

// maxWindow caps how far back a rule query looks, so that one host with a
// very long collection interval cannot make every rule scan days of rows.
// Two evaluation intervals are always covered, even when longer.
const maxWindow = time.Hour

// defaultConcurrency is how many rules are evaluated at once when Options
// leaves it unset. Each rule takes one database connection for one query.
const defaultConcurrency = 4

// Hosts is the evaluator's view of host liveness.
type Hosts interface {
	// Retired reports whether host was retired. Its firing alerts resolve
	// and it starts no new ones.
	Retired(host string) bool
	// DownAfter returns the silence after which host counts as down.
	DownAfter(host string) time.Duration
	// MaxDownAfter returns the longest DownAfter over all known hosts.
	MaxDownAfter() time.Duration
}

// Options configures an Evaluator.
type Options struct {
	Rules []Rule
	// Interval is the evaluation period, ALERT_EVAL_INTERVAL. A series with
	// no value in the last 2×Interval (or its host's down period, when
	// longer) has no data.
	Interval time.Duration
	Store    *storage.Store
	// Hosts, when set, supplies retirement and per-host down periods.
	Hosts Hosts
	// Sender receives every event; nil leaves events only logged.
	Sender Sender
	Logger *slog.Logger
	// Concurrency bounds how many rules are evaluated at once; 0 means 4.
	Concurrency int
	// Now is the clock; it defaults to time.Now.
	Now func() time.Time
	// Tracer traces each evaluation and rule; nil means no spans.
	Tracer trace.Tracer
	// Metrics records each evaluation's duration; nil records nothing.
	Metrics *telemetry.ServerMetrics
}

// Evaluator runs alert rules against the newest stored values and tracks
// each alert's state: pending while the condition has held for less than
// the rule's for duration, then firing until the value clears.
type Evaluator struct {
	opts  Options
	log   *slog.Logger
	rules []*ruleState
}

// New returns an evaluator for opts.Rules and resumes the firing alerts
// stored by a previous run. Stored alerts of rules no longer configured are
// deleted.
func New(ctx context.Context, opts Options) (*Evaluator, error) {
	if opts.Interval <= 0 {
		return nil, fmt.Errorf("alert evaluator: interval %s must be positive", opts.Interval)
	}
	if opts.Store == nil {
		return nil, errors.New("alert evaluator: a store is required")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = defaultConcurrency
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sender == nil {
		opts.Sender = logSender{opts.Logger}
	}

	e := &Evaluator{opts: opts, log: opts.Logger}
	for _, r := range opts.Rules {
		e.rules = append(e.rules, &ruleState{rule: r, alerts: map[string]*alert{}})
	}
	if err := e.restore(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// restore loads the alerts that were firing when the server last stopped.
func (e *Evaluator) restore(ctx context.Context) error {
	stored, err := e.opts.Store.LoadFiringAlerts(ctx)
	if err != nil {
		return err
	}

	byID := map[string]*ruleState{}
	for _, rs := range e.rules {
		byID[rs.rule.ID] = rs
	}
	now := e.opts.Now()
	for _, fa := range stored {
		rs := byID[fa.RuleID]
		if rs == nil {
			e.log.Warn("stored firing alert dropped: its rule is no longer configured",
				"rule_id", fa.RuleID, "host", fa.Host, "incident_id", fa.IncidentID)
			if err := e.opts.Store.DeleteFiringAlert(ctx, fa.RuleID, fa.Host, fa.Labels); err != nil {
				return err
			}
			continue
		}
		rs.alerts[seriesKey(fa.Host, fa.Labels)] = &alert{
			host: fa.Host, labels: fa.Labels, state: StateFiring, value: fa.Value,
			activeAt: fa.FiredAt, firedAt: fa.FiredAt, notifiedAt: now, incidentID: fa.IncidentID,
		}
		e.log.Info("firing alert resumed", "rule_id", fa.RuleID, "host", fa.Host, "labels", fa.Labels, "incident_id", fa.IncidentID)
	}
	return nil
}

// Rules returns the configured rules.
func (e *Evaluator) Rules() []Rule { return e.opts.Rules }

// Run evaluates every rule each interval until ctx ends. Evaluation times
// are aligned to a grid of intervals from the start, so a rule whose for
// equals k intervals fires exactly k evaluations after its condition first
// held, whatever the ticker's jitter.
func (e *Evaluator) Run(ctx context.Context) {
	interval := e.opts.Interval
	start := e.opts.Now()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()

	for {
		select {
		case <-ctx.Done():
			return
		case tick := <-ticker.C:
			at := start.Add(tick.Sub(start).Round(interval))
			began := time.Now()
			if err := e.Evaluate(ctx, at); err != nil && ctx.Err() == nil {
				e.log.Error("alert evaluation failed", "err", err)
			}
			if took := time.Since(began); took > interval {
				e.log.Warn("alert evaluation overran its interval: ticks were skipped",
					"took", took.String(), "interval", interval.String(), "rules", len(e.rules))
			}
		}
	}
}

// Evaluate runs every rule once as of now, at most Concurrency rules at a
// time, and sends the resulting events. A rule whose query fails keeps its
// alerts as they were; the error names the rule.
func (e *Evaluator) Evaluate(ctx context.Context, now time.Time) (err error) {
	start := time.Now()
	ctx, span := e.tracer().Start(ctx, "evaluate alert rules", trace.WithAttributes(attribute.Int("miniobserv.rules", len(e.rules))))
	defer func() {
		telemetry.EndSpan(span, err)
		e.opts.Metrics.RecordAlertEvaluation(ctx, time.Since(start))
	}()

	sem := make(chan struct{}, e.opts.Concurrency)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, rs := range e.rules {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()

			if err := e.evaluateRule(ctx, rs, now); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (e *Evaluator) tracer() trace.Tracer {
	if e.opts.Tracer == nil {
		return noop.NewTracerProvider().Tracer("")
	}
	return e.opts.Tracer
}

func (e *Evaluator) evaluateRule(ctx context.Context, rs *ruleState, now time.Time) (err error) {
	ctx, span := e.tracer().Start(ctx, "evaluate rule", trace.WithAttributes(attribute.String("miniobserv.rule_id", rs.rule.ID)))
	defer func() { telemetry.EndSpan(span, err) }()

	q := storage.LatestQuery{Name: rs.rule.Name, Labels: rs.rule.Labels, Since: now.Add(-e.window())}
	if rs.rule.Host != AllHosts {
		q.Host = rs.rule.Host
	}
	values, err := e.opts.Store.LatestValues(ctx, q)
	if err != nil {
		return fmt.Errorf("evaluate rule %s: %w", rs.rule.ID, err)
	}

	rs.mu.Lock()
	seen := map[string]bool{}
	var changes []transition
	for _, v := range values {
		if e.retired(v.Host) || now.Sub(v.Time) > e.noDataAfter(v.Host) {
			continue
		}
		key := seriesKey(v.Host, v.Labels)
		seen[key] = true
		changes = append(changes, rs.observe(key, v, now)...)
	}
	for key, a := range rs.alerts {
		if !seen[key] {
			changes = append(changes, rs.vanish(key, a, e.vanishReason(a.host))...)
		}
	}
	rs.mu.Unlock()

	for _, c := range changes {
		e.apply(ctx, rs.rule, c, now)
	}
	return nil
}

// window is how far back the rule query looks: the longest no-data period,
// capped at maxWindow.
func (e *Evaluator) window() time.Duration {
	w := 2 * e.opts.Interval
	if e.opts.Hosts != nil {
		w = max(w, min(e.opts.Hosts.MaxDownAfter(), maxWindow))
	}
	return w
}

// noDataAfter is the age at which the newest value of a host's series
// counts as no data. It is the longer of two evaluation intervals and the
// host's down period, so a series does not resolve as no-data before its
// host would be reported down. The exception is a down period beyond
// maxWindow (an agent interval over 20 minutes), which is cut to maxWindow.
func (e *Evaluator) noDataAfter(host string) time.Duration {
	d := 2 * e.opts.Interval
	if e.opts.Hosts != nil {
		d = max(d, min(e.opts.Hosts.DownAfter(host), maxWindow))
	}
	return d
}

func (e *Evaluator) retired(host string) bool {
	return e.opts.Hosts != nil && e.opts.Hosts.Retired(host)
}

func (e *Evaluator) vanishReason(host string) string {
	if e.retired(host) {
		return reasonRetired
	}
	return reasonNoData
}

// apply stores, logs and sends one transition.
func (e *Evaluator) apply(ctx context.Context, r Rule, c transition, now time.Time) {
	a := c.alert
	switch c.kind {
	case kindFired:
		e.log.Info("alert firing", "rule_id", r.ID, "host", a.host, "labels", a.labels, "value", a.value, "incident_id", a.incidentID)
		err := e.opts.Store.SaveFiringAlert(ctx, storage.FiringAlert{
			RuleID: r.ID, Host: a.host, Labels: a.labels, Name: r.Name, IncidentID: a.incidentID, Value: a.value, FiredAt: a.firedAt,
		})
		if err != nil {
			e.log.Error("store firing alert failed: a restart will fire it again", "rule_id", r.ID, "host", a.host, "err", err)
		}
		e.opts.Sender.Send(ctx, a.event(r, EventFiring, now))

	case kindRepeated:
		e.log.Info("alert still firing, event repeated", "rule_id", r.ID, "host", a.host, "labels", a.labels, "value", a.value, "incident_id", a.incidentID)
		e.opts.Sender.Send(ctx, a.event(r, EventFiring, now))

	case kindResolved:
		e.log.Info("alert resolved", "rule_id", r.ID, "host", a.host, "labels", a.labels, "value", a.value,
			"incident_id", a.incidentID, "reason", c.reason)
		if err := e.opts.Store.DeleteFiringAlert(ctx, r.ID, a.host, a.labels); err != nil {
			e.log.Error("delete firing alert failed: a restart will resume it", "rule_id", r.ID, "host", a.host, "err", err)
		}
		if r.SendResolved {
			e.opts.Sender.Send(ctx, a.event(r, EventResolved, now))
		}
	}
}
