package notifiers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kamerrezz/theminidog/model"
)

// Dispatcher defaults. DefaultTimeout bounds one event's delivery to one
// notifier, including the wait for a free send slot and every retry.
const (
	DefaultTimeout        = 5 * time.Second
	DefaultMaxConcurrent  = 16
	DefaultBackoffInitial = 250 * time.Millisecond
	DefaultBackoffMax     = 2 * time.Second
)

// ErrDispatcherClosed is the error of a Send made after Close.
var ErrDispatcherClosed = errors.New("notification dispatcher is closed")

// Result describes one finished delivery of one event to one notifier. The
// result hook receives it, for example to feed OpenTelemetry counters.
type Result struct {
	// Type is the notifier type and Index its position in the list given to
	// NewDispatcher (the same position Build reports in config errors).
	Type  string
	Index int
	Event model.Event
	// Skipped is true when the notifier's config drops this event.
	Skipped bool
	// Attempts is how many times Notify ran. It is zero for a skipped event
	// and for one whose deadline passed before its turn came.
	Attempts int
	Duration time.Duration
	// Err is nil when the event was delivered or skipped.
	Err error
}

// Counts are the finished deliveries of one notifier type.
type Counts struct {
	Sent    uint64
	Failed  uint64
	Skipped uint64
}

// Option changes a Dispatcher setting.
type Option func(*dispatcherConfig)

type dispatcherConfig struct {
	timeout        time.Duration
	maxConcurrent  int
	backoffInitial time.Duration
	backoffMax     time.Duration
	hook           func(context.Context, Result)
}

// WithTimeout sets the deadline of one delivery (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(c *dispatcherConfig) { c.timeout = d }
}

// WithMaxConcurrent bounds how many Notify calls run at once across all
// notifiers (default DefaultMaxConcurrent).
func WithMaxConcurrent(n int) Option {
	return func(c *dispatcherConfig) { c.maxConcurrent = n }
}

// WithBackoff sets the wait before the first retry and its cap. The wait
// doubles after each retry and is jittered between half and all of it.
func WithBackoff(initial, maxWait time.Duration) Option {
	return func(c *dispatcherConfig) {
		c.backoffInitial = initial
		c.backoffMax = maxWait
	}
}

// WithResultHook calls hook once per finished delivery, from the delivery's
// goroutine, with the context given to Send minus its cancellation, so that
// metrics and spans can join the trace that raised the event. The hook must
// return quickly, because Close waits for it.
func WithResultHook(hook func(context.Context, Result)) Option {
	return func(c *dispatcherConfig) { c.hook = hook }
}

func (c dispatcherConfig) validate() error {
	var errs []error
	if c.timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout %s: must be positive", c.timeout))
	}
	if c.maxConcurrent < 1 {
		errs = append(errs, fmt.Errorf("max concurrent sends %d: must be at least 1", c.maxConcurrent))
	}
	if c.backoffInitial <= 0 || c.backoffMax < c.backoffInitial {
		errs = append(errs, fmt.Errorf("backoff %s up to %s: the initial wait must be positive and not above the maximum", c.backoffInitial, c.backoffMax))
	}
	return errors.Join(errs...)
}

// Dispatcher delivers events to a fixed list of notifiers. Each delivery runs
// in its own goroutine, detached from the caller's context, under a deadline,
// with retries and a bound on concurrent sends. It is safe for concurrent
// use.
type Dispatcher struct {
	notifiers []Notifier
	// types and counts are indexed like notifiers. The type is read once,
	// so that counting never depends on Type returning the same string.
	types  []string
	counts []typeCounts
	logger *slog.Logger
	cfg    dispatcherConfig
	slots  chan struct{}

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
	// tails maps each notifier and alert to the completion channel of the
	// latest delivery started for them, which keeps their events in order.
	tails map[orderKey]chan struct{}

	inFlight atomic.Int64
	// abort is cancelled when Close gives up waiting, which ends the
	// deliveries still running.
	abort       context.Context
	cancelAbort context.CancelFunc
}

// orderKey identifies one alert (rule, host and labels) or one host's
// liveness at one notifier.
type orderKey struct {
	index int
	alert string
}

// delivery is one event on its way to one notifier.
type delivery struct {
	index int
	n     Notifier
	ev    model.Event
	key   orderKey
	// prev is closed when the previous delivery for key has finished. It is
	// nil when there is none.
	prev chan struct{}
	done chan struct{}
}

type typeCounts struct {
	sent, failed, skipped atomic.Uint64
}

