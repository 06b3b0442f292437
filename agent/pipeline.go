package agent

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/kamerrezz/theminidog/agent/queue"
	"github.com/kamerrezz/theminidog/agent/sender"
	"github.com/kamerrezz/theminidog/internal/telemetry"
)

// pipeline moves the batches of one queue to the server, one at a time
// and oldest first.
type pipeline[B any] struct {
	kind     telemetry.BatchKind
	tracer   trace.Tracer
	metrics  *telemetry.AgentMetrics
	queue    queue.Queue[B]
	send     func(context.Context, B) error
	describe func(B) (batchID string, items int)
	// retryWait is the pause between two delivery rounds of a batch that
	// the server cannot take yet.
	retryWait time.Duration
	log       *slog.Logger

	// interrupted is the batch whose delivery the end of the run context
	// interrupted. run sets it and drain, which runs after run, sends it
	// first.
	interrupted *B
	unsent      atomic.Uint64
	// expired counts batches dropped after maxServerErrorRounds.
	expired atomic.Uint64
}

// maxServerErrorRounds is how many delivery rounds a batch may fail with
// 500 Internal Server Error before it is dropped. A 500 means the server
// failed on this batch, where 503 means it is unavailable and is retried
// without limit, so one batch the server cannot store never blocks its
// queue for good.
const maxServerErrorRounds = 10

// run delivers batches until ctx ends.
func (p *pipeline[B]) run(ctx context.Context) {
	for ctx.Err() == nil {
		b, err := p.queue.Pop(ctx)
		if err != nil {
			return
		}
		if err := p.deliver(ctx, b); err != nil {
			p.interrupted = &b
			return
		}
	}
}

// deliver sends b until the server accepts it or rejects it for good. A
// batch the server cannot take yet is retried in rounds, keeping its batch
// id, so that the queue behind it waits rather than being dropped. The
// only error is ctx's, when ctx ends first.
func (p *pipeline[B]) deliver(ctx context.Context, b B) error {
	serverErrors := 0
	for round := 1; ; round++ {
		err := p.sendTraced(ctx, b, round)
		if err == nil {
			p.metrics.AddBatchesSent(ctx, p.kind, 1)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}

		id, items := p.describe(b)
		var drop *sender.DropError
		if errors.As(err, &drop) {
			// The sender has logged each rejected part.
			p.metrics.AddBatchesDropped(ctx, p.kind, telemetry.DropRejected, 1)
			return nil
		}
		if !sender.Retryable(err) {
			p.log.Error("batch dropped", "kind", p.kind, "batch_id", id, "items", items, "error", err)
			p.metrics.AddBatchesDropped(ctx, p.kind, telemetry.DropRejected, 1)
			return nil
		}
		var temp *sender.TemporaryError
		if errors.As(err, &temp) && temp.Status == http.StatusInternalServerError {
			serverErrors++
			if serverErrors >= maxServerErrorRounds {
				p.log.Error("batch dropped after repeated server errors", "kind", p.kind, "batch_id", id, "items", items,
					"rounds", serverErrors, "error", err)
				p.metrics.AddBatchesDropped(ctx, p.kind, telemetry.DropExpired, 1)
				p.expired.Add(1)
				return nil
			}
		}
		p.metrics.AddBatchesRetried(ctx, p.kind, 1)

		p.log.Warn("send failed, will retry", "kind", p.kind, "batch_id", id, "items", items,
			"round", round, "retry_in", p.retryWait, "error", err)
		if !sleep(ctx, p.retryWait) {
			return ctx.Err()
		}
	}
}

// sendTraced sends b inside a span, so the HTTP client spans of the send
// and the server's request span join one trace.
func (p *pipeline[B]) sendTraced(ctx context.Context, b B, round int) error {
	id, items := p.describe(b)
	ctx, span := p.tracer.Start(ctx, "send "+string(p.kind)+" batch", trace.WithAttributes(
		attribute.String("miniobserv.batch_id", id),
		attribute.Int("miniobserv.batch.items", items),
		attribute.Int("miniobserv.send.round", round),
	))
	err := p.send(ctx, b)
	telemetry.EndSpan(span, err)
	return err
}

// drain delivers the interrupted batch and then the queue, which must be closed,
// until it is empty or ctx ends. Whatever is left is counted and logged
// as dropped.
func (p *pipeline[B]) drain(ctx context.Context) {
	pending := p.interrupted
	for {
		if pending == nil {
			b, err := p.queue.Pop(ctx)
			if err != nil {
				break
			}
			pending = &b
		}
		if p.deliver(ctx, *pending) != nil {
			break
		}
		pending = nil
	}

	p.countUnsent(pending)
}

func (p *pipeline[B]) countUnsent(pending *B) {
	var batches, items int
	if pending != nil {
		_, n := p.describe(*pending)
		batches, items = 1, n
	}
	// The queue is closed, so Pop returns what is left without blocking.
	for {
		b, err := p.queue.Pop(context.Background())
		if err != nil {
			break
		}
		_, n := p.describe(b)
		batches++
		items += n
	}

	if batches > 0 {
		p.unsent.Add(uint64(batches))
		p.metrics.AddBatchesDropped(context.Background(), p.kind, telemetry.DropShutdown, batches)
		p.log.Error("batches dropped at shutdown", "kind", p.kind, "batches", batches, "items", items,
			"reason", "shutdown timeout reached before the server accepted them")
	}
}

// sleep waits for d or until ctx ends, and reports whether the full wait
// passed.
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
