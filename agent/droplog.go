package agent

import (
	"log/slog"
	"sync"
	"time"
)

// dropLogInterval is the minimum time between two "queue full" log lines
// of one queue. While the server is down a full queue drops a batch every
// interval, and one line per drop would flood the agent's own log.
const dropLogInterval = 30 * time.Second

// dropReporter logs queue-full drops, rate-limited, with the number of
// batches and items dropped since its previous line.
type dropReporter struct {
	log  *slog.Logger
	kind string
	now  func() time.Time

	mu      sync.Mutex
	last    time.Time
	batches int
	items   int
}

func (d *dropReporter) drop(items int) {
	d.mu.Lock()
	defer d.mu.Unlock()

	d.batches++
	d.items += items
	now := d.now()
	if !d.last.IsZero() && now.Sub(d.last) < dropLogInterval {
		return
	}

	d.log.Warn("queue full, newest batch dropped", "kind", d.kind, "batches", d.batches, "items", d.items,
		"since", d.sinceText())
	d.last, d.batches, d.items = now, 0, 0
}

func (d *dropReporter) sinceText() string {
	if d.last.IsZero() {
		return "start"
	}
	return d.last.UTC().Format(time.RFC3339)
}
