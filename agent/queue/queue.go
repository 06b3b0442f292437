package queue

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by Pop once the queue is closed and empty.
var ErrClosed = errors.New("queue closed")

// Queue is a bounded FIFO of batches.
type Queue[T any] interface {
	// Push appends item unless the queue is full or closed, and reports
	// whether it did. A rejected item is counted as dropped.
	Push(item T) bool
	// Pop removes and returns the oldest item. It blocks until an item is
	// available, ctx is done (returning ctx's error), or the queue is
	// closed and empty (returning ErrClosed). After Close it never blocks.
	Pop(ctx context.Context) (T, error)
	// Len returns the number of queued items.
	Len() int
	// Close rejects further pushes. Items already queued can still be
	// popped.
	Close()
}

// Memory is an in-memory Queue backed by a buffered channel.
type Memory[T any] struct {
	items chan T
	// mu guards closed. Push holds it for reading so that Close cannot
	// close the channel between the closed check and the send.
	mu      sync.RWMutex
	closed  bool
	dropped atomic.Uint64
	onDrop  func(T)
}

// Option configures a Memory queue.
type Option[T any] func(*Memory[T])

// WithOnDrop calls fn with every item that Push rejects, for telemetry and
// logging. fn runs on the pushing goroutine and must not block.
func WithOnDrop[T any](fn func(T)) Option[T] {
	return func(q *Memory[T]) { q.onDrop = fn }
}

// NewMemory returns an empty queue that holds up to capacity items. A
// capacity below 1 is treated as 1.
func NewMemory[T any](capacity int, opts ...Option[T]) *Memory[T] {
	q := &Memory[T]{items: make(chan T, max(capacity, 1))}
	for _, opt := range opts {
		opt(q)
	}
	return q
}

// Push implements Queue. When the queue is full it drops item, the newest.
func (q *Memory[T]) Push(item T) bool {
	q.mu.RLock()
	ok := false
	if !q.closed {
		select {
		case q.items <- item:
			ok = true
		default:
		}
	}
	q.mu.RUnlock()

	if !ok {
		q.dropped.Add(1)
		if q.onDrop != nil {
			q.onDrop(item)
		}
	}
	return ok
}

// Pop implements Queue.
func (q *Memory[T]) Pop(ctx context.Context) (T, error) {
	var zero T

	// An item that is already queued wins over a done context, so that a
	// drain with a cancelled context still empties a closed queue.
	select {
	case item, ok := <-q.items:
		if !ok {
			return zero, ErrClosed
		}
		return item, nil
	default:
	}

	select {
	case item, ok := <-q.items:
		if !ok {
			return zero, ErrClosed
		}
		return item, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// Len implements Queue.
func (q *Memory[T]) Len() int { return len(q.items) }

// Cap returns the capacity given to NewMemory.
func (q *Memory[T]) Cap() int { return cap(q.items) }

// Close implements Queue. Closing twice is harmless.
func (q *Memory[T]) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()

	if !q.closed {
		q.closed = true
		close(q.items)
	}
}

// Dropped returns how many items Push has rejected since the queue was
// created.
func (q *Memory[T]) Dropped() uint64 { return q.dropped.Load() }
