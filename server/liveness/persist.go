package liveness

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/kamerrezz/theminidog/server/storage"
)

// finalFlushTimeout bounds the write of every changed host at shutdown.
const finalFlushTimeout = 5 * time.Second

// Run checks for down hosts and writes changed hosts every period until ctx
// ends, then writes every host still changed.
func (t *Tracker) Run(ctx context.Context, period time.Duration) {
	ticker := time.NewTicker(period)
	defer ticker.Stop()

	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalFlushTimeout)
			if err := t.Flush(flushCtx, true); err != nil {
				t.log.Error("write hosts at shutdown failed", "err", err)
			}
			cancel()
			return
		case <-ticker.C:
			t.Tick(ctx)
		}
	}
}

// Tick runs one round of background work: read back retirements once per
// syncEvery (first, so a host retired by the command raises no host.down),
// send host.down for hosts that went down, and write changed hosts. Failures are logged and retried at the next tick.
func (t *Tracker) Tick(ctx context.Context) {
	now := t.opts.Now()

	t.mu.Lock()
	syncDue := now.Sub(t.lastSync) >= syncEvery
	if syncDue {
		t.lastSync = now
	}
	t.mu.Unlock()
	if syncDue {
		if err := t.SyncRetired(ctx); err != nil {
			t.syncFailures.record(t.log, "read host retirements failed", now, err)
		}
	}
	t.Check(now)

	if err := t.Flush(ctx, false); err != nil {
		t.flushFailures.record(t.log, "write hosts failed, retrying at the next tick", now, err)
	}
}

// failureLog limits a failure that repeats every tick to one log line per
// minute, which counts the failures since the previous line.
type failureLog struct {
	mu     sync.Mutex
	count  int
	logged time.Time
}

func (f *failureLog) record(log *slog.Logger, msg string, now time.Time, err error) {
	f.mu.Lock()
	f.count++
	count := f.count
	due := f.logged.IsZero() || now.Sub(f.logged) >= time.Minute
	if due {
		f.logged, f.count = now, 0
	}
	f.mu.Unlock()

	if due {
		log.Warn(msg, "err", err, "failures", count)
	}
}

// Flush writes hosts whose state changed: urgent changes at once, last_seen
// updates at most once per writeEvery per host, and everything when all is
// true.
func (t *Tracker) Flush(ctx context.Context, all bool) error {
	if t.opts.Store == nil {
		return nil
	}
	now := t.opts.Now()

	type pending struct {
		h       *host
		version uint64
	}
	var (
		recs  []storage.HostRecord
		batch []pending
	)
	t.mu.Lock()
	for _, h := range t.hosts {
		if h.version == h.written {
			continue
		}
		if all || h.urgent || now.Sub(h.writtenAt) >= writeEvery {
			recs = append(recs, h.record())
			batch = append(batch, pending{h, h.version})
		}
	}
	t.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}

	if err := t.opts.Store.SaveHosts(ctx, recs); err != nil {
		return err
	}

	t.mu.Lock()
	for _, p := range batch {
		p.h.written, p.h.writtenAt = p.version, now
		if p.h.version == p.version {
			p.h.urgent = false
		}
	}
	t.mu.Unlock()
	return nil
}

// SyncRetired applies retirements stored by another process. A host that
// reported after such a retirement stays active, and its next write clears
// the stored retirement.
func (t *Tracker) SyncRetired(ctx context.Context) error {
	if t.opts.Store == nil {
		return nil
	}
	recs, err := t.opts.Store.LoadHosts(ctx)
	if err != nil {
		return err
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range recs {
		if r.RetiredAt.IsZero() {
			continue
		}
		h := t.hosts[r.Host]
		switch {
		case h == nil:
			t.hosts[r.Host] = &host{name: r.Host, firstSeen: r.FirstSeen, lastSeen: r.LastSeen, interval: r.Interval, retiredAt: r.RetiredAt}
		case h.retired():
		case h.lastSeen.After(r.RetiredAt):
			h.touch(true)
		default:
			h.retiredAt, h.downSince, h.incidentID = r.RetiredAt, time.Time{}, ""
			h.touch(false)
			t.log.Info("host retired by another process", "host", r.Host, "retired_at", r.RetiredAt)
		}
	}
	return nil
}
