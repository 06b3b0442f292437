package sender

import (
	"fmt"
	"sync/atomic"
)

// DropError reports a batch, or a part of one after a 413 split, that the
// server rejected for good. The sender has logged it; sending it again
// would fail the same way.
type DropError struct {
	BatchID string
	Items   int
	// Status is the HTTP status of the rejection.
	Status int
	// Reason is the server's error message.
	Reason string
}

func (e *DropError) Error() string {
	return fmt.Sprintf("server rejected batch %s (%d items) with status %d: %s", e.BatchID, e.Items, e.Status, e.Reason)
}

// TemporaryError reports a send that failed after every retry: the
// server was unreachable or kept responding with a retryable status.
type TemporaryError struct {
	// Status is the last HTTP status, or 0 after a connection error.
	Status   int
	Attempts int
	// Err is the last connection error, if any.
	Err error
}

func (e *TemporaryError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("server unavailable after %d attempts: %v", e.Attempts, e.Err)
	}
	return fmt.Sprintf("server unavailable after %d attempts: last status %d", e.Attempts, e.Status)
}

// Unwrap returns the last connection error.
func (e *TemporaryError) Unwrap() error { return e.Err }

// Stats counts what the sender has done since it was created.
type Stats struct {
	// Requests counts HTTP attempts, retries included.
	Requests uint64
	// Retries counts attempts after the first of a request.
	Retries uint64
	// Delivered counts batches and split halves the server accepted,
	// duplicates included.
	Delivered uint64
	// Duplicates counts batches the server had already stored.
	Duplicates uint64
	// Splits counts batches split after a 413.
	Splits uint64
	// DroppedBatches and DroppedItems count rejections for good.
	DroppedBatches uint64
	DroppedItems   uint64
	// TokenRenewals counts tokens renewed after a 401.
	TokenRenewals uint64
}

type counters struct {
	requests, retries, delivered, duplicates, splits atomic.Uint64
	droppedBatches, droppedItems, tokenRenewals      atomic.Uint64
}

// Stats returns a snapshot of the sender's counters.
func (s *Sender) Stats() Stats {
	c := &s.stats
	return Stats{
		Requests:       c.requests.Load(),
		Retries:        c.retries.Load(),
		Delivered:      c.delivered.Load(),
		Duplicates:     c.duplicates.Load(),
		Splits:         c.splits.Load(),
		DroppedBatches: c.droppedBatches.Load(),
		DroppedItems:   c.droppedItems.Load(),
		TokenRenewals:  c.tokenRenewals.Load(),
	}
}