// NewDispatcher returns a Dispatcher for list. A nil logger discards logs.
func NewDispatcher(list []Notifier, logger *slog.Logger, opts ...Option) (*Dispatcher, error) {
	cfg := dispatcherConfig{
		timeout:        DefaultTimeout,
		maxConcurrent:  DefaultMaxConcurrent,
		backoffInitial: DefaultBackoffInitial,
		backoffMax:     DefaultBackoffMax,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("notification dispatcher: %w", err)
	}

	types := make([]string, len(list))
	for i, n := range list {
		if n == nil {
			return nil, fmt.Errorf("notification dispatcher: notifier %d is nil", i)
		}
		types[i] = n.Type()
	}

	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	abort, cancelAbort := context.WithCancel(context.Background())

	return &Dispatcher{
		notifiers:   append([]Notifier(nil), list...),
		types:       types,
		counts:      make([]typeCounts, len(list)),
		logger:      logger,
		cfg:         cfg,
		slots:       make(chan struct{}, cfg.maxConcurrent),
		tails:       make(map[orderKey]chan struct{}),
		abort:       abort,
		cancelAbort: cancelAbort,
	}, nil
}

// Send starts delivering ev to every notifier and returns at once. Each
// delivery keeps ctx's values, such as the trace context, but not its
// cancellation, so the end of an HTTP request does not cancel it. Its own
// deadline bounds it instead. Results arrive through the logs, Counts and
// the result hook.
//
// Events about the same alert (rule, host and labels) or the same host's
// liveness reach each notifier in the order of the Send calls. A delivery
// starts only once the previous one for that alert has finished, and the
// wait counts against its own deadline. Otherwise a quick resolve could overtake its firing and leave
// an incident open at the receiver. Unrelated events are delivered in
// parallel.
func (d *Dispatcher) Send(ctx context.Context, ev model.Event) {
	detached := context.WithoutCancel(ctx)
	alert := alertKey(ev)

	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		d.dropAll(detached, ev)
		return
	}
	deliveries := make([]delivery, len(d.notifiers))
	for i, n := range d.notifiers {
		key := orderKey{index: i, alert: alert}
		done := make(chan struct{})
		deliveries[i] = delivery{index: i, n: n, ev: ev, key: key, prev: d.tails[key], done: done}
		d.tails[key] = done
	}
	d.wg.Add(len(deliveries))
	d.inFlight.Add(int64(len(deliveries)))
	d.mu.Unlock()

	for _, dl := range deliveries {
		go d.deliver(detached, dl)
	}
}

// alertKey names what ev is about, for ordering. Unrelated events get
// different keys.
func alertKey(ev model.Event) string {
	if ev.Event == model.EventHostDown || ev.Event == model.EventHostUp {
		return "host\x00" + ev.Host
	}
	return "rule\x00" + ruleID(ev) + "\x00" + ev.Host + "\x00" + FormatLabels(ev.Labels)
}

// Close stops accepting events and waits for the deliveries in flight, each
// of which ends by its own deadline. If ctx ends first, Close cancels the
// remaining deliveries, which then log their failure, and returns an error.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()

	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()

	select {
	case <-done:
		d.cancelAbort()
		return nil
	case <-ctx.Done():
		remaining := d.inFlight.Load()
		d.cancelAbort()
		return fmt.Errorf("close notification dispatcher: cancelled %d deliveries still in flight: %w", remaining, ctx.Err())
	}
}

// Counts returns the finished deliveries so far per notifier type.
func (d *Dispatcher) Counts() map[string]Counts {
	out := make(map[string]Counts)
	for i := range d.counts {
		sum := out[d.types[i]]
		sum.Sent += d.counts[i].sent.Load()
		sum.Failed += d.counts[i].failed.Load()
		sum.Skipped += d.counts[i].skipped.Load()
		out[d.types[i]] = sum
	}
	return out
}

// deliver runs one delivery. ctx is the caller's context without its
// cancellation.
func (d *Dispatcher) deliver(ctx context.Context, dl delivery) {
	defer d.wg.Done()
	defer d.inFlight.Add(-1)
	defer d.release(dl)

	start := time.Now()
	res := Result{Type: d.types[dl.index], Index: dl.index, Event: dl.ev}
	if s, ok := dl.n.(Skipper); ok && s.Skips(dl.ev) {
		res.Skipped = true
		d.finish(ctx, res)
		// Hold the turn until the previous delivery ends, so that a later
		// event of this alert cannot overtake it. Every delivery ends by
		// its deadline, so this wait is bounded too.
		if dl.prev != nil {
			<-dl.prev
		}
		return
	}

	sendCtx, cancel := context.WithTimeout(ctx, d.cfg.timeout)
	defer cancel()
	stop := context.AfterFunc(d.abort, cancel)
	defer stop()

	res.Attempts, res.Err = d.sendInTurn(sendCtx, dl)
	res.Duration = time.Since(start)
	d.finish(ctx, res)
}

