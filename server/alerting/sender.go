package alerting

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/kamerrezz/theminidog/model"
)

// Sender delivers notification events: alerts firing and resolving, hosts
// going down and coming back. The notifier dispatcher implements it.
type Sender interface {
	Send(ctx context.Context, ev model.Event)
}

// drainTimeout bounds how long an Outbox keeps delivering queued events
// after its context ends.
const drainTimeout = 5 * time.Second

// Outbox is a Sender that queues events and delivers them to the next
// Sender from one goroutine, in order. Send never blocks, so the evaluator
// and the ingest path (which reports host.up) never wait on a notifier. A
// full queue drops the event and logs it.
type Outbox struct {
	next    Sender
	log     *slog.Logger
	queue   chan model.Event
	dropped atomic.Int64
}

// NewOutbox returns an outbox of size events in front of next. With a nil
// next, events are only logged.
func NewOutbox(next Sender, log *slog.Logger, size int) *Outbox {
	if log == nil {
		log = slog.Default()
	}
	return &Outbox{next: next, log: log, queue: make(chan model.Event, size)}
}

// Send queues ev, or drops it when the queue is full.
func (o *Outbox) Send(_ context.Context, ev model.Event) {
	select {
	case o.queue <- ev:
	default:
		n := o.dropped.Add(1)
		o.log.Error("notification event dropped: outbox full", "event", ev.Event, "host", ev.Host,
			"incident_id", ev.IncidentID, "dropped_total", n)
	}
}

// Dropped returns how many events were dropped because the queue was full.
func (o *Outbox) Dropped() int64 { return o.dropped.Load() }

// Run delivers queued events until ctx ends, then delivers what is still
// queued for at most drainTimeout.
func (o *Outbox) Run(ctx context.Context) {
	for {
		select {
		case ev := <-o.queue:
			o.deliver(ctx, ev)
		case <-ctx.Done():
			o.drain(ctx)
			return
		}
	}
}

func (o *Outbox) drain(ctx context.Context) {
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	for {
		select {
		case ev := <-o.queue:
			o.deliver(drainCtx, ev)
		default:
			return
		}
		if drainCtx.Err() != nil {
			o.log.Warn("notification events left undelivered at shutdown", "queued", len(o.queue))
			return
		}
	}
}

func (o *Outbox) deliver(ctx context.Context, ev model.Event) {
	logEvent(o.log, ev)
	if o.next != nil {
		o.next.Send(ctx, ev)
	}
}

// logSender is the Sender used when no notifier is configured: it only logs.
type logSender struct{ log *slog.Logger }

func (s logSender) Send(_ context.Context, ev model.Event) { logEvent(s.log, ev) }

func logEvent(log *slog.Logger, ev model.Event) {
	ruleID := ""
	if ev.RuleID != nil {
		ruleID = *ev.RuleID
	}
	log.Info("notification event", "event", ev.Event, "rule_id", ruleID, "host", ev.Host,
		"name", ev.Name, "labels", ev.Labels, "incident_id", ev.IncidentID)
}