// sendInTurn waits for the previous delivery of the same alert and for a
// free send slot, then sends with retries. Both waits count against the
// deadline, so that every delivery, queued or not, ends within it.
func (d *Dispatcher) sendInTurn(ctx context.Context, dl delivery) (int, error) {
	if dl.prev != nil {
		select {
		case <-dl.prev:
		case <-ctx.Done():
			return 0, d.deadlineError(ctx, errors.New("the previous event of this alert was still being delivered"))
		}
	}

	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, d.deadlineError(ctx, errors.New("no free send slot"))
	}
	defer func() { <-d.slots }()

	return d.sendWithRetry(ctx, dl.n, dl.ev)
}

// release lets the next delivery of the same alert start. It deletes the
// alert's entry when no later delivery is queued behind this one.
func (d *Dispatcher) release(dl delivery) {
	close(dl.done)

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tails[dl.key] == dl.done {
		delete(d.tails, dl.key)
	}
}

// sendWithRetry calls Notify until it succeeds, fails with an error that
// Retryable rejects, or the next wait would pass the deadline.
func (d *Dispatcher) sendWithRetry(ctx context.Context, n Notifier, ev model.Event) (int, error) {
	backoff := d.cfg.backoffInitial

	for attempt := 1; ; attempt++ {
		err := n.Notify(ctx, ev)
		switch {
		case err == nil:
			return attempt, nil
		case ctx.Err() != nil:
			return attempt, d.deadlineError(ctx, err)
		case !Retryable(err):
			return attempt, err
		}

		wait := retryWait(backoff, err)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return attempt, fmt.Errorf("gave up: the next retry, due in %s, would pass the deadline: %w", wait.Round(time.Millisecond), err)
		}
		d.logger.Info("notification retrying", "notifier", n.Type(), "event", ev.Event, "host", ev.Host, "attempt", attempt, "wait", wait, "error", err)

		if !sleep(ctx, wait) {
			return attempt, d.deadlineError(ctx, err)
		}
		backoff = min(backoff*2, d.cfg.backoffMax)
	}
}

// deadlineError explains why a delivery stopped early and keeps both the
// context's error, for errors.Is, and the last delivery error.
func (d *Dispatcher) deadlineError(ctx context.Context, last error) error {
	if d.abort.Err() != nil {
		return fmt.Errorf("cancelled at shutdown: %w (last error: %v)", context.Canceled, last)
	}
	return fmt.Errorf("timed out after %s: %w (last error: %v)", d.cfg.timeout, ctx.Err(), last)
}

// retryWait jitters backoff between half and all of it, so that notifiers
// failing together do not retry in lockstep, and honours a longer
// Retry-After from the receiver.
func retryWait(backoff time.Duration, err error) time.Duration {
	wait := backoff/2 + rand.N(backoff/2+1)

	var statusErr *StatusError
	if errors.As(err, &statusErr) && statusErr.RetryAfter > wait {
		wait = statusErr.RetryAfter
	}
	return wait
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()

	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (d *Dispatcher) dropAll(ctx context.Context, ev model.Event) {
	for i := range d.notifiers {
		d.finish(ctx, Result{Type: d.types[i], Index: i, Event: ev, Err: ErrDispatcherClosed})
	}
}

// finish counts and logs one result and passes it to the hook.
func (d *Dispatcher) finish(ctx context.Context, res Result) {
	c := &d.counts[res.Index]
	attrs := []any{
		"notifier", res.Type, "index", res.Index, "event", res.Event.Event,
		"host", res.Event.Host, "rule_id", ruleID(res.Event), "incident_id", res.Event.IncidentID,
	}

	switch {
	case res.Skipped:
		c.skipped.Add(1)
		d.logger.Debug("notification skipped", attrs...)
	case res.Err != nil:
		c.failed.Add(1)
		d.logger.Error("notification failed", append(attrs, "attempts", res.Attempts, "duration", res.Duration, "error", res.Err)...)
	default:
		c.sent.Add(1)
		d.logger.Debug("notification sent", append(attrs, "attempts", res.Attempts, "duration", res.Duration)...)
	}

	if d.cfg.hook != nil {
		d.cfg.hook(ctx, res)
	}
}

func ruleID(ev model.Event) string {
	if ev.RuleID == nil {
		return ""
	}
	return *ev.RuleID
}
